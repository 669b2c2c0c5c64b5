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
	"github.com/wriveted/huey-api/schema/queries"
)

// Catalogue reads (api.md §2.7–§2.9): authors, illustrators, works and
// editions. Every signed-in account reads the catalogue (policies/works.rego,
// policies/editions.rego; RLS of migration 20261127000005_catalogue.sql).
// Responses are built as JSON by Postgres, one statement per shape, so each
// read is one round trip (claims and queries in one batch).

// ---------------------------------------------------------------------------
// JSON fragments. Each takes the SQL expression naming its row.

const editionDetailSQL = catalog.EditionDetailSQL

// The statements are schema/queries/catalogue.go (built from schema/catalog's
// fragments) and catalogue.sql; these names are the ones the other handlers
// (booklists, collections, PATCH /work) use.
var (
	workDetailSQL   = queries.WorkDetail
	workSnapshotSQL = queries.WorkSnapshot
)

// sqlWorkBrief is WorkBrief of work row w.
var sqlWorkBrief = catalog.SQLWorkBrief

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
	var pattern *string
	if query != nil {
		p := likePattern(*query)
		pattern = &p
	}
	out, err := s.readList(c.Request().Context(), queries.ListAuthors, pattern, skip, limit)
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
	out, err := s.readOne(c.Request().Context(), queries.GetAuthor, id)
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
	out, err := s.readList(c.Request().Context(), queries.ListIllustrators, skip, limit)
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
	out, err := s.readOne(c.Request().Context(), queries.GetIllustrator, id)
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
	out, err := s.readList(c.Request().Context(), queries.ListWorks, typ, pattern, authorID, isbn, skip, limit)
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
	q := queries.WorkDetail
	if full != nil && !*full {
		q = queries.WorkEnriched
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
			b.Queue(queries.WorkExists, id).QueryRow(func(r pgx.Row) error {
				return r.Scan(&exists)
			})
			queueJSONList(b, &out, queries.ListWorkEditions, id, skip, limit)
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
		out, err := s.readList(ctx, queries.SearchEditions, *query)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, out)
	}
	out, err := s.readList(ctx, queries.ListEditions, skip, limit)
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
		b.Queue(queries.CompareEditions, valid).QueryRow(func(r pgx.Row) error { return r.Scan(&known, &tagged) })
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
