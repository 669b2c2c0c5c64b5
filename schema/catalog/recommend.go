package catalog

// RecommendSQL is the recommendation candidate query Q(P) (api.md §2.16
// step 2), shared by POST /v1/recommend and the reading-pathways task
// (tasks.md §5.1). Parameters: $1 school integer id or NULL (its collection
// through huey.school_collection_isbns), $2 hue keys (text[], empty = any),
// $3 reading-ability keys (text[], empty = any), $4 age or NULL, $5 GOOD only
// (bool), $6 excluded ISBNs (text[]), $7 seed of the random order, $8 rows.
// Columns: work id, isbn, cover url, display title, authors string, then the
// labelset (id, work id, hue origin, min/max age, age origin, reading-ability
// origin, huey summary, summary origin, labelled by user/SA, info, recommend
// status and origin, checked, created/updated at, hues JSON, abilities JSON).
//
// It takes the latest labelset of each work, every edition of the work with
// a cover, its hue and reading-ability links (inner joins), the filters; one
// row per work, lowest work ids first, at most 10 000 works; then a random
// order, seeded by $7 (md5 of work id and seed), and $8 rows.
const RecommendSQL = `
WITH coll AS MATERIALIZED (
  SELECT CASE WHEN $1::integer IS NULL THEN NULL::text[]
              ELSE huey.school_collection_isbns($1::integer) END AS isbns
), latest AS (
  SELECT DISTINCT ON (l.work_id) l.id, l.work_id, l.min_age, l.max_age, l.recommend_status
  FROM labelsets l WHERE l.work_id IS NOT NULL
  ORDER BY l.work_id, l.id DESC
), candidates AS (
  SELECT DISTINCT ON (l.work_id) l.work_id, e.id AS edition_id, l.id AS labelset_id
  FROM latest l
  JOIN works w ON w.id = l.work_id
  JOIN editions e ON e.work_id = w.id
  JOIN labelset_hue_association lh ON lh.labelset_id = l.id
  JOIN labelset_reading_ability_association lr ON lr.labelset_id = l.id
  WHERE e.cover_url IS NOT NULL
    AND ((SELECT isbns FROM coll) IS NULL OR e.isbn IN (SELECT unnest(isbns) FROM coll))
    AND (coalesce(cardinality($2::text[]), 0) = 0
         OR lh.hue_id IN (SELECT h.id FROM hues h WHERE h.key = ANY ($2::text[])))
    AND (coalesce(cardinality($3::text[]), 0) = 0
         OR lr.reading_ability_id IN (SELECT r.id FROM reading_abilities r WHERE r.key = ANY ($3::text[])))
    AND ($4::integer IS NULL OR (l.min_age <= $4::integer AND l.max_age >= $4::integer))
    AND (NOT $5::boolean OR l.recommend_status = 'GOOD')
    AND NOT (e.isbn = ANY ($6::text[]))
  ORDER BY l.work_id, e.id
  LIMIT 10000
), picked AS (
  SELECT c.* FROM candidates c ORDER BY md5(c.work_id::text || $7::text), c.work_id LIMIT $8
)
SELECT p.work_id, e.isbn, e.cover_url,
       CASE WHEN e.title IS NOT NULL THEN coalesce(nullif(e.leading_article, '') || ' ', '') || e.title
            WHEN w.title IS NOT NULL THEN coalesce(nullif(w.leading_article, '') || ' ', '') || w.title
            ELSE e.isbn END,
       coalesce((SELECT string_agg(CASE WHEN coalesce(a.first_name, '') <> '' THEN a.first_name || ' ' || a.last_name
                                        ELSE a.last_name END, ', ' ORDER BY a.id)
                 FROM author_work_association awa JOIN authors a ON a.id = awa.author_id
                 WHERE awa.work_id = p.work_id), ''),
       l.id, l.work_id, l.hue_origin::text, l.min_age, l.max_age, l.age_origin::text,
       l.reading_ability_origin::text, l.huey_summary, l.summary_origin::text, l.labelled_by_user_id,
       l.labelled_by_sa_id, l.info, l.recommend_status::text, l.recommend_status_origin::text, l.checked,
       l.created_at, l.updated_at,
       (SELECT coalesce(json_agg(json_build_object('id', h.id::text, 'name', h.name, 'key', h.key) ORDER BY h.id), '[]')
        FROM hues h WHERE h.id IN (SELECT x.hue_id FROM labelset_hue_association x WHERE x.labelset_id = l.id)),
       (SELECT coalesce(json_agg(json_build_object('id', r.id::text, 'key', r.key, 'name', r.name) ORDER BY r.id), '[]')
        FROM reading_abilities r
        WHERE r.id IN (SELECT x.reading_ability_id FROM labelset_reading_ability_association x WHERE x.labelset_id = l.id))
FROM picked p
JOIN works w ON w.id = p.work_id
JOIN editions e ON e.id = p.edition_id
JOIN labelsets l ON l.id = p.labelset_id
ORDER BY md5(p.work_id::text || $7::text), p.work_id`
