package queries

import "github.com/wriveted/huey-api/schema/catalog"

// Catalogue reads (api.md §2.7–§2.9) that are not in catalogue.sql: each is
// one JSON tree built by Postgres from schema/catalog's fragments (WorkBrief,
// EditionBrief, IllustratorBrief, shared with booklists, collections and the
// plan tests), which a .sql file cannot include, so sqlc cannot express
// them; handlers queue them on db.Read's batch and read the JSON.

// LatestLabelSet joins the latest labelset (highest id) of work w as l.
func LatestLabelSet(w string) string {
	return `LEFT JOIN LATERAL (SELECT * FROM public.labelsets x WHERE x.work_id = ` + w + ` ORDER BY x.id DESC LIMIT 1) l ON true`
}

const labelSetHues = `(SELECT coalesce(json_agg(json_build_object('id', h.id::text, 'name', h.name, 'key', h.key)
  ORDER BY lh.ordinal, h.id), '[]'::json)
  FROM public.labelset_hue_association lh JOIN public.hues h ON h.id = lh.hue_id WHERE lh.labelset_id = l.id)`

const labelSetReadingAbilities = `(SELECT coalesce(json_agg(json_build_object('id', r.id::text, 'key', r.key, 'name', r.name)
  ORDER BY r.id), '[]'::json)
  FROM public.labelset_reading_ability_association lr JOIN public.reading_abilities r ON r.id = lr.reading_ability_id
  WHERE lr.labelset_id = l.id)`

// LabelSetBasic is LabelSetBasic of the joined labelset l, or null.
const LabelSetBasic = `CASE WHEN l.id IS NULL THEN NULL ELSE json_build_object('id', l.id::text, 'work_id', l.work_id::text,
  'hues', ` + labelSetHues + `, 'min_age', l.min_age, 'max_age', l.max_age, 'reading_abilities', ` + labelSetReadingAbilities + `,
  'huey_summary', l.huey_summary) END`

// LabelSetDetail is LabelSetDetail of the joined labelset l, or null.
var LabelSetDetail = `CASE WHEN l.id IS NULL THEN NULL ELSE json_build_object('id', l.id::text, 'work_id', l.work_id::text,
  'hues', ` + labelSetHues + `, 'hue_origin', l.hue_origin::text, 'min_age', l.min_age, 'max_age', l.max_age,
  'age_origin', l.age_origin::text, 'reading_abilities', ` + labelSetReadingAbilities + `,
  'reading_ability_origin', l.reading_ability_origin::text, 'huey_summary', l.huey_summary,
  'summary_origin', l.summary_origin::text, 'labelled_by_user_id', l.labelled_by_user_id,
  'labelled_by_sa_id', l.labelled_by_sa_id, 'info', l.info, 'recommend_status', l.recommend_status::text,
  'recommend_status_origin', l.recommend_status_origin::text, 'checked', l.checked,
  'created_at', ` + catalog.SQLTime("l.created_at") + `, 'updated_at', ` + catalog.SQLTime("l.updated_at") + `) END`

// WorkEnriched is WorkEnriched of work $1 (cover_url: any edition's cover).
var WorkEnriched = `
SELECT json_build_object('id', w.id::text, 'type', lower(w.type::text), 'leading_article', w.leading_article,
  'title', w.title, 'subtitle', w.subtitle, 'authors', ` + catalog.SQLAuthorsOfWork("w.id") + `,
  'labelset', ` + LabelSetBasic + `,
  'cover_url', (SELECT e.cover_url FROM public.editions e WHERE e.work_id = w.id AND e.cover_url IS NOT NULL
                ORDER BY e.id LIMIT 1))
FROM public.works w ` + LatestLabelSet("w.id") + `
WHERE w.id = $1`

// WorkDetail is WorkDetail of work $1. A stored info without genres is
// answered with genres [] and other {} (the original writes them back on
// read; a GET here never writes).
var WorkDetail = `
SELECT json_build_object('id', w.id::text, 'type', lower(w.type::text), 'leading_article', w.leading_article,
  'title', w.title, 'subtitle', w.subtitle, 'authors', ` + catalog.SQLAuthorsOfWork("w.id") + `,
  'labelset', ` + LabelSetDetail + `, 'cover_url', NULL,
  'editions', (SELECT coalesce(json_agg(` + catalog.SQLEditionBrief("e") + ` ORDER BY e.cover_url IS NULL, e.id), '[]'::json)
               FROM public.editions e WHERE e.work_id = w.id),
  'info', CASE WHEN w.info IS NULL OR jsonb_typeof(w.info) <> 'object' THEN w.info
               WHEN w.info ? 'genres' THEN w.info
               ELSE jsonb_build_object('other', '{}'::jsonb) || w.info || jsonb_build_object('genres', '[]'::jsonb) END)
FROM public.works w ` + LatestLabelSet("w.id") + `
WHERE w.id = $1`

// WorkSnapshot is the state PATCH /work diffs: the work's fields, its
// authors and its latest labelset (api.md §2.8).
var WorkSnapshot = `
SELECT json_build_object('id', w.id, 'type', lower(w.type::text), 'leading_article', w.leading_article,
  'title', w.title, 'subtitle', w.subtitle,
  'authors', (SELECT coalesce(json_agg(json_build_object('id', a.id, 'first_name', a.first_name, 'last_name', a.last_name)
              ORDER BY a.id), '[]'::json)
              FROM public.author_work_association aw JOIN public.authors a ON a.id = aw.author_id WHERE aw.work_id = w.id),
  'labelset', ` + LabelSetDetail + `)
FROM public.works w ` + LatestLabelSet("w.id") + `
WHERE w.id = $1`

// ListIllustrators is IllustratorBrief of every illustrator, by id, paged ($1 offset, $2 limit).
const ListIllustrators = `SELECT ` + catalog.SQLIllustratorBrief + ` FROM public.illustrators i ORDER BY i.id OFFSET $1 LIMIT $2`

// GetIllustrator is IllustratorBrief of illustrator $1.
const GetIllustrator = `SELECT ` + catalog.SQLIllustratorBrief + ` FROM public.illustrators i WHERE i.id = $1`

// ListWorks is GET /works: WorkBrief of works of type $1, title ILIKE $2,
// by author $3, with an edition of isbn $4 (else any edition), paged ($5, $6).
var ListWorks = `
SELECT ` + catalog.SQLWorkBrief + ` FROM public.works w
WHERE w.type = $1::public.worktype
  AND ($2::text IS NULL OR w.title ILIKE $2)
  AND ($3::int IS NULL OR EXISTS (SELECT 1 FROM public.author_work_association aw WHERE aw.work_id = w.id AND aw.author_id = $3))
  AND CASE WHEN $4::text IS NULL THEN EXISTS (SELECT 1 FROM public.editions e WHERE e.work_id = w.id)
           ELSE EXISTS (SELECT 1 FROM public.editions e WHERE e.work_id = w.id AND e.isbn = $4) END
ORDER BY w.id OFFSET $5 LIMIT $6`

// ListWorkEditions is EditionBrief of work $1's editions, covers first, paged ($2, $3).
var ListWorkEditions = `SELECT ` + catalog.SQLEditionBrief("e") + ` FROM public.editions e WHERE e.work_id = $1
ORDER BY e.cover_url IS NULL, e.id OFFSET $2 LIMIT $3`

// SearchEditions is EditionBrief of the editions whose title matches $1 (full text, unpaged).
var SearchEditions = `SELECT ` + catalog.SQLEditionBrief("e") + ` FROM public.editions e
WHERE to_tsvector(coalesce(e.title, '')) @@ plainto_tsquery($1) ORDER BY e.id`

// ListEditions is EditionBrief of every edition, by id, paged ($1, $2).
var ListEditions = `SELECT ` + catalog.SQLEditionBrief("e") + ` FROM public.editions e ORDER BY e.id OFFSET $1 LIMIT $2`

// CompareEditions counts the editions of ISBNs $1 and those whose work's
// latest labelset is checked (POST /editions/compare).
var CompareEditions = `
SELECT count(*), count(*) FILTER (WHERE l.checked IS TRUE)
FROM public.editions e ` + LatestLabelSet("e.work_id") + `
WHERE e.isbn = ANY($1::text[])`

// WorkSnapshotForUpdate is WorkSnapshot, locking the work (PATCH /work).
var WorkSnapshotForUpdate = WorkSnapshot + ` FOR UPDATE OF w`
