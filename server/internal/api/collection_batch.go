package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/collection"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Batch writes of a collection (api.md §2.11, §3.2): PUT /collection/{id}/items
// sets the contents, PATCH /collection/{id} adds, updates and removes. Each
// request is one transaction (a failure leaves the collection as it was) of
// set-based statements: one per action kind over unnest()ed arrays, never one
// per item.

// The conflict modes and the add result are schema/collection's (the staff
// import shares the statements); addOptions picks the API's options.
type (
	conflictMode = collection.ConflictMode
	addResult    = collection.AddResult
)

const (
	conflictReplace = collection.ConflictReplace
	conflictMerge   = collection.ConflictMerge
	conflictFail    = collection.ConflictFail
)

type addOptions struct {
	conflict conflictMode
	bulk     bool
	isbnOnly bool
}

// createItems and updateItems turn the decoded items into schema/collection's
// Item, the shape the staff import shares.
func createItems(in []collectionItemIn) []collection.Item {
	out := make([]collection.Item, len(in))
	for i, it := range in {
		out[i] = collection.Item{EditionISBN: valueOf(it.EditionIsbn), Info: rawOf(it.Info),
			CopiesTotal: valueOf(it.CopiesTotal), CopiesAvailable: valueOf(it.CopiesAvailable)}
	}
	return out
}

func updateItems(in []collectionItemUpdateIn) []collection.Item {
	out := make([]collection.Item, len(in))
	for i, it := range in {
		out[i] = collection.Item{EditionISBN: valueOf(it.EditionIsbn), Info: rawOf(it.Info),
			CopiesTotal: valueOf(it.CopiesTotal), CopiesAvailable: valueOf(it.CopiesAvailable), Action: it.Action}
		if id := valueOf(it.Id); id != nil {
			n := int64(*id)
			out[i].ID = &n
		}
	}
	return out
}

// validateItems checks what the document cannot say (it has checked copies
// ≥ 0 and info an object): actions in any case (api.md §0.6) and the int4
// columns' range (R6).
func validateItems(items []collection.Item, withAction bool) error {
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
			if v != nil && *v > math.MaxInt32 { // R6: the column is int4; 2³¹+1 was stored negative
				return errValidation(tooLarge(loc(f), *v, math.MaxInt32))
			}
		}
		if it.ID != nil && (*it.ID < math.MinInt32 || *it.ID > math.MaxInt32) {
			return errValidation(notInt32(loc("id"), *it.ID))
		}
	}
	return nil
}

func infoOrNil(raw json.RawMessage) *string { return collection.InfoOrNil(raw) }

// addItems adds items to collection id in tx through collection.AddItems
// (the set-based path the staff import shares), the actor taken from ident;
// a duplicate under conflictFail is the 409.
func addItems(ctx context.Context, tx *db.Tx, ident *Identity, id uuid.UUID, schoolID *int64,
	items []collection.Item, opt addOptions) (addResult, error) {
	userID, saID := actor(ident)
	r, err := collection.AddItems(ctx, tx, id, items, collection.AddOptions{Conflict: opt.conflict, Bulk: opt.bulk,
		ISBNOnly: opt.isbnOnly, SchoolID: schoolID, UserID: userID, ServiceAccount: saID})
	if errors.Is(err, collection.ErrDuplicate) {
		return r, httpError(http.StatusConflict, msgCollectionDuplicates)
	}
	return r, err
}

// recordBulkAdd records the bulk add's "Collection Update" event.
func recordBulkAdd(ctx context.Context, tx *db.Tx, ident *Identity, id uuid.UUID, schoolID *int64, r addResult) error {
	return recordEvent(ctx, tx, ident, "Collection Update", fmt.Sprintf("Adding %d editions to collection", r.ValidISBNs),
		"NORMAL", schoolID, map[string]any{"collection_items_created_count": r.Created,
			"unhydrated_edition_count": r.Unhydrated, "collection_id": id.String()})
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
	var in []collectionItemIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	items := createItems(in)
	if err := validateItems(items, false); err != nil {
		return err
	}
	var size int64
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if err := collection.UsePlanPerCall(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, queries.DeleteCollectionItems, id); err != nil {
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
			if r.ValidISBNs == 0 {
				return httpError(http.StatusUnprocessableEntity, msgNoValidISBNs)
			}
			if err := recordBulkAdd(ctx, tx, ident, id, a.schoolID, r); err != nil {
				return err
			}
		}
		var err error
		size, err = collection.Size(ctx, tx, id)
		return err
	})
	if err := collectionWriteError(err, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"msg": fmt.Sprintf("Collection set. Total editions: %d", size),
		"collection_size": size})
}

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
	p, err := parseCollectionPatch(c)
	if err != nil {
		return err
	}
	var size int64
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) (err error) {
		size, err = applyCollectionPatch(ctx, tx, ident, id, a, p)
		return err
	})
	if err := collectionWriteError(err, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"msg": "updated", "collection_size": size})
}

// collectionPatch is a validated PATCH /collection body with its query
// flags, parsed once and then applied.
type collectionPatch struct {
	name  *string
	info  *string // the info to write (nil: keep)
	merge bool    // merge_dicts: info deep-merges into the stored one
	mode  conflictMode
	plan  collection.Patch
}

// parseCollectionPatch reads the query flags and the body the document has
// validated, and plans the item changes: 422 on the first problem.
func parseCollectionPatch(c echo.Context) (collectionPatch, error) {
	var p collectionPatch
	mergeDicts, err := queryBool(c, "merge_dicts")
	if err != nil {
		return p, err
	}
	ignore, err := queryBool(c, "ignore_conflicts")
	if err != nil {
		return p, err
	}
	var in collectionUpdateIn
	if err := decodeBody(c, &in); err != nil {
		return p, err
	}
	items := updateItems(in.Items.GetOrEmpty())
	if err := validateItems(items, true); err != nil {
		return p, err
	}
	plan, err := collection.PlanPatch(items)
	var badInfo *collection.InvalidInfoError
	if errors.As(err, &badInfo) {
		return p, invalid([]any{"body", "items", badInfo.Index, "info"}, "Input should be a valid dictionary", nil)
	}
	if err != nil {
		return p, err
	}
	p = collectionPatch{name: valueOf(in.Name), info: infoOrNil(rawOf(in.Info)), merge: mergeDicts != nil && *mergeDicts,
		mode: conflictMerge, plan: plan}
	if ignore != nil && !*ignore {
		p.mode = conflictFail
	}
	return p, nil
}

// applyCollectionPatch writes p to collection id in tx, records its events
// and returns the collection's size.
func applyCollectionPatch(ctx context.Context, tx *db.Tx, ident *Identity, id uuid.UUID, a collectionAttrs,
	p collectionPatch) (int64, error) {
	if err := collection.UsePlanPerCall(ctx, tx); err != nil {
		return 0, err
	}
	userID, saID := actor(ident)
	r, err := collection.ApplyPatch(ctx, tx, id, p.plan, collection.AddOptions{Conflict: p.mode, SchoolID: a.schoolID,
		UserID: userID, ServiceAccount: saID})
	if errors.Is(err, collection.ErrDuplicate) {
		return 0, httpError(http.StatusConflict, msgCollectionDuplicates)
	}
	if err != nil {
		return 0, err
	}
	if p.plan.HadISBNAdd && r.ValidISBNs == 0 {
		return 0, httpError(http.StatusUnprocessableEntity, msgNoValidISBNs)
	}
	if r.ValidISBNs > 0 {
		if err := recordBulkAdd(ctx, tx, ident, id, a.schoolID, r); err != nil {
			return 0, err
		}
	}
	tag, err := tx.Exec(ctx, queries.UpdateCollectionNameInfo, id, p.name, p.info, p.merge)
	if err != nil {
		return 0, err
	}
	if tag.RowsAffected() != 1 {
		return 0, errForbidden()
	}
	if err := recordEvent(ctx, tx, ident, "Collection Update", "Updates made to collection", "NORMAL", a.schoolID,
		map[string]any{"collection_id": id.String()}); err != nil {
		return 0, err
	}
	return collection.Size(ctx, tx, id)
}
