package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/collection"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Collection items (api.md §2.11). Who may do what is in
// policies/collection_item.rego (access.md §6.5, F5 fixed: the school's staff
// from the integer school id); which rows exist is row security
// (collection_items_* policies, migrations 20261127000006 and 20261127000008).

func errCollectionItemNotFound(id int64) error {
	return httpError(http.StatusNotFound, msgCollectionItemNotFound.format(id))
}

// collectionItemAttrs is what the item policy needs: whether the item exists
// and its collection's owner.
type collectionItemAttrs struct {
	found        bool
	collectionID uuid.UUID
	schoolID     *int64
	schoolWID    *uuid.UUID
	userID       *uuid.UUID
}

// resource is the item as the policy sees it.
func (a collectionItemAttrs) resource(id int64) policies.Resource {
	attrs := map[string]string{"school_id": "", "user_id": ""}
	if a.schoolID != nil {
		attrs["school_id"] = strconv.FormatInt(*a.schoolID, 10)
	}
	if a.userID != nil {
		attrs["user_id"] = a.userID.String()
	}
	return policies.Resource{Type: resCollectionItem, ID: strconv.FormatInt(id, 10), Attrs: attrs}
}

// queueCollectionItemAttrs queues the item's policy attributes (a definer
// look-up, so an existing item the caller may not read is refused, not
// hidden).
func queueCollectionItemAttrs(b batchQueuer, id int64, out *collectionItemAttrs) {
	b.Queue(queries.CollectionItemAttrs, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&out.collectionID, &out.schoolID, &out.schoolWID, &out.userID); err != nil {
				return err
			}
			out.found = true
		}
		return rows.Err()
	})
}

// collectionItemDoor is the item a route names (huey.collection_item_attrs).
var collectionItemDoor = door[int64, collectionItemAttrs]{
	typ:   resCollectionItem,
	param: "collection_item_id",
	parse: func(c echo.Context, name string) (int64, error) {
		id, ok, err := pathInt(c, name)
		if err == nil && !ok {
			err = errCollectionItemNotFound(id)
		}
		return id, err
	},
	attrs:    queueCollectionItemAttrs,
	found:    func(a collectionItemAttrs) bool { return a.found },
	resource: func(id int64, a collectionItemAttrs) policies.Resource { return a.resource(id) },
	notFound: errCollectionItemNotFound,
}

// GET /collection-item/{collection_item_id}
func (s *Server) getCollectionItem(c echo.Context) error {
	ctx := c.Request().Context()
	id, ok, err := pathInt(c, "collection_item_id")
	if err != nil {
		return err
	}
	if !ok {
		return errCollectionItemNotFound(id)
	}
	var (
		a    collectionItemAttrs
		item []byte
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueCollectionItemAttrs(b, id, &a)
		b.Queue(queries.CollectionItemDetail, id).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&item); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	})
	if err != nil {
		return err
	}
	if err := collectionItemDoor.decide(s, c, id, a); err != nil {
		return err
	}
	if item == nil { // allowed by policy, hidden by row security: fail closed
		return errCollectionItemNotFound(id)
	}
	return c.JSONBlob(http.StatusOK, item)
}

// readCollectionItemAttrs reads the attributes alone (a write's decision).
func (s *Server) readCollectionItemAttrs(ctx context.Context, id int64) (collectionItemAttrs, error) {
	var a collectionItemAttrs
	err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueCollectionItemAttrs(b, id, &a) })
	return a, err
}

// collectionItemAndStatusIn is CollectionItemAndStatusCreateIn.
// validateItemAndStatus checks the item's fields and the reader pair; it
// returns the item (its ISBN normalised), the reader and the status. The
// route is not validated against the document (read_status in any case,
// pydantic's model_type entry for info), so these checks are all here.
func validateItemAndStatus(in collectionItemAndStatusIn) (collection.Item, *uuid.UUID, string, error) {
	item := collection.Item{Info: rawOf(in.Info), CopiesTotal: valueOf(in.CopiesTotal), CopiesAvailable: valueOf(in.CopiesAvailable)}
	for f, v := range map[string]*int{"copies_total": item.CopiesTotal, "copies_available": item.CopiesAvailable} {
		if v != nil && *v < 0 {
			return item, nil, "", errValidation(tooSmall([]any{"body", f}, *v, 0))
		}
	}
	if len(item.Info) > 0 && string(item.Info) != "null" && item.Info[0] != '{' {
		return item, nil, "", errValidation(validationError{Type: "model_type", Loc: []any{"body", "info"},
			Msg: "Input should be a valid dictionary or instance of CollectionItemInfoCreateIn", Input: item.Info})
	}
	if isbn := valueOf(in.EditionIsbn); isbn != nil {
		// The original silently skips an invalid ISBN and has no item to answer with; 422 instead.
		n, err := catalog.NormalizeISBN(*isbn)
		if err != nil {
			return item, nil, "", errValidation(validationError{Type: "value_error", Loc: []any{"body", "edition_isbn"},
				Msg: "Invalid ISBN", Input: *isbn})
		}
		item.EditionISBN = &n
	}
	readStatus, readerID := valueOf(in.ReadStatus), valueOf(in.ReaderId)
	if (readStatus == nil) != (readerID == nil) {
		return item, nil, "", invalid([]any{"body"}, msgReaderStatusPair.detail, nil)
	}
	if readerID == nil {
		return item, nil, "", nil
	}
	reader, err := uuid.Parse(*readerID)
	if err != nil {
		return item, nil, "", errValidation(validationError{Type: "uuid_parsing", Loc: []any{"body", "reader_id"},
			Msg: "Input should be a valid UUID", Input: *readerID})
	}
	status, ok := parseEnum(readStatuses, string(*readStatus))
	if !ok {
		return item, nil, "", errValidation(validationError{Type: "enum", Loc: []any{"body", "read_status"},
			Msg: "Input should be " + strings.Join(enumValues(readStatuses), ", "), Input: string(*readStatus)})
	}
	return item, &reader, status, nil
}

// readerMayRead is the reader check of POST /collection/{id}/item (api.md
// §2.11, access.md §4): the collection's ACL evaluated against the reader's
// own principals, user:<reader> plus, for a student, school:<the student's
// integer school id> (F5: the integer id accounts carry).
func (s *Server) readerMayRead(ctx context.Context, reader policies.Resource, coll policies.Resource) (bool, error) {
	ps := []string{"system:everyone", "user:" + reader.ID}
	if reader.Attrs["type"] == "student" && reader.Attrs["school_id"] != "" {
		ps = append(ps, "school:"+reader.Attrs["school_id"])
	}
	return s.policies.Allow(ctx, policies.Input{Principals: policies.NewPrincipals(ps), Action: "read", Resource: coll})
}

// POST /collection/{collection_id}/item: `update` on the collection, then
// the reader checks, then single-add without ignoring conflicts and, with a
// read status, the reader's activity row, in one transaction.
func (s *Server) postCollectionItem(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, a, err := s.decideCollectionPath(c)
	if err != nil {
		return err
	}
	var in collectionItemAndStatusIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	add, readerID, status, err := validateItemAndStatus(in)
	if err != nil {
		return err
	}
	if readerID != nil {
		reader, found, err := s.userResource(ctx, *readerID)
		if err != nil {
			return err
		}
		if !found {
			return errUserNotFound(*readerID)
		}
		ok, err := s.may(ctx, reader, "update")
		if err != nil {
			return err
		}
		if !ok {
			return httpError(http.StatusForbidden, msgReaderNotAllowed)
		}
		if ok, err = s.readerMayRead(ctx, reader, a.resource(id)); err != nil {
			return err
		} else if !ok {
			return httpError(http.StatusForbidden, msgReaderCannotRead)
		}
	}
	var item []byte
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if _, err := addItems(ctx, tx, ident, id, a.schoolID, []collection.Item{add},
			addOptions{conflict: conflictFail}); err != nil {
			return err
		}
		var itemID int64
		if err := tx.QueryRow(ctx, queries.CollectionItemInsertedBy, id).Scan(&itemID); err != nil {
			return err
		}
		if readerID != nil {
			if _, err := tx.Exec(ctx, queries.InsertCollectionItemReadStatus, itemID, *readerID, status); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, queries.CollectionItemDetail, itemID).Scan(&item)
	})
	if err != nil && add.EditionISBN != nil && isUniqueViolation(err) {
		return httpError(http.StatusConflict, msgCollectionItemExists.format(*add.EditionISBN))
	}
	if readerID != nil && isForeignKeyViolation(err) { // a reader_id naming an account that is not a reader
		return invalid([]any{"body", "reader_id"}, "Value error, reader_id must name a reader (public or student)", readerID.String())
	}
	if err := collectionWriteError(err, id); err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, item)
}
