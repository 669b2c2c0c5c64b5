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
	return policies.Resource{Type: "school", ID: strconv.FormatInt(id, 10)}
}

// ---------------------------------------------------------------------------
// Reading one school: attributes and data in one round trip.

const schoolAttrsSQL = `SELECT id FROM huey.school_attrs($1)`

// queueSchoolAttrs queues the policy attributes of a school; *id stays nil
// when it does not exist.
func queueSchoolAttrs(b *pgx.Batch, wid uuid.UUID, id **int64) {
	b.Queue(schoolAttrsSQL, wid).Query(func(rows pgx.Rows) error {
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

const schoolDetailSQL = `
SELECT s.id, s.wriveted_identifier, s.name, s.official_identifier, s.country_code, s.state::text,
       s.info, s.lms_type, s.bookbot_type::text, s.created_at, s.updated_at, s.student_domain,
       s.teacher_domain, c.id, c.name
FROM schools s LEFT JOIN countries c ON c.id = s.country_code
WHERE s.wriveted_identifier = $1`

// schoolAdminsSQL lists a school's administrators; row security shows them
// only to admins, the school's own school admins and its linked accounts.
const schoolAdminsSQL = `
SELECT u.id, u.name, u.email, u.type::text, u.is_active, u.last_login_at
FROM school_admins a JOIN educators e ON e.id = a.id JOIN users u ON u.id = a.id
WHERE e.school_id = (SELECT id FROM schools WHERE wriveted_identifier = $1)
ORDER BY u.name, u.id`

const schoolBooklistsSQL = `
SELECT b.id, b.name FROM book_lists b JOIN schools s ON s.id = b.school_id
WHERE s.wriveted_identifier = $1 ORDER BY b.name, b.id`

const schoolSubscriptionSQL = `
SELECT x.id, x.type::text, x.provider::text, x.is_active, x.expiration, p.id, p.name,
       x.stripe_customer_id, x.created_at, x.updated_at, x.info
FROM subscriptions x JOIN products p ON p.id = x.product_id
WHERE x.school_id = $1 ORDER BY x.created_at DESC LIMIT 1`

const schoolCollectionSQL = `
SELECT c.id, c.name, c.item_count,
       c.school_id, c.user_id, c.updated_at
FROM collections c WHERE c.school_id = $1 ORDER BY c.created_at, c.id LIMIT 1`

// queueSchoolDetail queues every query of a SchoolDetail; *out stays nil when
// the school is not visible.
func queueSchoolDetail(b batchQueuer, wid uuid.UUID, out **schoolDetail) {
	d := &schoolDetail{Admins: []userBrief{}, Booklists: []booklistRef{}}
	b.Queue(schoolDetailSQL, wid).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				state, bookbot     string
				created, updated   time.Time
				countryID, country *string
				info               []byte
			)
			if err := rows.Scan(&d.id, &d.WrivetedIdentifier, &d.Name, &d.OfficialIdentifier, &d.CountryCode,
				&state, &info, &d.LmsType, &bookbot, &created, &updated, &d.StudentDomain, &d.TeacherDomain,
				&countryID, &country); err != nil {
				return err
			}
			d.State, d.BookbotType = &state, lower(bookbot)
			*d.State = lower(state)
			d.CreatedAt, d.UpdatedAt, d.Info = isoTime(created), isoTime(updated), rawOrNull(info)
			if countryID != nil {
				d.Country = &countryOut{ID: *countryID, Name: *country}
			}
			*out = d
		}
		return rows.Err()
	})
	b.Queue(schoolAdminsSQL, wid).Query(func(rows pgx.Rows) error {
		var err error
		d.Admins, err = scanUserBriefs(rows)
		return err
	})
	b.Queue(schoolBooklistsSQL, wid).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var r booklistRef
			if err := rows.Scan(&r.ID, &r.Name); err != nil {
				return err
			}
			d.Booklists = append(d.Booklists, r)
		}
		return rows.Err()
	})
	b.Queue(schoolSubscriptionSQL, wid).Query(func(rows pgx.Rows) error {
		var err error
		d.Subscription, err = scanSubscriptionDetail(rows)
		return err
	})
	b.Queue(schoolCollectionSQL, wid).Query(func(rows pgx.Rows) error {
		var err error
		d.Collection, err = scanCollectionBrief(rows)
		return err
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

// readSchool reads a school and decides `action` on it in one round trip:
// the attribute look-up and the data travel in the same batch, and the
// policy decides before anything is returned.
func (s *Server) readSchool(c echo.Context, action string) (*schoolDetail, error) {
	ctx := c.Request().Context()
	wid, err := pathUUID(c, "wriveted_identifier")
	if err != nil {
		return nil, err
	}
	var (
		id *int64
		d  *schoolDetail
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueSchoolAttrs(b, wid, &id)
		queueSchoolDetail(b, wid, &d)
	})
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, errSchoolNotFound(wid)
	}
	if err := s.check(ctx, schoolResource(*id), action); err != nil {
		return nil, err
	}
	if d == nil { // allowed by policy but hidden by RLS: fail closed
		return nil, errSchoolNotFound(wid)
	}
	return d, s.redactSchool(ctx, d)
}

// GET /school/{wriveted_identifier}
func (s *Server) getSchool(c echo.Context) error {
	d, err := s.readSchool(c, "read")
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
	ctx := c.Request().Context()
	wid, err := pathUUID(c, "wriveted_identifier")
	if err != nil {
		return err
	}
	var (
		id          *int64
		name        string
		bookbot     string
		experiments []byte
		supporter   bool
		found       bool
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueSchoolAttrs(b, wid, &id)
		b.Queue(`SELECT s.name, s.bookbot_type::text, s.info -> 'experiments', huey.school_supporter(s.wriveted_identifier)
			FROM schools s WHERE s.wriveted_identifier = $1`, wid).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&name, &bookbot, &experiments, &supporter); err != nil {
					return err
				}
				found = true
			}
			return rows.Err()
		})
	})
	if err != nil {
		return err
	}
	if id == nil {
		return errSchoolNotFound(wid)
	}
	if err := s.check(ctx, schoolResource(*id), "read"); err != nil {
		return err
	}
	if !found {
		return errSchoolNotFound(wid)
	}
	if len(experiments) == 0 || string(experiments) == "null" {
		experiments = []byte("{}") // the original fails here with 500 [defect]
	}
	return c.JSON(http.StatusOK, map[string]any{
		"name": name, "type": lower(bookbot), "experiments": json.RawMessage(experiments), "supporter": supporter,
	})
}

// GET /school/{wriveted_identifier}/bookbot
func (s *Server) getSchoolBookbot(c echo.Context) error {
	d, err := s.readSchool(c, "read")
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

const schoolListSQL = `
SELECT s.id, s.wriveted_identifier, s.name, s.official_identifier, s.country_code, s.state::text, s.info,
       sub.id, sub.type, sub.provider, sub.is_active, sub.expiration, sub.product_id, sub.product_name,
       col.id, col.name, col.book_count, col.school_id, col.user_id, col.updated_at,
       adm.ids, adm.names, adm.emails, adm.types, adm.actives, adm.logins
FROM schools s
LEFT JOIN LATERAL (
  SELECT x.id, x.type::text AS type, x.provider::text AS provider, x.is_active, x.expiration,
         p.id AS product_id, p.name AS product_name
  FROM subscriptions x JOIN products p ON p.id = x.product_id
  WHERE x.school_id = s.wriveted_identifier ORDER BY x.created_at DESC LIMIT 1) sub ON true
LEFT JOIN LATERAL (
  SELECT c.id, c.name, c.item_count AS book_count,
         c.school_id, c.user_id, c.updated_at
  FROM collections c WHERE c.school_id = s.wriveted_identifier ORDER BY c.created_at, c.id LIMIT 1) col ON true
LEFT JOIN LATERAL (
  SELECT array_agg(u.id ORDER BY u.name, u.id) AS ids, array_agg(u.name::text ORDER BY u.name, u.id) AS names,
         array_agg(u.email::text ORDER BY u.name, u.id) AS emails, array_agg(u.type::text ORDER BY u.name, u.id) AS types,
         array_agg(u.is_active ORDER BY u.name, u.id) AS actives, array_agg(u.last_login_at ORDER BY u.name, u.id) AS logins
  FROM school_admins a JOIN educators e ON e.id = a.id JOIN users u ON u.id = a.id
  WHERE e.school_id = s.id) adm ON true
`

func (s *Server) getSchools(c echo.Context) error {
	ctx := c.Request().Context()
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	var f schoolFilters
	for name, dst := range map[string]**string{"country_code": &f.countryCode, "state": &f.state,
		"postcode": &f.postcode, "q": &f.q, "official_identifier": &f.officialIdentifier} {
		if *dst, err = queryString(c, name, 512); err != nil {
			return err
		}
	}
	for name, dst := range map[string]**bool{"is_active": &f.isActive,
		"has_active_subscription": &f.hasActiveSubscription, "connected_collection": &f.connectedCollection} {
		if *dst, err = queryBool(c, name); err != nil {
			return err
		}
	}
	routeDetails, err := s.may(ctx, policies.Resource{Type: "schools"}, "details")
	if err != nil {
		return err
	}
	routeCollections, err := s.may(ctx, policies.Resource{Type: "schools"}, "read-collection")
	if err != nil {
		return err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.countryCode != nil {
		add("s.country_code = $?", *f.countryCode)
	}
	if f.state != nil {
		add("s.info -> 'location' ->> 'state' = $?", *f.state)
	}
	if f.postcode != nil {
		add("s.info -> 'location' ->> 'postcode' = $?", *f.postcode)
	}
	if f.q != nil {
		add("s.name ILIKE $?", likePattern(*f.q))
	}
	if f.officialIdentifier != nil {
		add("s.official_identifier = $?", *f.officialIdentifier)
	}
	if f.hasActiveSubscription != nil {
		add("EXISTS (SELECT 1 FROM subscriptions x WHERE x.school_id = s.wriveted_identifier AND x.is_active = $?)",
			*f.hasActiveSubscription)
	}
	if routeDetails && f.isActive != nil {
		state := "INACTIVE"
		if *f.isActive {
			state = "ACTIVE"
		}
		add("s.state = $?::schoolstate", state)
	}
	if routeDetails && f.connectedCollection != nil {
		cond := `EXISTS (SELECT 1 FROM collections c JOIN collection_items i ON i.collection_id = c.id
			WHERE c.school_id = s.wriveted_identifier)`
		if !*f.connectedCollection {
			cond = "NOT " + cond
		}
		where = append(where, cond)
	}
	q := schoolListSQL
	if len(where) > 0 {
		q += "WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, skip, limit)
	q += fmt.Sprintf("\nORDER BY s.created_at DESC, s.id DESC OFFSET $%d LIMIT $%d", len(args)-1, len(args))

	type row struct {
		id  int64
		out schoolSelectorOption
	}
	var rows []row
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		b.Queue(q, args...).Query(func(rs pgx.Rows) error {
			for rs.Next() {
				var (
					r                     row
					state                 string
					info                  []byte
					subID, subType, subPv *string
					subActive             *bool
					subExp                *time.Time
					prodID, prodName      *string
					colID                 *uuid.UUID
					colName               *string
					colCount              *int64
					colSchool, colUser    *uuid.UUID
					colUpdated            *time.Time
					admIDs                []uuid.UUID
					admNames, admTypes    []string
					admEmails             []*string
					admActives            []bool
					admLogins             []*time.Time
				)
				if err := rs.Scan(&r.id, &r.out.WrivetedIdentifier, &r.out.Name, &r.out.OfficialIdentifier,
					&r.out.CountryCode, &state, &info, &subID, &subType, &subPv, &subActive, &subExp, &prodID, &prodName,
					&colID, &colName, &colCount, &colSchool, &colUser, &colUpdated,
					&admIDs, &admNames, &admEmails, &admTypes, &admActives, &admLogins); err != nil {
					return err
				}
				st := lower(state)
				r.out.State, r.out.Info = &st, rawOrNull(info)
				if subID != nil {
					r.out.Subscription = &subscriptionBrief{ID: *subID, Type: lower(*subType), Provider: lower(*subPv),
						IsActive: *subActive, Expiration: isoPtr(subExp), Product: productOut{ID: *prodID, Name: *prodName}}
				}
				if colID != nil {
					r.out.Collection = &collectionBrief{ID: *colID, Name: *colName, BookCount: *colCount,
						SchoolID: colSchool, UserID: colUser, UpdatedAt: isoTime(*colUpdated)}
				}
				r.out.Admins = []userBrief{}
				for i := range admIDs {
					r.out.Admins = append(r.out.Admins, userBrief{ID: admIDs[i], Name: admNames[i], Email: admEmails[i],
						Type: lower(admTypes[i]), IsActive: admActives[i], LastLoginAt: isoPtr(admLogins[i])})
				}
				rows = append(rows, r)
			}
			return rs.Err()
		})
	})
	if err != nil {
		return err
	}
	out := make([]schoolSelectorOption, 0, len(rows))
	for _, r := range rows {
		res := schoolResource(r.id)
		if !routeDetails {
			ok, err := s.may(ctx, res, "details")
			if err != nil {
				return err
			}
			if !ok {
				r.out.State = nil
			}
		}
		if !routeCollections {
			ok, err := s.may(ctx, res, "read-collection")
			if err != nil {
				return err
			}
			if !ok {
				r.out.Collection = nil
			}
		}
		out = append(out, r.out)
	}
	return c.JSON(http.StatusOK, out)
}

// ---------------------------------------------------------------------------
// Creating schools

type schoolCreateIn struct {
	Name               *string         `json:"name"`
	CountryCode        *string         `json:"country_code"`
	OfficialIdentifier *string         `json:"official_identifier"`
	BookbotType        *string         `json:"bookbot_type"`
	LmsType            *string         `json:"lms_type"`
	Info               json.RawMessage `json:"info"`
	StudentDomain      *string         `json:"student_domain"`
	TeacherDomain      *string         `json:"teacher_domain"`
}

// schoolRow is a validated school ready to insert.
type schoolRow struct {
	name, countryCode, bookbot, lms string
	official, student, teacher      *string
	info                            []byte
}

const defaultExperiments = `{"no-jokes": false, "no-choice-option": true}`

// validate checks a SchoolCreateIn; loc prefixes error locations (a list
// index for POST /schools).
func (in schoolCreateIn) validate(loc []any) (schoolRow, []validationError) {
	var errs []validationError
	at := func(field string) []any { return append(append([]any{}, loc...), field) }
	miss := func(field string) {
		errs = append(errs, validationError{Type: "missing", Loc: at(field), Msg: "Field required", Input: nil})
	}
	long := func(field, v string, n int) bool {
		if utf8.RuneCountInString(v) > n {
			errs = append(errs, validationError{Type: "string_too_long", Loc: at(field),
				Msg: fmt.Sprintf("String should have at most %d characters", n), Input: v})
			return true
		}
		return false
	}
	var r schoolRow
	switch {
	case in.Name == nil:
		miss("name")
	case strings.TrimSpace(*in.Name) == "":
		errs = append(errs, validationError{Type: "string_too_short", Loc: at("name"), Msg: "String should have at least 1 character", Input: *in.Name})
	case !long("name", *in.Name, 256):
		r.name = *in.Name
	}
	switch {
	case in.CountryCode == nil:
		miss("country_code")
	case utf8.RuneCountInString(*in.CountryCode) != 3:
		errs = append(errs, validationError{Type: "string_length", Loc: at("country_code"),
			Msg: "String should have exactly 3 characters", Input: *in.CountryCode})
	default:
		r.countryCode = *in.CountryCode
	}
	if in.OfficialIdentifier != nil && !long("official_identifier", *in.OfficialIdentifier, 512) {
		r.official = in.OfficialIdentifier
	}
	r.bookbot = "HUEY_BOOKS"
	if in.BookbotType != nil {
		if label, ok := parseEnum(bookbotTypes, *in.BookbotType); ok {
			r.bookbot = label
		} else {
			errs = append(errs, validationError{Type: "enum", Loc: at("bookbot_type"),
				Msg: "Input should be " + strings.Join(enumValues(bookbotTypes), " or "), Input: *in.BookbotType})
		}
	}
	r.lms = "none"
	if in.LmsType != nil && !long("lms_type", *in.LmsType, 50) {
		r.lms = *in.LmsType
	}
	for field, src := range map[string]*string{"student_domain": in.StudentDomain, "teacher_domain": in.TeacherDomain} {
		if src == nil {
			continue
		}
		u, ok := validURL(*src)
		switch {
		case !ok:
			errs = append(errs, validationError{Type: "url_parsing", Loc: at(field), Msg: "Input should be a valid URL", Input: *src})
		case !long(field, u, 256):
			if field == "student_domain" {
				r.student = &u
			} else {
				r.teacher = &u
			}
		}
	}
	info, infoErrs := validateSchoolInfo(in.Info, at("info"))
	errs = append(errs, infoErrs...)
	r.info = info
	return r, errs
}

// validateSchoolInfo checks SchoolInfo (location with state and postcode
// required) and sets the default experiments.
func validateSchoolInfo(raw json.RawMessage, loc []any) ([]byte, []validationError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, []validationError{{Type: "missing", Loc: loc, Msg: "Field required", Input: nil}}
	}
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, []validationError{{Type: "dict_type", Loc: loc, Msg: "Input should be a valid dictionary", Input: nil}}
	}
	var errs []validationError
	location, ok := info["location"].(map[string]any)
	if !ok {
		errs = append(errs, validationError{Type: "missing", Loc: append(loc, "location"), Msg: "Field required", Input: nil})
	} else {
		for _, k := range []string{"state", "postcode"} {
			if v, ok := location[k].(string); !ok || v == "" {
				errs = append(errs, validationError{Type: "missing", Loc: append(append([]any{}, loc...), "location", k),
					Msg: "Field required", Input: location[k]})
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var exp map[string]any
	_ = json.Unmarshal([]byte(defaultExperiments), &exp)
	info["experiments"] = exp
	b, err := json.Marshal(info)
	if err != nil {
		return nil, []validationError{{Type: "value_error", Loc: loc, Msg: err.Error(), Input: nil}}
	}
	return b, nil
}

const schoolInsertSQL = `
INSERT INTO schools (country_code, official_identifier, state, name, student_domain, teacher_domain, info,
                     bookbot_type, lms_type, created_at, updated_at)
VALUES ($1, $2, 'INACTIVE', $3, $4, $5, $6, $7::schoolbookbottype, $8, huey.utcnow(), huey.utcnow())
RETURNING id, wriveted_identifier`

// POST /school
func (s *Server) postSchool(c echo.Context) error {
	ctx := c.Request().Context()
	var in schoolCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	r, errs := in.validate([]any{"body"})
	if len(errs) > 0 {
		return errValidation(errs...)
	}
	ident := identityOf(ctx)
	var d *schoolDetail
	err := db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		var id int64
		var wid uuid.UUID
		if err := tx.QueryRow(ctx, schoolInsertSQL, r.countryCode, r.official, r.name, r.student, r.teacher,
			r.info, r.bookbot, r.lms).Scan(&id, &wid); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, ident, "New school created",
			fmt.Sprintf("%s created school '%s'", ident.Account.Name, r.name), "NORMAL", &id, nil); err != nil {
			return err
		}
		return readSchoolTx(ctx, tx, wid, &d)
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

// readSchoolTx reads a SchoolDetail inside a write transaction.
func readSchoolTx(ctx context.Context, tx *db.Tx, wid uuid.UUID, out **schoolDetail) error {
	b := &pgx.Batch{}
	queueSchoolDetail(b, wid, out)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if *out == nil {
		return db.ErrNotFound
	}
	return nil
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
		r, e := sc.validate([]any{"body", i})
		errs = append(errs, e...)
		rows = append(rows, r)
	}
	if len(errs) > 0 {
		return errValidation(errs...)
	}
	ident := identityOf(ctx)
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		b := &pgx.Batch{}
		ids := make([]string, len(rows))
		for i, r := range rows {
			b.Queue(schoolInsertSQL, r.countryCode, r.official, r.name, r.student, r.teacher, r.info, r.bookbot, r.lms).
				QueryRow(func(row pgx.Row) error {
					var id int64
					var wid uuid.UUID
					if err := row.Scan(&id, &wid); err != nil {
						return err
					}
					ids[i] = wid.String()
					return nil
				})
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
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

type schoolPatchIn struct {
	Status        *string         `json:"status"`
	BookbotType   *string         `json:"bookbot_type"`
	LmsType       *string         `json:"lms_type"`
	Name          *string         `json:"name"`
	Info          json.RawMessage `json:"info"`
	StudentDomain *string         `json:"student_domain"`
	TeacherDomain *string         `json:"teacher_domain"`
}

func termsOf(info map[string]any) map[string]any {
	ta, _ := info["terms_acceptance"].(map[string]any)
	hb, _ := ta["huey_books"].(map[string]any)
	return hb
}

// decideSchool reads a school's policy attributes (one round trip) and
// decides action on it: 422 for a bad id, 404 when missing, 403 when denied.
func (s *Server) decideSchool(c echo.Context, action string) (uuid.UUID, int64, error) {
	ctx := c.Request().Context()
	wid, err := pathUUID(c, "wriveted_identifier")
	if err != nil {
		return wid, 0, err
	}
	var id *int64
	if err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueSchoolAttrs(b, wid, &id) }); err != nil {
		return wid, 0, err
	}
	if id == nil {
		return wid, 0, errSchoolNotFound(wid)
	}
	return wid, *id, s.check(ctx, schoolResource(*id), action)
}

func (s *Server) patchSchool(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	// The decision first, then validation of the body (api.md §0.2), then the write.
	wid, schoolID, err := s.decideSchool(c, "update")
	if err != nil {
		return err
	}
	id, res := &schoolID, schoolResource(schoolID)
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var in schoolPatchIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	var errs []validationError
	var state, bookbot *string
	if in.Status != nil {
		if l, ok := parseEnum(schoolStates, *in.Status); ok {
			state = &l
		} else {
			errs = append(errs, validationError{Type: "enum", Loc: []any{"body", "status"},
				Msg: "Input should be " + strings.Join(enumValues(schoolStates), ", "), Input: *in.Status})
		}
	}
	if in.BookbotType != nil {
		if l, ok := parseEnum(bookbotTypes, *in.BookbotType); ok {
			bookbot = &l
		} else {
			errs = append(errs, validationError{Type: "enum", Loc: []any{"body", "bookbot_type"},
				Msg: "Input should be " + strings.Join(enumValues(bookbotTypes), " or "), Input: *in.BookbotType})
		}
	}
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		errs = append(errs, validationError{Type: "string_too_short", Loc: []any{"body", "name"},
			Msg: "String should have at least 1 character", Input: *in.Name})
	} else if in.Name != nil && utf8.RuneCountInString(*in.Name) > 256 {
		errs = append(errs, validationError{Type: "string_too_long", Loc: []any{"body", "name"},
			Msg: "String should have at most 256 characters", Input: *in.Name})
	}
	if in.LmsType != nil && utf8.RuneCountInString(*in.LmsType) > 50 {
		errs = append(errs, validationError{Type: "string_too_long", Loc: []any{"body", "lms_type"},
			Msg: "String should have at most 50 characters", Input: *in.LmsType})
	}
	domains := map[string]*string{}
	for field, src := range map[string]*string{"student_domain": in.StudentDomain, "teacher_domain": in.TeacherDomain} {
		if src == nil {
			continue
		}
		if u, ok := validURL(*src); ok && utf8.RuneCountInString(u) <= 256 {
			domains[field] = &u
		} else {
			errs = append(errs, validationError{Type: "url_parsing", Loc: []any{"body", field}, Msg: "Input should be a valid URL", Input: *src})
		}
	}
	if len(errs) > 0 {
		return errValidation(errs...)
	}
	if state != nil {
		// Activation is a Wriveted decision: a school created by anyone starts
		// inactive (F4), so its own staff cannot switch it on.
		if err := s.check(ctx, res, "update-state"); err != nil {
			return err
		}
	}
	var d *schoolDetail
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		var (
			name, curState, country string
			infoRaw                 []byte
		)
		if err := tx.QueryRow(ctx, `SELECT s.name, s.state::text, s.info, coalesce(c.name, '')
			FROM schools s LEFT JOIN countries c ON c.id = s.country_code
			WHERE s.id = $1 FOR UPDATE OF s`, *id).Scan(&name, &curState, &infoRaw, &country); err != nil {
			return err
		}
		var info map[string]any
		if len(infoRaw) > 0 {
			_ = json.Unmarshal(infoRaw, &info)
		}
		// a copy: deepMerge below merges into info in place
		var oldTerms map[string]any
		if b, err := json.Marshal(termsOf(info)); err == nil {
			_ = json.Unmarshal(b, &oldTerms)
		}
		newInfo := infoRaw
		onlyTerms := false
		if len(in.Info) > 0 && string(in.Info) != "null" {
			var patch any
			if err := json.Unmarshal(in.Info, &patch); err != nil {
				return invalid([]any{"body", "info"}, "Input should be valid JSON", nil)
			}
			if obj, ok := patch.(map[string]any); ok {
				recordAcceptor(obj, ident)
				info = deepMerge(info, obj)
				newInfo, _ = json.Marshal(info)
				ta, _ := obj["terms_acceptance"].(map[string]any)
				onlyTerms = len(obj) == 1 && ta != nil && len(ta) == 1 && ta["huey_books"] != nil
			} else {
				newInfo = in.Info
				info = nil
			}
		}
		if state != nil && *state != curState {
			if err := recordEvent(ctx, tx, ident, "School account made "+*state,
				fmt.Sprintf("School '%s' status updated to %s", name, *state), "NORMAL", id, nil); err != nil {
				return err
			}
		}
		if terms := termsOf(info); len(terms) > 0 && !jsonEqual(terms, oldTerms) {
			by := terms["accepted_by_user_id"]
			if by == nil && ident.IsUser() {
				by = ident.Account.ID.String()
			}
			if err := recordEvent(ctx, tx, ident, "Huey Books terms accepted",
				fmt.Sprintf("School '%s' accepted Huey Books terms v%v", name, terms["version"]), "NORMAL", id,
				map[string]any{"terms_version": terms["version"], "accepted_at": terms["accepted_at"], "accepted_by_user_id": by}); err != nil {
				return err
			}
		}
		otherFields := state != nil || bookbot != nil || in.LmsType != nil || in.Name != nil || len(domains) > 0
		if !onlyTerms || otherFields {
			if err := recordEvent(ctx, tx, ident, "School Updated",
				fmt.Sprintf("School '%s' in %s updated.", name, country), "NORMAL", id, nil); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE schools SET
			name = coalesce($2, name), state = coalesce($3::schoolstate, state),
			bookbot_type = coalesce($4::schoolbookbottype, bookbot_type), lms_type = coalesce($5, lms_type),
			student_domain = CASE WHEN $6 THEN $7 ELSE student_domain END,
			teacher_domain = CASE WHEN $8 THEN $9 ELSE teacher_domain END,
			info = $10, updated_at = huey.utcnow()
			WHERE id = $1`, *id, in.Name, state, bookbot, in.LmsType,
			domains["student_domain"] != nil, domains["student_domain"],
			domains["teacher_domain"] != nil, domains["teacher_domain"], newInfo)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return errForbidden() // the policy allowed it; row security did not
		}
		return readSchoolTx(ctx, tx, wid, &d)
	})
	if err != nil {
		return err
	}
	if err := s.redactSchool(ctx, d); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// ---------------------------------------------------------------------------
// PATCH /school/{wriveted_identifier}/admin — bind the calling school admin.

func (s *Server) patchSchoolAdmin(c echo.Context) error {
	ctx := c.Request().Context()
	wid, err := pathUUID(c, "wriveted_identifier")
	if err != nil {
		return err
	}
	ident := identityOf(ctx)
	var (
		id     *int64
		admins int
	)
	err = db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) {
		queueSchoolAttrs(b, wid, &id)
		b.Queue(`SELECT count(*) FROM school_admins a JOIN educators e ON e.id = a.id
			WHERE e.school_id = (SELECT id FROM schools WHERE wriveted_identifier = $1)`, wid).
			QueryRow(func(r pgx.Row) error { return r.Scan(&admins) })
	})
	if err != nil {
		return err
	}
	if id == nil {
		return errSchoolNotFound(wid)
	}
	if err := s.check(ctx, schoolResource(*id), "bind"); err != nil {
		return err
	}
	if !ident.IsUser() || ident.Account.UserType != "SCHOOL_ADMIN" {
		return httpError(http.StatusUnauthorized, msgSchoolAdminRequired)
	}
	if admins > 0 {
		return httpError(http.StatusConflict, msgSchoolAdminBound)
	}
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE educators SET school_id = $1 WHERE id = $2`, *id, ident.Account.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
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
	wid, schoolID, err := s.decideSchool(c, "delete")
	if err != nil {
		return err
	}
	id := &schoolID
	var affected []uuid.UUID
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		var name, country string
		var linked int
		if err := tx.QueryRow(ctx, `SELECT s.name, coalesce(c.name, ''),
			(SELECT count(*) FROM service_account_school_association a WHERE a.school_id = s.id)
			FROM schools s LEFT JOIN countries c ON c.id = s.country_code WHERE s.id = $1 FOR UPDATE OF s`, *id).
			Scan(&name, &country, &linked); err != nil {
			return err
		}
		if linked > 0 {
			return httpError(http.StatusConflict, msgSchoolHasServiceAccount)
		}
		if err := recordEvent(ctx, tx, ident, "School Deleted",
			fmt.Sprintf("School %s in %s deleted.", name, country), "NORMAL", nil, nil); err != nil {
			return err
		}
		// Students, educators and school admins become inactive public readers
		// (domain.md §12), kept whole: their readers/public_readers rows exist.
		rows, err := tx.Query(ctx, `
			WITH members AS (
			  SELECT id FROM students WHERE school_id = $1
			  UNION SELECT id FROM educators WHERE school_id = $1),
			demoted AS (
			  UPDATE users u SET type = 'PUBLIC', is_active = false, updated_at = huey.utcnow()
			  FROM members m WHERE u.id = m.id RETURNING u.id)
			SELECT id FROM demoted`, *id)
		if err != nil {
			return err
		}
		affected, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO readers (id, huey_attributes)
			SELECT unnest($1::uuid[]), '{}' ON CONFLICT (id) DO NOTHING`, affected); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO public_readers (id, reader_info)
			SELECT unnest($1::uuid[]), '{}' ON CONFLICT (id) DO NOTHING`, affected); err != nil {
			return err
		}
		steps := []struct {
			sql string
			arg any
		}{
			{`DELETE FROM collections WHERE school_id = $1`, wid},
			{`DELETE FROM students WHERE school_id = $1`, *id},
			{`DELETE FROM educators WHERE school_id = $1`, *id},
			{`DELETE FROM class_groups WHERE school_id = $1`, wid},
			{`DELETE FROM events WHERE school_id = $1`, *id},
			{`DELETE FROM book_lists WHERE school_id = $1`, *id},
			{`DELETE FROM schools WHERE id = $1`, *id},
		}
		for _, st := range steps {
			if _, err := tx.Exec(ctx, st.sql, st.arg); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, a := range affected {
		s.accounts.forget(a)
	}
	return c.JSON(http.StatusOK, map[string]string{"msg": "School deleted"})
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
