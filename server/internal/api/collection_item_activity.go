package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
)

// collectionItemActivityIn is CollectionItemActivityBase.
type collectionItemActivityIn struct {
	CollectionItemID *int64  `json:"collection_item_id"`
	ReaderID         *string `json:"reader_id"`
	Status           *string `json:"status"`
}

// validate returns the parsed reader and the read status.
func (in collectionItemActivityIn) validate() (uuid.UUID, string, error) {
	var errs []validationError
	missing := func(field string) {
		errs = append(errs, validationError{Type: "missing", Loc: []any{"body", field}, Msg: "Field required", Input: nil})
	}
	if in.CollectionItemID == nil {
		missing("collection_item_id")
	}
	var reader uuid.UUID
	if in.ReaderID == nil {
		missing("reader_id")
	} else if r, err := uuid.Parse(*in.ReaderID); err != nil {
		errs = append(errs, validationError{Type: "uuid_parsing", Loc: []any{"body", "reader_id"},
			Msg: "Input should be a valid UUID", Input: *in.ReaderID})
	} else {
		reader = r
	}
	var status string
	if in.Status == nil {
		missing("status")
	} else if st, ok := parseEnum(readStatuses, *in.Status); !ok {
		errs = append(errs, validationError{Type: "enum", Loc: []any{"body", "status"},
			Msg: "Input should be " + strings.Join(enumValues(readStatuses), ", "), Input: *in.Status})
	} else {
		status = st
	}
	if len(errs) > 0 {
		return reader, status, errValidation(errs...)
	}
	return reader, status, nil
}

// POST /collection-item-activity: `update` on the reader and `update` on the
// item (access.md §6.5: the item's owner; parents read only). The reader must
// be a reader (public or student): any other account is 422 (the original's
// foreign-key 500 fixed).
func (s *Server) postCollectionItemActivity(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	var in collectionItemActivityIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	readerID, status, err := in.validate()
	if err != nil {
		return err
	}
	itemID := *in.CollectionItemID
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
		if err := tx.QueryRow(ctx, `INSERT INTO collection_item_activity_log (collection_item_id, reader_id, status, "timestamp")
			VALUES ($1, $2, $3::enum_collection_item_read_status, huey.utcnow()) RETURNING id, "timestamp"`,
			itemID, readerID, status).Scan(&activityID, &ts); err != nil {
			return err
		}
		// The event is attributed to the reader (api.md §2.11).
		info, _ := json.Marshal(map[string]string{"collection_id": a.collectionID.String(),
			"collection_item_id": fmt.Sprint(itemID), "activity_id": fmt.Sprint(activityID)})
		_, err := tx.Exec(ctx, `SELECT huey.record_event($1, $2, 'NORMAL', NULL, $3, NULL, $4)`,
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
