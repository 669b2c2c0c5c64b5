package queries

import (
	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/collection"
)

// Collection reads (api.md §2.11) that are not in collection.sql: each builds
// JSON from schema/catalog's and schema/collection's fragments (WorkBrief,
// the item detail), which a .sql file cannot include, so sqlc cannot
// express them; handlers queue them on db.Read's batch and read the JSON.

// CollectionCompare is the booklist's items ($2) in order, each with the
// ISBNs of the collection's ($1) items whose edition belongs to the item's
// work; $3, $4 are skip and limit (applied to the booklist).
var CollectionCompare = `
SELECT json_build_object('in_collection', cardinality(x.isbns) > 0, 'work_id', w.id::text,
  'work_brief', ` + catalog.SQLWorkBrief + `, 'editions_in_collection', to_json(x.isbns))
FROM (SELECT bw.work_id, bw.order_id FROM public.book_list_works bw WHERE bw.booklist_id = $2
      ORDER BY bw.order_id NULLS LAST, bw.work_id OFFSET $3 LIMIT $4) bw
JOIN public.works w ON w.id = bw.work_id
CROSS JOIN LATERAL (SELECT coalesce(array_agg(i.edition_isbn ORDER BY i.edition_isbn), '{}'::text[]) AS isbns
                    FROM public.collection_items i JOIN public.editions e ON e.isbn = i.edition_isbn
                    WHERE i.collection_id = $1 AND e.work_id = w.id) x
ORDER BY bw.order_id NULLS LAST, bw.work_id`

// CollectionItemDetail is the CollectionItemDetail JSON of item $1.
var CollectionItemDetail = `SELECT ` + collection.ItemDetailSQL + ` ` + collection.ItemJoins + ` WHERE i.id = $1`

// CollectionItemByISBN is the CollectionItemDetail JSON of the item of
// collection $1 with edition $2.
var CollectionItemByISBN = `SELECT ` + collection.ItemDetailSQL + ` ` + collection.ItemJoins + ` WHERE i.collection_id = $1 AND i.edition_isbn = $2`

// CollectionInfoCounts is GET /collection/{id}/info's counts of the items
// joined to edition and work (api.md §2.11), with the work's latest labelset:
// total, hydrated, labelled, recommendable. A constant because sqlc expands
// the lateral's SELECT * into today's labelsets columns.
const CollectionInfoCounts = `
SELECT count(*),
       count(*) FILTER (WHERE x.hydrated),
       count(*) FILTER (WHERE x.hydrated AND x.labelled),
       count(*) FILTER (WHERE x.hydrated AND x.labelled AND x.good)
FROM (
  SELECT e.title IS NOT NULL AND e.cover_url IS NOT NULL AS hydrated,
         coalesce(l.min_age >= 0 AND l.max_age > 0 AND l.huey_summary IS NOT NULL
           AND EXISTS (SELECT 1 FROM labelset_hue_association h WHERE h.labelset_id = l.id)
           AND EXISTS (SELECT 1 FROM labelset_reading_ability_association r WHERE r.labelset_id = l.id), false) AS labelled,
         coalesce(l.recommend_status = 'GOOD', false) AS good
  FROM collection_items i
  JOIN editions e ON e.isbn = i.edition_isbn
  JOIN works w ON w.id = e.work_id
  LEFT JOIN LATERAL (SELECT * FROM labelsets y WHERE y.work_id = w.id ORDER BY y.id DESC LIMIT 1) l ON true
  WHERE i.collection_id = $1) x`
