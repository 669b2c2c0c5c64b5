package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Schools (api.md §2.5). Who may do what is in policies/school.rego and
// policies/schools.rego; which rows exist is in schema/ (schools_* policies).

type schoolBrief struct {
	WrivetedIdentifier uuid.UUID          `json:"wriveted_identifier"`
	Name               string             `json:"name"`
	OfficialIdentifier *string            `json:"official_identifier"`
	CountryCode        *string            `json:"country_code"`
	State              *string            `json:"state"`
	Subscription       *subscriptionBrief `json:"subscription"`
	Collection         *collectionBrief   `json:"collection"`
}

type schoolSelectorOption struct {
	schoolBrief
	Info   json.RawMessage `json:"info"`
	Admins []userBrief     `json:"admins"`
}

type countryOut struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type booklistRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

type schoolDetail struct {
	WrivetedIdentifier uuid.UUID           `json:"wriveted_identifier"`
	Name               string              `json:"name"`
	OfficialIdentifier *string             `json:"official_identifier"`
	CountryCode        *string             `json:"country_code"`
	State              *string             `json:"state"`
	Subscription       *subscriptionDetail `json:"subscription"`
	Collection         *collectionBrief    `json:"collection"`
	Country            *countryOut         `json:"country"`
	Info               json.RawMessage     `json:"info"`
	Admins             []userBrief         `json:"admins"`
	LmsType            string              `json:"lms_type"`
	BookbotType        string              `json:"bookbot_type"`
	CreatedAt          isoTime             `json:"created_at"`
	UpdatedAt          isoTime             `json:"updated_at"`
	StudentDomain      *string             `json:"student_domain"`
	TeacherDomain      *string             `json:"teacher_domain"`
	Booklists          []booklistRef       `json:"booklists"`

	id int64 // internal, for policy decisions
}

func errSchoolNotFound(id uuid.UUID) error {
	return httpError(http.StatusNotFound, msgSchoolNotFound.format(id))
}

// schoolResource is a school as the policy sees it.
func schoolResource(id int64) policies.Resource {
	return policies.Resource{Type: resSchool, ID: strconv.FormatInt(id, 10)}
}

// schoolDoor is the way to the school a route's path names: its attributes
// (huey.school_attrs: the integer id, nil when it does not exist).
var schoolDoor = door[uuid.UUID, *int64]{
	typ:      resSchool,
	param:    "wriveted_identifier",
	parse:    pathUUID,
	attrs:    queueSchoolAttrs,
	found:    func(id *int64) bool { return id != nil },
	resource: func(_ uuid.UUID, id *int64) policies.Resource { return schoolResource(*id) },
	notFound: errSchoolNotFound,
}

// ---------------------------------------------------------------------------
// Reading one school: attributes and data in one round trip.

// queueSchoolAttrs queues the policy attributes of a school; *id stays nil
// when it does not exist.
func queueSchoolAttrs(b batchQueuer, wid uuid.UUID, id **int64) {
	b.Queue(queries.SchoolAttrs, wid).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				return err
			}
			*id = &v
		}
		return rows.Err()
	})
}

func scanUserBriefs(rows pgx.Rows) ([]userBrief, error) {
	out := []userBrief{}
	for rows.Next() {
		var (
			u     userBrief
			typ   string
			login *time.Time
		)
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &typ, &u.IsActive, &login); err != nil {
			return nil, err
		}
		u.Type, u.LastLoginAt = lower(typ), isoPtr(login)
		out = append(out, u)
	}
	return out, rows.Err()
}

// redactSchool hides what the caller may not see of a school it may read:
// state without `details`, the collection without `read-collection` (F6: the
// school's educators and students read it redacted).
func (s *Server) redactSchool(ctx context.Context, d *schoolDetail) error {
	res := schoolResource(d.id)
	details, err := s.may(ctx, res, "details")
	if err != nil {
		return err
	}
	if !details {
		d.State = nil
	}
	coll, err := s.may(ctx, res, "read-collection")
	if err != nil {
		return err
	}
	if !coll {
		d.Collection = nil
	}
	return nil
}

// readSchool reads a school and decides the route's action on it in one
// round trip: the attribute look-up and the data travel in the same batch,
// and the policy decides before anything is returned.
func (s *Server) readSchool(c echo.Context) (*schoolDetail, error) {
	var rows *schoolRows
	wid, _, err := schoolDoor.open(s, c, func(b *pgx.Batch, wid uuid.UUID) { rows = queueSchoolDetail(b, wid) })
	if err != nil {
		return nil, schoolErr(wid, err)
	}
	d, err := rows.detail() // allowed by policy but hidden by RLS: fail closed
	if err != nil {
		return nil, schoolErr(wid, err)
	}
	return d, s.redactSchool(c.Request().Context(), d)
}

// GET /school/{wriveted_identifier}
func (s *Server) getSchool(c echo.Context) error {
	d, err := s.readSchool(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// GET /school/{wriveted_identifier}/exists (PUBLIC)
func (s *Server) getSchoolExists(c echo.Context) error {
	ctx := c.Request().Context()
	wid, err := pathUUID(c, "wriveted_identifier")
	if err != nil {
		return err
	}
	var id *int64
	if err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueSchoolAttrs(b, wid, &id) }); err != nil {
		return err
	}
	if id == nil {
		return errSchoolNotFound(wid)
	}
	return c.JSON(http.StatusOK, true)
}

// GET /school/{wriveted_identifier}/bot
func (s *Server) getSchoolBot(c echo.Context) error {
	var bot *queries.GetSchoolBotRow
	wid, _, err := schoolDoor.open(s, c, func(b *pgx.Batch, wid uuid.UUID) {
		queries.QueueOne(b, &bot, queries.GetSchoolBot, wid)
	})
	if err != nil {
		return schoolErr(wid, err)
	}
	if bot == nil {
		return errSchoolNotFound(wid)
	}
	experiments := bot.Experiments
	if len(experiments) == 0 || string(experiments) == "null" {
		experiments = []byte("{}") // the original fails here with 500 [defect]
	}
	return c.JSON(http.StatusOK, map[string]any{
		"name": bot.Name, "type": lower(bot.BookbotType), "experiments": json.RawMessage(experiments), "supporter": bot.Supporter,
	})
}

// GET /school/{wriveted_identifier}/bookbot
func (s *Server) getSchoolBookbot(c echo.Context) error {
	d, err := s.readSchool(c)
	if err != nil {
		return err
	}
	state := (*string)(nil)
	if d.State != nil {
		state = d.State
	}
	return c.JSON(http.StatusOK, map[string]any{
		"wriveted_identifier": d.WrivetedIdentifier, "name": d.Name, "state": state, "bookbot_type": d.BookbotType,
	})
}

// ---------------------------------------------------------------------------
// GET /schools

type schoolFilters struct {
	countryCode, state, postcode, q, officialIdentifier  *string
	isActive, hasActiveSubscription, connectedCollection *bool
}

func parseSchoolFilters(c echo.Context) (f schoolFilters, err error) {
	for name, dst := range map[string]**string{"country_code": &f.countryCode, "state": &f.state,
		"postcode": &f.postcode, "q": &f.q, "official_identifier": &f.officialIdentifier} {
		if *dst, err = queryString(c, name, 512); err != nil {
			return f, err
		}
	}
	for name, dst := range map[string]**bool{"is_active": &f.isActive,
		"has_active_subscription": &f.hasActiveSubscription, "connected_collection": &f.connectedCollection} {
		if *dst, err = queryBool(c, name); err != nil {
			return f, err
		}
	}
	return f, nil
}

// where is the WHERE of GET /schools; is_active and connected_collection
// count only for a caller who may see every school's details.
func (f schoolFilters) where(details bool) *queries.Filter {
	var w queries.Filter
	if f.countryCode != nil {
		w.Add("s.country_code = $?", *f.countryCode)
	}
	if f.state != nil {
		w.Add("s.info -> 'location' ->> 'state' = $?", *f.state)
	}
	if f.postcode != nil {
		w.Add("s.info -> 'location' ->> 'postcode' = $?", *f.postcode)
	}
	if f.q != nil {
		w.Add("s.name ILIKE $?", likePattern(*f.q))
	}
	if f.officialIdentifier != nil {
		w.Add("s.official_identifier = $?", *f.officialIdentifier)
	}
	if f.hasActiveSubscription != nil {
		w.Add("EXISTS (SELECT 1 FROM subscriptions x WHERE x.school_id = s.wriveted_identifier AND x.is_active = $?)",
			*f.hasActiveSubscription)
	}
	if details && f.isActive != nil {
		w.Add("s.state = $?::schoolstate", map[bool]string{true: "ACTIVE", false: "INACTIVE"}[*f.isActive])
	}
	if details && f.connectedCollection != nil {
		cond := `EXISTS (SELECT 1 FROM collections c JOIN collection_items i ON i.collection_id = c.id
			WHERE c.school_id = s.wriveted_identifier)`
		if !*f.connectedCollection {
			cond = "NOT " + cond
		}
		w.AddSQL(cond)
	}
	return &w
}

func (s *Server) getSchools(c echo.Context) error {
	ctx := c.Request().Context()
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	f, err := parseSchoolFilters(c)
	if err != nil {
		return err
	}
	routeDetails, err := s.may(ctx, policies.Resource{Type: resSchools}, "details")
	if err != nil {
		return err
	}
	routeCollections, err := s.may(ctx, policies.Resource{Type: resSchools}, "read-collection")
	if err != nil {
		return err
	}
	q, args := f.where(routeDetails).Page(queries.ListSchools, "s.created_at DESC, s.id DESC", skip, limit)
	var rows []queries.SchoolListRow
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queries.QueueMany(b, &rows, q, args...) })
	if err != nil {
		return err
	}
	out := make([]schoolSelectorOption, 0, len(rows))
	for _, r := range rows {
		o := schoolOption(r)
		if err := s.redactSchoolOption(ctx, &o, int64(r.ID), routeDetails, routeCollections); err != nil {
			return err
		}
		out = append(out, o)
	}
	return c.JSON(http.StatusOK, out)
}

// redactSchoolOption is redactSchool for a row of GET /schools; what the
// route allows for every school is not asked again per row.
func (s *Server) redactSchoolOption(ctx context.Context, o *schoolSelectorOption, id int64, details, collections bool) error {
	res := schoolResource(id)
	if !details {
		ok, err := s.may(ctx, res, "details")
		if err != nil {
			return err
		}
		if !ok {
			o.State = nil
		}
	}
	if !collections {
		ok, err := s.may(ctx, res, "read-collection")
		if err != nil {
			return err
		}
		if !ok {
			o.Collection = nil
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Creating schools

// schoolRow is a validated school ready to insert.
type schoolRow = queries.InsertSchoolsParams

const defaultExperiments = `{"no-jokes": false, "no-choice-option": true}`

// schoolRowOf turns a SchoolCreateIn the document has validated (required
// fields, lengths, info.location) into a row; it checks only what the
// document cannot: a blank name, the bookbot type's names in any case and
// the domains as http(s) URLs. loc prefixes error locations (a list index
// for POST /schools).
func schoolRowOf(in schoolCreateIn, loc []any) (schoolRow, []validationError) {
	var errs []validationError
	at := func(field string) []any { return append(append([]any{}, loc...), field) }
	r := schoolRow{Name: in.Name, CountryCode: &in.CountryCode, OfficialIdentifier: valueOf(in.OfficialIdentifier)}
	// Blank after trimming: minLength counts the spaces.
	if strings.TrimSpace(in.Name) == "" {
		errs = append(errs, validationError{Type: "string_too_short", Loc: at("name"), Msg: "String should have at least 1 character", Input: in.Name})
	}
	r.BookbotType = "HUEY_BOOKS"
	if v := valueOf(in.BookbotType); v != nil {
		if label, ok := parseEnum(bookbotTypes, *v); ok {
			r.BookbotType = label
		} else {
			errs = append(errs, validationError{Type: "enum", Loc: at("bookbot_type"),
				Msg: "Input should be " + strings.Join(enumValues(bookbotTypes), " or "), Input: *v})
		}
	}
	r.LmsType = "none"
	if v := valueOf(in.LmsType); v != nil {
		r.LmsType = *v
	}
	for field, src := range map[string]*string{"student_domain": valueOf(in.StudentDomain), "teacher_domain": valueOf(in.TeacherDomain)} {
		if src == nil {
			continue
		}
		// An http(s) URL, its normalised form within the column's 256.
		u, ok := validURL(*src)
		switch {
		case !ok:
			errs = append(errs, validationError{Type: "url_parsing", Loc: at(field), Msg: "Input should be a valid URL", Input: *src})
		case utf8.RuneCountInString(u) > 256:
			errs = append(errs, validationError{Type: "string_too_long", Loc: at(field),
				Msg: "String should have at most 256 characters", Input: u})
		case field == "student_domain":
			r.StudentDomain = &u
		default:
			r.TeacherDomain = &u
		}
	}
	info, err := schoolInfoWithExperiments(in.Info)
	if err != nil {
		errs = append(errs, validationError{Type: "value_error", Loc: at("info"), Msg: err.Error(), Input: nil})
	}
	r.Info = info
	return r, errs
}

// schoolInfoWithExperiments sets the default experiments in a SchoolInfoIn.
func schoolInfoWithExperiments(raw json.RawMessage) ([]byte, error) {
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, err
	}
	var exp map[string]any
	_ = json.Unmarshal([]byte(defaultExperiments), &exp)
	info["experiments"] = exp
	return json.Marshal(info)
}

// insertSchools inserts schools in one round trip and returns their ids.
func insertSchools(ctx context.Context, tx *db.Tx, rows []schoolRow) ([]queries.InsertSchoolsRow, error) {
	out := make([]queries.InsertSchoolsRow, len(rows))
	var first error
	br := queries.New(tx).InsertSchools(ctx, rows)
	br.QueryRow(func(i int, r queries.InsertSchoolsRow, err error) {
		if first == nil {
			out[i], first = r, err
		}
	})
	if err := br.Close(); first == nil {
		first = err
	}
	return out, first
}

// POST /school
func (s *Server) postSchool(c echo.Context) error {
	ctx := c.Request().Context()
	var in schoolCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	r, errs := schoolRowOf(in, []any{"body"})
	if len(errs) > 0 {
		return errValidation(errs...)
	}
	ident := identityOf(ctx)
	var d *schoolDetail
	err := db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		created, err := insertSchools(ctx, tx, []schoolRow{r})
		if err != nil {
			return err
		}
		id := int64(created[0].ID)
		if err := recordEvent(ctx, tx, ident, "New school created",
			fmt.Sprintf("%s created school '%s'", ident.Account.Name, r.Name), "NORMAL", &id, nil); err != nil {
			return err
		}
		d, err = readSchoolTx(ctx, tx, created[0].WrivetedIdentifier)
		return err
	})
	if isIntegrityError(err) {
		return httpError(http.StatusUnprocessableEntity, msgSchoolCreateFailed)
	}
	if err != nil {
		return err
	}
	created := d.State
	if err := s.redactSchool(ctx, d); err != nil {
		return err
	}
	d.State = created // the creator is told the state it created (inactive), even without `details` (issue 12)
	return c.JSON(http.StatusOK, d)
}

// readSchoolTx reads a SchoolDetail inside a write transaction (one round
// trip); db.ErrNotFound when it is not visible.
func readSchoolTx(ctx context.Context, tx *db.Tx, wid uuid.UUID) (*schoolDetail, error) {
	b := &pgx.Batch{}
	rows := queueSchoolDetail(b, wid)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return rows.detail()
}

// POST /schools (admins: bulk import)
func (s *Server) postSchools(c echo.Context) error {
	ctx := c.Request().Context()
	in, err := decodeList[schoolCreateIn](c)
	if err != nil {
		return err
	}
	rows := make([]schoolRow, 0, len(in))
	var errs []validationError
	for i, sc := range in {
		r, e := schoolRowOf(sc, []any{"body", i})
		errs = append(errs, e...)
		rows = append(rows, r)
	}
	if len(errs) > 0 {
		return errValidation(errs...)
	}
	ident := identityOf(ctx)
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		created, err := insertSchools(ctx, tx, rows)
		if err != nil {
			return err
		}
		ids := make([]string, len(created))
		for i, r := range created {
			ids[i] = r.WrivetedIdentifier.String()
		}
		return recordEvent(ctx, tx, ident, "Bulk created schools",
			fmt.Sprintf("Added %d schools to database.", len(rows)), "NORMAL", nil, map[string]any{"identifiers": ids})
	})
	if isIntegrityError(err) {
		return httpError(http.StatusUnprocessableEntity, msgSchoolsImportFailed)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"msg": fmt.Sprintf("Added %d new schools", len(rows))})
}

// ---------------------------------------------------------------------------
// PATCH /school/{wriveted_identifier}

func termsOf(info map[string]any) map[string]any {
	ta, _ := info["terms_acceptance"].(map[string]any)
	hb, _ := ta["huey_books"].(map[string]any)
	return hb
}

// decideSchool reads a school's policy attributes (one round trip) and
// decides the route's action on it: 422 for a bad id, 404 when missing, 403
// when denied.
func (s *Server) decideSchool(c echo.Context) (uuid.UUID, int64, error) {
	wid, id, err := schoolDoor.open(s, c, nil)
	if err != nil {
		return wid, 0, err
	}
	return wid, *id, nil
}

// schoolPatch is a validated PATCH /school body.
type schoolPatch struct {
	Name, LmsType  *string            // nil: unchanged
	Info           json.RawMessage    // nil: unchanged
	state, bookbot *string            // enum labels
	domains        map[string]*string // normalised URLs, by field
}

// schoolPatchOf takes a body the document has validated (lengths, types);
// it checks only what the document cannot: the enums' names in any case, a
// blank name, the domains as http(s) URLs. Absent and null leave a field
// unchanged.
func schoolPatchOf(in schoolPatchIn) (schoolPatch, []validationError) {
	p := schoolPatch{Name: valueOf(in.Name), LmsType: valueOf(in.LmsType), domains: map[string]*string{}}
	if v := valueOf(in.Info); v != nil {
		p.Info = *v
	}
	var errs []validationError
	if v := valueOf(in.Status); v != nil {
		if l, ok := parseEnum(schoolStates, *v); ok {
			p.state = &l
		} else {
			errs = append(errs, validationError{Type: "enum", Loc: []any{"body", "status"},
				Msg: "Input should be " + strings.Join(enumValues(schoolStates), ", "), Input: *v})
		}
	}
	if v := valueOf(in.BookbotType); v != nil {
		if l, ok := parseEnum(bookbotTypes, *v); ok {
			p.bookbot = &l
		} else {
			errs = append(errs, validationError{Type: "enum", Loc: []any{"body", "bookbot_type"},
				Msg: "Input should be " + strings.Join(enumValues(bookbotTypes), " or "), Input: *v})
		}
	}
	// Blank after trimming: minLength counts the spaces.
	if p.Name != nil && strings.TrimSpace(*p.Name) == "" {
		errs = append(errs, validationError{Type: "string_too_short", Loc: []any{"body", "name"},
			Msg: "String should have at least 1 character", Input: *p.Name})
	}
	for field, src := range map[string]*string{"student_domain": valueOf(in.StudentDomain), "teacher_domain": valueOf(in.TeacherDomain)} {
		if src == nil {
			continue
		}
		// An http(s) URL, its normalised form within the column's 256.
		if u, ok := validURL(*src); ok && utf8.RuneCountInString(u) <= 256 {
			p.domains[field] = &u
		} else {
			errs = append(errs, validationError{Type: "url_parsing", Loc: []any{"body", field}, Msg: "Input should be a valid URL", Input: *src})
		}
	}
	return p, errs
}

func (s *Server) patchSchool(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	// The decision first, then validation of the body (api.md §0.2), then the write.
	wid, id, err := s.decideSchool(c)
	if err != nil {
		return err
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var in schoolPatchIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	p, errs := schoolPatchOf(in)
	if len(errs) > 0 {
		return errValidation(errs...)
	}
	if p.state != nil {
		// Activation is a Wriveted decision: a school created by anyone starts
		// inactive (F4), so its own staff cannot switch it on.
		if err := s.check(ctx, schoolResource(id), "update-state"); err != nil {
			return err
		}
	}
	var d *schoolDetail
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if err := updateSchool(ctx, tx, ident, id, p); err != nil {
			return err
		}
		d, err = readSchoolTx(ctx, tx, wid)
		return err
	})
	if err != nil {
		return schoolErr(wid, err)
	}
	if err := s.redactSchool(ctx, d); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// updateSchool applies p to school id in tx and records the events it causes.
func updateSchool(ctx context.Context, tx *db.Tx, ident *Identity, id int64, p schoolPatch) error {
	q := queries.New(tx)
	cur, err := q.LockSchool(ctx, int32(id))
	if err != nil {
		return err
	}
	newInfo, oldTerms, terms, onlyTerms, err := mergeSchoolInfo(cur.Info, p.Info, ident)
	if err != nil {
		return err
	}
	if p.state != nil && *p.state != cur.State {
		if err := recordEvent(ctx, tx, ident, "School account made "+*p.state,
			fmt.Sprintf("School '%s' status updated to %s", cur.Name, *p.state), "NORMAL", &id, nil); err != nil {
			return err
		}
	}
	if len(terms) > 0 && !jsonEqual(terms, oldTerms) {
		by := terms["accepted_by_user_id"]
		if by == nil && ident.IsUser() {
			by = ident.Account.ID.String()
		}
		if err := recordEvent(ctx, tx, ident, "Huey Books terms accepted",
			fmt.Sprintf("School '%s' accepted Huey Books terms v%v", cur.Name, terms["version"]), "NORMAL", &id,
			map[string]any{"terms_version": terms["version"], "accepted_at": terms["accepted_at"], "accepted_by_user_id": by}); err != nil {
			return err
		}
	}
	otherFields := p.state != nil || p.bookbot != nil || p.LmsType != nil || p.Name != nil || len(p.domains) > 0
	if !onlyTerms || otherFields {
		if err := recordEvent(ctx, tx, ident, "School Updated",
			fmt.Sprintf("School '%s' in %s updated.", cur.Name, cur.CountryName), "NORMAL", &id, nil); err != nil {
			return err
		}
	}
	n, err := q.UpdateSchool(ctx, queries.UpdateSchoolParams{ID: int32(id), Name: p.Name, State: p.state,
		BookbotType: p.bookbot, LmsType: p.LmsType, Info: newInfo,
		SetStudentDomain: p.domains["student_domain"] != nil, StudentDomain: p.domains["student_domain"],
		SetTeacherDomain: p.domains["teacher_domain"] != nil, TeacherDomain: p.domains["teacher_domain"]})
	if err != nil {
		return err
	}
	if n != 1 {
		return errForbidden() // the policy allowed it; row security did not
	}
	return nil
}

// mergeSchoolInfo merges a patch's info into the stored info: an object
// deep-merges (with the caller recorded as the terms' acceptor), any other
// JSON replaces it. It returns the info to store, the Huey Books terms before
// and after, and whether the patch touches nothing but those terms.
func mergeSchoolInfo(stored []byte, patch json.RawMessage, ident *Identity) (
	newInfo []byte, oldTerms, terms map[string]any, onlyTerms bool, err error) {
	var info map[string]any
	if len(stored) > 0 {
		_ = json.Unmarshal(stored, &info)
	}
	// a copy: deepMerge below merges into info in place
	if b, err := json.Marshal(termsOf(info)); err == nil {
		_ = json.Unmarshal(b, &oldTerms)
	}
	newInfo = stored
	if len(patch) > 0 && string(patch) != "null" {
		var v any
		if err := json.Unmarshal(patch, &v); err != nil {
			return nil, nil, nil, false, invalid([]any{"body", "info"}, "Input should be valid JSON", nil)
		}
		if obj, ok := v.(map[string]any); ok {
			recordAcceptor(obj, ident)
			info = deepMerge(info, obj)
			newInfo, _ = json.Marshal(info)
			ta, _ := obj["terms_acceptance"].(map[string]any)
			onlyTerms = len(obj) == 1 && ta != nil && len(ta) == 1 && ta["huey_books"] != nil
		} else {
			newInfo, info = patch, nil
		}
	}
	return newInfo, oldTerms, termsOf(info), onlyTerms, nil
}

// ---------------------------------------------------------------------------
// PATCH /school/{wriveted_identifier}/admin — bind the calling school admin.

func (s *Server) patchSchoolAdmin(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	var admins *int64
	wid, id, err := schoolDoor.open(s, c, func(b *pgx.Batch, wid uuid.UUID) {
		queries.QueueValue(b, &admins, queries.CountSchoolAdmins, wid)
	})
	if err != nil {
		return schoolErr(wid, err)
	}
	if !ident.IsUser() || ident.Account.UserType != "SCHOOL_ADMIN" {
		return httpError(http.StatusUnauthorized, msgSchoolAdminRequired)
	}
	if admins != nil && *admins > 0 {
		return httpError(http.StatusConflict, msgSchoolAdminBound)
	}
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		n, err := queries.New(tx).BindSchoolAdmin(ctx, queries.BindSchoolAdminParams{SchoolID: int32(*id), EducatorID: ident.Account.ID})
		if err != nil {
			return err
		}
		if n != 1 {
			return errForbidden()
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.accounts.forget(ident.Account.ID)
	return c.JSON(http.StatusOK, ident.Account.ID.String())
}

// ---------------------------------------------------------------------------
// DELETE /school/{wriveted_identifier} — admins only (F18).

func (s *Server) deleteSchool(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	wid, id, err := s.decideSchool(c)
	if err != nil {
		return err
	}
	var affected []uuid.UUID
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		affected, err = removeSchool(ctx, tx, ident, wid, id)
		return err
	})
	if err != nil {
		return schoolErr(wid, err)
	}
	for _, a := range affected {
		s.accounts.forget(a)
	}
	return c.JSON(http.StatusOK, map[string]string{"msg": "School deleted"})
}

// removeSchool deletes school id and what hangs off it in tx; its students,
// educators and school admins become inactive public readers (domain.md
// §12), kept whole: their readers/public_readers rows exist. It returns them.
func removeSchool(ctx context.Context, tx *db.Tx, ident *Identity, wid uuid.UUID, id int64) ([]uuid.UUID, error) {
	q := queries.New(tx)
	cur, err := q.LockSchool(ctx, int32(id))
	if err != nil {
		return nil, err
	}
	if cur.LinkedAccounts > 0 {
		return nil, httpError(http.StatusConflict, msgSchoolHasServiceAccount)
	}
	if err := recordEvent(ctx, tx, ident, "School Deleted",
		fmt.Sprintf("School %s in %s deleted.", cur.Name, cur.CountryName), "NORMAL", nil, nil); err != nil {
		return nil, err
	}
	affected, err := q.DemoteSchoolMembers(ctx, int32(id))
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{} // one round trip, in this order
	b.Queue(queries.EnsureReaders, affected)
	b.Queue(queries.EnsurePublicReaders, affected)
	b.Queue(queries.DeleteSchoolCollections, wid)
	b.Queue(queries.DeleteSchoolStudents, id)
	b.Queue(queries.DeleteSchoolEducators, id)
	b.Queue(queries.DeleteSchoolClassGroups, wid)
	b.Queue(queries.DeleteSchoolEvents, id)
	b.Queue(queries.DeleteSchoolBooklists, id)
	b.Queue(queries.DeleteSchool, id)
	return affected, tx.SendBatch(ctx, b).Close()
}

// recordAcceptor makes the caller the acceptor of Huey Books terms a patch
// accepts (issue 12): the body's accepted_by_user_id is not believed — a user
// is recorded by its id, a service account as null.
func recordAcceptor(patch map[string]any, ident *Identity) {
	ta, _ := patch["terms_acceptance"].(map[string]any)
	hb, _ := ta["huey_books"].(map[string]any)
	if hb == nil {
		return
	}
	if ident.IsUser() {
		hb["accepted_by_user_id"] = ident.Account.ID.String()
	} else {
		hb["accepted_by_user_id"] = nil
	}
}
