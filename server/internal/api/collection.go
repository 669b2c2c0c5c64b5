package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// Collections (api.md §2.11). Who may do what is in policies/collection.rego
// (access.md §6.4, F2 fixed: an LMS account reaches only the collections of
// its linked schools); which rows exist is row security (collections_*,
// collection_items_* policies, migration 20261127000006).

const (
	collectionNameMax = 200
)

func errCollectionNotFound(id uuid.UUID) error {
	return httpError(http.StatusNotFound, msgCollectionNotFound.format(id))
}

// collectionAttrs is what the collection policy needs: whether it exists and
// its owner (the school's integer id and uuid, or the user).
type collectionAttrs struct {
	found     bool
	schoolID  *int64
	schoolWID *uuid.UUID
	userID    *uuid.UUID
}

// resource is the collection as the policy sees it.
func (a collectionAttrs) resource(id uuid.UUID) policies.Resource {
	attrs := map[string]string{"school_id": "", "user_id": ""}
	if a.schoolID != nil {
		attrs["school_id"] = strconv.FormatInt(*a.schoolID, 10)
	}
	if a.userID != nil {
		attrs["user_id"] = a.userID.String()
	}
	return policies.Resource{Type: resCollection, ID: id.String(), Attrs: attrs}
}

// queueCollectionAttrs queues the collection's policy attributes. It first
// turns JIT off for the transaction (collection.JITOffSQL says why). `make
// bench` runs the same two statements (collection.JITOffSQL, AttrsSQL).
func queueCollectionAttrs(b batchQueuer, id uuid.UUID, out *collectionAttrs) {
	b.Queue(collection.JITOffSQL)
	b.Queue(collection.AttrsSQL, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&out.schoolID, &out.schoolWID, &out.userID); err != nil {
				return err
			}
			out.found = true
		}
		return rows.Err()
	})
}

// collectionDoor is the way to the collection a route's path names.
var collectionDoor = door[uuid.UUID, collectionAttrs]{
	typ:      resCollection,
	param:    "collection_id",
	parse:    pathUUID,
	attrs:    queueCollectionAttrs,
	found:    func(a collectionAttrs) bool { return a.found },
	resource: func(id uuid.UUID, a collectionAttrs) policies.Resource { return a.resource(id) },
	notFound: errCollectionNotFound,
}

// decideCollectionPath parses the path's collection id and decides the
// route's action on it.
func (s *Server) decideCollectionPath(c echo.Context) (uuid.UUID, collectionAttrs, error) {
	return collectionDoor.open(s, c, nil)
}

// ---------------------------------------------------------------------------
// Reads: the attributes and the data travel in one round trip; the policy
// decides before anything is returned.

// GET /collection/{collection_id}
func (s *Server) getCollection(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "collection_id")
	if err != nil {
		return err
	}
	var (
		a   collectionAttrs
		out *collectionBrief
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueCollectionAttrs(b, id, &a)
		b.Queue(queries.GetCollectionBrief, id).Query(func(rows pgx.Rows) error {
			var err error
			out, err = scanCollectionBrief(rows)
			return err
		})
	})
	if err != nil {
		return err
	}
	if err := collectionDoor.decide(s, c, id, a); err != nil {
		return err
	}
	if out == nil { // allowed by policy, hidden by row security: fail closed
		return errCollectionNotFound(id)
	}
	return c.JSON(http.StatusOK, out)
}

var readStatuses = []enumValue{{"UNREAD", "UNREAD"}, {"TO_READ", "TO_READ"}, {"NOT_INTERESTED", "NOT_INTERESTED"},
	{"READING", "READING"}, {"STOPPED_READING", "STOPPED_READING"}, {"READ", "READ"}}

// GET /collection/{collection_id}/items: filters query, reader_id and
// read_status; one row per item (the original's duplicates fixed).
func (s *Server) getCollectionItems(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "collection_id")
	if err != nil {
		return err
	}
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	q, err := queryString(c, "query", 512)
	if err != nil {
		return err
	}
	var reader *uuid.UUID
	if raw := c.QueryParam("reader_id"); raw != "" {
		r, err := uuid.Parse(raw)
		if err != nil {
			return errValidation(validationError{Type: "uuid_parsing", Loc: []any{"query", "reader_id"},
				Msg: "Input should be a valid UUID", Input: raw})
		}
		reader = &r
	}
	var status *string
	if raw := c.QueryParam("read_status"); raw != "" {
		st, ok := parseEnum(readStatuses, raw)
		if !ok {
			return errValidation(validationError{Type: "enum", Loc: []any{"query", "read_status"},
				Msg: "Input should be " + strings.Join(enumValues(readStatuses), ", "), Input: raw})
		}
		status = &st
	}
	f := collection.ItemsFilter{CollectionID: id, Query: q, ReaderID: reader, ReadStatus: status, Skip: skip, Limit: limit}
	totalSQL, totalArgs := collection.ItemsTotalSQL(f)
	pageSQL, pageArgs := collection.ItemsPageSQL(f)

	var (
		a     collectionAttrs
		total int64
		data  = []json.RawMessage{}
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueCollectionAttrs(b, id, &a)
		b.Queue(totalSQL, totalArgs...).QueryRow(func(row pgx.Row) error { return row.Scan(&total) })
		b.Queue(pageSQL, pageArgs...).Query(func(rows pgx.Rows) error {
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
	return rawPage(c, data, skip, limit, &total)
}

// GET /collection/{collection_id}/info
func (s *Server) getCollectionInfo(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "collection_id")
	if err != nil {
		return err
	}
	var (
		a                            collectionAttrs
		total, hyd, labelled, recomm int64
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueCollectionAttrs(b, id, &a)
		b.Queue(queries.CollectionInfoCounts, id).QueryRow(func(row pgx.Row) error { return row.Scan(&total, &hyd, &labelled, &recomm) })
	})
	if err != nil {
		return err
	}
	if err := collectionDoor.decide(s, c, id, a); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int64{"total_editions": total, "hydrated": hyd,
		"hydrated_and_labeled": labelled, "recommendable": recomm})
}

// GET /collection/{collection_id}/{isbn}: an invalid ISBN is 422 (the
// original's 500 fixed).
func (s *Server) getCollectionItemByISBN(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "collection_id")
	if err != nil {
		return err
	}
	raw := c.Param("isbn")
	isbn, err := catalog.NormalizeISBN(raw)
	if err != nil {
		return errValidation(validationError{Type: "value_error", Loc: []any{"path", "isbn"}, Msg: "Invalid ISBN", Input: raw})
	}
	var (
		a       collectionAttrs
		edition bool
		item    []byte
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueCollectionAttrs(b, id, &a)
		b.Queue(queries.EditionISBNExists, isbn).QueryRow(func(row pgx.Row) error {
			return row.Scan(&edition)
		})
		b.Queue(queries.CollectionItemByISBN,
			id, isbn).Query(func(rows pgx.Rows) error {
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
	if err := collectionDoor.decide(s, c, id, a); err != nil {
		return err
	}
	if !edition {
		return errEditionNotFound(isbn)
	}
	if item == nil {
		return httpError(http.StatusNotFound, msgCollectionEditionNotFound.format(id, isbn))
	}
	return c.JSONBlob(http.StatusOK, item)
}

// ---------------------------------------------------------------------------
// Create, replace, delete.

// rawBody reads the body and leaves it readable again.
func rawBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, err
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// collectionOwner is the owner a CollectionCreateIn names, decided.
type collectionOwner struct {
	schoolID  *int64
	schoolWID *uuid.UUID
	userID    *uuid.UUID
}

// decideCollectionOwner runs the creation checks of api.md §2.11 on the
// owner a body names (before body validation): 404 for an unknown owner; 401
// (the original's codes, F15) when the caller may not update the owner or may
// not hold its collection (F2: an LMS account only for its linked schools);
// 409 with the existing collection's id unless it is `replacing`.
func (s *Server) decideCollectionOwner(ctx context.Context, raw []byte, replacing *uuid.UUID, create string) (collectionOwner, error) {
	var peek struct {
		SchoolID any `json:"school_id"`
		UserID   any `json:"user_id"`
	}
	_ = json.Unmarshal(raw, &peek) // a malformed body fails validation later
	var o collectionOwner
	claims := identityOf(ctx).Claims
	if str, ok := peek.SchoolID.(string); ok {
		wid, err := uuid.Parse(str)
		if err != nil {
			return o, nil // validation answers
		}
		var id *int64
		var existing *uuid.UUID
		if err := db.Read(ctx, s.pool, claims, func(b *pgx.Batch) {
			queueSchoolAttrs(b, wid, &id)
			b.Queue(queries.SchoolCollectionID, wid).QueryRow(func(row pgx.Row) error { return row.Scan(&existing) })
		}); err != nil {
			return o, err
		}
		if id == nil {
			return o, errSchoolNotFound(wid)
		}
		res := collectionAttrs{found: true, schoolID: id, schoolWID: &wid}.resource(uuid.Nil)
		okSchool, err := s.may(ctx, schoolResource(*id), "update")
		if err != nil {
			return o, err
		}
		okColl, err := s.may(ctx, res, create)
		if err != nil {
			return o, err
		}
		if !okSchool || !okColl {
			return o, httpError(http.StatusUnauthorized, msgUnauthorizedForSchool)
		}
		if existing != nil && (replacing == nil || *existing != *replacing) {
			return o, httpError(http.StatusConflict, map[string]any{"msg": msgSchoolHasCollection.detail, "collection_id": existing})
		}
		o.schoolID, o.schoolWID = id, &wid
	}
	if str, ok := peek.UserID.(string); ok && o.schoolID == nil {
		uid, err := uuid.Parse(str)
		if err != nil {
			return o, nil
		}
		ures, found, err := s.userResource(ctx, uid)
		if err != nil {
			return o, err
		}
		if !found {
			return o, errUserNotFound(uid)
		}
		okUser, err := s.may(ctx, ures, "update")
		if err != nil {
			return o, err
		}
		okColl, err := s.may(ctx, collectionAttrs{found: true, userID: &uid}.resource(uuid.Nil), create)
		if err != nil {
			return o, err
		}
		if !okUser || !okColl {
			return o, httpError(http.StatusUnauthorized, msgUnauthorizedForUser)
		}
		var existing *uuid.UUID
		if err := db.Read(ctx, s.pool, claims, func(b *pgx.Batch) {
			b.Queue(queries.UserCollectionID, uid).QueryRow(func(row pgx.Row) error { return row.Scan(&existing) })
		}); err != nil {
			return o, err
		}
		if existing != nil && (replacing == nil || *existing != *replacing) {
			return o, httpError(http.StatusConflict, map[string]any{"msg": msgUserHasCollection.detail, "collection_id": existing})
		}
		o.userID = &uid
	}
	return o, nil
}

// validateCollectionCreate validates a CollectionCreateIn after the checks.
func (s *Server) validateCollectionCreate(c echo.Context, o collectionOwner) (collectionCreate, error) {
	var in collectionCreateIn
	if err := s.validateRequest(c); err != nil {
		return collectionCreate{}, err
	}
	if err := decodeBody(c, &in); err != nil {
		return collectionCreate{}, err
	}
	// The owner rules answer first (pydantic's model validator), so school_id
	// and user_id are plain strings and name is neither required nor bounded
	// in the document: these checks keep today's order of 422 entries.
	schoolID, userID := valueOf(in.SchoolId), valueOf(in.UserId)
	switch {
	case schoolID == nil && userID == nil:
		return collectionCreate{}, invalid([]any{"body"}, "Value error, Must provide either school_id or user_id", nil)
	case schoolID != nil && userID != nil:
		return collectionCreate{}, invalid([]any{"body"}, "Value error, Must provide only one of school_id or user_id", nil)
	}
	if o.schoolID == nil && o.userID == nil { // an owner that did not parse
		field, v := "school_id", schoolID
		if v == nil {
			field, v = "user_id", userID
		}
		return collectionCreate{}, errValidation(validationError{Type: "uuid_parsing", Loc: []any{"body", field},
			Msg: "Input should be a valid UUID", Input: *v})
	}
	if in.Name == nil {
		return collectionCreate{}, errValidation(validationError{Type: "missing", Loc: []any{"body", "name"}, Msg: "Field required", Input: nil})
	}
	if n := len([]rune(*in.Name)); n > collectionNameMax {
		return collectionCreate{}, errValidation(validationError{Type: "string_too_long", Loc: []any{"body", "name"},
			Msg: fmt.Sprintf("String should have at most %d characters", collectionNameMax), Input: *in.Name,
			Ctx: map[string]any{"max_length": collectionNameMax}})
	}
	items := createItems(in.Items.GetOrEmpty())
	if err := validateItems(items, false); err != nil {
		return collectionCreate{}, err
	}
	return collectionCreate{name: *in.Name, info: rawOf(in.Info), items: items}, nil
}

// collectionCreate is a validated POST /collection (or PUT /collection) body.
type collectionCreate struct {
	name  string
	info  json.RawMessage
	items []collection.Item
}

// insertCollection inserts a collection and its items (single-add semantics)
// in tx and returns its brief.
func insertCollection(ctx context.Context, tx *db.Tx, ident *Identity, o collectionOwner, in collectionCreate,
	ignoreConflicts bool) (*collectionBrief, error) {
	var id uuid.UUID
	info := []byte(nil)
	if len(in.info) > 0 && string(in.info) != "null" {
		info = in.info
	}
	if err := tx.QueryRow(ctx, queries.InsertCollection,
		o.schoolWID, o.userID, in.name, info).Scan(&id); err != nil {
		return nil, err
	}
	mode := conflictReplace
	if !ignoreConflicts {
		mode = conflictFail
	}
	if _, err := addItems(ctx, tx, ident, id, o.schoolID, in.items, addOptions{conflict: mode}); err != nil {
		return nil, err
	}
	return readCollectionBriefTx(ctx, tx, id)
}

func readCollectionBriefTx(ctx context.Context, tx *db.Tx, id uuid.UUID) (*collectionBrief, error) {
	rows, err := tx.Query(ctx, queries.GetCollectionBrief, id)
	if err != nil {
		return nil, err
	}
	out, err := scanCollectionBrief(rows)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, db.ErrNotFound
	}
	return out, nil
}

// collectionWriteError maps a write's errors to the original's answers.
func collectionWriteError(err error, id uuid.UUID) error {
	var ae *apiError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return err
	case errors.Is(err, db.ErrNotFound):
		return errCollectionNotFound(id)
	case isUniqueViolation(err):
		return httpError(http.StatusConflict, msgCollectionDuplicates)
	case isPermissionDenied(err): // the policy allowed it; row security did not
		return errForbidden()
	case isIntegrityError(err):
		return httpError(http.StatusUnprocessableEntity, msgCollectionInputInvalid)
	}
	return err
}

// POST /collection
func (s *Server) postCollection(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	ignore, err := queryBool(c, "ignore_conflicts")
	if err != nil {
		return err
	}
	raw, err := rawBody(c)
	if err != nil {
		return err
	}
	create, err := declaredAction(c, resCollection)
	if err != nil {
		return err
	}
	o, err := s.decideCollectionOwner(ctx, raw, nil, create)
	if err != nil {
		return err
	}
	in, err := s.validateCollectionCreate(c, o)
	if err != nil {
		return err
	}
	var out *collectionBrief
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		var err error
		out, err = insertCollection(ctx, tx, ident, o, in, ignore == nil || *ignore)
		return err
	})
	if err := collectionWriteError(err, uuid.Nil); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// PUT /collection/{collection_id}: `delete` on the collection, then the
// creation checks on the body's owner (F16), then delete and re-create in
// one transaction.
func (s *Server) putCollection(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, _, err := s.decideCollectionPath(c)
	if err != nil {
		return err
	}
	ignore, err := queryBool(c, "ignore_conflicts")
	if err != nil {
		return err
	}
	raw, err := rawBody(c)
	if err != nil {
		return err
	}
	o, err := s.decideCollectionOwner(ctx, raw, &id, "create") // replacing: create beside the route's delete
	if err != nil {
		return err
	}
	in, err := s.validateCollectionCreate(c, o)
	if err != nil {
		return err
	}
	var out *collectionBrief
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		tag, err := tx.Exec(ctx, queries.DeleteCollection, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return errForbidden()
		}
		out, err = insertCollection(ctx, tx, ident, o, in, ignore == nil || *ignore)
		return err
	})
	if err := collectionWriteError(err, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// DELETE /collection/{collection_id}
func (s *Server) deleteCollection(c echo.Context) error {
	ctx := c.Request().Context()
	id, _, err := s.decideCollectionPath(c)
	if err != nil {
		return err
	}
	err = db.InTx(ctx, s.pool, identityOf(ctx).Claims, func(tx *db.Tx) error {
		tag, err := tx.Exec(ctx, queries.DeleteCollection, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return errForbidden()
		}
		return nil
	})
	if err := collectionWriteError(err, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"message": "Collection deleted"})
}
