// Package collection holds the SQL of the collection routes that the API and
// the benchmark (`make bench`) share, so the benchmark measures exactly what
// the API runs.
package collection

import (
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/catalog"
)

// JITOffSQL turns JIT off for the transaction. The collection routes queue it
// before their queries: under the API login's generic plans a collection
// query's estimate (a LIMIT $n is taken as a tenth of 50 000 items) crosses
// jit_above_cost, and compiling costs seconds where the query takes
// milliseconds.
const JITOffSQL = `SELECT set_config('jit', 'off', true)`

// AttrsSQL reads collection $1's policy attributes (exists, owning school's
// integer id and uuid, or owning user) through the SECURITY DEFINER door.
const AttrsSQL = `SELECT school_id, school_wid, user_id FROM huey.collection_attrs($1)`

// ItemDetailSQL is CollectionItemDetail of item i, edition e, work w.
var ItemDetailSQL = `json_build_object('id', i.id,
  'work', CASE WHEN w.id IS NULL THEN NULL ELSE ` + catalog.SQLWorkBrief + ` END,
  'edition', CASE WHEN e.id IS NULL THEN NULL ELSE ` + catalog.SQLEditionBrief("e") + ` END,
  'copies_total', i.copies_total, 'copies_available', i.copies_available, 'info', i.info)`

// ItemJoins joins item i to its edition e and work w.
const ItemJoins = `FROM collection_items i
LEFT JOIN editions e ON e.isbn = i.edition_isbn
LEFT JOIN works w ON w.id = e.work_id`

// ItemsFilter is GET /v1/collection/{id}/items's query (api.md §2.11).
type ItemsFilter struct {
	CollectionID uuid.UUID
	Query        *string    // edition title matches plainto_tsquery
	ReaderID     *uuid.UUID // items with activity by this reader
	ReadStatus   *string    // latest status (of ReaderID, or of any reader)
	Skip, Limit  int
}

// where is the filter's condition over item i (and edition e) with its
// arguments, $1 being the collection.
func (f ItemsFilter) where() (string, []any) {
	where := []string{"i.collection_id = $1"}
	args := []any{f.CollectionID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Query != nil { // sort_title is the edition's title, kept beside the item
		add("to_tsvector('english', coalesce(i.sort_title, '')) @@ plainto_tsquery('english', $?)", *f.Query)
	}
	if f.ReaderID != nil {
		add(`EXISTS (SELECT 1 FROM collection_item_activity_log x WHERE x.collection_item_id = i.id AND x.reader_id = $?)`, *f.ReaderID)
	}
	if f.ReadStatus != nil {
		if f.ReaderID != nil {
			add(`(SELECT x.status FROM collection_item_activity_log x
				WHERE x.collection_item_id = i.id AND x.reader_id = $`+strconv.Itoa(len(args))+`
				ORDER BY x."timestamp" DESC, x.id DESC LIMIT 1) = $?::enum_collection_item_read_status`, *f.ReadStatus)
		} else {
			add(`EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (x.reader_id) x.status FROM collection_item_activity_log x
				WHERE x.collection_item_id = i.id ORDER BY x.reader_id, x."timestamp" DESC, x.id DESC) last
				WHERE last.status = $?::enum_collection_item_read_status)`, *f.ReadStatus)
		}
	}
	return strings.Join(where, " AND "), args
}

// filtered reports whether f narrows the collection.
func (f ItemsFilter) filtered() bool {
	return f.Query != nil || f.ReaderID != nil || f.ReadStatus != nil
}

// ItemsTotalSQL is the page's `total`: the number of items matching f. The
// whole collection's is the count its collection keeps (item_count, kept by
// triggers), read as one row; only a filtered page counts its matches.
func ItemsTotalSQL(f ItemsFilter) (string, []any) {
	if !f.filtered() {
		// always one row: 0 when row security hides the collection (the policy
		// has refused the request by then)
		return `SELECT coalesce((SELECT c.item_count FROM collections c WHERE c.id = $1), 0)`, []any{f.CollectionID}
	}
	cond, args := f.where()
	return `SELECT count(*) FROM collection_items i WHERE ` + cond, args
}

// ItemsPageSQL is the page's data: one CollectionItemDetail per row, in the
// documented order (edition title, items without one last, then id). The
// page's rows come from ix_collection_items_collection_sort (collection_id,
// sort_title, id) in that order, and only those rows are joined to their
// edition and work and rendered: the cost is the page's, not the
// collection's.
func ItemsPageSQL(f ItemsFilter) (string, []any) {
	cond, args := f.where()
	n := len(args)
	args = append(args, f.Skip, f.Limit)
	return `SELECT ` + ItemDetailSQL + ` FROM (
  SELECT i.id, i.edition_isbn, i.copies_total, i.copies_available, i.info, i.sort_title FROM collection_items i
  WHERE ` + cond + ` ORDER BY i.sort_title, i.id OFFSET $` + strconv.Itoa(n+1) + ` LIMIT $` + strconv.Itoa(n+2) + `) i
LEFT JOIN editions e ON e.isbn = i.edition_isbn
LEFT JOIN works w ON w.id = e.work_id
ORDER BY i.sort_title, i.id`, args
}
