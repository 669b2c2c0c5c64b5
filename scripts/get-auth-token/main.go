// Command get-auth-token prints an API token for a user or a service account,
// for staff at a terminal:
//
//	go run ./scripts/get-auth-token -email ana@example.org
//	go run ./scripts/get-auth-token -email ops@wriveted.com -create-admin -name "Ops"
//	go run ./scripts/get-auth-token -service-account 6f1c…
//
// The token is the last line of stdout; everything else goes to stderr. It
// connects as a scoped staff role (STAFF_DATABASE_URL, else DATABASE_URL with
// the user replaced by huey_staff_ro, or huey_staff_rw for -create-admin), so
// row-level security binds it like any other caller. It reads no table of
// accounts: it finds the one account through the huey.staff_find_user and
// huey.staff_find_service_account doors (migration 018). SECRET_KEY signs the token
// (or JWT_SIGNING_KEY, as the API does, when set). Creating an admin records a
// "Staff: get-auth-token" event with the actor (STAFF_ACTOR or the OS user);
// minting a token writes nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/scripts/internal/staff"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "get-auth-token:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("get-auth-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the user's e-mail address")
	createAdmin := fs.Bool("create-admin", false, "first create the user as a Wriveted admin if absent")
	name := fs.String("name", "", "display name for -create-admin (default: the e-mail address)")
	saID := fs.String("service-account", "", "print a token for this service account `ID` instead")
	ttl := fs.Duration("ttl", auth.DefaultTokenTTL, "token lifetime")
	dryRun := fs.Bool("dry-run", false, "with -create-admin: show what would be created, change nothing, print no token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*email == "") == (*saID == "") {
		return errors.New("give exactly one of -email or -service-account")
	}
	signer, err := auth.NewKeys([]byte(getenv("SECRET_KEY")), getenv("JWT_SIGNING_KEY"))
	if err != nil {
		return fmt.Errorf("SECRET_KEY / JWT_SIGNING_KEY: %w", err)
	}
	role := "huey_staff_ro"
	if *createAdmin {
		role = "huey_staff_rw"
	}
	dsn, err := db.StaffURL(getenv, role)
	if err != nil {
		return err
	}
	if got := db.StaffRole(dsn, role); got != role {
		if *createAdmin { // creating an admin needs the read-write role
			return fmt.Errorf("-create-admin needs the huey_staff_rw login; STAFF_DATABASE_URL logs in as %s", got)
		}
		role = got // the read-write login reaches the same doors
	}
	pool, err := db.Open(ctx, dsn, "huey-get-auth-token")
	if err != nil {
		return err
	}
	defer pool.Close()
	claims := db.Claims{Kind: "staff", Role: role, Principals: []string{"staff:get-auth-token"}}

	var sub auth.Subject
	if *saID != "" {
		id, err := uuid.Parse(*saID)
		if err != nil {
			return fmt.Errorf("-service-account: %w", err)
		}
		var active bool
		err = db.InTx(ctx, pool, claims, func(tx *db.Tx) error {
			return tx.QueryRow(ctx, `SELECT is_active FROM huey.staff_find_service_account($1)`, id).Scan(&active)
		})
		if errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("no service account %s", id)
		}
		if err != nil {
			return err
		}
		if !active {
			return fmt.Errorf("service account %s is inactive", id)
		}
		sub = auth.Subject{Kind: auth.KindServiceAccount, ID: id}
	} else {
		actor := ""
		if *createAdmin {
			if actor, err = staff.Actor(getenv); err != nil {
				return err
			}
		}
		id, created, err := findUser(ctx, pool, claims, *email, *createAdmin, *name, *dryRun, actor)
		if err != nil {
			return err
		}
		if *dryRun {
			if created {
				fmt.Fprintf(stderr, "dry run: would create Wriveted admin %s (%s)\n", *email, id)
			} else {
				fmt.Fprintf(stderr, "dry run: %s exists (%s); nothing would change\n", *email, id)
			}
			return nil
		}
		if created {
			fmt.Fprintf(stderr, "created Wriveted admin %s (%s)\n", *email, id)
		}
		sub = auth.Subject{Kind: auth.KindUser, ID: id}
	}
	tok, err := signer.Sign(sub, *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "token for %s, valid %s\n", sub, *ttl)
	fmt.Fprintln(stdout, tok)
	return nil
}

// findUser returns the user with email, creating it as a Wriveted admin when
// create is set and it is absent (rolled back on a dry run).
func findUser(ctx context.Context, pool dbPool, claims db.Claims, email string, create bool, name string, dryRun bool,
	actor string) (uuid.UUID, bool, error) {
	var (
		id      uuid.UUID
		active  bool
		created bool
	)
	errDry := errors.New("dry run")
	err := db.InTx(ctx, pool, claims, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id, is_active FROM huey.staff_find_user($1)`, email).Scan(&id, &active)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) || !create {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("no user with e-mail %s (use -create-admin to create a Wriveted admin)", email)
			}
			if err == nil && !active {
				return fmt.Errorf("user %s is inactive", email)
			}
			return err
		}
		if name == "" {
			name = email
		}
		id, created, active = uuid.New(), true, true
		if _, err := tx.Exec(ctx, `INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type, newsletter)
			VALUES ($1, true, $2, $3, '{"sign_in_provider": "get-auth-token"}', huey.utcnow(), huey.utcnow(), 'WRIVETED', false)`,
			id, email, name); err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO wriveted_admins (id, wriveted_admin_info) VALUES ($1, '{}')`, id); err != nil {
			return fmt.Errorf("create admin: %w", err)
		}
		if err := staff.Audit(ctx, tx, "get-auth-token", actor, "Created Wriveted admin "+id.String(), nil,
			map[string]any{"user_id": id.String(), "created_admins": 1}); err != nil {
			return err
		}
		if dryRun {
			return errDry
		}
		return nil
	})
	if errors.Is(err, errDry) {
		err = nil
	}
	return id, created, err
}

type dbPool = *pgxpool.Pool
