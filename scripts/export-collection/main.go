// Command export-collection writes a school's collection as CSV to stdout:
//
//	go run ./scripts/export-collection -school 6f1c… > collection.csv
//
// The columns are ISBN, Title, Copies, Available — the columns of a library
// export that import-collection reads, so exporting and importing the file
// again changes nothing. Items without an ISBN are written with an empty
// ISBN. The summary line (rows written) goes to stderr; a progress bar runs
// on a terminal. It writes nothing to the database, so it records no event;
// -dry-run (every staff script takes it) changes nothing.
//
// Role: it logs in as huey_staff_ro (STAFF_RO_DATABASE_URL, else
// STAFF_DATABASE_URL) and its transaction runs as huey_job_export_collection,
// which reaches exactly one door: huey.staff_collection_export(school), one
// school's items (ISBN, title, copies). It reads no table.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/scripts/internal/staff"
)

func main() { staff.Main("export-collection", run) }

var job = staff.Job{Script: "export-collection", Login: staff.LoginRO, Role: staff.RoleExportCollection}

// Header is the export's header row.
var Header = []string{"ISBN", "Title", "Copies", "Available"}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := staff.NewFlags(job.Script, stderr) // -dry-run is accepted and changes nothing: the export only reads
	school := fs.String("school", "", "the school's `ID` (its wriveted identifier, a uuid; required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *school == "" {
		return errors.New("give the school with -school ID")
	}
	id, err := uuid.Parse(*school)
	if err != nil {
		return fmt.Errorf("-school: not a school id (a uuid): %q", *school)
	}
	s, err := staff.Open(ctx, getenv, job, false)
	if err != nil {
		return err
	}
	defer s.Close()

	type row struct {
		isbn, title *string
		ct, ca      int32
	}
	var rows []row
	err = db.InTx(ctx, s.Pool, s.Claims(), func(tx *db.Tx) error {
		r, err := tx.Query(ctx, `SELECT isbn, title, copies_total, copies_available FROM huey.staff_collection_export($1)`, id)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(r, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.isbn, &x.title, &x.ct, &x.ca)
		})
		return err
	})
	if err != nil {
		return err
	}
	bar := staff.NewProgress(stderr, "rows")
	w := csv.NewWriter(stdout)
	if err := w.Write(Header); err != nil {
		return err
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for i, x := range rows {
		if err := w.Write([]string{str(x.isbn), str(x.title), strconv.Itoa(int(x.ct)), strconv.Itoa(int(x.ca))}); err != nil {
			return err
		}
		if i%100 == 0 || i == len(rows)-1 {
			bar.Update(i+1, len(rows))
		}
	}
	w.Flush()
	bar.Finish()
	if err := w.Error(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d items of school %s\n", len(rows), id)
	return nil
}
