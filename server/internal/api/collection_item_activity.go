package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// POST /collection-item-activity: `update` on the reader and `update` on the
// item (access.md §6.5: the item's owner; parents read only). The reader must
// be a reader (public or student): any other account is 422 (the original's
// foreign-key 500 fixed).
func (s *Server) postCollectionItemActivity(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	// The body names the resources to decide on, so it is validated first.
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var in collectionItemActivityIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	readerID, status, itemID := in.ReaderId, string(in.Status), int64(in.CollectionItemId)
	reader, found, err := s.userResource(ctx, readerID)
	if err != nil {
		return err
	}
	if !found {
		return errUserNotFound(readerID)
	}
	if err := s.check(ctx, reader, "update"); err != nil {
		return err
	}
	if itemID < -1<<31 || itemID >= 1<<31 {
		return errCollectionItemNotFound(itemID)
	}
	a, err := s.readCollectionItemAttrs(ctx, itemID)
	if err != nil {
		return err
	}
	if err := collectionItemDoor.decide(s, c, itemID, a); err != nil {
		return err
	}
	if t := reader.Attrs["type"]; t != "public" && t != "student" {
		return invalid([]any{"body", "reader_id"}, "Value error, reader_id must name a reader (public or student)", readerID.String())
	}
	var (
		activityID int64
		ts         time.Time
	)
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, queries.InsertCollectionItemActivity,
			itemID, readerID, status).Scan(&activityID, &ts); err != nil {
			return err
		}
		// The event is attributed to the reader (api.md §2.11).
		info, _ := json.Marshal(map[string]string{"collection_id": a.collectionID.String(),
			"collection_item_id": fmt.Sprint(itemID), "activity_id": fmt.Sprint(activityID)})
		_, err := tx.Exec(ctx, queries.RecordCollectionItemActivityEvent,
			"Collection item activity created",
			fmt.Sprintf("Collection item activity 'CollectionItemReadStatus.%s' created for collection item %d", status, itemID),
			readerID, info)
		return err
	})
	switch {
	case err == nil:
	case isPermissionDenied(err): // the policy allowed it; row security did not
		return errForbidden()
	default:
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"collection_item_id": itemID, "reader_id": readerID.String(),
		"status": status, "timestamp": ts.UTC().Format("2006-01-02T15:04:05.999999")})
}
