package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
)

// Search (api.md §2.15). Every signed-in account reads the catalogue (row
// security, migration 5); search_view_v1 and work_collection_frequency are
// materialized views readable by huey_app. Works in no collection (absent
// from work_collection_frequency, which is refreshed periodically) are never
// found, as in the original.

// searchAuthor is AuthorBrief as search returns it (names highlighted).
type searchAuthor struct {
	ID        string  `json:"id"`
	FirstName *string `json:"first_name"`
	LastName  string  `json:"last_name"`
}

// searchWork is WorkBrief (api.md §1.4) as search returns it.
type searchWork struct {
	ID             string         `json:"id"`
	Type           string         `json:"type"`
	LeadingArticle *string        `json:"leading_article"`
	Title          string         `json:"title"`
	Subtitle       *string        `json:"subtitle"`
	Authors        []searchAuthor `json:"authors"`
}

type searchInput struct {
	Query    *string `json:"query"`
	AuthorID *int64  `json:"author_id"`
}

// searchResults is SearchResults (api.md §1.10).
type searchResults struct {
	Input searchInput  `json:"input"`
	Books []searchWork `json:"books"`
}

// searchHighlight is the original's ts_headline option string.
const searchHighlight = `StartSel="<b>", StopSel = "</b>"`

// searchQuerySQL ranks matching works by text rank times log10(1 + how many
// copies collections hold); one row per (work, series document). w.id breaks
// ties so pages are stable.
const searchQuerySQL = `
SELECT w.id, w.leading_article,
       json_agg(json_build_object(
         'id', a.id::text,
         'first_name', ts_headline('english', coalesce(a.first_name, ''), plainto_tsquery('english', $1), $5),
         'last_name', ts_headline('english', coalesce(a.last_name, ''), plainto_tsquery('english', $1), $5))
         ORDER BY a.id),
       ts_headline('english', coalesce(w.title, ''), plainto_tsquery('english', $1), $5),
       ts_headline('english', coalesce(w.subtitle, ''), plainto_tsquery('english', $1), $5),
       (ts_rank(sv.document, websearch_to_tsquery('english', $1)) * log(1 + coalesce(cf.collection_frequency, 0)))::float8 AS rank
FROM search_view_v1 sv
JOIN works w ON w.id = sv.work_id
JOIN author_work_association awa ON awa.work_id = w.id
JOIN authors a ON a.id = awa.author_id
JOIN work_collection_frequency cf ON cf.work_id = w.id
WHERE sv.document @@ websearch_to_tsquery('english', $1)
  AND ($2::integer IS NULL OR EXISTS (
        SELECT FROM author_work_association x WHERE x.work_id = w.id AND x.author_id = $2::integer))
GROUP BY w.id, cf.collection_frequency, sv.document
ORDER BY rank DESC, w.id
OFFSET $3 LIMIT $4`

// searchAllSQL is search without a query: the works most held first.
const searchAllSQL = `
SELECT w.id, w.leading_article,
       json_agg(json_build_object('id', a.id::text, 'first_name', a.first_name, 'last_name', a.last_name)
         ORDER BY a.id),
       coalesce(w.title, ''), coalesce(w.subtitle, ''), 0::float8
FROM search_view_v1 sv
JOIN works w ON w.id = sv.work_id
JOIN author_work_association awa ON awa.work_id = w.id
JOIN authors a ON a.id = awa.author_id
JOIN work_collection_frequency cf ON cf.work_id = w.id
WHERE ($1::integer IS NULL OR EXISTS (
        SELECT FROM author_work_association x WHERE x.work_id = w.id AND x.author_id = $1::integer))
GROUP BY w.id, cf.collection_frequency
ORDER BY cf.collection_frequency DESC, w.id
OFFSET $2 LIMIT $3`

// GET /search
func (s *Server) getSearch(c echo.Context) error {
	ctx := c.Request().Context()
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	query, err := queryString(c, "query", 1024)
	if err != nil {
		return err
	}
	authorID, err := queryOptInt(c, "author_id")
	if err != nil {
		return err
	}
	out := searchResults{Input: searchInput{Query: query, AuthorID: authorID}, Books: []searchWork{}}
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		var q *pgx.QueuedQuery
		if query != nil {
			q = b.Queue(searchQuerySQL, *query, authorID, skip, limit, searchHighlight)
		} else {
			q = b.Queue(searchAllSQL, authorID, skip, limit)
		}
		q.Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var (
					w       searchWork
					id      int64
					authors []byte
					rank    float64
				)
				if err := rows.Scan(&id, &w.LeadingArticle, &authors, &w.Title, &w.Subtitle, &rank); err != nil {
					return err
				}
				if err := json.Unmarshal(authors, &w.Authors); err != nil {
					return err
				}
				w.ID, w.Type = strconv.FormatInt(id, 10), "book"
				out.Books = append(out.Books, w)
			}
			return rows.Err()
		})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
