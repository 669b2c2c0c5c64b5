package main

// The access matrix (issue 16 item 1): a fixture of two schools with every
// kind of account and every resource, built on the real migrations; then,
// for every (account kind × resource × action × own/other school), the Rego
// decision with the ACL entry that decided, and what row security lets the
// same claims read, insert, update and delete, by running the real
// statements inside transactions that are rolled back.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/account"
	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/db"
)

// Tenants: every account of the matrix belongs to (or is linked to, or is
// family of someone in) school A; "own" resources are school A's, "other"
// ones school B's, built alike.
const (
	own   = "own"
	other = "other"
	none  = "—" // route-level resources: no school
)

// The row-security operations.
const (
	opRead   = "read"
	opInsert = "insert"
	opUpdate = "update"
	opDelete = "delete"
)

var rlsOps = []string{opRead, opInsert, opUpdate, opDelete}

// rlsOpOf is the row-security operation a policy action is checked
// against ("" : none, the action has no one statement).
func rlsOpOf(action string) string {
	switch action {
	case "read", "details":
		return opRead
	case "update", "update-state":
		return opUpdate
	case "delete":
		return opDelete
	case "create":
		return opInsert
	}
	return ""
}

// id derives the fixture's fixed uuids, so the fixture is the same on every run.
func id(name string) uuid.UUID {
	return uuid.NewSHA1(uuid.MustParse("6d1f6f0e-5a3b-4c55-9a41-0d2c8b7e1a16"), []byte(name))
}

// tenant is one school of the fixture and what it holds.
type tenant struct {
	name                                             string
	schoolID                                         int64
	wid                                              uuid.UUID
	class, student, educator, schoolAdmin            uuid.UUID
	reader, parent, supporter                        uuid.UUID
	lms, schoolSA, kiosk                             uuid.UUID
	collection, readerCollection, schoolList, rdList uuid.UUID
	item                                             int64
	event                                            uuid.UUID
}

// accountSpec is one row of the matrix: an account kind and which of
// school A's accounts it is.
type accountSpec struct {
	kind    string
	subject func(a *tenant, admin, backend uuid.UUID) (auth.Kind, uuid.UUID) // zero uuid: anonymous
}

var accountKinds = []accountSpec{
	{"anonymous", func(*tenant, uuid.UUID, uuid.UUID) (auth.Kind, uuid.UUID) { return "", uuid.Nil }},
	{"Wriveted admin", func(_ *tenant, admin, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindUser, admin }},
	{"backend SA", func(_ *tenant, _, backend uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindServiceAccount, backend }},
	{"school admin", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindUser, a.schoolAdmin }},
	{"educator", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindUser, a.educator }},
	{"student", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindUser, a.student }},
	{"public reader", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindUser, a.reader }},
	{"parent", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindUser, a.parent }},
	{"supporter", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindUser, a.supporter }},
	{"LMS SA", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindServiceAccount, a.lms }},
	{"school SA", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindServiceAccount, a.schoolSA }},
	{"kiosk SA", func(a *tenant, _, _ uuid.UUID) (auth.Kind, uuid.UUID) { return auth.KindServiceAccount, a.kiosk }},
}

// resourceSpec is one resource of the matrix.
type resourceSpec struct {
	name    string // as the matrix names it
	typ     string // the Rego package huey.resource.<typ>
	about   string // one line for the reader
	actions []string
	// instance: the resource in tenant t as the policy sees it, for caller
	// (the account kind: only the event's "supported" depends on it).
	instance func(t *tenant, kind string, isOwn bool) policies.Resource
	table    string // "" : route-level, no row-security statements
	key      func(t *tenant) any
	keyCol   string
	setCol   string                      // UPDATE table SET setCol = setCol
	insert   func(t *tenant) []statement // the statements of a new row of t
}

type statement struct {
	sql  string
	args []any
}

func st(sql string, args ...any) statement { return statement{sql, args} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func route(typ, about string, actions ...string) resourceSpec {
	return resourceSpec{name: typ, typ: typ, about: about, actions: actions,
		instance: func(*tenant, string, bool) policies.Resource { return policies.Resource{Type: typ} }}
}

var resources = []resourceSpec{
	{name: "school", typ: "school", about: "one school (`/v1/school/{id}`)",
		actions: []string{"read", "details", "update", "update-state", "delete", "bind", "batch", "read-collection"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "school", ID: itoa(t.schoolID)}
		},
		table: "schools", keyCol: "id", setCol: "name", key: func(t *tenant) any { return t.schoolID },
		insert: func(t *tenant) []statement {
			return []statement{st(`INSERT INTO schools (name, state, country_code, official_identifier, info)
				VALUES ('Report new school', 'INACTIVE', 'NZL', 'OFF-report-new', '{}')`)}
		}},
	{name: "user (a student)", typ: "user", about: "one user account: the school's student (`/v1/user/{id}`)",
		actions: []string{"read", "details", "update", "change-privileged", "magic-link"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "user", ID: t.student.String(),
				Attrs: map[string]string{"type": "student", "school_id": itoa(t.schoolID), "parent_id": t.parent.String()}}
		},
		table: "users", keyCol: "id", setCol: "name", key: func(t *tenant) any { return t.student },
		insert: func(t *tenant) []statement {
			u := id(t.name + " new student")
			return []statement{
				st(`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
					VALUES ($1, true, NULL, 'Report new student', '{}', now(), now(), 'STUDENT')`, u),
				st(`INSERT INTO readers (id, huey_attributes, first_name, last_name_initial) VALUES ($1, '{}', 'New', 'S')`, u),
				st(`INSERT INTO students (id, school_id, student_info, class_group_id, username) VALUES ($1, $2, '{}', $3, 'reportnew')`,
					u, t.schoolID, t.class),
			}
		}},
	{name: "class", typ: "class", about: "one class group (`/v1/class/{id}`)",
		actions: []string{"read", "update", "delete"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "class", ID: t.class.String(), Attrs: map[string]string{"school_id": itoa(t.schoolID)}}
		},
		table: "class_groups", keyCol: "id", setCol: "name", key: func(t *tenant) any { return t.class },
		insert: func(t *tenant) []statement {
			return []statement{st(`INSERT INTO class_groups (school_id, name, join_code) VALUES ($1, 'Report new class', 'NEWCLS')`, t.wid)}
		}},
	{name: "collection (the school's)", typ: "collection", about: "the school's collection (`/v1/collection/{id}`)",
		actions: []string{"read", "create", "update", "delete"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "collection", ID: t.collection.String(), Attrs: map[string]string{"school_id": itoa(t.schoolID), "user_id": ""}}
		},
		table: "collections", keyCol: "id", setCol: "name", key: func(t *tenant) any { return t.collection },
		insert: func(t *tenant) []statement {
			return []statement{st(`INSERT INTO collections (school_id, name) VALUES ($1, 'Report new collection')`, t.wid)}
		}},
	{name: "collection (a reader's)", typ: "collection", about: "the public reader's own collection",
		actions: []string{"read", "create", "update", "delete"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "collection", ID: t.readerCollection.String(), Attrs: map[string]string{"school_id": "", "user_id": t.reader.String()}}
		},
		table: "collections", keyCol: "id", setCol: "name", key: func(t *tenant) any { return t.readerCollection },
		insert: func(t *tenant) []statement {
			return []statement{st(`INSERT INTO collections (user_id, name) VALUES ($1, 'Report new reader collection')`, t.reader)}
		}},
	{name: "collection item", typ: "collection_item", about: "an item of the school's collection (`/v1/collection-item/{id}`)",
		actions: []string{"read", "update"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "collection_item", ID: itoa(t.item), Attrs: map[string]string{"school_id": itoa(t.schoolID), "user_id": ""}}
		},
		table: "collection_items", keyCol: "id", setCol: "info", key: func(t *tenant) any { return t.item },
		insert: func(t *tenant) []statement {
			return []statement{st(`INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info)
				VALUES ($1, '9780000000002', 1, 1, '{}')`, t.collection)}
		}},
	{name: "booklist (the school's)", typ: "book_list", about: "a private SCHOOL list of the school (`/v1/list/{id}`)",
		actions: []string{"read", "update", "delete"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "book_list", ID: t.schoolList.String(), Attrs: map[string]string{
				"type": "SCHOOL", "sharing": "PRIVATE", "user_id": "", "school_id": itoa(t.schoolID)}}
		},
		table: "book_lists", keyCol: "id", setCol: "name", key: func(t *tenant) any { return t.schoolList },
		insert: func(t *tenant) []statement {
			return []statement{st(`INSERT INTO book_lists (id, name, type, sharing, school_id) VALUES ($1, 'Report new list', 'SCHOOL', 'PRIVATE', $2)`,
				id(t.name+" new list"), t.schoolID)}
		}},
	{name: "booklist (a reader's)", typ: "book_list", about: "the public reader's private PERSONAL list",
		actions: []string{"read", "update", "delete"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "book_list", ID: t.rdList.String(), Attrs: map[string]string{
				"type": "PERSONAL", "sharing": "PRIVATE", "user_id": t.reader.String(), "school_id": ""}}
		},
		table: "book_lists", keyCol: "id", setCol: "name", key: func(t *tenant) any { return t.rdList },
		insert: func(t *tenant) []statement {
			return []statement{st(`INSERT INTO book_lists (id, name, type, sharing, user_id) VALUES ($1, 'Report new personal list', 'PERSONAL', 'PRIVATE', $2)`,
				id(t.name+" new personal list"), t.reader)}
		}},
	{name: "event", typ: "event", about: "the student's reading-log event at the school (`/v1/feedback/{id}`)",
		actions: []string{"read"},
		instance: func(t *tenant, kind string, isOwn bool) policies.Resource {
			return policies.Resource{Type: "event", ID: t.event.String(), Attrs: map[string]string{
				"title": "Reader timeline event: Reading logged", "school_id": itoa(t.schoolID), "user_id": t.student.String(),
				"supported": strconv.FormatBool(kind == "supporter" && isOwn)}}
		},
		table: "events", keyCol: "id", setCol: "info", key: func(t *tenant) any { return t.event },
		insert: func(t *tenant) []statement {
			return []statement{st(`INSERT INTO events (id, title, level, school_id, user_id, info, "timestamp")
				VALUES ($1, 'Report new event', 'NORMAL', $2, $3, '{}', '2026-01-01')`, id(t.name+" new event"), t.schoolID, t.student)}
		}},
	{name: "events", typ: "events", about: "the event routes (`/v1/events`, `/v1/event-types`); attach-school names the school",
		actions: []string{"read", "create", "read-global", "attach-school"},
		instance: func(t *tenant, _ string, _ bool) policies.Resource {
			return policies.Resource{Type: "events", Attrs: map[string]string{"school_id": itoa(t.schoolID)}}
		}},
	route("schools", "the school list and creation (`/v1/schools`, `/v1/school`)", "read", "create", "batch", "details", "read-collection"),
	route("users", "the user list, creation and deletion (the original's ADMIN guard)", "read", "create", "delete"),
	route("service_accounts", "the service-account routes", "read", "create", "update", "delete"),
	route("classes", "the class list and creation", "read", "create"),
	route("book_lists", "booklist creation and publishing", "read", "create", "update", "publish"),
	route("works", "the work routes", "read", "create", "update", "delete", "generate-labels"),
	route("editions", "the edition and hydration routes", "read", "create", "update", "batch", "hydrate"),
	route("labelsets", "`PATCH /v1/labelsets`", "update"),
	route("decisions", "the support routes of issue 16 (`/v1/decisions/{id}`, `/v1/explain`)", "read", "explain"),
}

// Cell is one (account, resource, tenant, action) of the matrix.
type Cell struct {
	Account  string         `json:"account"`
	Resource string         `json:"resource"`
	Tenant   string         `json:"tenant"`
	Action   string         `json:"action"`
	Allowed  bool           `json:"allowed"`
	Entry    policies.Entry `json:"entry"`
	RLSOp    string         `json:"rls_op,omitempty"` // the row-security operation the action is checked against
	RLS      string         `json:"rls,omitempty"`    // its outcome (Outcome)
	Mismatch string         `json:"mismatch,omitempty"`
	Allowed2 string         `json:"allow_listed,omitempty"` // the allow-list's reason
}

// Outcomes of one row-security statement.
const (
	rlsYes = "yes" // the statement read or changed the row
	rlsNo  = "no"  // hidden (no row) or refused (42501)
)

// rlsAllows reads an outcome: "yes", or "yes!<sqlstate>" (row security let
// the statement through; a constraint or trigger failed it afterwards).
func rlsAllows(o string) bool { return strings.HasPrefix(o, rlsYes) }

// RLSRow is what row security lets one account do to one resource.
type RLSRow struct {
	Account  string            `json:"account"`
	Resource string            `json:"resource"`
	Tenant   string            `json:"tenant"`
	Ops      map[string]string `json:"ops"`
}

// Mismatch kinds of the cross-check.
const (
	mmHides     = "policy allows, row security refuses" // a 404 or an empty result the policy did not predict
	mmOnlyGuard = "policy refuses, row security allows" // the policy is the only guard
)

// Matrix is the whole report.
type Matrix struct {
	Accounts  []string
	Resources []resourceSpec
	Cells     []Cell
	RLS       []RLSRow
	Entries   map[string][]policies.Entry
	allow     []AllowEntry // the allow-list, with how often each entry was needed
}

// world is the fixture.
type world struct {
	a, b           *tenant
	admin, backend uuid.UUID
}

// buildFixture creates the two schools and every account and resource,
// committed, through a superuser connection on a freshly migrated database.
func buildFixture(ctx context.Context, conn *pgx.Conn) (*world, error) {
	w := &world{admin: id("admin"), backend: id("backend")}
	var stmts []statement
	add := func(sql string, args ...any) { stmts = append(stmts, st(sql, args...)) }
	user := func(u uuid.UUID, name, typ string) {
		add(`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
			VALUES ($1, true, $2, $3, '{}', '2026-01-01', '2026-01-01', $4)`, u, strings.ReplaceAll(strings.ToLower(name), " ", ".")+"@report.test", name, typ)
	}
	sa := func(u uuid.UUID, name, typ string, school int64) {
		add(`INSERT INTO service_accounts (id, name, is_active, type, info, created_at, updated_at)
			VALUES ($1, $2, true, $3, '{}', '2026-01-01', '2026-01-01')`, u, name, typ)
		if school != 0 {
			add(`INSERT INTO service_account_school_association (service_account_id, school_id) VALUES ($1, $2)`, u, school)
		}
	}
	user(w.admin, "Report admin", "WRIVETED")
	add(`INSERT INTO wriveted_admins (id, wriveted_admin_info) VALUES ($1, '{}')`, w.admin)
	sa(w.backend, "Report backend", "BACKEND", 0)
	add(`INSERT INTO editions (isbn) VALUES ('9780000000001'), ('9780000000002')`)
	if err := exec(ctx, conn, stmts); err != nil {
		return nil, err
	}
	for _, name := range []string{"A", "B"} {
		t := &tenant{name: "School " + name}
		if err := conn.QueryRow(ctx, `INSERT INTO schools (name, state, country_code, official_identifier, info)
			VALUES ($1, 'ACTIVE', 'NZL', $2, '{}') RETURNING id, wriveted_identifier`, t.name, "OFF-"+name).Scan(&t.schoolID, &t.wid); err != nil {
			return nil, fmt.Errorf("school %s: %w", name, err)
		}
		n := func(s string) uuid.UUID { return id(t.name + " " + s) }
		t.class, t.student, t.educator, t.schoolAdmin = n("class"), n("student"), n("educator"), n("school admin")
		t.reader, t.parent, t.supporter = n("reader"), n("parent"), n("supporter")
		t.lms, t.schoolSA, t.kiosk = n("lms"), n("school sa"), n("kiosk")
		t.collection, t.readerCollection, t.schoolList, t.rdList, t.event = n("collection"), n("reader collection"), n("school list"), n("reader list"), n("event")
		stmts = nil
		add(`INSERT INTO class_groups (id, school_id, name, join_code) VALUES ($1, $2, 'Room 1', $3)`, t.class, t.wid, "RPT"+name+"01")
		user(t.parent, t.name+" parent", "PARENT")
		add(`INSERT INTO parents (id, parent_info) VALUES ($1, '{}')`, t.parent)
		user(t.student, t.name+" student", "STUDENT")
		add(`INSERT INTO readers (id, huey_attributes, first_name, last_name_initial, parent_id) VALUES ($1, '{}', 'Sam', 'S', $2)`, t.student, t.parent)
		add(`INSERT INTO students (id, school_id, student_info, class_group_id, username) VALUES ($1, $2, '{}', $3, 'sam')`, t.student, t.schoolID, t.class)
		user(t.reader, t.name+" reader", "PUBLIC")
		add(`INSERT INTO readers (id, huey_attributes, first_name, last_name_initial, parent_id) VALUES ($1, '{}', 'Pat', 'R', $2)`, t.reader, t.parent)
		add(`INSERT INTO public_readers (id, reader_info) VALUES ($1, '{}')`, t.reader)
		user(t.educator, t.name+" educator", "EDUCATOR")
		add(`INSERT INTO educators (id, school_id, educator_info) VALUES ($1, $2, '{}')`, t.educator, t.schoolID)
		user(t.schoolAdmin, t.name+" school admin", "SCHOOL_ADMIN")
		add(`INSERT INTO educators (id, school_id, educator_info) VALUES ($1, $2, '{}')`, t.schoolAdmin, t.schoolID)
		add(`INSERT INTO school_admins (id, school_admin_info) VALUES ($1, '{}')`, t.schoolAdmin)
		user(t.supporter, t.name+" supporter", "SUPPORTER")
		add(`INSERT INTO supporters (id, supporter_info) VALUES ($1, '{}')`, t.supporter)
		add(`INSERT INTO supporter_reader_association (supporter_id, reader_id, is_active, supporter_nickname) VALUES ($1, $2, true, 'Aunty')`, t.supporter, t.student)
		sa(t.lms, t.name+" LMS", "LMS", t.schoolID)
		sa(t.schoolSA, t.name+" school SA", "SCHOOL", t.schoolID)
		sa(t.kiosk, t.name+" kiosk", "KIOSK", t.schoolID)
		add(`INSERT INTO collections (id, school_id, name) VALUES ($1, $2, 'Library')`, t.collection, t.wid)
		add(`INSERT INTO collections (id, user_id, name) VALUES ($1, $2, 'My books')`, t.readerCollection, t.reader)
		add(`INSERT INTO book_lists (id, name, type, sharing, school_id) VALUES ($1, 'Staff picks', 'SCHOOL', 'PRIVATE', $2)`, t.schoolList, t.schoolID)
		add(`INSERT INTO book_lists (id, name, type, sharing, user_id) VALUES ($1, 'To read', 'PERSONAL', 'PRIVATE', $2)`, t.rdList, t.reader)
		add(`INSERT INTO events (id, title, level, school_id, user_id, info, "timestamp")
			VALUES ($1, 'Reader timeline event: Reading logged', 'NORMAL', $2, $3, '{}', '2026-01-01')`, t.event, t.schoolID, t.student)
		if err := exec(ctx, conn, stmts); err != nil {
			return nil, fmt.Errorf("tenant %s: %w", name, err)
		}
		if err := conn.QueryRow(ctx, `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info)
			VALUES ($1, '9780000000001', 1, 1, '{}') RETURNING id`, t.collection).Scan(&t.item); err != nil {
			return nil, fmt.Errorf("tenant %s item: %w", name, err)
		}
		if name == "A" {
			w.a = t
		} else {
			w.b = t
		}
	}
	return w, nil
}

func exec(ctx context.Context, conn *pgx.Conn, stmts []statement) error {
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(strings.Fields(s.sql), " "), err)
		}
	}
	return nil
}

// caller is one account of the matrix as authentication makes it.
type caller struct {
	kind       string
	principals policies.Principals
	claims     string // request.jwt.claims
}

// loadCaller reads an account through huey.authenticate(), as the API does,
// and derives its principals and claims.
func loadCaller(ctx context.Context, conn *pgx.Conn, kind string, k auth.Kind, uid uuid.UUID) (caller, error) {
	if uid == uuid.Nil {
		c := db.Anonymous()
		b, err := json.Marshal(c)
		return caller{kind: kind, principals: policies.NewPrincipals(c.Principals), claims: string(b)}, err
	}
	lc, err := json.Marshal(account.LoadClaims(string(k), uid))
	if err != nil {
		return caller{}, err
	}
	var a account.Account
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, db.SetClaimsSQL, db.AppRole, string(lc)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, account.LoadSQL)
		if err != nil {
			return err
		}
		a, err = account.Scan(rows, string(k))
		return err
	})
	if err != nil {
		return caller{}, fmt.Errorf("load %s %s: %w", kind, uid, err)
	}
	ps := a.Principals()
	c := a.Claims(auth.Subject{Kind: k, ID: uid}.String(), policies.NewPrincipals(ps).List())
	if c.SchoolIDs == nil {
		c.SchoolIDs = []int64{}
	}
	if c.ChildIDs == nil {
		c.ChildIDs = []string{}
	}
	b, err := json.Marshal(c)
	return caller{kind: kind, principals: policies.NewPrincipals(ps), claims: string(b)}, err
}

// errRollback ends every claims transaction of the matrix.
var errRollback = errors.New("rolled back")

// runRLS runs each row-security operation on r in tenant t as c, each in a
// savepoint, in one transaction that is rolled back.
func runRLS(ctx context.Context, conn *pgx.Conn, c caller, r resourceSpec, t *tenant) (map[string]string, error) {
	out := map[string]string{}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, db.SetClaimsSQL, db.AppRole, c.claims); err != nil {
			return err
		}
		key := r.key(t)
		for _, op := range rlsOps {
			var stmts []statement
			switch op {
			case opRead:
				stmts = []statement{st(fmt.Sprintf(`SELECT FROM %s WHERE %s = $1`, r.table, r.keyCol), key)}
			case opInsert:
				stmts = r.insert(t)
			case opUpdate:
				stmts = []statement{st(fmt.Sprintf(`UPDATE %s SET %s = %[2]s WHERE %s = $1`, r.table, r.setCol, r.keyCol), key)}
			case opDelete:
				stmts = []statement{st(fmt.Sprintf(`DELETE FROM %s WHERE %s = $1`, r.table, r.keyCol), key)}
			}
			if _, err := tx.Exec(ctx, "SAVEPOINT op"); err != nil {
				return err
			}
			outcome := rlsYes
			for _, s := range stmts {
				tag, err := tx.Exec(ctx, s.sql, s.args...)
				var pe *pgconn.PgError
				switch {
				case errors.As(err, &pe) && pe.Code == "42501":
					outcome = rlsNo
				case errors.As(err, &pe):
					outcome = rlsYes + "!" + pe.Code
				case err != nil:
					return err
				case tag.RowsAffected() == 0:
					outcome = rlsNo
				}
				if outcome != rlsYes {
					break
				}
			}
			out[op] = outcome
			if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT op"); err != nil {
				return err
			}
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return nil, fmt.Errorf("%s on %s (%s): %w", c.kind, r.name, t.name, err)
	}
	return out, nil
}

// Generate builds the fixture on the freshly migrated database conn is
// connected to (as a superuser) and computes the matrix.
func Generate(ctx context.Context, conn *pgx.Conn, engine *policies.Engine, allow []AllowEntry) (*Matrix, error) {
	w, err := buildFixture(ctx, conn)
	if err != nil {
		return nil, err
	}
	m := &Matrix{Resources: resources, Entries: engine.Entries()}
	for _, ak := range accountKinds {
		m.Accounts = append(m.Accounts, ak.kind)
		k, uid := ak.subject(w.a, w.admin, w.backend)
		c, err := loadCaller(ctx, conn, ak.kind, k, uid)
		if err != nil {
			return nil, err
		}
		for _, r := range resources {
			tenants := []string{own, other}
			if r.table == "" && r.typ != "events" {
				tenants = []string{none}
			}
			for _, tn := range tenants {
				t := w.a
				if tn == other {
					t = w.b
				}
				var ops map[string]string
				if r.table != "" {
					if ops, err = runRLS(ctx, conn, c, r, t); err != nil {
						return nil, err
					}
					m.RLS = append(m.RLS, RLSRow{Account: ak.kind, Resource: r.name, Tenant: tn, Ops: ops})
				}
				for _, action := range r.actions {
					d, err := engine.Explain(ctx, policies.Input{Principals: c.principals, Action: action, Resource: r.instance(t, ak.kind, tn == own)})
					if err != nil {
						return nil, err
					}
					cell := Cell{Account: ak.kind, Resource: r.name, Tenant: tn, Action: action, Allowed: d.Allowed, Entry: d.Entry}
					if op := rlsOpOf(action); op != "" && ops != nil {
						cell.RLSOp, cell.RLS = op, ops[op]
						switch {
						case d.Allowed && !rlsAllows(cell.RLS):
							cell.Mismatch = mmHides
						case !d.Allowed && rlsAllows(cell.RLS):
							cell.Mismatch = mmOnlyGuard
						}
						if cell.Mismatch != "" {
							if e := matchAllow(allow, cell); e != nil {
								cell.Allowed2 = e.Reason
								e.used++
							}
						}
					}
					m.Cells = append(m.Cells, cell)
				}
			}
		}
	}
	return m, nil
}

// Unexplained are the mismatches no allow-list entry covers.
func (m *Matrix) Unexplained() []Cell {
	var out []Cell
	for _, c := range m.Cells {
		if c.Mismatch != "" && c.Allowed2 == "" {
			out = append(out, c)
		}
	}
	return out
}
