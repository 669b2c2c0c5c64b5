package api

import (
	"encoding/json"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// GET /collection/{collection_id}/compare-with-booklist/{booklist_identifier}:
// `read` on the collection and on the booklist (404 for either missing);
// `total` is the booklist's book_count. Records "Compared booklist and
// collection".
func (s *Server) getCollectionCompareWithBooklist(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, err := pathUUID(c, "collection_id")
	if err != nil {
		return err
	}
	listID, err := pathUUID(c, "booklist_identifier")
	if err != nil {
		return err
	}
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	var (
		a     collectionAttrs
		la    booklistAttrs
		total int64
		data  = []json.RawMessage{}
	)
	err = db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) {
		queueCollectionAttrs(b, id, &a)
		queueBooklistAttrs(b, listID, &la)
		b.Queue(queries.CountBooklistWorks, listID).
			QueryRow(func(row pgx.Row) error { return row.Scan(&total) })
		b.Queue(queries.CollectionCompare, id, listID, skip, limit).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var raw []byte
				if err := rows.Scan(&raw); err != nil {
					return err
				}
				data = append(data, raw)
			}
			return rows.Err()
		})
	})
	if err != nil {
		return err
	}
	if err := collectionDoor.decide(s, c, id, a); err != nil {
		return err
	}
	if err := booklistDoor.decideAs(s, ctx, listID, la, "read"); err != nil {
		return err
	}
	common := 0
	for _, raw := range data {
		var row struct {
			InCollection bool `json:"in_collection"`
		}
		if err := json.Unmarshal(raw, &row); err != nil {
			return err
		}
		if row.InCollection {
			common++
		}
	}
	if err := db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		return recordEvent(ctx, tx, ident, "Compared booklist and collection", "", "NORMAL", a.schoolID,
			map[string]any{"items_in_common": common, "collection_id": id.String(), "booklist_id": listID.String()})
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(data, skip, limit, &total))
}
