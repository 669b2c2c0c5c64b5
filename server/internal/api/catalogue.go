package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
)

// Catalogue reads (api.md §2.7–§2.9): authors, illustrators, works and
// editions. Every signed-in account reads the catalogue (policies/works.rego,
// policies/editions.rego; RLS of migration 20261127000005_catalogue.sql).
// Responses are built as JSON by Postgres, one statement per shape, so each
// read is one round trip (claims and queries in one batch).

// ---------------------------------------------------------------------------
// JSON fragments. Each takes the SQL expression naming its row.

var (
	sqlTime          = catalog.SQLTime
	sqlAuthorsOfWork = catalog.SQLAuthorsOfWork
	sqlEditionBrief  = catalog.SQLEditionBrief
)

const (
	sqlIllustratorBrief = catalog.SQLIllustratorBrief
	editionDetailSQL    = catalog.EditionDetailSQL
)

// sqlLatestLabelSet joins the latest labelset (highest id) of work w as l.
func sqlLatestLabelSet(w string) string {
	return `LEFT JOIN LATERAL (SELECT * FROM public.labelsets x WHERE x.work_id = ` + w + ` ORDER BY x.id DESC LIMIT 1) l ON true`
}

const sqlHues = `(SELECT coalesce(json_agg(json_build_object('id', h.id::text, 'name', h.name, 'key', h.key)
  ORDER BY lh.ordinal, h.id), '[]'::json)
  FROM public.labelset_hue_association lh JOIN public.hues h ON h.id = lh.hue_id WHERE lh.labelset_id = l.id)`

const sqlReadingAbilities = `(SELECT coalesce(json_agg(json_build_object('id', r.id::text, 'key', r.key, 'name', r.name)
  ORDER BY r.id), '[]'::json)
  FROM public.labelset_reading_ability_association lr JOIN public.reading_abilities r ON r.id = lr.reading_ability_id
  WHERE lr.labelset_id = l.id)`

// sqlLabelSetBasic is LabelSetBasic of the joined labelset l, or null.
const sqlLabelSetBasic = `CASE WHEN l.id IS NULL THEN NULL ELSE json_build_object('id', l.id::text, 'work_id', l.work_id::text,
  'hues', ` + sqlHues + `, 'min_age', l.min_age, 'max_age', l.max_age, 'reading_abilities', ` + sqlReadingAbilities + `,
  'huey_summary', l.huey_summary) END`

// sqlLabelSetDetail is LabelSetDetail of the joined labelset l, or null.
var sqlLabelSetDetail = `CASE WHEN l.id IS NULL THEN NULL ELSE json_build_object('id', l.id::text, 'work_id', l.work_id::text,
  'hues', ` + sqlHues + `, 'hue_origin', l.hue_origin::text, 'min_age', l.min_age, 'max_age', l.max_age,
  'age_origin', l.age_origin::text, 'reading_abilities', ` + sqlReadingAbilities + `,
  'reading_ability_origin', l.reading_ability_origin::text, 'huey_summary', l.huey_summary,
  'summary_origin', l.summary_origin::text, 'labelled_by_user_id', l.labelled_by_user_id,
  'labelled_by_sa_id', l.labelled_by_sa_id, 'info', l.info, 'recommend_status', l.recommend_status::text,
  'recommend_status_origin', l.recommend_status_origin::text, 'checked', l.checked,
  'created_at', ` + sqlTime("l.created_at") + `, 'updated_at', ` + sqlTime("l.updated_at") + `) END`

// sqlWorkBrief is WorkBrief of work row w.
var sqlWorkBrief = catalog.SQLWorkBrief

// workEnrichedSQL is WorkEnriched of work $1 (cover_url: any edition's cover).
var workEnrichedSQL = `
SELECT json_build_object('id', w.id::text, 'type', lower(w.type::text), 'leading_article', w.leading_article,
  'title', w.title, 'subtitle', w.subtitle, 'authors', ` + sqlAuthorsOfWork("w.id") + `,
  'labelset', ` + sqlLabelSetBasic + `,
  'cover_url', (SELECT e.cover_url FROM public.editions e WHERE e.work_id = w.id AND e.cover_url IS NOT NULL
                ORDER BY e.id LIMIT 1))
FROM public.works w ` + sqlLatestLabelSet("w.id") + `
WHERE w.id = $1`

// workDetailSQL is WorkDetail of work $1. A stored info without genres is
// answered with genres [] and other {} (the original writes them back on
// read; a GET here never writes).
var workDetailSQL = `
SELECT json_build_object('id', w.id::text, 'type', lower(w.type::text), 'leading_article', w.leading_article,
  'title', w.title, 'subtitle', w.subtitle, 'authors', ` + sqlAuthorsOfWork("w.id") + `,
  'labelset', ` + sqlLabelSetDetail + `, 'cover_url', NULL,
  'editions', (SELECT coalesce(json_agg(` + sqlEditionBrief("e") + ` ORDER BY e.cover_url IS NULL, e.id), '[]'::json)
               FROM public.editions e WHERE e.work_id = w.id),
  'info', CASE WHEN w.info IS NULL OR jsonb_typeof(w.info) <> 'object' THEN w.info
               WHEN w.info ? 'genres' THEN w.info
               ELSE jsonb_build_object('other', '{}'::jsonb) || w.info || jsonb_build_object('genres', '[]'::jsonb) END)
FROM public.works w ` + sqlLatestLabelSet("w.id") + `
WHERE w.id = $1`

// workSnapshotSQL is the state PATCH /work diffs: the work's fields, its
// authors and its latest labelset (api.md §2.8).
var workSnapshotSQL = `
SELECT json_build_object('id', w.id, 'type', lower(w.type::text), 'leading_article', w.leading_article,
  'title', w.title, 'subtitle', w.subtitle,
  'authors', (SELECT coalesce(json_agg(json_build_object('id', a.id, 'first_name', a.first_name, 'last_name', a.last_name)
              ORDER BY a.id), '[]'::json)
              FROM public.author_work_association aw JOIN public.authors a ON a.id = aw.author_id WHERE aw.work_id = w.id),
  'labelset', ` + sqlLabelSetDetail + `)
FROM public.works w ` + sqlLatestLabelSet("w.id") + `
WHERE w.id = $1`

// ---------------------------------------------------------------------------
// Helpers

// pathInt parses an integer path id; anything else is 422 (the original's
// 500 is a defect, api.md §2.7). ok is false for an id no row can have
// (outside int4): the caller answers 404.
func pathInt(c echo.Context, name string) (id int64, ok bool, err error) {
	raw := c.Param(name)
	id, perr := strconv.ParseInt(raw, 10, 64)
	if perr != nil {
		if ne, isNum := perr.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange && strings.Trim(raw, "+-0123456789") == "" {
			return 0, false, nil
		}
		return 0, false, errValidation(validationError{Type: "int_parsing", Loc: []any{"path", name},
			Msg: "Input should be a valid integer, unable to parse string as an integer", Input: raw})
	}
	return id, id >= -1<<31 && id < 1<<31, nil
}

func errWorkNotFound(id any) error {
	return httpError(http.StatusNotFound, msgWorkNotFound.format(id))
}

func errEditionNotFound(isbn string) error {
	return httpError(http.StatusNotFound, msgEditionNotFound.format(isbn))
}

// readOne runs one JSON query in one round trip.
func (s *Server) readOne(ctx context.Context, q string, args ...any) (json.RawMessage, error) {
	var out json.RawMessage
	err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueJSON(b, &out, q, args...) })
	return out, err
}

func (s *Server) readList(ctx context.Context, q string, args ...any) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueJSONList(b, &out, q, args...) })
	return out, err
}

func rawJSON(c echo.Context, v json.RawMessage) error {
	return c.JSONBlob(http.StatusOK, v)
}

// ---------------------------------------------------------------------------
// §2.7 Authors and illustrators

// GET /authors
func (s *Server) getAuthors(c echo.Context) error {
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	query, err := queryString(c, "query", 400)
	if err != nil {
		return err
	}
	q := `SELECT json_build_object('id', a.id::text, 'first_name', a.first_name, 'last_name', a.last_name)
FROM public.authors a WHERE ($1::text IS NULL OR a.name_key ILIKE $1) ORDER BY a.id OFFSET $2 LIMIT $3`
	var pattern *string
	if query != nil {
		p := likePattern(*query)
		pattern = &p
	}
	out, err := s.readList(c.Request().Context(), q, pattern, skip, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// GET /authors/{author_id}: book_count is the number of the author's works.
func (s *Server) getAuthor(c echo.Context) error {
	id, ok, err := pathInt(c, "author_id")
	if err != nil {
		return err
	}
	notFound := httpError(http.StatusNotFound, msgAuthorNotFound.format(c.Param("author_id")))
	if !ok {
		return notFound
	}
	out, err := s.readOne(c.Request().Context(), `
SELECT json_build_object('id', a.id::text, 'first_name', a.first_name, 'last_name', a.last_name, 'info', a.info,
  'book_count', (SELECT count(*) FROM public.author_work_association aw WHERE aw.author_id = a.id))
FROM public.authors a WHERE a.id = $1`, id)
	if err != nil {
		return err
	}
	if out == nil {
		return notFound
	}
	return rawJSON(c, out)
}

// GET /illustrators (ordered by id)
func (s *Server) getIllustrators(c echo.Context) error {
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	out, err := s.readList(c.Request().Context(),
		`SELECT `+sqlIllustratorBrief+` FROM public.illustrators i ORDER BY i.id OFFSET $1 LIMIT $2`, skip, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// GET /illustrators/{illustrator_id}
func (s *Server) getIllustrator(c echo.Context) error {
	id, ok, err := pathInt(c, "illustrator_id")
	if err != nil {
		return err
	}
	notFound := httpError(http.StatusNotFound, msgIllustratorNotFound.format(c.Param("illustrator_id")))
	if !ok {
		return notFound
	}
	out, err := s.readOne(c.Request().Context(), `SELECT `+sqlIllustratorBrief+` FROM public.illustrators i WHERE i.id = $1`, id)
	if err != nil {
		return err
	}
	if out == nil {
		return notFound
	}
	return rawJSON(c, out)
}

// ---------------------------------------------------------------------------
// §2.8 Works (reads)

var workTypes = []enumValue{{"BOOK", "book"}, {"PODCAST", "podcast"}}

// GET /works: works with at least one edition unless isbn is given (exact,
// not normalised), of the given type (default book).
func (s *Server) getWorks(c echo.Context) error {
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	query, err := queryString(c, "query", 512)
	if err != nil {
		return err
	}
	isbn, err := queryString(c, "isbn", 200)
	if err != nil {
		return err
	}
	authorID, err := queryOptInt(c, "author_id")
	if err != nil {
		return err
	}
	typ := "BOOK"
	if raw := c.QueryParam("type"); raw != "" {
		var ok bool
		if typ, ok = parseEnum(workTypes, raw); !ok {
			return errValidation(validationError{Type: "enum", Loc: []any{"query", "type"},
				Msg: "Input should be 'book' or 'podcast'", Input: raw, Ctx: map[string]any{"expected": "'book' or 'podcast'"}})
		}
	}
	var pattern *string
	if query != nil {
		p := likePattern(*query)
		pattern = &p
	}
	out, err := s.readList(c.Request().Context(), `
SELECT `+sqlWorkBrief+` FROM public.works w
WHERE w.type = $1::public.worktype
  AND ($2::text IS NULL OR w.title ILIKE $2)
  AND ($3::int IS NULL OR EXISTS (SELECT 1 FROM public.author_work_association aw WHERE aw.work_id = w.id AND aw.author_id = $3))
  AND CASE WHEN $4::text IS NULL THEN EXISTS (SELECT 1 FROM public.editions e WHERE e.work_id = w.id)
           ELSE EXISTS (SELECT 1 FROM public.editions e WHERE e.work_id = w.id AND e.isbn = $4) END
ORDER BY w.id OFFSET $5 LIMIT $6`, typ, pattern, authorID, isbn, skip, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// GET /work/{work_id}?full_detail=
func (s *Server) getWork(c echo.Context) error {
	id, ok, err := pathInt(c, "work_id")
	if err != nil {
		return err
	}
	full, err := queryBool(c, "full_detail")
	if err != nil {
		return err
	}
	if !ok {
		return errWorkNotFound(c.Param("work_id"))
	}
	q := workDetailSQL
	if full != nil && !*full {
		q = workEnrichedSQL
	}
	out, err := s.readOne(c.Request().Context(), q, id)
	if err != nil {
		return err
	}
	if out == nil {
		return errWorkNotFound(id)
	}
	return rawJSON(c, out)
}

// ---------------------------------------------------------------------------
// §2.9 Editions (reads)

// GET /editions: a work's editions (covers first, paged), or a full-text
// title match (unpaged, as the original), or every edition (paged).
func (s *Server) getEditions(c echo.Context) error {
	ctx := c.Request().Context()
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	query, err := queryString(c, "query", 512)
	if err != nil {
		return err
	}
	brief := sqlEditionBrief("e")
	if raw := c.QueryParam("work_id"); c.QueryParams().Has("work_id") {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return errValidation(validationError{Type: "int_parsing", Loc: []any{"query", "work_id"},
				Msg: "Input should be a valid integer, unable to parse string as an integer", Input: raw})
		}
		if id < -1<<31 || id >= 1<<31 {
			return errWorkNotFound(raw)
		}
		var exists bool
		var out []json.RawMessage
		err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
			b.Queue(`SELECT EXISTS (SELECT 1 FROM public.works WHERE id = $1)`, id).QueryRow(func(r pgx.Row) error {
				return r.Scan(&exists)
			})
			queueJSONList(b, &out, `SELECT `+brief+` FROM public.editions e WHERE e.work_id = $1
ORDER BY e.cover_url IS NULL, e.id OFFSET $2 LIMIT $3`, id, skip, limit)
		})
		if err != nil {
			return err
		}
		if !exists {
			return errWorkNotFound(id)
		}
		return c.JSON(http.StatusOK, out)
	}
	if query != nil {
		out, err := s.readList(ctx, `SELECT `+brief+` FROM public.editions e
WHERE to_tsvector(coalesce(e.title, '')) @@ plainto_tsquery($1) ORDER BY e.id`, *query)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
	out, err := s.readList(ctx, `SELECT `+brief+` FROM public.editions e ORDER BY e.id OFFSET $1 LIMIT $2`, skip, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// POST /editions/compare
func (s *Server) postEditionsCompare(c echo.Context) error {
	var in editionsCompareIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	seen := map[string]bool{}
	var valid []string
	for _, item := range in {
		raw := valueOf(item)
		if raw == nil {
			continue
		}
		if n, err := catalog.NormalizeISBN(*raw); err == nil && !seen[n] {
			seen[n] = true
			valid = append(valid, n)
		}
	}
	var known, tagged int
	ctx := c.Request().Context()
	err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		b.Queue(`
SELECT count(*), count(*) FILTER (WHERE l.checked IS TRUE)
FROM public.editions e `+sqlLatestLabelSet("e.work_id")+`
WHERE e.isbn = ANY($1::text[])`, valid).QueryRow(func(r pgx.Row) error { return r.Scan(&known, &tagged) })
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"num_provided": len(in), "num_valid": len(valid),
		"num_known": known, "num_fully_tagged": tagged})
}

// GET /edition/{isbn}: any ISBN format; invalid → 422 "Invalid isbn".
func (s *Server) getEdition(c echo.Context) error {
	isbn, err := catalog.NormalizeISBN(c.Param("isbn"))
	if err != nil {
		return httpError(http.StatusUnprocessableEntity, msgISBNInvalid)
	}
	out, err := s.readOne(c.Request().Context(), editionDetailSQL, isbn)
	if err != nil {
		return err
	}
	if out == nil {
		return errEditionNotFound(isbn)
	}
	return rawJSON(c, out)
}
