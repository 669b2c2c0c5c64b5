package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
	"github.com/wriveted/huey-api/tasks/jobs"
)

// Users (api.md §2.3) over the joined-table inheritance of domain.md §3.
// Who may do what: policies/user.rego (F1, F7, F10, F20); which rows:
// schema/ (users_* and the type tables' policies, and the F1 guard trigger).

var userTypes = []enumValue{{"EDUCATOR", "educator"}, {"PARENT", "parent"}, {"PUBLIC", "public"},
	{"SCHOOL_ADMIN", "school_admin"}, {"STUDENT", "student"}, {"SUPPORTER", "supporter"}, {"WRIVETED", "wriveted"}}

var subscriptionTypes = []enumValue{{"FAMILY", "family"}, {"LIBRARY", "library"}, {"SCHOOL", "school"}}

var readingAbilityKeys = map[string]bool{"SPOT": true, "CAT_HAT": true, "TREEHOUSE": true, "CHARLIE_CHOCOLATE": true, "HARRY_POTTER": true}

// hueKeys are the 13 HueKeys; the legacy keys of the original's seed are
// accepted on input and stored as the current ones (DECISIONS §6).
var hueKeys = map[string]string{
	"hue01_dark_suspense": "hue01_dark_suspense", "hue02_beautiful_whimsical": "hue02_beautiful_whimsical",
	"hue03_dark_beautiful": "hue03_dark_beautiful", "hue04_joyful_charming": "hue04_joyful_charming",
	"hue05_funny_comic": "hue05_funny_comic", "hue06_dark_gritty": "hue06_dark_gritty",
	"hue07_silly_charming": "hue07_silly_charming", "hue08_charming_courageous": "hue08_charming_courageous",
	"hue09_charming_playful": "hue09_charming_playful", "hue10_inspiring": "hue10_inspiring",
	"hue11_realistic_hope": "hue11_realistic_hope", "hue12_funny_quirky": "hue12_funny_quirky",
	"hue13_informative":        "hue13_informative",
	"hue08_charming_inspiring": "hue08_charming_courageous", "hue13_straightforward": "hue13_informative",
}

var (
	emailRE     = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	phoneRE     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	hueyDateRE  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$`)
	phoneStrip  = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "")
	maxNameLen  = 256
	maxEmailLen = 320
)

// tablesOf lists the type tables holding an account of type label, base first.
func tablesOf(label string) []string {
	switch label {
	case "PUBLIC":
		return []string{"readers", "public_readers"}
	case "STUDENT":
		return []string{"readers", "students"}
	case "EDUCATOR":
		return []string{"educators"}
	case "SCHOOL_ADMIN":
		return []string{"educators", "school_admins"}
	case "WRIVETED":
		return []string{"wriveted_admins"}
	case "PARENT":
		return []string{"parents"}
	case "SUPPORTER":
		return []string{"supporters"}
	}
	return nil
}

func isReader(label string) bool  { return label == "PUBLIC" || label == "STUDENT" }
func isStaff(label string) bool   { return label == "EDUCATOR" || label == "SCHOOL_ADMIN" }
func hasSchool(label string) bool { return label == "STUDENT" || isStaff(label) }

// ---------------------------------------------------------------------------
// Input validation shared by create and patch.

// optional is a JSON field that tracks whether it was present (even null).
// userInfo validates UserInfo and normalises the phone number (E.164).
func (c *checks) userInfo(loc []any, raw json.RawMessage) map[string]any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		c.add(loc, "dict_type", "Input should be a valid dictionary", nil)
		return nil
	}
	if p, ok := info["phone_number"]; ok && p != nil {
		s, _ := p.(string)
		n := phoneStrip.Replace(s)
		if !phoneRE.MatchString(n) {
			c.add(append(loc, "phone_number"), "value_error", "value is not a valid phone number", p)
		} else {
			info["phone_number"] = n
		}
	}
	if p, ok := info["picture"]; ok && p != nil {
		s, _ := p.(string)
		if u, ok := validURL(s); ok {
			info["picture"] = u
		} else {
			c.add(append(loc, "picture"), "url_parsing", "Input should be a valid URL", p)
		}
	}
	for _, k := range []string{"reader_info", "student_info", "educator_info", "school_admin_info",
		"wriveted_admin_info", "parent_info", "other"} {
		if v, ok := info[k]; ok && v != nil {
			if _, ok := v.(map[string]any); !ok {
				c.add(append(loc, k), "dict_type", "Input should be a valid dictionary", v)
			}
		}
	}
	return info
}

// hueyAttributes validates HueyAttributes, mapping legacy hue keys.
func (c *checks) hueyAttributes(loc []any, raw json.RawMessage) map[string]any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var a map[string]any
	if err := json.Unmarshal(raw, &a); err != nil {
		c.add(loc, "dict_type", "Input should be a valid dictionary", nil)
		return nil
	}
	for _, k := range []string{"birthdate", "last_visited"} {
		if v, ok := a[k]; ok && v != nil {
			if s, ok := v.(string); !ok || !hueyDateRE.MatchString(s) {
				c.add(append(loc, k), "string_pattern_mismatch", `String should match pattern '\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?'`, v)
			}
		}
	}
	if v, ok := a["age"]; ok && v != nil {
		if f, ok := v.(float64); !ok || f != float64(int(f)) || f < 0 || f > 150 {
			c.add(append(loc, "age"), "int_type", "Input should be a valid integer", v)
		}
	}
	if v, ok := a["reading_ability"]; ok && v != nil {
		list, ok := v.([]any)
		for _, x := range list {
			if s, _ := x.(string); !readingAbilityKeys[s] {
				ok = false
			}
		}
		if !ok {
			c.add(append(loc, "reading_ability"), "enum", "Input should be a list of SPOT, CAT_HAT, TREEHOUSE, CHARLIE_CHOCOLATE or HARRY_POTTER", v)
		}
	}
	if v, ok := a["hues"]; ok && v != nil {
		list, ok := v.([]any)
		mapped := make([]any, 0, len(list))
		for _, x := range list {
			s, _ := x.(string)
			key, known := hueKeys[s]
			ok = ok && known
			mapped = append(mapped, key)
		}
		if !ok {
			c.add(append(loc, "hues"), "enum", "Input should be a list of hue keys", v)
		} else {
			a["hues"] = mapped
		}
	}
	for _, k := range []string{"goals", "genres", "characters"} {
		if v, ok := a[k]; ok && v != nil {
			list, ok := v.([]any)
			for _, x := range list {
				if _, isStr := x.(string); !isStr {
					ok = false
				}
			}
			if !ok {
				c.add(append(loc, k), "list_type", "Input should be a valid list of strings", v)
			}
		}
	}
	if v, ok := a["parent_nickname"]; ok && v != nil {
		if _, ok := v.(string); !ok {
			c.add(append(loc, "parent_nickname"), "string_type", "Input should be a valid string", v)
		}
	}
	return a
}

// schoolRef is a school given as its wriveted_identifier (uuid) or internal id (int).
type schoolRef struct{ raw json.RawMessage }

// schoolRefOf is the school_id field n: nil when absent or null.
func schoolRefOf(n nullable.Nullable[json.RawMessage]) *schoolRef {
	if v := valueOf(n); v != nil {
		return &schoolRef{raw: *v}
	}
	return nil
}

// resolve finds the school's internal id within tx (RLS lets every signed-in
// account read schools); unknown → 422 "School with the id <id> does not exist".
func (r *schoolRef) resolve(ctx context.Context, tx *db.Tx) (*int64, error) {
	if r == nil || len(r.raw) == 0 || string(r.raw) == "null" {
		return nil, nil
	}
	var s string
	var n int64
	var id int64
	var err error
	switch {
	case json.Unmarshal(r.raw, &n) == nil:
		s = strconv.FormatInt(n, 10)
		err = tx.QueryRow(ctx, queries.SchoolIDByID, n).Scan(&id)
	case json.Unmarshal(r.raw, &s) == nil:
		if u, perr := uuid.Parse(s); perr == nil {
			err = tx.QueryRow(ctx, queries.SchoolIDByWID, u).Scan(&id)
		} else if n, perr := strconv.ParseInt(s, 10, 64); perr == nil {
			err = tx.QueryRow(ctx, queries.SchoolIDByID, n).Scan(&id)
		} else {
			err = db.ErrNotFound
		}
	default:
		s, err = string(r.raw), db.ErrNotFound
	}
	if db.IsNotFound(err) {
		return nil, httpError(http.StatusUnprocessableEntity, msgUserSchoolNotFound.format(s))
	}
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// ---------------------------------------------------------------------------
// GET /users (ADMIN)

func (s *Server) getUsers(c echo.Context) error {
	ctx := c.Request().Context()
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	q, err := queryString(c, "q", 256)
	if err != nil {
		return err
	}
	active, err := queryBool(c, "is_active")
	if err != nil {
		return err
	}
	var typ, subType *string
	if v := c.QueryParam("type"); v != "" {
		l, ok := parseEnum(userTypes, v)
		if !ok {
			return errValidation(validationError{Type: "enum", Loc: []any{"query", "type"},
				Msg: "Input should be " + strings.Join(enumValues(userTypes), ", "), Input: v})
		}
		typ = &l
	}
	if v := c.QueryParam("active_subscription_type"); v != "" {
		l, ok := parseEnum(subscriptionTypes, v)
		if !ok {
			return errValidation(validationError{Type: "enum", Loc: []any{"query", "active_subscription_type"},
				Msg: "Input should be " + strings.Join(enumValues(subscriptionTypes), ", "), Input: v})
		}
		subType = &l
	}
	filter := queries.UsersFilter{Active: active, Type: typ, SubscriptionType: subType}
	if q != nil {
		pattern := likePattern(*q)
		filter.Pattern = &pattern
	}
	listSQL, listArgs := queries.ListUsers(filter, skip, limit)
	countSQL, countArgs := queries.CountUsers(filter)
	var ids []uuid.UUID
	var total int64
	ident := identityOf(ctx)
	err = db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) {
		b.Queue(listSQL, listArgs...).Query(func(rows pgx.Rows) error {
			var err error
			ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			return err
		})
		b.Queue(countSQL, countArgs...).QueryRow(func(r pgx.Row) error { return r.Scan(&total) })
	})
	if err != nil {
		return err
	}
	briefs := make([]map[string]any, len(ids))
	if len(ids) > 0 {
		details := make([]userDetailOut, len(ids))
		err = db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) {
			for i, id := range ids {
				queueUserDetail(b, id, &details[i])
			}
		})
		if err != nil {
			return err
		}
		for i := range details {
			briefs[i] = details[i].renderBrief()
		}
	}
	return c.JSON(http.StatusOK, pageOf(briefs, skip, limit, &total))
}

// ---------------------------------------------------------------------------
// GET /user/{user_id}

// decideUser reads a user's policy attributes and decides the route's
// action on it.
func (s *Server) decideUser(c echo.Context) (uuid.UUID, policies.Resource, error) {
	id, a, err := userDoor.open(s, c, nil)
	return id, a.res, err
}

func errUserNotFound(id uuid.UUID) error {
	return httpError(http.StatusNotFound, msgUserNotFound.format(id))
}

func (s *Server) getUser(c echo.Context) error {
	var d userDetailOut
	id, _, err := userDoor.open(s, c, func(b *pgx.Batch, id uuid.UUID) { queueUserDetail(b, id, &d) })
	if err != nil {
		return err
	}
	if !d.found {
		return errUserNotFound(id)
	}
	return c.JSON(http.StatusOK, d.render())
}

// readUserTx reads a SpecificUserDetail inside a write transaction.
func readUserTx(ctx context.Context, tx *db.Tx, id uuid.UUID) (map[string]any, error) {
	var d userDetailOut
	b := &pgx.Batch{}
	queueUserDetail(b, id, &d)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if !d.found {
		return nil, db.ErrNotFound
	}
	return d.render(), nil
}

// ---------------------------------------------------------------------------
// POST /user (ADMIN)

// newUser is a validated UserCreateIn.
type newUser struct {
	in                      userCreateIn
	school                  *schoolRef
	label                   string
	name                    string
	firstName, lastInitial  *string
	email                   *string
	info, huey              map[string]any
	parentID, classGroupID  *uuid.UUID
	children                []*newUser
	createdID               uuid.UUID
	createdSchool           *int64
	createdUsername         *string
	childNames              []string
	checkoutSessionID       *string
	newsletter              bool
	errLocPrefix            []any
	generatedUsernameWanted bool
}

// validateCreate applies the derivation and validation rules of api.md §1.2.
func validateCreate(in userCreateIn, loc []any, ck *checks) *newUser {
	u := &newUser{in: in, school: schoolRefOf(in.SchoolId), label: "PUBLIC", errLocPrefix: loc,
		checkoutSessionID: valueOf(in.CheckoutSessionId), parentID: valueOf(in.ParentId), classGroupID: valueOf(in.ClassGroupId)}
	at := func(f string) []any { return append(append([]any{}, loc...), f) }
	if t := valueOf(in.Type); t != nil { // member names in any case: not expressible in the document
		l, ok := parseEnum(userTypes, *t)
		if !ok {
			ck.add(at("type"), "enum", "Input should be "+strings.Join(enumValues(userTypes), ", "), *t)
		}
		u.label = l
	}
	// The document bounds name; these lengths stay here because the
	// validator's entry would add ctx.max_length to today's 422 body.
	ck.str(at("first_name"), valueOf(in.FirstName), 200)
	ck.str(at("last_name_initial"), valueOf(in.LastNameInitial), 200)
	ck.str(at("username"), valueOf(in.Username), 200)
	if e := valueOf(in.Email); e != nil { // pydantic's email syntax: no document format says it
		if !emailRE.MatchString(*e) || utf8.RuneCountInString(*e) > maxEmailLen {
			ck.add(at("email"), "value_error", "value is not a valid email address", *e)
		}
		u.email = e
	}
	u.firstName, u.lastInitial = valueOf(in.FirstName), valueOf(in.LastNameInitial)
	name := ""
	if n := valueOf(in.Name); n != nil {
		name = strings.TrimSpace(*n)
	}
	if name == "" && u.firstName != nil && u.lastInitial != nil {
		name = *u.firstName + " " + *u.lastInitial
	}
	if name != "" && isReader(u.label) {
		parts := strings.Fields(name)
		if u.firstName == nil && len(parts) > 0 {
			u.firstName = &parts[0]
		}
		if u.lastInitial == nil && len(parts) > 0 {
			last := string([]rune(parts[len(parts)-1])[:1])
			u.lastInitial = &last
		}
	}
	u.name = name
	switch u.label {
	case "STUDENT":
		if u.firstName == nil || u.lastInitial == nil || u.school == nil || u.classGroupID == nil {
			ck.add(loc, "value_error", "Student users must provide first_name, last_name_initial, school_id, and class_group_id.", nil)
		}
	case "EDUCATOR":
		if u.firstName == nil || u.lastInitial == nil || u.school == nil {
			ck.add(loc, "value_error", "Educator users must provide first_name, last_name_initial, and school_id.", nil)
		}
	case "SCHOOL_ADMIN":
		if u.school == nil {
			ck.add(loc, "value_error", "SchoolAdmin users must provide school_id.", nil)
		}
	}
	if name == "" { // the original reports a NOT NULL violation as 409 [defect]
		ck.add(at("name"), "missing", "name is required (or first_name and last_name_initial)", nil)
	}
	u.info = ck.userInfo(at("info"), rawOf(in.Info))
	u.huey = ck.hueyAttributes(at("huey_attributes"), rawOf(in.HueyAttributes))
	if n := valueOf(in.Newsletter); n != nil {
		u.newsletter = *n
	}
	children, _ := in.Children.Get()
	if len(children) > 0 && u.label != "PARENT" {
		ck.add(at("children"), "value_error", "Only parent users may be created with children", nil)
	}
	for i, ch := range children {
		child := validateCreate(ch, append(at("children"), i), ck)
		if !isReader(child.label) {
			ck.add(append(at("children"), i, "type"), "value_error", "Children must be readers (public or student)", valueOf(ch.Type))
		}
		u.children = append(u.children, child)
	}
	return u
}

// insertUser creates the account (users row plus its type rows) in tx.
func insertUser(ctx context.Context, tx *db.Tx, u *newUser, parent *uuid.UUID) error {
	u.createdID = uuid.New()
	school, err := u.school.resolve(ctx, tx)
	if err != nil {
		return err
	}
	if school != nil && !hasSchool(u.label) {
		school = nil // only students and staff belong to a school
	}
	u.createdSchool = school
	if parent != nil {
		u.parentID = parent
	}
	info, _ := json.Marshal(orEmpty(u.info))
	if _, err := tx.Exec(ctx, queries.InsertUserRow,
		u.createdID, u.email, u.name, info, u.label, u.newsletter); err != nil {
		return err
	}
	if err := insertTypeRows(ctx, tx, u.createdID, u.label, typeFields{
		firstName: u.firstName, lastInitial: u.lastInitial, huey: u.huey, parentID: u.parentID,
		schoolID: school, classGroupID: u.classGroupID, username: valueOf(u.in.Username), generateUsername: true,
	}, &u.createdUsername); err != nil {
		return err
	}
	for _, ch := range u.children {
		if err := insertUser(ctx, tx, ch, &u.createdID); err != nil {
			return err
		}
		u.childNames = append(u.childNames, ch.name)
	}
	return nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// typeFields are the values of an account's type rows.
type typeFields struct {
	firstName, lastInitial *string
	huey                   map[string]any
	parentID               *uuid.UUID
	schoolID               *int64
	classGroupID           *uuid.UUID
	username               *string
	generateUsername       bool
	educatorInfo           []byte
}

// insertTypeRows creates the rows of label's tables for id that do not exist yet.
func insertTypeRows(ctx context.Context, tx *db.Tx, id uuid.UUID, label string, f typeFields, username **string) error {
	q := queries.New(tx)
	for _, t := range tablesOf(label) {
		var err error
		switch t {
		case "readers":
			huey, _ := json.Marshal(orEmpty(f.huey))
			err = q.InsertReaderRow(ctx, queries.InsertReaderRowParams{ID: id, HueyAttributes: huey, FirstName: f.firstName,
				LastNameInitial: f.lastInitial, ParentID: f.parentID})
		case "public_readers":
			err = q.InsertPublicReaderRow(ctx, id)
		case "students":
			if err := insertStudentRow(ctx, tx, q, id, f, username); err != nil {
				return err
			}
		case "educators":
			if f.schoolID == nil {
				return invalid([]any{"body", "school_id"}, "school_id is required", nil)
			}
			err = q.InsertEducatorRow(ctx, queries.InsertEducatorRowParams{ID: id, SchoolID: int32(*f.schoolID), EducatorInfo: f.educatorInfo})
		case "school_admins":
			err = q.InsertSchoolAdminRow(ctx, id)
		case "wriveted_admins":
			err = q.InsertWrivetedAdminRow(ctx, id)
		case "parents":
			err = q.InsertParentRow(ctx, id)
		case "supporters":
			err = q.InsertSupporterRow(ctx, id)
		}
		if err != nil {
			return fmt.Errorf("insert %s row: %w", t, err)
		}
	}
	return nil
}

// insertStudentRow creates id's students row in a class of its school; the
// username is given or, when f allows it, generated; *username is set to it.
func insertStudentRow(ctx context.Context, tx *db.Tx, q *queries.Queries, id uuid.UUID, f typeFields, username **string) error {
	if f.schoolID == nil || f.classGroupID == nil {
		return invalid([]any{"body"}, "Student users must provide school_id and class_group_id", nil)
	}
	if err := checkClassInSchool(ctx, tx, *f.classGroupID, *f.schoolID); err != nil {
		return err
	}
	name := f.username
	if name == nil || *name == "" {
		if !f.generateUsername {
			return invalid([]any{"body", "username"}, "username is required", nil)
		}
		var err error
		if name, err = generateUsername(ctx, q, *f.schoolID, f.firstName, f.lastInitial); err != nil {
			return err
		}
	}
	*username = name
	if err := q.InsertStudentRow(ctx, queries.InsertStudentRowParams{ID: id, SchoolID: int32(*f.schoolID),
		ClassGroupID: *f.classGroupID, Username: *name}); err != nil {
		return fmt.Errorf("insert students row: %w", err)
	}
	return nil
}

func checkClassInSchool(ctx context.Context, tx *db.Tx, class uuid.UUID, school int64) error {
	ok, err := queries.New(tx).ClassInSchool(ctx, queries.ClassInSchoolParams{ClassGroupID: class, SchoolID: int32(school)})
	if err != nil {
		return err
	}
	if !ok {
		return invalid([]any{"body", "class_group_id"}, "The class group does not exist in that school", class)
	}
	return nil
}

// generateUsername is FirstnameInitial + a two-digit number 10–99, unused in
// the school (case-insensitively), at most 1000 attempts (api.md §1.2).
func generateUsername(ctx context.Context, q *queries.Queries, school int64, first, last *string) (*string, error) {
	base := ""
	if first != nil {
		base += *first
	}
	if last != nil {
		base += *last
	}
	base = strings.ReplaceAll(base, " ", "")
	name, err := q.GenerateStudentUsername(ctx, queries.GenerateStudentUsernameParams{Base: base, SchoolID: int32(school)})
	if db.IsNotFound(err) {
		return nil, invalid([]any{"body", "username"}, "Couldn't generate a unique username", base)
	}
	if err != nil {
		return nil, err
	}
	return &name, nil
}

func (s *Server) postUser(c echo.Context) error {
	ctx := c.Request().Context()
	var in userCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	pathways, err := queryBool(c, "generate_pathway_lists")
	if err != nil {
		return err
	}
	var ck checks
	u := validateCreate(in, []any{"body"}, &ck)
	if err := ck.err(); err != nil {
		return err
	}
	ident := identityOf(ctx)
	var out map[string]any
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if err := insertUser(ctx, tx, u, nil); err != nil {
			return err
		}
		email := ""
		if u.email != nil {
			email = *u.email
		}
		if err := recordEvent(ctx, tx, ident, "User created", fmt.Sprintf("New %s user created", u.label), "NORMAL",
			u.createdSchool, map[string]any{"user_id": u.createdID, "user_type": lower(u.label), "user_email": email,
				"slack_channel": "#api-alerts"}); err != nil {
			return err
		}
		if u.label == "PARENT" && u.checkoutSessionID != nil {
			if _, err := tx.Exec(ctx, queries.ClaimCheckoutSubscription, u.createdID, *u.checkoutSessionID); err != nil {
				return err
			}
		}
		if u.label == "PARENT" && pathways != nil && *pathways {
			for _, ch := range u.children {
				if err := jobs.Enqueue(ctx, tx, jobs.Task{Kind: jobs.KindGenerateReadingPathways,
					Payload:        map[string]any{"user_id": ch.createdID, "attributes": orEmpty(ch.huey), "limit": 100},
					IdempotencyKey: "reading-pathways:" + ch.createdID.String()}); err != nil {
					return err
				}
			}
		}
		if u.label == "PARENT" && u.email != nil {
			if err := jobs.Enqueue(ctx, tx, jobs.Task{Kind: jobs.KindSendEmail,
				Payload:        welcomeEmail(*u.email, u.name, u.childNames, u.createdID),
				IdempotencyKey: "welcome-email:" + u.createdID.String()}); err != nil {
				return err
			}
		}
		var err error
		out, err = readUserTx(ctx, tx, u.createdID)
		return err
	})
	if isUniqueViolation(err) {
		return errAccountConflict(err)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// welcomeEmail is the parent's welcome e-mail (api.md §2.3): SendGrid
// template data, sent by the task server.
func welcomeEmail(to, name string, children []string, userID uuid.UUID) map[string]any {
	return map[string]any{
		"email_data": map[string]any{
			"from_email": "hello@hueybooks.com", "from_name": "Huey Books", "to_emails": []string{to},
			"subject": "Welcome to Huey Books", "template_id": "d-3655b189b9a8427d99fe02cf7e7f3fd9",
			"template_data": map[string]any{"name": name, "children_string": oxfordJoin(children)},
		},
		"user_id": userID,
	}
}

// oxfordJoin joins names with an Oxford comma; no names is "your child".
func oxfordJoin(names []string) string {
	switch len(names) {
	case 0:
		return "your child"
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}

// errAccountConflict is the 409 of a unique violation writing an account:
// a student's username is unique in its school ignoring case (R9); any other
// is the e-mail.
func errAccountConflict(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.ConstraintName == "uq_students_school_lower_username" ||
		pe.ConstraintName == "uq_students_username_school_id") {
		return httpError(http.StatusConflict, msgUsernameExists)
	}
	return httpError(http.StatusConflict, msgEmailExists)
}

// ---------------------------------------------------------------------------
// PATCH /user/{user_id}

// requiredFor lists the attributes a type change to label needs (api.md §1.2).
var requiredFor = map[string][]string{
	"PUBLIC":   {"name", "first_name", "last_name_initial"},
	"STUDENT":  {"name", "first_name", "last_name_initial", "school_id", "class_group_id", "username"},
	"EDUCATOR": {"name", "school_id"}, "SCHOOL_ADMIN": {"name", "school_id"},
	"PARENT": {"name"}, "WRIVETED": {"name"}, "SUPPORTER": {"name"},
}

// attributesOf lists the attributes an account of label carries.
func attributesOf(label string) map[string]bool {
	out := map[string]bool{"name": true}
	switch label {
	case "PUBLIC":
		out["first_name"], out["last_name_initial"] = true, true
	case "STUDENT":
		for _, a := range requiredFor["STUDENT"] {
			out[a] = true
		}
	case "EDUCATOR", "SCHOOL_ADMIN":
		out["school_id"] = true
	}
	return out
}

func (s *Server) patchUser(c echo.Context) error {
	ctx := c.Request().Context()
	id, res, err := s.decideUser(c)
	if err != nil {
		return err
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	mergeDicts, err := queryBool(c, "merge_dicts")
	if err != nil {
		return err
	}
	var in userUpdateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	p, err := parseUserPatch(in, strings.ToUpper(res.Attrs["type"]), mergeDicts)
	if err != nil {
		return err
	}
	if err := s.authorizeUserPatch(ctx, res, p); err != nil {
		return err
	}
	var out map[string]any
	err = db.InTx(ctx, s.pool, identityOf(ctx).Claims, func(tx *db.Tx) (err error) {
		out, err = s.applyUserPatch(ctx, tx, id, res, p)
		return err
	})
	s.accounts.forget(id)
	if err != nil {
		return userPatchErr(err)
	}
	return c.JSON(http.StatusOK, out)
}

// userPatch is a validated PATCH /user body, parsed once and then applied.
type userPatch struct {
	in                 userUpdateIn
	school             *schoolRef // school_id, when given and not null
	merge              bool       // merge_dicts: info and huey_attributes deep-merge into the stored ones
	curLabel, newLabel string     // the account's type before and after
	info, huey         map[string]any
	classGroup         *uuid.UUID
}

// parseUserPatch checks in for an account of type curLabel: 422 with every
// problem found.
func parseUserPatch(in userUpdateIn, curLabel string, mergeDicts *bool) (userPatch, error) {
	p := userPatch{in: in, school: schoolRefOf(in.SchoolId), merge: mergeDicts != nil && *mergeDicts,
		curLabel: curLabel, newLabel: curLabel, classGroup: valueOf(in.ClassGroupId)}
	var ck checks
	if t := valueOf(in.Type); t != nil { // member names in any case: not expressible in the document
		l, ok := parseEnum(userTypes, *t)
		if !ok {
			ck.add([]any{"body", "type"}, "enum", "Input should be "+strings.Join(enumValues(userTypes), ", "), *t)
		}
		p.newLabel = l
	}
	// The document bounds name; these lengths stay here because the
	// validator's entry would add ctx.max_length to today's 422 body.
	ck.str([]any{"body", "first_name"}, valueOf(in.FirstName), 200)
	ck.str([]any{"body", "last_name_initial"}, valueOf(in.LastNameInitial), 200)
	ck.str([]any{"body", "username"}, valueOf(in.Username), 200)
	// Blank after trimming (or null) is a pydantic validator's rule.
	if in.Name.IsSpecified() && (in.Name.IsNull() || strings.TrimSpace(in.Name.MustGet()) == "") {
		ck.add([]any{"body", "name"}, "string_too_short", "name must not be empty", nil)
	}
	// pydantic's email syntax: no document format says it.
	if e := valueOf(in.Email); e != nil && (!emailRE.MatchString(*e) || utf8.RuneCountInString(*e) > maxEmailLen) {
		ck.add([]any{"body", "email"}, "value_error", "value is not a valid email address", *e)
	}
	if v := valueOf(in.Info); v != nil {
		p.info = ck.userInfo([]any{"body", "info"}, *v)
	}
	if v := valueOf(in.HueyAttributes); v != nil {
		p.huey = ck.hueyAttributes([]any{"body", "huey_attributes"}, *v)
	}
	return p, ck.err()
}

// typeChange reports whether p changes the account's type.
func (p userPatch) typeChange() bool { return p.newLabel != p.curLabel }

// authorizeUserPatch applies F1: the original refuses a change to wriveted
// with 401; every change of type, school, class or active state needs the
// change-privileged decision on the account as it is (and, when it moves to
// another school, on the destination too: checkUserDestination).
func (s *Server) authorizeUserPatch(ctx context.Context, res policies.Resource, p userPatch) error {
	if p.newLabel == "WRIVETED" && p.curLabel != "WRIVETED" && !identityOf(ctx).Principals.Has("role:admin") {
		return httpError(http.StatusUnauthorized, msgAccountTypePrivileges)
	}
	if p.typeChange() || p.in.IsActive.IsSpecified() || p.school != nil || p.in.ClassGroupId.IsSpecified() {
		return s.check(ctx, res, "change-privileged")
	}
	return nil
}

// checkUserDestination decides change-privileged on the account as it would
// be in school, when school is another school than its own.
func (s *Server) checkUserDestination(ctx context.Context, res policies.Resource, school *int64) error {
	if school == nil || res.Attrs["school_id"] == strconv.FormatInt(*school, 10) {
		return nil
	}
	dest := res
	dest.Attrs = map[string]string{"type": res.Attrs["type"], "school_id": strconv.FormatInt(*school, 10), "parent_id": res.Attrs["parent_id"]}
	return s.check(ctx, dest, "change-privileged")
}

// applyUserPatch writes p to account id in tx and reads the account back.
func (s *Server) applyUserPatch(ctx context.Context, tx *db.Tx, id uuid.UUID, res policies.Resource, p userPatch) (map[string]any, error) {
	school, err := p.school.resolve(ctx, tx)
	if err != nil {
		return nil, err
	}
	if err := s.checkUserDestination(ctx, res, school); err != nil {
		return nil, err
	}
	q := queries.New(tx)
	cur, err := q.LockUserForPatch(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.requireTypeAttributes(school != nil); err != nil {
		return nil, err
	}
	pl, err := p.placement(ctx, tx, cur, school)
	if err != nil {
		return nil, err
	}
	p.mergeStored(cur)
	if p.typeChange() {
		if err := changeUserType(ctx, tx, q, id, p, cur, pl); err != nil {
			return nil, err
		}
	}
	if err := updateUserRows(ctx, q, id, p, pl); err != nil {
		return nil, err
	}
	return readUserTx(ctx, tx, id)
}

// requireTypeAttributes refuses a type change that leaves an attribute of
// the new type unset (given: the body names a school).
func (p userPatch) requireTypeAttributes(schoolGiven bool) error {
	if !p.typeChange() {
		return nil
	}
	have := attributesOf(p.curLabel)
	given := map[string]bool{"name": valueOf(p.in.Name) != nil, "first_name": valueOf(p.in.FirstName) != nil,
		"last_name_initial": valueOf(p.in.LastNameInitial) != nil, "school_id": schoolGiven,
		"class_group_id": p.classGroup != nil, "username": valueOf(p.in.Username) != nil}
	var missing []string
	for _, a := range requiredFor[p.newLabel] {
		if !given[a] && !have[a] {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return invalid([]any{"body"}, fmt.Sprintf("Missing attributes: {%s}. Not all required attributes have been provided "+
		"to change from user type '%s' to '%s'. Missing attributes: [%s].",
		strings.Join(missing, ", "), lower(p.curLabel), lower(p.newLabel), strings.Join(missing, ", ")), nil)
}

// userPlacement is the school and class an account has after a patch.
type userPlacement struct {
	school     *int64
	classGroup *uuid.UUID
}

// placement is the given school and class, else the stored ones; a student
// needs both, and a class given or moved must be in the school.
func (p userPatch) placement(ctx context.Context, tx *db.Tx, cur queries.LockUserForPatchRow, school *int64) (userPlacement, error) {
	pl := userPlacement{school: school, classGroup: p.classGroup}
	if stored := cmp.Or(cur.StudentSchoolID, cur.EducatorSchoolID); pl.school == nil && stored != nil {
		v := int64(*stored)
		pl.school = &v
	}
	if pl.classGroup == nil {
		pl.classGroup = cur.ClassGroupID
	}
	if p.newLabel != "STUDENT" {
		return pl, nil
	}
	if pl.school == nil || pl.classGroup == nil {
		return pl, invalid([]any{"body"}, "Student users must provide school_id and class_group_id", nil)
	}
	if p.in.ClassGroupId.IsSpecified() || p.school != nil {
		return pl, checkClassInSchool(ctx, tx, *pl.classGroup, *pl.school)
	}
	return pl, nil
}

// mergeStored deep-merges info and huey_attributes into the stored ones
// when merge_dicts asks for it.
func (p *userPatch) mergeStored(cur queries.LockUserForPatchRow) {
	if !p.merge {
		return
	}
	if p.info != nil {
		var stored map[string]any
		_ = json.Unmarshal(cur.Info, &stored)
		p.info = deepMerge(stored, p.info)
	}
	if p.huey != nil {
		var stored map[string]any
		_ = json.Unmarshal(cur.HueyAttributes, &stored)
		p.huey = deepMerge(stored, p.huey)
	}
}

// changeUserType keeps the id and the users row: the new type's rows are
// inserted first (so row security can see the account's school), then the
// old type's other rows removed; updateUserRows then sets users.type.
func changeUserType(ctx context.Context, tx *db.Tx, q *queries.Queries, id uuid.UUID, p userPatch,
	cur queries.LockUserForPatchRow, pl userPlacement) error {
	username := valueOf(p.in.Username)
	if username == nil {
		username = cur.Username
	}
	if err := insertTypeRows(ctx, tx, id, p.newLabel, typeFields{
		firstName: valueOf(p.in.FirstName), lastInitial: valueOf(p.in.LastNameInitial), huey: p.huey,
		schoolID: pl.school, classGroupID: pl.classGroup, username: username, educatorInfo: cur.EducatorInfo,
	}, new(*string)); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, t := range tablesOf(p.newLabel) {
		keep[t] = true
	}
	old := tablesOf(p.curLabel)
	for i := len(old) - 1; i >= 0; i-- {
		if !keep[old[i]] {
			if err := deleteTypeRow(ctx, q, old[i], id); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteTypeRow removes account id's row from the type table (tablesOf).
func deleteTypeRow(ctx context.Context, q *queries.Queries, table string, id uuid.UUID) error {
	switch table {
	case "readers":
		return q.DeleteReaderRow(ctx, id)
	case "public_readers":
		return q.DeletePublicReaderRow(ctx, id)
	case "students":
		return q.DeleteStudentRow(ctx, id)
	case "educators":
		return q.DeleteEducatorRow(ctx, id)
	case "school_admins":
		return q.DeleteSchoolAdminRow(ctx, id)
	case "wriveted_admins":
		return q.DeleteWrivetedAdminRow(ctx, id)
	case "parents":
		return q.DeleteParentRow(ctx, id)
	case "supporters":
		return q.DeleteSupporterRow(ctx, id)
	}
	return fmt.Errorf("delete %s row of user %s: not a type table", table, id)
}

// updateUserRows writes p's fields to the users row and to the type rows
// the account keeps.
func updateUserRows(ctx context.Context, q *queries.Queries, id uuid.UUID, p userPatch, pl userPlacement) error {
	if err := q.UpdateUserPatch(ctx, queries.UpdateUserPatchParams{ID: id, Name: valueOf(p.in.Name),
		SetEmail: p.in.Email.IsSpecified(), Email: valueOf(p.in.Email), IsActive: valueOf(p.in.IsActive),
		Newsletter: valueOf(p.in.Newsletter), Info: jsonOrNil(p.info), Type: p.newLabel}); err != nil {
		return err
	}
	if isReader(p.newLabel) {
		if err := q.UpdateReaderPatch(ctx, queries.UpdateReaderPatchParams{ID: id, FirstName: valueOf(p.in.FirstName),
			LastNameInitial: valueOf(p.in.LastNameInitial), HueyAttributes: jsonOrNil(p.huey)}); err != nil {
			return err
		}
	}
	if p.newLabel == "STUDENT" && !p.typeChange() {
		if err := q.UpdateStudentPatch(ctx, queries.UpdateStudentPatchParams{ID: id, SchoolID: int32(*pl.school),
			ClassGroupID: *pl.classGroup, Username: valueOf(p.in.Username)}); err != nil {
			return err
		}
	}
	if isStaff(p.newLabel) && isStaff(p.curLabel) && pl.school != nil {
		return q.UpdateEducatorSchool(ctx, queries.UpdateEducatorSchoolParams{ID: id, SchoolID: int32(*pl.school)})
	}
	return nil
}

// userPatchErr is the answer to a PATCH /user transaction that failed.
func userPatchErr(err error) error {
	switch {
	case isUniqueViolation(err):
		return errAccountConflict(err)
	case isPermissionDenied(err):
		return errForbidden()
	case errors.Is(err, db.ErrNotFound):
		return errForbidden() // the policy allowed it; row security hid the account
	}
	return err
}

func jsonOrNil(m map[string]any) []byte {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}

// ---------------------------------------------------------------------------
// DELETE /user/{user_id} (ADMIN): deactivate, or purge.

func (s *Server) deleteUser(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "user_id")
	if err != nil {
		return err
	}
	purge, err := queryBool(c, "purge")
	if err != nil {
		return err
	}
	ident := identityOf(ctx)
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		var name string
		if err := tx.QueryRow(ctx, queries.LockUserName, id).Scan(&name); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, ident, "User account deleted",
			fmt.Sprintf("User %s marked inactive by %s", name, ident.Account.Name), "NORMAL", nil,
			map[string]any{"user_id": id}); err != nil {
			return err
		}
		if purge == nil || !*purge {
			_, err := tx.Exec(ctx, queries.DeactivateUser, id)
			return err
		}
		if _, err := tx.Exec(ctx, queries.DeleteUserEvents, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, queries.DeleteUser, id)
		return err
	})
	s.accounts.forget(id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return errUserNotFound(id)
	case isForeignKeyViolation(err):
		return httpError(http.StatusConflict, msgAccountReferenced)
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// renderBrief builds SpecificUserBrief (api.md §1.2) from a detail read.
func (d *userDetailOut) renderBrief() map[string]any {
	out := map[string]any{"id": d.id, "type": lower(d.typ), "name": d.name, "email": d.email,
		"is_active": d.isActive, "last_login_at": isoPtr(d.lastLogin)}
	switch d.typ {
	case "STUDENT", "PUBLIC":
		out["first_name"], out["last_name_initial"] = d.firstName, d.lastInitial
		out["huey_attributes"], out["parent"] = pick(d.huey, hueyAttributeKeys), d.parent
		if d.typ == "STUDENT" {
			out["username"], out["school"] = d.username, d.school
		}
	case "EDUCATOR", "SCHOOL_ADMIN":
		out["school"] = d.school
	case "PARENT":
		out["children"] = d.children
		if d.subscription != nil {
			out["subscription"] = d.subscription.subscriptionBrief
		} else {
			out["subscription"] = nil
		}
	}
	return out
}
