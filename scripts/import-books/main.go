// Command import-books loads a labelled-books CSV (the format of
// shared/data/labelled-books.csv) into the catalogue: works, editions,
// authors, illustrators, series and each work's labels, with origin HUMAN.
//
//	go run ./scripts/import-books -file ../shared/data/labelled-books.csv
//	go run ./scripts/import-books -file books.csv -dry-run
//
// It writes directly (staff scripts have no -apply flag): the whole file in
// one transaction, then a refresh of the search view. -dry-run runs the same
// import and rolls it back. A progress bar is drawn on stderr when it is a
// terminal; the summary (rows read, created, updated, unchanged, skipped
// with reasons) is printed on stdout. Importing the same file again creates
// nothing. An import that writes records a "Staff: import-books" event with
// the actor (STAFF_ACTOR or the OS user) and the counts.
//
// It connects as the scoped staff role huey_staff_rw (STAFF_DATABASE_URL,
// else DATABASE_URL with the user replaced by huey_staff_rw and the password
// from STAFF_DATABASE_PASSWORD), so row-level security binds it like any
// other caller. The mapping from CSV to catalogue is package
// schema/catalog/importcsv.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wriveted/huey-api/schema/catalog/importcsv"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/scripts/internal/staff"
)

func main() { staff.Main("import-books", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-books", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "the labelled-books CSV `PATH` to import (required)")
	dryRun := fs.Bool("dry-run", false, "import in a transaction that is rolled back, and print what would change")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("give the file to import with -file PATH")
	}
	f, err := os.Open(*file) // #nosec G304 -- the operator names the file
	if err != nil {
		return err
	}
	defer f.Close()
	dsn, err := db.StaffURL(getenv, importcsv.StaffRole)
	if err != nil {
		return err
	}
	pool, err := db.Open(ctx, dsn, "huey-import-books")
	if err != nil {
		return err
	}
	defer pool.Close()

	opts := importcsv.LoadOptions{Options: importcsv.Options{BatchSize: 50}, Principal: "staff:import-books", DryRun: *dryRun}
	actor, err := staff.Actor(getenv)
	if err != nil {
		return err
	}
	opts.Audit = func(ctx context.Context, tx *db.Tx, sum importcsv.Summary) error {
		if sum.Created+sum.Updated+sum.OtherEditions == 0 {
			return nil // nothing written, nothing to record
		}
		return staff.Audit(ctx, tx, "import-books", actor, fmt.Sprintf("Imported %s: %d created, %d updated", *file, sum.Created, sum.Updated), nil,
			map[string]any{"file": *file, "rows": sum.RowsRead, "created": sum.Created, "updated": sum.Updated,
				"unchanged": sum.Unchanged, "skipped": sum.SkipReasons, "other_editions": sum.OtherEditions})
	}
	bar := staff.NewProgress(stderr, "rows")
	opts.Progress = bar.Update
	start := time.Now()
	sum, err := importcsv.Load(ctx, pool, f, opts)
	bar.Finish()
	if err != nil && !errors.Is(err, importcsv.ErrSearchViewNotRefreshed) {
		return err // rolled back: nothing to summarise
	}
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case *dryRun:
		fmt.Fprintf(stdout, "dry run of %s (%s): rolled back, nothing was written\n", *file, took)
	case err == nil:
		fmt.Fprintf(stdout, "imported %s (%s); search view refreshed\n", *file, took)
	default:
		fmt.Fprintf(stdout, "imported %s (%s)\n", *file, took)
	}
	if werr := sum.Write(stdout); werr != nil {
		return werr
	}
	return err
}
