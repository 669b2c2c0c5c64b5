package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Booklists (api.md §2.12). Who may attempt what is in policies/booklists.rego
// (the route-level ACL, and "publish": only admins create or patch into Huey,
// Regional and Other lists, F3) and policies/booklist.rego (one list; F19:
// a private Huey/Regional list is not readable by everyone). Which rows exist
// is row security (migration 20261127000007_booklists.sql), which also lets
// anonymous callers read public Huey lists and their items, so the public
// routes run the same queries under `kind = anonymous` claims. Listings are
// filtered by row security before they are paged and count only what the
// caller may read (F14). Item changes are simulated in memory with the
// ordering semantics of domain.md §9.2, then written set-based in the
// transaction with the (booklist_id, order_id) constraint deferred.

// booklistNameMax is book_lists.name's and slug's varchar(200).
const booklistNameMax = 200

var (
	booklistTypes = []enumValue{{"PERSONAL", "Personal"}, {"SCHOOL", "School"}, {"REGION", "Regional"},
		{"HUEY", "Huey"}, {"OTHER_LIST", "Other"}}
	booklistSharings = []enumValue{{"PRIVATE", "private"}, {"RESTRICTED", "restricted"}, {"PUBLIC", "public"}}
	bookFeedbacks    = []enumValue{{"GOOD", "GOOD"}, {"BAD", "BAD"}, {"READ_GOOD", "READ_GOOD"}, {"READ_BAD", "READ_BAD"}}
	booklistActions  = []enumValue{{"add", "add"}, {"remove", "remove"}, {"update", "update"}}
	booklistInfoKeys = []string{"description", "image_url", "subheading", "colour"}
	booklistItemKeys = []string{"edition", "note", "feedback"}
)

// privilegedListType: the list types only admins create or keep (api.md
// §2.12 step 1; F3).
func privilegedListType(label string) bool {
	return label == "OTHER_LIST" || label == "HUEY" || label == "REGION"
}

func apiListType(label string) string {
	for _, m := range booklistTypes {
		if m.Label == label {
			return m.Value
		}
	}
	return label
}

func errBooklistNotFound(id uuid.UUID) error {
	return httpError(http.StatusNotFound, msgBooklistIDNotFound.format(id))
}

// ---------------------------------------------------------------------------
// JSON built by Postgres.

// queueBrief queues a brief query; *out stays nil when no list is visible.
func queueBrief(b batchQueuer, out *json.RawMessage, count *int64, q string, args ...any) {
	b.Queue(q, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var v []byte
			if err := rows.Scan(&v, count); err != nil {
				return err
			}
			*out = v
		}
		return rows.Err()
	})
}

// booklistDetail is BooklistDetail(Enriched): the brief, the page and its
// wrapper (total = book_count).
func booklistDetail(brief json.RawMessage, count int64, items []json.RawMessage, skip, limit int) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if err := json.Unmarshal(brief, &out); err != nil {
		return nil, err
	}
	for k, v := range pageOf(items, skip, limit, &count) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[k] = b
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Policy attributes of one list.

type booklistAttrs struct {
	found    bool
	typ      string
	sharing  string
	userID   *uuid.UUID
	schoolID *int64
}

func queueBooklistAttrs(b batchQueuer, id uuid.UUID, out *booklistAttrs) {
	b.Queue(queries.BooklistAttrs, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&out.typ, &out.sharing, &out.userID, &out.schoolID); err != nil {
				return err
			}
			out.found = true
		}
		return rows.Err()
	})
}

func booklistResource(id uuid.UUID, a booklistAttrs) policies.Resource {
	attrs := map[string]string{"type": a.typ, "sharing": a.sharing, "user_id": "", "school_id": ""}
	if a.userID != nil {
		attrs["user_id"] = a.userID.String()
	}
	if a.schoolID != nil {
		attrs["school_id"] = strconv.FormatInt(*a.schoolID, 10)
	}
	return policies.Resource{Type: resBooklist, ID: id.String(), Attrs: attrs}
}

// booklistDoor is the way to the booklist a route's path names
// (huey.booklist_attrs).
var booklistDoor = door[uuid.UUID, booklistAttrs]{
	typ:      resBooklist,
	param:    "booklist_identifier",
	parse:    pathUUID,
	attrs:    queueBooklistAttrs,
	found:    func(a booklistAttrs) bool { return a.found },
	resource: booklistResource,
	notFound: errBooklistNotFound,
}

// readBooklistAttrs reads a list's attributes alone (the decision of a write).
func (s *Server) readBooklistAttrs(c echo.Context) (uuid.UUID, booklistAttrs, error) {
	ctx := c.Request().Context()
	var a booklistAttrs
	id, err := pathUUID(c, "booklist_identifier")
	if err != nil {
		return id, a, err
	}
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueBooklistAttrs(b, id, &a) })
	return id, a, err
}

// publishAllowed: the caller may create or keep Huey, Regional and Other lists (F3).
func (s *Server) publishAllowed(ctx context.Context) error {
	ok, err := s.may(ctx, policies.Resource{Type: resBooklists}, "publish")
	if err != nil {
		return err
	}
	if !ok {
		return httpError(http.StatusForbidden, msgBooklistPrivilegedType)
	}
	return nil
}

// checkPublicity is step 2 of create and update, on the resulting values.
func checkPublicity(typ, sharing string, slug *string) error {
	if slug != nil && typ != "HUEY" {
		return httpError(http.StatusUnprocessableEntity, msgBooklistSlugNotHuey)
	}
	if typ == "HUEY" && sharing == "PUBLIC" && slug == nil {
		return httpError(http.StatusUnprocessableEntity, msgBooklistSlugRequired)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Reading lists.

// GET /lists: every list the caller may read (row security, F14), newest first.
func (s *Server) getBooklists(c echo.Context) error {
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	var ck checks
	var typ, sharing *string
	if c.QueryParams().Has("list_type") {
		v := c.QueryParam("list_type")
		typ = ck.enum([]any{"query", "list_type"}, booklistTypes, &v)
	}
	if c.QueryParams().Has("sharing_type") {
		v := c.QueryParam("sharing_type")
		sharing = ck.enum([]any{"query", "sharing_type"}, booklistSharings, &v)
	}
	if err := ck.err(); err != nil {
		return err
	}
	return s.listBooklists(c, queries.BooklistsWhere, skip, limit, typ, sharing)
}

// GET /public-lists (PUBLIC): public Huey lists.
func (s *Server) getPublicBooklists(c echo.Context) error {
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	return s.listBooklists(c, queries.PublicBooklistsWhere, skip, limit)
}

// listBooklists answers a BooklistsResponse: a page of the visible lists
// matching where, and their count, in one round trip.
func (s *Server) listBooklists(c echo.Context, where string, skip, limit int, args ...any) error {
	ctx := c.Request().Context()
	n := len(args)
	q := queries.ListBooklists(where, n)
	data := []json.RawMessage{}
	var total int64
	err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		b.Queue(q, append(append([]any{}, args...), skip, limit)...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var v []byte
				var count int64
				if err := rows.Scan(&v, &count); err != nil {
					return err
				}
				data = append(data, v)
			}
			return rows.Err()
		})
		b.Queue(queries.CountBooklists(where), args...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&total)
		})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(data, skip, limit, &total))
}

// GET /list/{booklist_identifier}: `read` on the list; attributes, brief and
// items in one round trip.
func (s *Server) getBooklist(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "booklist_identifier")
	if err != nil {
		return err
	}
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	enriched, err := queryBool(c, "enriched")
	if err != nil {
		return err
	}
	var (
		a     booklistAttrs
		brief json.RawMessage
		count int64
		items []json.RawMessage
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueBooklistAttrs(b, id, &a)
		queueBrief(b, &brief, &count, queries.BooklistBriefByID, id)
		queueJSONList(b, &items, queries.BooklistItems("$1", enriched != nil && *enriched), id, skip, limit)
	})
	if err != nil {
		return err
	}
	if err := booklistDoor.decide(s, c, id, a); err != nil {
		return err
	}
	if brief == nil {
		return errBooklistNotFound(id)
	}
	out, err := booklistDetail(brief, count, items, skip, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// GET /public-list/{booklist_slug} (PUBLIC): 404 when missing or not public,
// 403 when public but not a Huey list; one round trip.
func (s *Server) getPublicBooklist(c echo.Context) error {
	ctx := c.Request().Context()
	slug := c.Param("booklist_slug")
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	enriched, err := queryBool(c, "enriched")
	if err != nil {
		return err
	}
	var (
		found, public, huey bool
		brief               json.RawMessage
		count               int64
		items               []json.RawMessage
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		b.Queue(queries.PublicBooklistAttrs, slug).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&public, &huey); err != nil {
					return err
				}
				found = true
			}
			return rows.Err()
		})
		queueBrief(b, &brief, &count, queries.PublicBooklistBriefBySlug, slug)
		queueJSONList(b, &items, queries.BooklistItems(queries.PublicBooklistIDBySlug, enriched != nil && *enriched), slug, skip, limit)
	})
	if err != nil {
		return err
	}
	switch {
	case !found || !public:
		return httpError(http.StatusNotFound, msgBooklistNotFound)
	case !huey:
		return httpError(http.StatusForbidden, msgBooklistNotHuey)
	case brief == nil:
		return httpError(http.StatusNotFound, msgBooklistNotFound)
	}
	out, err := booklistDetail(brief, count, items, skip, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// ---------------------------------------------------------------------------
// Request models.

// stringObject validates an object of optional string fields and keeps only
// keys (all of them when all is set, absent ones as null; else those given).
func (c *checks) stringObject(loc []any, raw json.RawMessage, keys []string, all bool) map[string]any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		c.add(loc, "dict_type", "Input should be a valid dictionary", nil)
		return nil
	}
	out := map[string]any{}
	for _, k := range keys {
		v, ok := in[k]
		if !ok {
			if all {
				out[k] = nil
			}
			continue
		}
		if string(v) == "null" {
			out[k] = nil
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			c.add(append(append([]any{}, loc...), k), "string_type", "Input should be a valid string", v)
			continue
		}
		if k == "image_url" && strings.HasPrefix(strings.ToLower(s), "data:") {
			// as for covers: no image storage yet, so data URIs are refused
			c.add(append(append([]any{}, loc...), k), "value_error", "Image uploads are not supported; give a URL", s)
			continue
		}
		out[k] = s
	}
	return out
}

// item checks one item change the document has validated (work_id present,
// action one of add/remove/update; create items have none: add): what it
// cannot say is the int4 range of the ids (R7) and the info's keys.
func (c *checks) item(loc []any, action string, workID int, orderID nullable.Nullable[int], info nullable.Nullable[json.RawMessage]) itemOp {
	op := itemOp{action: "add", work: int64(workID)}
	if action != "" {
		if v := c.enum(append(append([]any{}, loc...), "action"), booklistActions, &action); v != nil {
			op.action = *v
		}
	}
	if workID < -1<<31 || workID >= 1<<31 { // R7: works.id is int4
		c.errs = append(c.errs, notInt32(append(append([]any{}, loc...), "work_id"), workID))
	}
	if o := valueOf(orderID); o != nil {
		order := int64(*o)
		op.order = &order
		if order < -1<<31 || order >= 1<<31 {
			c.add(append(append([]any{}, loc...), "order_id"), "value_error", "order_id out of range", order)
		}
	}
	op.info = c.stringObject(append(append([]any{}, loc...), "info"), rawOf(info), booklistItemKeys, false)
	if fb, ok := op.info["feedback"].(string); ok {
		c.enum(append(append([]any{}, loc...), "info", "feedback"), bookFeedbacks, &fb)
	}
	return op
}

// ---------------------------------------------------------------------------
// Item ordering (domain.md §9.2), simulated in memory, written set-based.

type itemOp struct {
	action string
	work   int64
	order  *int64
	info   map[string]any
}

type listItem struct {
	order   *int64
	info    map[string]any
	rawInfo []byte
	isNew   bool
	touched bool
}

// itemSet is a list's items during a change.
type itemSet struct {
	items   map[int64]*listItem
	removed []int64
}

func newItemSet() *itemSet { return &itemSet{items: map[int64]*listItem{}} }

func (s *itemSet) shift(from, to int64, by int64) { // orders in [from, to] move by `by`
	for _, it := range s.items {
		if it.order != nil && *it.order >= from && *it.order <= to {
			v := *it.order + by
			it.order, it.touched = &v, true
		}
	}
}

func (s *itemSet) apply(op itemOp) {
	it, present := s.items[op.work]
	switch op.action {
	case "add":
		if present {
			return
		}
		var pos int64
		if op.order == nil {
			pos = int64(len(s.items))
		} else {
			pos = *op.order
			s.shift(pos, 1<<62, 1)
		}
		s.items[op.work] = &listItem{order: &pos, info: op.info, isNew: true, touched: true}
	case "update":
		if !present {
			return
		}
		if op.order != nil && it.order != nil && *op.order != *it.order {
			n, o := *op.order, *it.order
			if n < o {
				s.shift(n, o-1, 1)
			} else {
				s.shift(o+1, n, -1)
			}
		}
		if op.order != nil {
			v := *op.order
			it.order, it.touched = &v, true
		}
		if op.info != nil {
			base := map[string]any{}
			if it.info != nil {
				base = it.info
			}
			it.info, it.touched = deepMerge(base, op.info), true
		}
	case "remove":
		if !present {
			return
		}
		delete(s.items, op.work)
		if !it.isNew {
			s.removed = append(s.removed, op.work)
		}
		if it.order != nil {
			s.shift(*it.order+1, 1<<62, -1)
		}
	}
}

// load reads a list's items inside the transaction.
func (s *itemSet) load(ctx context.Context, tx *db.Tx, list uuid.UUID) error {
	rows, err := tx.Query(ctx, queries.ListBooklistItemRows, list)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			work  int64
			order *int64
			info  *string
		)
		if err := rows.Scan(&work, &order, &info); err != nil {
			return err
		}
		it := &listItem{order: order}
		if info != nil {
			it.rawInfo = []byte(*info)
			var m map[string]any
			if json.Unmarshal(it.rawInfo, &m) == nil {
				it.info = m
			}
		}
		s.items[work] = it
	}
	return rows.Err()
}

// write stores the change: removals, moved or changed items and new items,
// each one set-based statement, with the order constraint deferred to commit.
func (s *itemSet) write(ctx context.Context, tx *db.Tx, list uuid.UUID) error {
	if _, err := tx.Exec(ctx, `SET CONSTRAINTS uq_booklistworkassociations_booklist_id_order_id DEFERRED`); err != nil {
		return err
	}
	if len(s.removed) > 0 {
		if _, err := tx.Exec(ctx, queries.DeleteBooklistWorks,
			list, s.removed); err != nil {
			return err
		}
	}
	var (
		uw, nw   []int64
		uo, no   []*int64
		ui, ni   []*string
		infoText = func(it *listItem) *string {
			if it.info == nil {
				if it.rawInfo != nil {
					v := string(it.rawInfo)
					return &v
				}
				return nil
			}
			b, _ := json.Marshal(it.info)
			v := string(b)
			return &v
		}
	)
	for w, it := range s.items {
		switch {
		case it.isNew:
			nw, no, ni = append(nw, w), append(no, it.order), append(ni, infoText(it))
		case it.touched:
			uw, uo, ui = append(uw, w), append(uo, it.order), append(ui, infoText(it))
		}
	}
	if len(uw) > 0 {
		if _, err := tx.Exec(ctx, queries.UpdateBooklistWorks, list, uw, uo, ui); err != nil {
			return err
		}
	}
	if len(nw) > 0 {
		if _, err := tx.Exec(ctx, queries.InsertBooklistWorks, list, nw, no, ni); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// POST /list

// POST /list: route ACL `create`, then the steps of api.md §2.12 in order.
func (s *Server) postBooklist(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	var in booklistCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	// The document has required name and type; their lengths and the
	// enums' names in any case are checked here.
	var ck checks
	ck.str([]any{"body", "name"}, &in.Name, booklistNameMax)
	ck.str([]any{"body", "slug"}, valueOf(in.Slug), booklistNameMax)
	typ := ck.enum([]any{"body", "type"}, booklistTypes, &in.Type)
	sharing := "PRIVATE"
	if v := valueOf(in.Sharing); v != nil {
		if v := ck.enum([]any{"body", "sharing"}, booklistSharings, v); v != nil {
			sharing = *v
		}
	}
	// school_id: a UUID or an integer id, as a string or a number.
	var schoolRaw *string
	if raw := valueOf(in.SchoolId); raw != nil {
		var str string
		var num json.Number
		switch {
		case json.Unmarshal(*raw, &str) == nil:
			schoolRaw = &str
		case json.Unmarshal(*raw, &num) == nil:
			v := num.String()
			schoolRaw = &v
		default:
			ck.add([]any{"body", "school_id"}, "string_type", "Input should be a valid string", *raw)
		}
	}
	info := ck.stringObject([]any{"body", "info"}, rawOf(in.Info), booklistInfoKeys, true)
	items := newItemSet()
	for i, it := range in.Items.GetOrEmpty() {
		items.apply(ck.item([]any{"body", "items", i}, "", it.WorkId, it.OrderId, it.Info))
	}
	if err := ck.err(); err != nil {
		return err
	}
	label := *typ

	// 1. privileged types; 2. publicity.
	if privilegedListType(label) {
		if err := s.publishAllowed(ctx); err != nil {
			return err
		}
	}
	if err := checkPublicity(label, sharing, valueOf(in.Slug)); err != nil {
		return err
	}
	// 3. the school; 4. the owner.
	var (
		schoolID *int64
		userID   *uuid.UUID
	)
	switch label {
	case "SCHOOL":
		id, err := s.booklistSchool(ctx, ident, schoolRaw)
		if err != nil {
			return err
		}
		schoolID = &id
	case "PERSONAL":
		id, err := s.booklistOwner(ctx, ident, valueOf(in.UserId))
		if err != nil {
			return err
		}
		userID = &id
	default:
		if schoolRaw != nil {
			id, err := strconv.ParseInt(*schoolRaw, 10, 32)
			if err != nil {
				return httpError(http.StatusUnprocessableEntity, msgBooklistCreateFailed)
			}
			schoolID = &id
		}
	}
	var infoJSON []byte
	if info != nil {
		infoJSON, _ = json.Marshal(info)
	}

	// 5. insert with the items; 6. the event.
	id := uuid.New()
	var (
		brief json.RawMessage
		count int64
	)
	err := db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, queries.InsertBooklist, id, in.Name, label, infoJSON, schoolID, userID, valueOf(in.Slug), sharing); err != nil {
			return err
		}
		if err := items.write(ctx, tx, id); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, ident, "Booklist created",
			fmt.Sprintf("%s created booklist '%s'", ident.Account.Name, in.Name), "NORMAL", schoolID,
			map[string]any{"type": apiListType(label), "id": id}); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, queries.BooklistBriefByID, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&brief, &count); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	switch {
	case isIntegrityError(err):
		return httpError(http.StatusUnprocessableEntity, msgBooklistCreateFailed)
	case isPermissionDenied(err): // the policy allowed it; row security did not
		return errForbidden()
	case err != nil:
		return err
	case brief == nil:
		return errForbidden()
	}
	return rawJSON(c, brief)
}

// booklistSchool is step 3: the school of a new School list.
func (s *Server) booklistSchool(ctx context.Context, ident *Identity, raw *string) (int64, error) {
	var id int64
	switch {
	case raw != nil:
		wid, err := uuid.Parse(*raw)
		if err != nil {
			return 0, httpError(http.StatusNotFound, msgSchoolNotFound.format(*raw))
		}
		var found *int64
		if err := db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) { queueSchoolAttrs(b, wid, &found) }); err != nil {
			return 0, err
		}
		if found == nil {
			return 0, errSchoolNotFound(wid)
		}
		id = *found
	case ident.IsUser() && ident.Account.SchoolID != nil && isStaff(ident.Account.UserType):
		id = *ident.Account.SchoolID
	case !ident.IsUser() && len(ident.Account.LinkedSchoolIDs) == 1:
		id = ident.Account.LinkedSchoolIDs[0]
	default:
		return 0, httpError(http.StatusUnprocessableEntity, msgBooklistNeedSchool)
	}
	ok, err := s.may(ctx, schoolResource(id), "update")
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, httpError(http.StatusForbidden, msgBooklistSchoolDenied)
	}
	return id, nil
}

// booklistOwner is step 4: the owner of a new Personal list.
func (s *Server) booklistOwner(ctx context.Context, ident *Identity, raw *string) (uuid.UUID, error) {
	if raw == nil {
		if !ident.IsUser() {
			return uuid.Nil, httpError(http.StatusUnprocessableEntity, msgBooklistNeedUser)
		}
		return ident.Account.ID, nil
	}
	id, err := uuid.Parse(*raw)
	if err != nil {
		return uuid.Nil, errValidation(validationError{Type: "uuid_parsing", Loc: []any{"body", "user_id"},
			Msg: "Input should be a valid UUID", Input: *raw})
	}
	res, found, err := s.userResource(ctx, id)
	if err != nil {
		return uuid.Nil, err
	}
	if !found {
		return uuid.Nil, errUserNotFound(id)
	}
	ok, err := s.may(ctx, res, "update")
	if err != nil {
		return uuid.Nil, err
	}
	if !ok {
		return uuid.Nil, httpError(http.StatusForbidden, msgBooklistUserDenied)
	}
	return id, nil
}

// ---------------------------------------------------------------------------
// PATCH /list/{booklist_identifier}

// PATCH /list/{id}: `update` on the list; F3: the current and the new type
// must be one the caller may hold; publicity is validated on the resulting
// values; everything in one transaction.
func (s *Server) patchBooklist(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, a, err := s.readBooklistAttrs(c)
	if err != nil {
		return err
	}
	if err := booklistDoor.decide(s, c, id, a); err != nil {
		return err
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var in booklistUpdateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	// What the document cannot say: a null name (it allows null for the
	// original's sake), the lengths, the enums' names in any case.
	var ck checks
	var newType, newSharing *string
	if in.Name.IsNull() {
		ck.add([]any{"body", "name"}, "string_type", "Input should be a valid string", nil)
	}
	ck.str([]any{"body", "name"}, valueOf(in.Name), booklistNameMax)
	ck.str([]any{"body", "slug"}, valueOf(in.Slug), booklistNameMax)
	if v := valueOf(in.Type); v != nil {
		newType = ck.enum([]any{"body", "type"}, booklistTypes, v)
	}
	if v := valueOf(in.Sharing); v != nil {
		newSharing = ck.enum([]any{"body", "sharing"}, booklistSharings, v)
	}
	var info map[string]any
	infoSet := in.Info.IsSpecified()
	if infoSet {
		info = ck.stringObject([]any{"body", "info"}, rawOf(in.Info), booklistInfoKeys, false)
	}
	ops := make([]itemOp, 0, len(in.Items.GetOrEmpty()))
	for i, it := range in.Items.GetOrEmpty() {
		ops = append(ops, ck.item([]any{"body", "items", i}, string(it.Action), it.WorkId, it.OrderId, it.Info))
	}
	if err := ck.err(); err != nil {
		return err
	}
	// 1. the current type, and the new one (F3).
	if privilegedListType(a.typ) || (newType != nil && privilegedListType(*newType)) {
		if err := s.publishAllowed(ctx); err != nil {
			return err
		}
	}
	var brief json.RawMessage
	var count int64
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		var (
			name, typ, sharing string
			slug               *string
			stored             []byte
		)
		if err := tx.QueryRow(ctx, queries.LockBooklist, id).Scan(&name, &typ, &sharing, &slug, &stored); err != nil {
			return err
		}
		if v := valueOf(in.Name); v != nil {
			name = *v
		}
		if newType != nil {
			typ = *newType
		}
		if newSharing != nil {
			sharing = *newSharing
		}
		if in.Slug.IsSpecified() {
			slug = valueOf(in.Slug)
		}
		// 2. publicity on the resulting values (the original let stored values win).
		if err := checkPublicity(typ, sharing, slug); err != nil {
			return err
		}
		// 3. info replaces the stored info.
		if infoSet {
			stored = nil
			if info != nil {
				stored, _ = json.Marshal(info)
			}
		}
		tag, err := tx.Exec(ctx, queries.UpdateBooklist, id, name, typ, sharing, slug, stored)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return errForbidden()
		}
		// 4. item changes, in order.
		if len(ops) > 0 {
			items := newItemSet()
			if err := items.load(ctx, tx, id); err != nil {
				return err
			}
			for _, op := range ops {
				items.apply(op)
			}
			if err := items.write(ctx, tx, id); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, queries.BooklistBriefByID, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&brief, &count); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, db.ErrNotFound):
		return errForbidden() // the policy allowed it; row security did not
	case isIntegrityError(err):
		return httpError(http.StatusUnprocessableEntity, msgBooklistUpdateFailed)
	case isPermissionDenied(err):
		return errForbidden()
	case err != nil:
		return err
	case brief == nil:
		return errForbidden()
	}
	return rawJSON(c, brief)
}

// ---------------------------------------------------------------------------
// DELETE /list/{booklist_identifier}

// DELETE /list/{id}: `delete` on the list; answers the list as it was.
func (s *Server) deleteBooklist(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, a, err := s.readBooklistAttrs(c)
	if err != nil {
		return err
	}
	if err := booklistDoor.decide(s, c, id, a); err != nil {
		return err
	}
	var brief json.RawMessage
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		var count int64
		rows, err := tx.Query(ctx, queries.BooklistBriefByID, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := rows.Scan(&brief, &count); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n, err := queries.New(tx).DeleteBooklist(ctx, id)
		if err != nil {
			return err
		}
		if n != 1 || brief == nil {
			return errForbidden() // the policy allowed it; row security did not
		}
		return nil
	})
	switch {
	case isPermissionDenied(err):
		return errForbidden()
	case err != nil:
		return err
	}
	return rawJSON(c, brief)
}
