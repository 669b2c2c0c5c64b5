package taskapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
)

// Reading pathways (tasks.md §5.1): POST /v1/generate-reading-pathways
// creates a reader's two Personal lists, "Books To Read Now" at the reader's
// reading ability and "Books To Read Next" at the following one, from the
// recommendation candidate query (catalog.RecommendSQL). A redelivered task
// is answered from task_queue without running again (s.run), so the lists
// are created once per task (F-T6).

// pathwaysMaxLimit bounds `limit` (the original had no bound; a negative
// value failed in SQL).
const pathwaysMaxLimit = 1000

// readingAbilityOrder is the progression of reading abilities; "next" of the
// last one is itself.
var readingAbilityOrder = []string{"SPOT", "CAT_HAT", "TREEHOUSE", "CHARLIE_CHOCOLATE", "HARRY_POTTER"} //nolint:gochecknoglobals // constant table

var hueyDateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$`)

// pathwaysSeed returns the seed of one task's random order; tests pin it
// (pathways_export_test.go).
var pathwaysSeed = func() string { //nolint:gochecknoglobals // replaced by tests only
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// hueyAttributes is HueyAttributes (api.md §1.2). Every key is kept when it
// is recorded in the event, as the original's model dump did.
type hueyAttributes struct {
	Birthdate      *string  `json:"birthdate"`
	LastVisited    *string  `json:"last_visited"`
	Age            *int     `json:"age"`
	ReadingAbility []string `json:"reading_ability"`
	Hues           []string `json:"hues"`
	Goals          []string `json:"goals"`
	Genres         []string `json:"genres"`
	Characters     []string `json:"characters"`
	ParentNickname *string  `json:"parent_nickname"`
}

// validate checks the enumerations and date patterns, and maps legacy hue
// keys to the current ones (DECISIONS §6).
func (a *hueyAttributes) validate() error {
	for _, d := range []struct {
		field string
		v     *string
	}{{"birthdate", a.Birthdate}, {"last_visited", a.LastVisited}} {
		if d.v != nil && !hueyDateRE.MatchString(*d.v) {
			return validation("attributes", d.field+` should match pattern '\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?'`,
				"string_pattern_mismatch")
		}
	}
	for _, k := range a.ReadingAbility {
		if nextReadingAbility(k) == "" {
			return validation("attributes", "reading_ability should be a list of SPOT, CAT_HAT, TREEHOUSE, CHARLIE_CHOCOLATE or HARRY_POTTER", "enum")
		}
	}
	for i, k := range a.Hues {
		canonical, ok := catalog.CanonicalHueKey(k)
		if !ok {
			return validation("attributes", "hues should be a list of hue keys (hue01_dark_suspense … hue13_informative)", "enum")
		}
		a.Hues[i] = canonical
	}
	return nil
}

// nextReadingAbility is the key after k ("" when k is not a key).
func nextReadingAbility(k string) string {
	for i, x := range readingAbilityOrder {
		if x == k {
			return readingAbilityOrder[min(i+1, len(readingAbilityOrder)-1)]
		}
	}
	return ""
}

// Reading-path lists (tasks.md §5.1; api.md §1.2 ReadingPath).
const (
	readNowName        = "Books To Read Now"
	readNowDescription = "A collection of books to enjoy today"
	readNextName       = "Books To Read Next"
	readNextDesc       = "A collection of books to enjoy tomorrow, or challenge your reading"
)

// POST /v1/generate-reading-pathways {"user_id", "attributes", "limit" (10)}
func (s *server) postGenerateReadingPathways(c echo.Context) error {
	var in struct {
		UserID     *string         `json:"user_id"`
		Attributes *hueyAttributes `json:"attributes"`
		Limit      *int            `json:"limit"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.UserID == nil {
		return validation("user_id", "Field required", "missing")
	}
	userID, err := uuid.Parse(*in.UserID)
	if err != nil {
		return validation("user_id", "Input should be a valid UUID", "uuid_parsing")
	}
	if in.Attributes == nil {
		return validation("attributes", "Field required", "missing")
	}
	if err := in.Attributes.validate(); err != nil {
		return err
	}
	limit := 10
	if in.Limit != nil {
		limit = *in.Limit
	}
	switch {
	case limit < 1:
		return validation("limit", "Input should be greater than or equal to 1", "greater_than_equal")
	case limit > pathwaysMaxLimit:
		return validation("limit", fmt.Sprintf("Input should be less than or equal to %d", pathwaysMaxLimit), "less_than_equal")
	}
	attrs := *in.Attributes
	return s.run(c, func(ctx context.Context, tx *db.Tx) (any, error) {
		ok, err := userExists(ctx, tx, userID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, echo.NewHTTPError(http.StatusNotFound, "User "+userID.String()+" not found")
		}
		if len(attrs.ReadingAbility) == 0 {
			s.log.Info("no reading ability: no reading pathway lists", slog.String("user_id", userID.String()))
			return map[string]string{"msg": "ok"}, nil
		}
		current := attrs.ReadingAbility[0]
		next := nextReadingAbility(current)
		hues := attrs.Hues
		if hues == nil {
			hues = []string{}
		}
		seed := pathwaysSeed()
		nowBooks, err := pathwayCandidates(ctx, tx, hues, current, attrs.Age, seed, limit)
		if err != nil {
			return nil, err
		}
		nextBooks, err := pathwayCandidates(ctx, tx, hues, next, attrs.Age, seed, limit)
		if err != nil {
			return nil, err
		}
		for _, l := range []struct {
			name, description string
			books             []workEdition
		}{{readNowName, readNowDescription, nowBooks}, {readNextName, readNextDesc, nextBooks}} {
			id := uuid.New()
			if err := insertBooklist(ctx, tx, id, l.name, "PERSONAL", nil, &userID, l.description); err != nil {
				return nil, err
			}
			works := make([]int64, len(l.books))
			isbns := make([]string, len(l.books))
			for i, b := range l.books {
				works[i], isbns[i] = b.workID, b.isbn
			}
			if _, err := appendBooklistItems(ctx, tx, id, works, isbns); err != nil {
				return nil, err
			}
		}
		if err := s.recordEvent(ctx, tx, "Created reading pathway lists", "Created Books To Read Now and Books To Read Later",
			"NORMAL", nil, &userID, map[string]any{"attributes": attrs, "read_now_count": len(nowBooks),
				"read_next_count": len(nextBooks)}); err != nil {
			return nil, err
		}
		return map[string]string{"msg": "ok"}, nil
	})
}

// pathwayCandidates runs the recommendation candidate query for one reading
// ability: no school, GOOD labels only, the attributes' hues and age, rows
// in the seeded random order; it returns each row's work and edition ISBN.
func pathwayCandidates(ctx context.Context, tx *db.Tx, hues []string, ability string, age *int, seed string,
	limit int) ([]workEdition, error) {
	rows, err := tx.Query(ctx, catalog.RecommendSQL, nil, hues, []string{ability}, age, true, []string{}, seed, limit)
	if err != nil {
		return nil, fmt.Errorf("recommend for %s: %w", ability, err)
	}
	defer rows.Close()
	var out []workEdition
	for rows.Next() {
		var b workEdition
		dest := make([]any, len(rows.FieldDescriptions())) // nil skips a column
		dest[0], dest[1] = &b.workID, &b.isbn
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// ---------------------------------------------------------------------------
// Booklist writes shared by the pathways and book-review tasks. They repeat,
// minimally, what the API writes for POST /list and an item "add"
// (server/internal/api/booklist.go; domain.md §9): a list's info holds the
// four BookListOptionalInfo keys, an item's info {"edition": isbn}.

// insertBooklist creates a private list.
func insertBooklist(ctx context.Context, tx *db.Tx, id uuid.UUID, name, listType string, schoolID *int64,
	userID *uuid.UUID, description string) error {
	info, err := json.Marshal(map[string]any{"description": description, "image_url": nil, "subheading": nil, "colour": nil})
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO public.book_lists (id, name, type, info, created_at, updated_at, school_id, user_id, sharing)
VALUES ($1, $2, $3::enum_book_list_type, $4, huey.utcnow(), huey.utcnow(), $5, $6, 'PRIVATE')`,
		id, name, listType, info, schoolID, userID); err != nil {
		return fmt.Errorf("create list %q: %w", name, err)
	}
	return nil
}

// appendBooklistItems adds works (with their edition ISBNs, in order) that
// the list lacks at its end, and returns how many it added. Works already on
// the list are skipped, so works must not repeat. Positions follow the add
// semantics of domain.md §9.2 (position = book_count); on a list whose
// positions have gaps they start after the last one instead, where the
// count would collide with an existing position.
func appendBooklistItems(ctx context.Context, tx *db.Tx, list uuid.UUID, works []int64, isbns []string) (int64, error) {
	if len(works) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, `
WITH base AS (
  SELECT greatest(count(*), coalesce(max(order_id) + 1, 0)) AS n FROM public.book_list_works WHERE booklist_id = $1
), fresh AS (
  SELECT x.w, x.i, x.o FROM unnest($2::int[], $3::text[]) WITH ORDINALITY AS x(w, i, o)
  WHERE NOT EXISTS (SELECT FROM public.book_list_works bw WHERE bw.booklist_id = $1 AND bw.work_id = x.w)
)
INSERT INTO public.book_list_works (booklist_id, work_id, order_id, info, created_at)
SELECT $1, f.w, base.n + row_number() OVER (ORDER BY f.o) - 1, json_build_object('edition', f.i), huey.utcnow()
FROM fresh f CROSS JOIN base`, list, works, isbns)
	if err != nil {
		return 0, fmt.Errorf("add items to list %s: %w", list, err)
	}
	return tag.RowsAffected(), nil
}
