package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
)

// Batch writes of a collection (api.md §2.11, §3.2): PUT /collection/{id}/items
// sets the contents, PATCH /collection/{id} adds, updates and removes. Each
// request is one transaction (a failure leaves the collection as it was) of
// set-based statements: one per action kind over unnest()ed arrays, never one
// per item.

// conflictMode is what adding an ISBN the collection already holds does.
type conflictMode int

const (
	conflictReplace conflictMode = iota // overwrite copies and info (single-add with ignore_conflicts)
	conflictMerge                       // overwrite copies, shallow-merge info (bulk add, PATCH add)
	conflictFail                        // unique violation → 409, nothing applied
)

type addOptions struct {
	conflict conflictMode
	bulk     bool // copies_available defaults to copies_total (else to 1)
	isbnOnly bool // items without a valid ISBN are dropped (PUT items)
}

type addResult struct {
	validISBNs, created, unhydrated int
}

// validateItems checks what the document does not: copies ≥ 0, info an
// object, actions known (accepted as in api.md §0.6).
func validateItems(items []collectionItemIn, withAction bool) error {
	for i := range items {
		it := &items[i]
		loc := func(f string) []any { return []any{"body", "items", i, f} }
		if withAction {
			if it.Action == nil {
				add := "add"
				it.Action = &add
			}
			switch a := strings.ToLower(*it.Action); a {
			case "add", "remove", "update":
				it.Action = &a
			default:
				return errValidation(validationError{Type: "enum", Loc: loc("action"),
					Msg: "Input should be 'add', 'remove' or 'update'", Input: *it.Action})
			}
		}
		for _, f := range []string{"copies_total", "copies_available"} {
			v := map[string]*int{"copies_total": it.CopiesTotal, "copies_available": it.CopiesAvailable}[f]
			switch {
			case v != nil && *v < 0:
				return errValidation(tooSmall(loc(f), *v, 0))
			case v != nil && *v > math.MaxInt32: // R6: the column is int4; 2³¹+1 was stored negative
				return errValidation(tooLarge(loc(f), *v, math.MaxInt32))
			}
		}
		if it.ID != nil && (*it.ID < math.MinInt32 || *it.ID > math.MaxInt32) {
			return errValidation(notInt32(loc("id"), *it.ID))
		}
		if len(it.Info) > 0 && string(it.Info) != "null" && it.Info[0] != '{' {
			return errValidation(validationError{Type: "model_type", Loc: loc("info"),
				Msg: "Input should be a valid dictionary or instance of CollectionItemInfoCreateIn", Input: it.Info})
		}
	}
	return nil
}

func infoOrNil(raw json.RawMessage) *string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	s := string(raw)
	return &s
}

// usePlanPerCall makes the batch statements plan for their actual arrays (a
// generic plan cannot size a 10 000-element unnest), without JIT (compiling
// costs more than the statements), for this transaction.
func usePlanPerCall(ctx context.Context, tx *db.Tx) error {
	_, err := tx.Exec(ctx, `SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)`)
	return err
}

// addItems adds items to collection id in tx (api.md §2.11 single-add and
// bulk add by ISBN): ISBNs normalised (invalid ones dropped), bare editions
// created for unknown ISBNs, one upsert for the ISBN items and one insert for
// the others (with the school's "Unknown Book" events).
func addItems(ctx context.Context, tx *db.Tx, ident *Identity, id uuid.UUID, schoolID *int64,
	items []collectionItemIn, opt addOptions) (addResult, error) {
	var res addResult
	pos := map[string]int{}
	var (
		isbns      []string
		ct, ca     []int32
		infos      []*string
		bareCT     []int32
		bareCA     []int32
		bareInfos  []*string
		defaultsOf = func(it *collectionItemIn) (int32, int32) {
			t := int32(1)
			if it.CopiesTotal != nil && *it.CopiesTotal != 0 {
				t = int32(*it.CopiesTotal)
			}
			a := int32(1)
			if opt.bulk {
				a = t
			}
			if it.CopiesAvailable != nil && *it.CopiesAvailable != 0 {
				a = int32(*it.CopiesAvailable)
			}
			return t, a
		}
	)
	for i := range items {
		it := &items[i]
		t, a := defaultsOf(it)
		info := infoOrNil(it.Info)
		if it.EditionISBN == nil {
			if !opt.isbnOnly {
				bareCT, bareCA, bareInfos = append(bareCT, t), append(bareCA, a), append(bareInfos, info)
			}
			continue
		}
		isbn, err := catalog.NormalizeISBN(*it.EditionISBN)
		if err != nil {
			continue // dropped, as the original does
		}
		if j, dup := pos[isbn]; dup {
			if opt.conflict == conflictFail {
				return res, httpError(http.StatusConflict, msgCollectionDuplicates)
			}
			ct[j], ca[j], infos[j] = t, a, info // later duplicates win
			continue
		}
		pos[isbn] = len(isbns)
		isbns, ct, ca, infos = append(isbns, isbn), append(ct, t), append(ca, a), append(infos, info)
	}
	res.validISBNs = len(isbns)
	if len(isbns) > 0 {
		var created, unhydrated int
		if err := tx.QueryRow(ctx, `SELECT huey.ensure_bare_editions($1),
			(SELECT count(*) FROM editions e WHERE e.isbn = ANY ($1) AND e.hydrated_at IS NULL)`, isbns).
			Scan(&created, &unhydrated); err != nil {
			return res, err
		}
		res.unhydrated = created + unhydrated
		onConflict := ""
		switch opt.conflict {
		case conflictReplace:
			onConflict = `ON CONFLICT (collection_id, edition_isbn) DO UPDATE SET copies_total = excluded.copies_total,
				copies_available = excluded.copies_available, info = excluded.info, updated_at = excluded.updated_at`
		case conflictMerge:
			onConflict = `ON CONFLICT (collection_id, edition_isbn) DO UPDATE SET copies_total = excluded.copies_total,
				copies_available = excluded.copies_available,
				info = coalesce(collection_items.info, '{}'::jsonb) || excluded.info, updated_at = excluded.updated_at`
		}
		if err := tx.QueryRow(ctx, `WITH ins AS (
			INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info, created_at, updated_at)
			SELECT $1, u.isbn, u.ct, u.ca, coalesce(u.info::jsonb, '{}'::jsonb), huey.utcnow(), huey.utcnow()
			FROM unnest($2::text[], $3::int[], $4::int[], $5::text[]) u(isbn, ct, ca, info)
			`+onConflict+`
			RETURNING (xmax = 0) AS created)
			SELECT count(*) FILTER (WHERE created) FROM ins`, id, isbns, ct, ca, infos).Scan(&res.created); err != nil {
			return res, err
		}
	}
	if len(bareCT) > 0 {
		userID, saID := actor(ident)
		// Items without ISBN: a school collection records a warning per item.
		if _, err := tx.Exec(ctx, `WITH ins AS (
			INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info, created_at, updated_at)
			SELECT $1, NULL, u.ct, u.ca, coalesce(u.info::jsonb, '{}'::jsonb), huey.utcnow(), huey.utcnow()
			FROM unnest($2::int[], $3::int[], $4::text[]) u(ct, ca, info)
			RETURNING id, info)
			SELECT count(huey.record_event('Unknown Book added to Collection', 'Book with no isbn added to collection #' || $1::text,
			         'WARNING', $5, $6, $7, jsonb_build_object('collection_id', $1::text, 'title', ins.info -> 'title',
			         'author', ins.info -> 'author', 'item_id', ins.id)))
			FROM ins WHERE $5::integer IS NOT NULL`, id, bareCT, bareCA, bareInfos, schoolID, userID, saID); err != nil {
			return res, err
		}
		res.created += len(bareCT)
	}
	return res, nil
}

// collectionSize is the collection's item count, kept by triggers per
// statement (collections.item_count), so it already counts this transaction's
// writes.
func collectionSize(ctx context.Context, tx *db.Tx, id uuid.UUID) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `SELECT item_count FROM collections WHERE id = $1`, id).Scan(&n)
	return n, err
}

// recordBulkAdd records the bulk add's "Collection Update" event.
func recordBulkAdd(ctx context.Context, tx *db.Tx, ident *Identity, id uuid.UUID, schoolID *int64, r addResult) error {
	return recordEvent(ctx, tx, ident, "Collection Update", fmt.Sprintf("Adding %d editions to collection", r.validISBNs),
		"NORMAL", schoolID, map[string]any{"collection_items_created_count": r.created,
			"unhydrated_edition_count": r.unhydrated, "collection_id": id.String()})
}

// PUT /collection/{collection_id}/items: set the contents. The reset and the
// add are one transaction (the original commits the reset first [defect]).
func (s *Server) putCollectionItems(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, a, err := s.decideCollectionPath(c)
	if err != nil {
		return err
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var items []collectionItemIn
	if err := decodeBody(c, &items); err != nil {
		return err
	}
	if err := validateItems(items, false); err != nil {
		return err
	}
	var size int64
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if err := usePlanPerCall(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM collection_items WHERE collection_id = $1`, id); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, ident, "Collection Reset", fmt.Sprintf("Reset collection #%s, deleting all items", id),
			"NORMAL", a.schoolID, map[string]any{"collection_id": id.String()}); err != nil {
			return err
		}
		if len(items) > 0 {
			r, err := addItems(ctx, tx, ident, id, a.schoolID, items, addOptions{conflict: conflictMerge, bulk: true, isbnOnly: true})
			if err != nil {
				return err
			}
			if r.validISBNs == 0 {
				return httpError(http.StatusUnprocessableEntity, msgNoValidISBNs)
			}
			if err := recordBulkAdd(ctx, tx, ident, id, a.schoolID, r); err != nil {
				return err
			}
		}
		var err error
		size, err = collectionSize(ctx, tx, id)
		return err
	})
	if err := collectionWriteError(err, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"msg": fmt.Sprintf("Collection set. Total editions: %d", size),
		"collection_size": size})
}

type collectionUpdateIn struct {
	Name  *string            `json:"name"`
	Info  json.RawMessage    `json:"info"`
	Items []collectionItemIn `json:"items"`
}

// itemUpdate is one update action's provided fields.
type itemUpdate struct {
	ct, ca *int32
	info   map[string]any
}

func (u *itemUpdate) apply(it *collectionItemIn) error {
	if it.CopiesTotal != nil {
		v := int32(*it.CopiesTotal)
		u.ct = &v
	}
	if it.CopiesAvailable != nil {
		v := int32(*it.CopiesAvailable)
		u.ca = &v
	}
	if info := infoOrNil(it.Info); info != nil {
		var m map[string]any
		if err := json.Unmarshal([]byte(*info), &m); err != nil {
			return err
		}
		if u.info == nil {
			u.info = map[string]any{}
		}
		mergeDeep(u.info, m)
	}
	return nil
}

// mergeDeep merges src into dst recursively (objects merge, anything else
// replaces), as huey.jsonb_merge_deep does in the database.
func mergeDeep(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeDeep(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// updateColumns are the unnest arrays of a set of updates.
type updateColumns struct {
	ct, ca []*int32
	infos  []*string
}

func (c *updateColumns) add(u *itemUpdate) {
	c.ct, c.ca = append(c.ct, u.ct), append(c.ca, u.ca)
	if u.info == nil {
		c.infos = append(c.infos, nil)
		return
	}
	b, _ := json.Marshal(u.info)
	s := string(b)
	c.infos = append(c.infos, &s)
}

const updateSet = `SET copies_total = coalesce(u.ct, i.copies_total),
	copies_available = coalesce(u.ca, i.copies_available),
	info = CASE WHEN u.info IS NULL THEN i.info ELSE huey.jsonb_merge_deep(coalesce(i.info, '{}'::jsonb), u.info::jsonb) END,
	updated_at = huey.utcnow()`

// PATCH /collection/{collection_id}: the LMS batch update, in one pass with
// the intended semantics (api.md §2.11): add = upsert (info merged on
// conflict with ignore_conflicts, else 409 and nothing applied), update =
// partial update of the provided fields, remove = delete; then name and info.
// Adds run first, then updates, then removes.
func (s *Server) patchCollection(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, a, err := s.decideCollectionPath(c)
	if err != nil {
		return err
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	mergeDicts, err := queryBool(c, "merge_dicts")
	if err != nil {
		return err
	}
	ignore, err := queryBool(c, "ignore_conflicts")
	if err != nil {
		return err
	}
	var in collectionUpdateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := validateItems(in.Items, true); err != nil {
		return err
	}
	if in.Name != nil && len([]rune(*in.Name)) > collectionNameMax {
		return errValidation(validationError{Type: "string_too_long", Loc: []any{"body", "name"},
			Msg: fmt.Sprintf("String should have at most %d characters", collectionNameMax), Input: *in.Name,
			Ctx: map[string]any{"max_length": collectionNameMax}})
	}

	var (
		adds                []collectionItemIn
		hadISBNAdd          bool
		byID                = map[int64]*itemUpdate{}
		byISBN              = map[string]*itemUpdate{}
		idOrder             []int64
		isbnOrder           []string
		removeIDs           []int64
		removeISBNs         []string
		normalised          = func(s string) (string, bool) { v, err := catalog.NormalizeISBN(s); return v, err == nil }
		errInvalidItemsInfo = func(i int) error {
			return invalid([]any{"body", "items", i, "info"}, "Input should be a valid dictionary", nil)
		}
	)
	for i := range in.Items {
		it := &in.Items[i]
		switch *it.Action {
		case "add":
			adds = append(adds, *it)
			hadISBNAdd = hadISBNAdd || it.EditionISBN != nil
		case "update":
			var u *itemUpdate
			switch {
			case it.ID != nil:
				if u = byID[*it.ID]; u == nil {
					u = &itemUpdate{}
					byID[*it.ID] = u
					idOrder = append(idOrder, *it.ID)
				}
			case it.EditionISBN != nil:
				isbn, ok := normalised(*it.EditionISBN)
				if !ok {
					continue
				}
				if u = byISBN[isbn]; u == nil {
					u = &itemUpdate{}
					byISBN[isbn] = u
					isbnOrder = append(isbnOrder, isbn)
				}
			default:
				continue
			}
			if err := u.apply(it); err != nil {
				return errInvalidItemsInfo(i)
			}
		case "remove":
			switch {
			case it.ID != nil:
				removeIDs = append(removeIDs, *it.ID)
			case it.EditionISBN != nil:
				if isbn, ok := normalised(*it.EditionISBN); ok {
					removeISBNs = append(removeISBNs, isbn)
				}
			}
		}
	}
	mode := conflictMerge
	if ignore != nil && !*ignore {
		mode = conflictFail
	}

	var size int64
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if err := usePlanPerCall(ctx, tx); err != nil {
			return err
		}
		if len(adds) > 0 {
			r, err := addItems(ctx, tx, ident, id, a.schoolID, adds, addOptions{conflict: mode, bulk: true})
			if err != nil {
				return err
			}
			if hadISBNAdd && r.validISBNs == 0 {
				return httpError(http.StatusUnprocessableEntity, msgNoValidISBNs)
			}
			if r.validISBNs > 0 {
				if err := recordBulkAdd(ctx, tx, ident, id, a.schoolID, r); err != nil {
					return err
				}
			}
		}
		if len(idOrder) > 0 {
			var cols updateColumns
			for _, k := range idOrder {
				cols.add(byID[k])
			}
			if _, err := tx.Exec(ctx, `UPDATE collection_items i `+updateSet+`
				FROM unnest($2::int[], $3::int[], $4::int[], $5::text[]) u(id, ct, ca, info)
				WHERE i.collection_id = $1 AND i.id = u.id`, id, idOrder, cols.ct, cols.ca, cols.infos); err != nil {
				return err
			}
		}
		if len(isbnOrder) > 0 {
			var cols updateColumns
			for _, k := range isbnOrder {
				cols.add(byISBN[k])
			}
			if _, err := tx.Exec(ctx, `UPDATE collection_items i `+updateSet+`
				FROM unnest($2::text[], $3::int[], $4::int[], $5::text[]) u(isbn, ct, ca, info)
				WHERE i.collection_id = $1 AND i.edition_isbn = u.isbn`, id, isbnOrder, cols.ct, cols.ca, cols.infos); err != nil {
				return err
			}
		}
		if len(removeIDs) > 0 || len(removeISBNs) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM collection_items
				WHERE collection_id = $1 AND (id = ANY ($2::int[]) OR edition_isbn = ANY ($3::text[]))`,
				id, removeIDs, removeISBNs); err != nil {
				return err
			}
		}
		info := infoOrNil(in.Info)
		tag, err := tx.Exec(ctx, `UPDATE collections SET name = coalesce($2, name),
			info = CASE WHEN $3::jsonb IS NULL THEN info
			            WHEN $4 THEN huey.jsonb_merge_deep(coalesce(info, '{}'::jsonb), $3::jsonb)
			            ELSE $3::jsonb END,
			updated_at = huey.utcnow()
			WHERE id = $1`, id, in.Name, info, mergeDicts != nil && *mergeDicts)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return errForbidden()
		}
		if err := recordEvent(ctx, tx, ident, "Collection Update", "Updates made to collection", "NORMAL", a.schoolID,
			map[string]any{"collection_id": id.String()}); err != nil {
			return err
		}
		size, err = collectionSize(ctx, tx, id)
		return err
	})
	if err := collectionWriteError(err, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"msg": "updated", "collection_size": size})
}
