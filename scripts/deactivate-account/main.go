// Command deactivate-account makes one account inactive: a user by e-mail or
// a service account by id. An inactive account can no longer sign in or use
// its tokens (huey.authenticate reports it inactive; the API drops it from its
// principal cache at once).
//
//	go run ./scripts/deactivate-account -email leaver@school.example
//	go run ./scripts/deactivate-account -service-account 6f1c… -dry-run
//
// It is idempotent (an inactive account stays as it is and is reported
// unchanged), and records a "Staff: deactivate-account" event with the
// actor (STAFF_ACTOR or the OS user). Wriveted admins and backend service
// accounts are refused: they are not this job's.
//
// Role: it logs in as huey_staff_rw (STAFF_DATABASE_URL) and its transaction
// runs as huey_job_deactivate_account, which reaches exactly two doors:
// huey.staff_deactivate_account(email, id) and huey.staff_record_event. It
// reads no table.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/scripts/internal/staff"
)

func main() { staff.Main("deactivate-account", run) }

var job = staff.Job{Script: "deactivate-account", Login: staff.LoginRW, Role: staff.RoleDeactivateAccount}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := staff.NewFlags(job.Script, stderr)
	email := fs.String("email", "", "the user's e-mail address")
	saID := fs.String("service-account", "", "the service account's `ID`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*email == "") == (*saID == "") {
		return errors.New("give exactly one of -email or -service-account")
	}
	var sa *uuid.UUID
	if *saID != "" {
		id, err := uuid.Parse(*saID)
		if err != nil {
			return fmt.Errorf("-service-account: not an id: %q", *saID)
		}
		sa = &id
	}
	s, err := staff.Open(ctx, getenv, job, *fs.DryRun)
	if err != nil {
		return err
	}
	defer s.Close()

	var (
		id         uuid.UUID
		kind       string
		wasActive  bool
		accountArg = *email
	)
	if sa != nil {
		accountArg = sa.String()
	}
	err = s.Write(ctx, s.Claims(), func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT id, account_type, was_active FROM huey.staff_deactivate_account(nullif($1, ''), $2)`,
			*email, sa).Scan(&id, &kind, &wasActive); err != nil {
			return err
		}
		if !wasActive {
			return nil // nothing written, nothing to record
		}
		return s.Audit(ctx, tx, fmt.Sprintf("Deactivated %s account %s", kind, id), nil,
			map[string]any{"account_id": id.String(), "account_type": kind, "deactivated": 1})
	})
	if err != nil {
		return err
	}
	switch {
	case !wasActive:
		fmt.Fprintf(stdout, "unchanged: %s (%s, %s) was already inactive\n", accountArg, kind, id)
	case s.DryRun:
		fmt.Fprintf(stdout, "dry run: would deactivate %s (%s, %s); nothing was written\n", accountArg, kind, id)
	default:
		fmt.Fprintf(stdout, "deactivated: %s (%s, %s)\n", accountArg, kind, id)
	}
	return nil
}
