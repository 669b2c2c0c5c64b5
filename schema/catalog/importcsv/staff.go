package importcsv

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
)

// StaffRole is the role a staff import runs as: it may write the catalogue
// and is bound by row-level security like every other caller.
const StaffRole = "huey_staff_rw"

// LoadOptions tune Load.
type LoadOptions struct {
	Options
	// Principal names the script in the transaction's claims, e.g.
	// "staff:import-books"; empty means "staff:importcsv".
	Principal string
	// DryRun rolls the import back: the summary says what it would do.
	DryRun bool
	// Audit, when set, runs in the import's transaction after the rows
	// (a staff script records its audit event there), also on a dry run,
	// which rolls it back with the rest.
	Audit func(ctx context.Context, tx *db.Tx, sum Summary) error
}

var (
	// ErrSearchViewNotRefreshed is returned (wrapped) by Load when the import
	// was committed but the search view could not be refreshed afterwards.
	ErrSearchViewNotRefreshed = errors.New("the books were imported, but the search view was not refreshed")

	// errDryRun rolls a dry run's transaction back.
	errDryRun = errors.New("dry run")
)

// Load imports the CSV from r in one transaction on pool, as a staff script
// (role huey_staff_rw, claims kind "staff"), commits it unless opts.DryRun,
// and then refreshes the search view in a second transaction so searches
// find the new works. pool must log in as a role that may become
// huey_staff_rw (huey_staff_rw itself). When only the refresh fails, the
// import stays committed and the error wraps ErrSearchViewNotRefreshed.
func Load(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts LoadOptions) (Summary, error) {
	principal := opts.Principal
	if principal == "" {
		principal = "staff:importcsv"
	}
	claims := db.Claims{Kind: "staff", Role: StaffRole, Principals: []string{principal}}
	var sum Summary
	err := db.InTx(ctx, pool, claims, func(tx *db.Tx) error {
		var err error
		if sum, err = Import(ctx, tx, r, opts.Options); err != nil {
			return err
		}
		if opts.Audit != nil {
			if err := opts.Audit(ctx, tx, sum); err != nil {
				return err
			}
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	if opts.DryRun && errors.Is(err, errDryRun) {
		return sum, nil
	}
	if err != nil {
		return sum, fmt.Errorf("import books: %w", err)
	}
	err = db.InTx(ctx, pool, claims, func(tx *db.Tx) error { return catalog.RefreshSearchView(ctx, tx) })
	if err != nil {
		return sum, fmt.Errorf("%w: %w", ErrSearchViewNotRefreshed, err)
	}
	return sum, nil
}
