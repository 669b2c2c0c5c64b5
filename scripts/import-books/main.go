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
// nothing.
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
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wriveted/huey-api/schema/catalog/importcsv"
	"github.com/wriveted/huey-api/schema/db"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "import-books:", err)
		os.Exit(1)
	}
}

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
	var bar *progressBar
	if isTerminal(stderr) {
		bar = &progressBar{w: stderr}
		opts.Progress = bar.update
	}
	start := time.Now()
	sum, err := importcsv.Load(ctx, pool, f, opts)
	bar.finish()
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

// isTerminal reports whether w is a terminal (a character device), where a
// progress bar may redraw itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar draws "[=====>    ] 120/465 rows" on one line, redrawn in place.
type progressBar struct {
	w     io.Writer
	drawn bool
}

const barWidth = 30

func (b *progressBar) update(done, total int) {
	filled := barWidth
	if total > 0 {
		filled = done * barWidth / total
	}
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	fmt.Fprintf(b.w, "\r[%s] %d/%d rows", bar, done, total)
	b.drawn = true
}

// finish ends the bar's line; nil-safe.
func (b *progressBar) finish() {
	if b != nil && b.drawn {
		fmt.Fprintln(b.w)
	}
}
