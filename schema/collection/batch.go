package collection

// Batch writes of a collection (api.md §2.11, §3.2): the set-based SQL of the
// LMS PATCH /v1/collection/{id}, PUT /v1/collection/{id}/items and the other
// adds, shared by the API and the staff script import-collection, so a staff
// import runs exactly the statements an LMS sync runs. Each call runs in the
// caller's transaction, under the caller's row security: one statement per
// action kind over unnest()ed arrays, never one per item.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
)

// Item is one item of a batch write (the API's CollectionItemIn).
type Item struct {
	EditionISBN     *string         `json:"edition_isbn"`
	Info            json.RawMessage `json:"info"`
	CopiesTotal     *int            `json:"copies_total"`
	CopiesAvailable *int            `json:"copies_available"`
	Action          *string         `json:"action"` // add, update, remove (PATCH only; lower case)
	ID              *int64          `json:"id"`
}

// ConflictMode is what adding an ISBN the collection already holds does.
type ConflictMode int

const (
	ConflictReplace ConflictMode = iota // overwrite copies and info (single-add with ignore_conflicts)
	ConflictMerge                       // overwrite copies, shallow-merge info (bulk add, PATCH add)
	ConflictFail                        // ErrDuplicate, nothing applied
)

// ErrDuplicate is returned when ConflictFail meets an ISBN twice (the API's
// 409).
var ErrDuplicate = errors.New("duplicate entries in collection")

// AddOptions tune AddItems.
type AddOptions struct {
	Conflict ConflictMode
	Bulk     bool // copies_available defaults to copies_total (else to 1)
	ISBNOnly bool // items without a valid ISBN are dropped (PUT items)
	// SchoolID is the owning school's integer id: items without an ISBN
	// record an "Unknown Book added to Collection" warning for it, as
	// UserID or ServiceAccountID (the actor, at most one).
	SchoolID               *int64
	UserID, ServiceAccount *uuid.UUID
}

// AddResult counts what AddItems did.
type AddResult struct {
	ValidISBNs int // distinct valid ISBNs among the items
	Created    int // items created
	Unhydrated int // of the ISBNs, editions created bare now or still unhydrated
}

// UsePlanPerCall makes the batch statements plan for their actual arrays (a
// generic plan cannot size a 10 000-element unnest), without JIT (compiling
// costs more than the statements), for this transaction.
func UsePlanPerCall(ctx context.Context, tx *db.Tx) error {
	_, err := tx.Exec(ctx, `SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)`)
	return err
}

// InfoOrNil is an item's info as text, nil when absent or JSON null.
func InfoOrNil(raw json.RawMessage) *string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	s := string(raw)
	return &s
}

// AddItems adds items to collection id in tx (api.md §2.11 single-add and
// bulk add by ISBN): ISBNs normalised (invalid ones dropped), bare editions
// created for unknown ISBNs (huey.ensure_bare_editions), one upsert for the
// ISBN items and one insert for the others (with the school's "Unknown Book"
// events).
func AddItems(ctx context.Context, tx *db.Tx, id uuid.UUID, items []Item, opt AddOptions) (AddResult, error) {
	var res AddResult
	pos := map[string]int{}
	var (
		isbns      []string
		ct, ca     []int32
		infos      []*string
		bareCT     []int32
		bareCA     []int32
		bareInfos  []*string
		defaultsOf = func(it *Item) (int32, int32) {
			t := int32(1)
			if it.CopiesTotal != nil && *it.CopiesTotal != 0 {
				t = int32(*it.CopiesTotal) // #nosec G115 -- validated ≤ MaxInt32 by the caller
			}
			a := int32(1)
			if opt.Bulk {
				a = t
			}
			if it.CopiesAvailable != nil && *it.CopiesAvailable != 0 {
				a = int32(*it.CopiesAvailable) // #nosec G115 -- validated ≤ MaxInt32 by the caller
			}
			return t, a
		}
	)
	for i := range items {
		it := &items[i]
		t, a := defaultsOf(it)
		info := InfoOrNil(it.Info)
		if it.EditionISBN == nil {
			if !opt.ISBNOnly {
				bareCT, bareCA, bareInfos = append(bareCT, t), append(bareCA, a), append(bareInfos, info)
			}
			continue
		}
		isbn, err := catalog.NormalizeISBN(*it.EditionISBN)
		if err != nil {
			continue // dropped, as the original does
		}
		if j, dup := pos[isbn]; dup {
			if opt.Conflict == ConflictFail {
				return res, ErrDuplicate
			}
			ct[j], ca[j], infos[j] = t, a, info // later duplicates win
			continue
		}
		pos[isbn] = len(isbns)
		isbns, ct, ca, infos = append(isbns, isbn), append(ct, t), append(ca, a), append(infos, info)
	}
	res.ValidISBNs = len(isbns)
	if len(isbns) > 0 {
		var created, unhydrated int
		if err := tx.QueryRow(ctx, `SELECT huey.ensure_bare_editions($1),
			(SELECT count(*) FROM editions e WHERE e.isbn = ANY ($1) AND e.hydrated_at IS NULL)`, isbns).
			Scan(&created, &unhydrated); err != nil {
			return res, err
		}
		res.Unhydrated = created + unhydrated
		onConflict := ""
		switch opt.Conflict {
		case ConflictReplace:
			onConflict = `ON CONFLICT (collection_id, edition_isbn) DO UPDATE SET copies_total = excluded.copies_total,
				copies_available = excluded.copies_available, info = excluded.info, updated_at = excluded.updated_at`
		case ConflictMerge:
			onConflict = `ON CONFLICT (collection_id, edition_isbn) DO UPDATE SET copies_total = excluded.copies_total,
				copies_available = excluded.copies_available,
				info = coalesce(collection_items.info, '{}'::jsonb) || excluded.info, updated_at = excluded.updated_at`
		case ConflictFail:
		}
		if err := tx.QueryRow(ctx, `WITH ins AS (
			INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info, created_at, updated_at)
			SELECT $1, u.isbn, u.ct, u.ca, coalesce(u.info::jsonb, '{}'::jsonb), huey.utcnow(), huey.utcnow()
			FROM unnest($2::text[], $3::int[], $4::int[], $5::text[]) u(isbn, ct, ca, info)
			`+onConflict+`
			RETURNING (xmax = 0) AS created)
			SELECT count(*) FILTER (WHERE created) FROM ins`, id, isbns, ct, ca, infos).Scan(&res.Created); err != nil {
			return res, err
		}
	}
	if len(bareCT) > 0 {
		// Items without ISBN: a school collection records a warning per item.
		if _, err := tx.Exec(ctx, `WITH ins AS (
			INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info, created_at, updated_at)
			SELECT $1, NULL, u.ct, u.ca, coalesce(u.info::jsonb, '{}'::jsonb), huey.utcnow(), huey.utcnow()
			FROM unnest($2::int[], $3::int[], $4::text[]) u(ct, ca, info)
			RETURNING id, info)
			SELECT count(huey.record_event('Unknown Book added to Collection', 'Book with no isbn added to collection #' || $1::text,
			         'WARNING', $5, $6, $7, jsonb_build_object('collection_id', $1::text, 'title', ins.info -> 'title',
			         'author', ins.info -> 'author', 'item_id', ins.id)))
			FROM ins WHERE $5::integer IS NOT NULL`, id, bareCT, bareCA, bareInfos, opt.SchoolID, opt.UserID, opt.ServiceAccount); err != nil {
			return res, err
		}
		res.Created += len(bareCT)
	}
	return res, nil
}

// Size is the collection's item count, kept by triggers per statement
// (collections.item_count), so it already counts this transaction's writes.
func Size(ctx context.Context, tx *db.Tx, id uuid.UUID) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, `SELECT item_count FROM collections WHERE id = $1`, id).Scan(&n)
	return n, err
}

// Patch is a PATCH batch sorted by action: adds in order, updates merged per
// item id and per ISBN (later fields win, info deep-merged), removes.
type Patch struct {
	Adds        []Item
	HadISBNAdd  bool // some add named an ISBN (valid or not)
	byID        map[int64]*itemUpdate
	byISBN      map[string]*itemUpdate
	idOrder     []int64
	isbnOrder   []string
	removeIDs   []int64
	removeISBNs []string
}

// InvalidInfoError is an update whose info is not a JSON object.
type InvalidInfoError struct{ Index int }

func (e *InvalidInfoError) Error() string {
	return fmt.Sprintf("item %d: info is not a JSON object", e.Index)
}

// Empty reports whether p changes no item.
func (p *Patch) Empty() bool {
	return len(p.Adds) == 0 && len(p.idOrder) == 0 && len(p.isbnOrder) == 0 &&
		len(p.removeIDs) == 0 && len(p.removeISBNs) == 0
}

// PlanPatch sorts items (actions already validated and lower case; nil is
// add) into a Patch. Updates and removes with an invalid ISBN are dropped.
func PlanPatch(items []Item) (Patch, error) {
	p := Patch{byID: map[int64]*itemUpdate{}, byISBN: map[string]*itemUpdate{}}
	for i := range items {
		it := &items[i]
		action := "add"
		if it.Action != nil {
			action = *it.Action
		}
		switch action {
		case "add":
			p.Adds = append(p.Adds, *it)
			p.HadISBNAdd = p.HadISBNAdd || it.EditionISBN != nil
		case "update":
			var u *itemUpdate
			switch {
			case it.ID != nil:
				if u = p.byID[*it.ID]; u == nil {
					u = &itemUpdate{}
					p.byID[*it.ID] = u
					p.idOrder = append(p.idOrder, *it.ID)
				}
			case it.EditionISBN != nil:
				isbn, err := catalog.NormalizeISBN(*it.EditionISBN)
				if err != nil {
					continue
				}
				if u = p.byISBN[isbn]; u == nil {
					u = &itemUpdate{}
					p.byISBN[isbn] = u
					p.isbnOrder = append(p.isbnOrder, isbn)
				}
			default:
				continue
			}
			if err := u.apply(it); err != nil {
				return p, &InvalidInfoError{Index: i}
			}
		case "remove":
			switch {
			case it.ID != nil:
				p.removeIDs = append(p.removeIDs, *it.ID)
			case it.EditionISBN != nil:
				if isbn, err := catalog.NormalizeISBN(*it.EditionISBN); err == nil {
					p.removeISBNs = append(p.removeISBNs, isbn)
				}
			}
		}
	}
	return p, nil
}

// ApplyPatch applies p to collection id in tx: adds first (AddItems with
// opt, Bulk set), then updates by id, updates by ISBN, removes — one
// statement each. It returns the adds' result.
func ApplyPatch(ctx context.Context, tx *db.Tx, id uuid.UUID, p Patch, opt AddOptions) (AddResult, error) {
	var r AddResult
	if len(p.Adds) > 0 {
		opt.Bulk = true
		var err error
		if r, err = AddItems(ctx, tx, id, p.Adds, opt); err != nil {
			return r, err
		}
	}
	if len(p.idOrder) > 0 {
		var cols updateColumns
		for _, k := range p.idOrder {
			cols.add(p.byID[k])
		}
		if _, err := tx.Exec(ctx, `UPDATE collection_items i `+updateSet+`
			FROM unnest($2::int[], $3::int[], $4::int[], $5::text[]) u(id, ct, ca, info)
			WHERE i.collection_id = $1 AND i.id = u.id`, id, p.idOrder, cols.ct, cols.ca, cols.infos); err != nil {
			return r, err
		}
	}
	if len(p.isbnOrder) > 0 {
		var cols updateColumns
		for _, k := range p.isbnOrder {
			cols.add(p.byISBN[k])
		}
		if _, err := tx.Exec(ctx, `UPDATE collection_items i `+updateSet+`
			FROM unnest($2::text[], $3::int[], $4::int[], $5::text[]) u(isbn, ct, ca, info)
			WHERE i.collection_id = $1 AND i.edition_isbn = u.isbn`, id, p.isbnOrder, cols.ct, cols.ca, cols.infos); err != nil {
			return r, err
		}
	}
	if len(p.removeIDs) > 0 || len(p.removeISBNs) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM collection_items
			WHERE collection_id = $1 AND (id = ANY ($2::int[]) OR edition_isbn = ANY ($3::text[]))`,
			id, p.removeIDs, p.removeISBNs); err != nil {
			return r, err
		}
	}
	return r, nil
}

// itemUpdate is one update action's provided fields.
type itemUpdate struct {
	ct, ca *int32
	info   map[string]any
}

func (u *itemUpdate) apply(it *Item) error {
	if it.CopiesTotal != nil {
		v := int32(*it.CopiesTotal) // #nosec G115 -- validated ≤ MaxInt32 by the caller
		u.ct = &v
	}
	if it.CopiesAvailable != nil {
		v := int32(*it.CopiesAvailable) // #nosec G115 -- validated ≤ MaxInt32 by the caller
		u.ca = &v
	}
	if info := InfoOrNil(it.Info); info != nil {
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
