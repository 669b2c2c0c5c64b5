package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
)

// Recommendations (api.md §2.16), with F9 fixed: a school's collection is
// used only when the caller may read that school (the school policy,
// policies/school.rego); the one-result defect fixed (the book is returned);
// a null huey_summary answered as "".
//
// The collection's ISBNs come from huey.school_collection_isbns(school id), a
// SECURITY DEFINER door: row security shows collections only to a school's
// managers, while every reader of the school (its educators and students, F6)
// may recommend from it. The door repeats the school policy's read rule.

// recommendMaxLimit bounds the `limit` query parameter (the original has
// none; a negative value crashed it and 0 returned one book).
const recommendMaxLimit = 1000

// recommendSeed returns the seed of one request's random order. Production
// draws a fresh one per request; tests replace it (recommend_export_test.go)
// so the order is reproducible.
var recommendSeed = func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type recommendHue struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Key  string `json:"key"`
}

type recommendReadingAbility struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
}

// recommendLabelSet is LabelSetDetail (api.md §1.5).
type recommendLabelSet struct {
	ID                    string                    `json:"id"`
	WorkID                string                    `json:"work_id"`
	Hues                  []recommendHue            `json:"hues"`
	HueOrigin             *string                   `json:"hue_origin"`
	MinAge                *int32                    `json:"min_age"`
	MaxAge                *int32                    `json:"max_age"`
	AgeOrigin             *string                   `json:"age_origin"`
	ReadingAbilities      []recommendReadingAbility `json:"reading_abilities"`
	ReadingAbilityOrigin  *string                   `json:"reading_ability_origin"`
	HueySummary           *string                   `json:"huey_summary"`
	SummaryOrigin         *string                   `json:"summary_origin"`
	LabelledByUserID      *uuid.UUID                `json:"labelled_by_user_id"`
	LabelledBySaID        *uuid.UUID                `json:"labelled_by_sa_id"`
	Info                  json.RawMessage           `json:"info"`
	RecommendStatus       *string                   `json:"recommend_status"`
	RecommendStatusOrigin *string                   `json:"recommend_status_origin"`
	Checked               *bool                     `json:"checked"`
	CreatedAt             isoTime                   `json:"created_at"`
	UpdatedAt             *isoTime                  `json:"updated_at"`
}

// hueyBook is HueyBook (api.md §1.10).
type hueyBook struct {
	WorkID        int64             `json:"work_id"`
	ISBN          string            `json:"isbn"`
	CoverURL      *string           `json:"cover_url"`
	DisplayTitle  string            `json:"display_title"`
	AuthorsString string            `json:"authors_string"`
	Summary       string            `json:"summary"`
	Labels        recommendLabelSet `json:"labels"`
}

// hueyQuery is HueyOutput.query: the final parameters (after fallbacks).
type hueyQuery struct {
	Hues              []string `json:"hues"`
	Age               *int     `json:"age"`
	ReadingAbilities  []string `json:"reading_abilities"`
	RecommendableOnly *bool    `json:"recommendable_only"`
	ExcludeISBNs      []string `json:"exclude_isbns"`
	Fallback          *bool    `json:"fallback"` // always null
	SchoolID          *int64   `json:"school_id"`
}

// hueyOutput is HueyOutput (api.md §1.10).
type hueyOutput struct {
	Count int        `json:"count"`
	Books []hueyBook `json:"books"`
	Query hueyQuery  `json:"query"`
}

// recommendParams is P of api.md §2.16 step 1.
type recommendParams struct {
	schoolID          *int64
	hues              []string // nil once fallback (b) dropped the filter
	readingAbilities  []string
	age               *int
	recommendableOnly *bool
	excludeISBNs      []string
	rowLimit          int
	seed              string
}

// eventParams is P as the events record it (the original's dict, with limit).
func (p recommendParams) eventParams() map[string]any {
	return map[string]any{"school_id": p.schoolID, "hues": p.hues, "reading_abilities": p.readingAbilities,
		"age": p.age, "recommendable_only": p.recommendableOnly, "exclude_isbns": p.excludeISBNs, "limit": p.rowLimit}
}

// queryRecommendations runs Q(P) in tx.
func queryRecommendations(ctx context.Context, tx *db.Tx, p recommendParams) ([]hueyBook, error) {
	hues := p.hues
	if hues == nil {
		hues = []string{}
	}
	rows, err := tx.Query(ctx, catalog.RecommendSQL, p.schoolID, hues, p.readingAbilities, p.age,
		p.recommendableOnly != nil && *p.recommendableOnly, p.excludeISBNs, p.seed, p.rowLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	books := []hueyBook{}
	for rows.Next() {
		var (
			b                  hueyBook
			summary            *string
			labelID, labelWork int64
			info, hj, rj       []byte
			created            time.Time
			updated            *time.Time
		)
		l := &b.Labels
		if err := rows.Scan(&b.WorkID, &b.ISBN, &b.CoverURL, &b.DisplayTitle, &b.AuthorsString,
			&labelID, &labelWork, &l.HueOrigin, &l.MinAge, &l.MaxAge, &l.AgeOrigin, &l.ReadingAbilityOrigin,
			&summary, &l.SummaryOrigin, &l.LabelledByUserID, &l.LabelledBySaID, &info, &l.RecommendStatus,
			&l.RecommendStatusOrigin, &l.Checked, &created, &updated, &hj, &rj); err != nil {
			return nil, err
		}
		l.ID, l.WorkID = fmt.Sprint(labelID), fmt.Sprint(labelWork)
		l.HueySummary, l.Info, l.CreatedAt, l.UpdatedAt = summary, rawOrNull(info), isoTime(created), isoPtr(updated)
		if summary != nil {
			b.Summary = *summary // null → "" (the original answered 500) [defect fixed]
		}
		if b.CoverURL != nil {
			if u, ok := validURL(*b.CoverURL); ok {
				b.CoverURL = &u
			}
		}
		if err := json.Unmarshal(hj, &l.Hues); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(rj, &l.ReadingAbilities); err != nil {
			return nil, err
		}
		books = append(books, b)
	}
	return books, rows.Err()
}

// readingAbilityNeighbour is fallback (c)'s widening of a single ability.
func readingAbilityNeighbour(key string) string {
	switch key {
	case "HARRY_POTTER":
		return "CHARLIE_CHOCOLATE"
	case "SPOT":
		return "CAT_HAT"
	default:
		return "TREEHOUSE"
	}
}

// recommendWithFallback runs Q(P) and the fallbacks of api.md §2.16 step 3;
// it returns the rows, the final P and the number of fallback steps.
func recommendWithFallback(ctx context.Context, tx *db.Tx, p recommendParams, fallback bool) ([]hueyBook, recommendParams, int, error) {
	rows, err := queryRecommendations(ctx, tx, p)
	if err != nil {
		return nil, p, 0, err
	}
	level := 0
	if fallback && len(rows) < 3 { // (a) look outside the school's collection
		level++
		p.schoolID = nil
		if rows, err = queryRecommendations(ctx, tx, p); err != nil {
			return nil, p, level, err
		}
	}
	if len(rows) < 3 { // (b) every hue
		level++
		p.hues = nil
		if rows, err = queryRecommendations(ctx, tx, p); err != nil {
			return nil, p, level, err
		}
	}
	if len(rows) < 3 { // (c) widen the reading ability, or the age
		level++
		changed := true
		switch {
		case len(p.readingAbilities) == 1:
			p.readingAbilities = append(p.readingAbilities[:1:1], readingAbilityNeighbour(p.readingAbilities[0]))
		case p.age != nil:
			a := *p.age + 2
			p.age = &a
		default:
			changed = false // the original crashed here (None + 2); the query would not change
		}
		if changed {
			if rows, err = queryRecommendations(ctx, tx, p); err != nil {
				return nil, p, level, err
			}
		}
	}
	return rows, p, level, nil
}

// dedupeAuthors keeps the first book per authors_string, up to limit books
// (api.md §2.16 step 5); a single book is returned as it is [defect fixed].
func dedupeAuthors(books []hueyBook, limit int) []hueyBook {
	if len(books) < 2 {
		return books
	}
	seen := map[string]bool{}
	out := make([]hueyBook, 0, min(limit, len(books)))
	for _, b := range books {
		if len(out) >= limit {
			break
		}
		if seen[b.AuthorsString] {
			continue
		}
		seen[b.AuthorsString] = true
		out = append(out, b)
	}
	return out
}

// readBodyKeep reads the request body and leaves it readable again (for
// validateRequest after the policy decision).
func readBodyKeep(c echo.Context, v any) error {
	req := c.Request()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	defer func() { req.Body = io.NopCloser(bytes.NewReader(b)) }()
	return decodeBody(c, v)
}

// recommendParamsOf checks what the document cannot (hue keys with their legacy
// aliases in any case, reading abilities in any case, an age within int4
// reported as int_overflow) and builds P; the document has validated the
// types.
func recommendParamsOf(in hueyFilterIn) (recommendParams, []validationError) {
	var errs []validationError
	p := recommendParams{hues: []string{}, readingAbilities: []string{}, excludeISBNs: []string{},
		age: valueOf(in.Age), recommendableOnly: valueOf(in.RecommendableOnly)}
	if p.age != nil && (*p.age < math.MinInt32 || *p.age > math.MaxInt32) { // R7: compared with int4 ages
		errs = append(errs, notInt32([]any{"body", "age"}, *p.age))
	}
	for i, s := range in.Hues.GetOrEmpty() {
		key, ok := hueKeys[s]
		if !ok {
			for k, v := range hueKeys {
				if s != "" && strings.EqualFold(k, s) {
					key, ok = v, true
					break
				}
			}
		}
		if !ok {
			errs = append(errs, validationError{Type: "enum", Loc: []any{"body", "hues", i},
				Msg: "Input should be a hue key (hue01_dark_suspense … hue13_informative)", Input: s})
			continue
		}
		p.hues = append(p.hues, key)
	}
	for i, s := range in.ReadingAbilities.GetOrEmpty() {
		key := strings.ToUpper(s)
		if !readingAbilityKeys[key] {
			errs = append(errs, validationError{Type: "enum", Loc: []any{"body", "reading_abilities", i},
				Msg: "Input should be 'SPOT', 'CAT_HAT', 'TREEHOUSE', 'CHARLIE_CHOCOLATE' or 'HARRY_POTTER'", Input: s})
			continue
		}
		p.readingAbilities = append(p.readingAbilities, key)
	}
	for _, x := range in.ExcludeIsbns.GetOrEmpty() {
		if v := valueOf(x); v != nil { // [string|null]: a null excludes nothing
			p.excludeISBNs = append(p.excludeISBNs, *v)
		}
	}
	return p, errs
}

// POST /recommend
func (s *Server) postRecommend(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	// The school first (404, then F9's decision), then validation (api.md
	// §0.2): only the school is read from the body before the decision.
	var target struct {
		WrivetedIdentifier *string `json:"wriveted_identifier"`
	}
	if err := readBodyKeep(c, &target); err != nil {
		return err
	}
	var schoolID *int64
	if target.WrivetedIdentifier != nil {
		wid, err := uuid.Parse(*target.WrivetedIdentifier)
		if err != nil {
			return errValidation(validationError{Type: "uuid_parsing", Loc: []any{"body", "wriveted_identifier"},
				Msg: "Input should be a valid UUID", Input: *target.WrivetedIdentifier})
		}
		if err := db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) { queueSchoolAttrs(b, wid, &schoolID) }); err != nil {
			return err
		}
		if err := schoolDoor.decide(s, c, wid, schoolID); err != nil { // F9
			return err
		}
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var in hueyFilterIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 5, 1, recommendMaxLimit)
	if err != nil {
		return err
	}
	p, errs := recommendParamsOf(in)
	if len(errs) > 0 {
		return errValidation(errs...)
	}
	p.schoolID, p.rowLimit, p.seed = schoolID, limit+5, recommendSeed()

	var out hueyOutput
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		rows, final, level, err := recommendWithFallback(ctx, tx, p, in.Fallback.GetOrEmpty())
		if err != nil {
			return err
		}
		books := dedupeAuthors(rows, limit)
		switch {
		case len(books) > 0:
			recorded := books[:min(10, len(books))]
			err = recordEvent(ctx, tx, ident, "Made a recommendation",
				fmt.Sprintf("Made a recommendation of %d books", len(books)), "NORMAL", schoolID,
				map[string]any{"recommended": recorded, "query_parameters": final.eventParams(), "fallback_level": level})
		default:
			err = recordEvent(ctx, tx, ident, "No books", "No books met the criteria for recommendation", "WARNING",
				schoolID, map[string]any{"query_parameters": final.eventParams(), "fallback_level": level})
		}
		if err != nil {
			return err
		}
		out = hueyOutput{Count: len(books), Books: books, Query: hueyQuery{Hues: final.hues, Age: final.age,
			ReadingAbilities: final.readingAbilities, RecommendableOnly: final.recommendableOnly,
			ExcludeISBNs: final.excludeISBNs, SchoolID: final.schoolID}}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
