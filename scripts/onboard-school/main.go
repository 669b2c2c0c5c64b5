// Command onboard-school creates or updates a school, its school admin and,
// optionally, an LMS service account linked to it:
//
//	go run ./scripts/onboard-school -country AUS -official-id 41000 -name "Hill Primary" \
//	    -suburb Hilltown -state NSW -postcode 2999 \
//	    -admin-email head@hill.example -admin-name "Ana Head" -lms
//
// The school is found by (country, official identifier): created (ACTIVE)
// when absent, else its name and location are updated when they differ; its
// state is never changed. The school admin is created when no account has
// the e-mail; an existing account is left as it is when it already is this
// school's admin and refused otherwise (onboarding changes no existing
// account). With -lms, an LMS service account linked to the school is created
// unless one exists, and its API token — signed by SECRET_KEY (or
// JWT_SIGNING_KEY) exactly as get-auth-token -service-account signs one,
// valid two years like the API's service-account tokens — is printed once,
// as the last line of stdout. Later runs report it unchanged; a new token for
// it comes from get-auth-token -service-account ID.
//
// It is idempotent; -dry-run runs it all and rolls back (no token). The
// summary line goes to stdout; a "Staff: onboard-school" event records the
// actor and what changed.
//
// Role: it logs in as huey_staff_rw (STAFF_DATABASE_URL) and its transaction
// runs as huey_job_onboard_school, which reaches exactly two doors:
// huey.staff_onboard_school(…) and huey.staff_record_event. It reads no table.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/auth"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/scripts/internal/staff"
)

func main() { staff.Main("onboard-school", run) }

var job = staff.Job{Script: "onboard-school", Login: staff.LoginRW, Role: staff.RoleOnboardSchool}

type result struct {
	schoolID               int64
	schoolWID              uuid.UUID
	schoolChange           string
	adminID, lmsID         *uuid.UUID
	adminChange, lmsChange *string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := staff.NewFlags(job.Script, stderr)
	country := fs.String("country", "", "the school's country `CODE` (ISO 3166-1 alpha-3, e.g. AUS; required)")
	officialID := fs.String("official-id", "", "the school's official identifier in its country (required)")
	name := fs.String("name", "", "the school's name (required)")
	suburb := fs.String("suburb", "", "location: suburb or town")
	state := fs.String("state", "", "location: state or region")
	postcode := fs.String("postcode", "", "location: postcode")
	adminEmail := fs.String("admin-email", "", "the school admin's e-mail (created when absent)")
	adminName := fs.String("admin-name", "", "the school admin's name (default: the e-mail)")
	lms := fs.Bool("lms", false, "also create an LMS service account linked to the school and print its token once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	*country = strings.ToUpper(strings.TrimSpace(*country))
	*officialID, *name = strings.TrimSpace(*officialID), strings.TrimSpace(*name)
	if *country == "" || *officialID == "" || *name == "" {
		return errors.New("give the school's -country, -official-id and -name")
	}
	if *adminEmail != "" && !strings.Contains(*adminEmail, "@") {
		return fmt.Errorf("-admin-email: not an e-mail address: %q", *adminEmail)
	}
	if *adminEmail == "" && *adminName != "" {
		return errors.New("-admin-name needs -admin-email")
	}
	var signer *auth.Keys
	if *lms {
		var err error // checked before anything is written
		if signer, err = auth.NewKeys([]byte(getenv("SECRET_KEY")), getenv("JWT_SIGNING_KEY")); err != nil {
			return fmt.Errorf("-lms signs a token: SECRET_KEY / JWT_SIGNING_KEY: %w", err)
		}
	}
	var location []byte
	if loc := locationOf(*suburb, *state, *postcode); loc != nil {
		location, _ = json.Marshal(loc)
	}

	s, err := staff.Open(ctx, getenv, job, *fs.DryRun)
	if err != nil {
		return err
	}
	defer s.Close()
	var r result
	err = s.Write(ctx, s.Claims(), func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT school_id, school_wid, school_change, admin_id, admin_change, lms_id, lms_change
			FROM huey.staff_onboard_school($1, $2, $3, $4::jsonb, nullif($5, ''), nullif($6, ''), $7)`,
			*country, *officialID, *name, location, *adminEmail, *adminName, *lms).
			Scan(&r.schoolID, &r.schoolWID, &r.schoolChange, &r.adminID, &r.adminChange, &r.lmsID, &r.lmsChange); err != nil {
			return err
		}
		if !r.changed() {
			return nil
		}
		info := map[string]any{"school": r.schoolChange, "school_id": r.schoolWID.String()}
		if r.adminID != nil {
			info["admin"], info["admin_id"] = *r.adminChange, r.adminID.String()
		}
		if r.lmsID != nil {
			info["lms"], info["lms_service_account_id"] = *r.lmsChange, r.lmsID.String()
		}
		return s.Audit(ctx, tx, "Onboarded school "+*name+" ("+r.summary()+")", &r.schoolID, info)
	})
	if err != nil {
		return err
	}
	prefix := ""
	if s.DryRun {
		prefix = "dry run (nothing was written): "
	}
	fmt.Fprintf(stdout, "%sschool %s: %s", prefix, r.schoolWID, r.summary())
	if r.adminID != nil {
		fmt.Fprintf(stdout, "; admin %s", *r.adminID)
	}
	if r.lmsID != nil {
		fmt.Fprintf(stdout, "; LMS service account %s", *r.lmsID)
	}
	fmt.Fprintln(stdout)
	if r.lmsID != nil && *r.lmsChange == "created" && !s.DryRun {
		tok, err := signer.Sign(auth.Subject{Kind: auth.KindServiceAccount, ID: *r.lmsID}, auth.ServiceAccountTokenTTL, time.Now())
		if err != nil {
			return fmt.Errorf("the LMS account %s was created, but its token could not be signed (use get-auth-token -service-account): %w", *r.lmsID, err)
		}
		fmt.Fprintf(stderr, "LMS token for service account %s, valid %s; it is shown only now:\n", *r.lmsID, auth.ServiceAccountTokenTTL)
		fmt.Fprintln(stdout, tok)
	}
	return nil
}

// locationOf is the school's info.location, nil when nothing is given.
func locationOf(suburb, state, postcode string) map[string]string {
	loc := map[string]string{}
	for k, v := range map[string]string{"suburb": suburb, "state": state, "postcode": postcode} {
		if v = strings.TrimSpace(v); v != "" {
			loc[k] = v
		}
	}
	if len(loc) == 0 {
		return nil
	}
	return loc
}

func (r result) changed() bool {
	return r.schoolChange != "unchanged" || (r.adminChange != nil && *r.adminChange != "unchanged") ||
		(r.lmsChange != nil && *r.lmsChange != "unchanged")
}

// summary is "school created, admin created, LMS unchanged".
func (r result) summary() string {
	parts := []string{"school " + r.schoolChange}
	if r.adminChange != nil {
		parts = append(parts, "admin "+*r.adminChange)
	}
	if r.lmsChange != nil {
		parts = append(parts, "LMS "+*r.lmsChange)
	}
	return strings.Join(parts, ", ")
}
