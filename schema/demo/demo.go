// Package demo seeds the private development database `make run` starts with
// a demo school and one account of each kind, so a newcomer can call every
// kind of route at once (issue 14): an active school with a class and its
// join code, the school's collection (up to 300 books of the catalogue, so
// search and recommendations answer), and a Wriveted admin, a school admin,
// an educator, a student, a parent with a child, a public reader and an LMS
// account linked to the school. Seeding is idempotent (fixed ids) and runs
// as the development cluster's superuser: it is fixture data for a private
// database, never for a deployment.
package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/db"
)

// Fixed ids: a second run finds the same accounts.
var (
	SchoolWID     = uuid.MustParse("d0000000-0000-4000-8000-000000000001")
	ClassID       = uuid.MustParse("d0000000-0000-4000-8000-000000000002")
	CollectionID  = uuid.MustParse("d0000000-0000-4000-8000-000000000003")
	AdminID       = uuid.MustParse("d0000000-0000-4000-8000-0000000000a1")
	SchoolAdminID = uuid.MustParse("d0000000-0000-4000-8000-0000000000a2")
	EducatorID    = uuid.MustParse("d0000000-0000-4000-8000-0000000000a3")
	StudentID     = uuid.MustParse("d0000000-0000-4000-8000-0000000000a4")
	ParentID      = uuid.MustParse("d0000000-0000-4000-8000-0000000000a5")
	ChildID       = uuid.MustParse("d0000000-0000-4000-8000-0000000000a6")
	ReaderID      = uuid.MustParse("d0000000-0000-4000-8000-0000000000a7")
	LMSID         = uuid.MustParse("d0000000-0000-4000-8000-0000000000b1")
)

// JoinCode is the demo class's join code (students sign in with it and
// their username at POST /v1/auth/class-code).
const JoinCode = "HUEY42"

// StudentUsername is the demo student's username.
const StudentUsername = "demo-student"

// Account is one demo account.
type Account struct {
	Kind           string // "user" or "service_account"
	Label          string // what it is, for the table make run prints
	ID             uuid.UUID
	Email          string
	ServiceAccount bool
}

// Accounts lists the demo accounts, in the order make run prints them.
var Accounts = []Account{
	{Kind: "user", Label: "Wriveted admin", ID: AdminID, Email: "admin@demo.hueybooks.test"},
	{Kind: "user", Label: "school admin", ID: SchoolAdminID, Email: "schooladmin@demo.hueybooks.test"},
	{Kind: "user", Label: "educator", ID: EducatorID, Email: "educator@demo.hueybooks.test"},
	{Kind: "user", Label: "student", ID: StudentID},
	{Kind: "user", Label: "parent", ID: ParentID, Email: "parent@demo.hueybooks.test"},
	{Kind: "user", Label: "public reader", ID: ReaderID, Email: "reader@demo.hueybooks.test"},
	{Kind: "service_account", Label: "LMS account", ID: LMSID, ServiceAccount: true},
}

// Result is what Seed made or found.
type Result struct {
	SchoolID  int64
	Created   bool // false: the demo was already there
	BookCount int  // items in the demo school's collection
}

// Seed creates the demo data unless it exists, then refreshes the search
// views. superURL is the development cluster's superuser on the database.
func Seed(ctx context.Context, superURL string) (Result, error) {
	conn, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return Result{}, fmt.Errorf("demo: connect: %w", err)
	}
	defer conn.Close(ctx)
	var r Result
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM schools WHERE wriveted_identifier = $1`, SchoolWID).Scan(&r.SchoolID)
		if err == nil {
			return tx.QueryRow(ctx, `SELECT count(*) FROM collection_items WHERE collection_id = $1`, CollectionID).Scan(&r.BookCount)
		}
		if !db.IsNotFound(err) {
			return err
		}
		r.Created = true
		if err := tx.QueryRow(ctx, `INSERT INTO schools (name, state, country_code, official_identifier, wriveted_identifier, info)
VALUES ('Huey Demo School', 'ACTIVE', 'NZL', 'DEMO-001', $1,
        '{"location": {"suburb": "Te Aro", "state": "Wellington", "postcode": "6011"}, "experiments": {}}')
RETURNING id`, SchoolWID).Scan(&r.SchoolID); err != nil {
			return err
		}
		user := func(id uuid.UUID, typ, name, email string) error {
			var mail *string
			if email != "" {
				mail = &email
			}
			_, err := tx.Exec(ctx, `INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type, newsletter)
VALUES ($1, true, $2, $3, '{"sign_in_provider": "demo"}', now(), now(), $4, false)`, id, mail, name, typ)
			return err
		}
		steps := []func() error{
			func() error {
				_, err := tx.Exec(ctx, `INSERT INTO class_groups (id, school_id, name, join_code) VALUES ($1, $2, 'Room 1', $3)`,
					ClassID, SchoolWID, JoinCode)
				return err
			},
			func() error { return user(AdminID, "WRIVETED", "Ada Admin", "admin@demo.hueybooks.test") },
			func() error {
				_, err := tx.Exec(ctx, `INSERT INTO wriveted_admins (id, wriveted_admin_info) VALUES ($1, '{}')`, AdminID)
				return err
			},
			func() error {
				return user(SchoolAdminID, "SCHOOL_ADMIN", "Sam Principal", "schooladmin@demo.hueybooks.test")
			},
			func() error { return user(EducatorID, "EDUCATOR", "Erin Teacher", "educator@demo.hueybooks.test") },
			func() error {
				for _, id := range []uuid.UUID{SchoolAdminID, EducatorID} {
					if _, err := tx.Exec(ctx, `INSERT INTO educators (id, school_id, educator_info) VALUES ($1, $2, '{}')`, id, r.SchoolID); err != nil {
						return err
					}
				}
				_, err := tx.Exec(ctx, `INSERT INTO school_admins (id, school_admin_info) VALUES ($1, '{}')`, SchoolAdminID)
				return err
			},
			func() error { return user(ParentID, "PARENT", "Pat Parent", "parent@demo.hueybooks.test") },
			func() error {
				_, err := tx.Exec(ctx, `INSERT INTO parents (id, parent_info) VALUES ($1, '{}')`, ParentID)
				return err
			},
			func() error { return user(StudentID, "STUDENT", "Stevie S", "") },
			func() error { return user(ChildID, "PUBLIC", "Kit P", "") },
			func() error { return user(ReaderID, "PUBLIC", "Rua Reader", "reader@demo.hueybooks.test") },
			func() error {
				for _, rd := range []struct {
					id     uuid.UUID
					parent *uuid.UUID
					first  string
					age    int
				}{{StudentID, nil, "Stevie", 9}, {ChildID, &ParentID, "Kit", 7}, {ReaderID, nil, "Rua", 11}} {
					if _, err := tx.Exec(ctx, `INSERT INTO readers (id, parent_id, huey_attributes, first_name, last_name_initial)
VALUES ($1, $2, jsonb_build_object('age', $3::int), $4, 'D')`, rd.id, rd.parent, rd.age, rd.first); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `INSERT INTO public_readers (id, reader_info) VALUES ($1, '{}'), ($2, '{}')`, ChildID, ReaderID); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO students (id, school_id, student_info, class_group_id, username)
VALUES ($1, $2, '{}', $3, $4)`, StudentID, r.SchoolID, ClassID, StudentUsername)
				return err
			},
			func() error {
				if _, err := tx.Exec(ctx, `INSERT INTO service_accounts (id, name, is_active, type, info, created_at, updated_at)
VALUES ($1, 'Demo LMS', true, 'LMS', '{}', now(), now())`, LMSID); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO service_account_school_association (service_account_id, school_id) VALUES ($1, $2)`,
					LMSID, r.SchoolID)
				return err
			},
			func() error {
				if _, err := tx.Exec(ctx, `INSERT INTO collections (id, school_id, name, info) VALUES ($1, $2, 'Huey Demo School library', '{}')`,
					CollectionID, SchoolWID); err != nil {
					return err
				}
				tag, err := tx.Exec(ctx, `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available, info)
SELECT $1, e.isbn, 1 + (e.id % 3), 1, '{}' FROM editions e WHERE e.work_id IS NOT NULL ORDER BY e.id LIMIT 300`, CollectionID)
				r.BookCount = int(tag.RowsAffected())
				return err
			},
			func() error {
				_, err := tx.Exec(ctx, `INSERT INTO events (id, title, level, school_id, "timestamp", info)
VALUES (gen_random_uuid(), 'Demo data created', 'NORMAL', $1, now() AT TIME ZONE 'UTC',
        '{"description": "make run seeded the demo school and accounts"}')`, r.SchoolID)
				return err
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("demo: seed: %w", err)
	}
	if _, err := conn.Exec(ctx, `REFRESH MATERIALIZED VIEW public.search_view_v1; REFRESH MATERIALIZED VIEW public.work_collection_frequency`); err != nil {
		return r, fmt.Errorf("demo: refresh the search views: %w", err)
	}
	return r, nil
}
