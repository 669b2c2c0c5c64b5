// Command import-collection loads a school library's catalogue export into
// the school's collection:
//
//	go run ./scripts/import-collection -school 6f1c… -file ../shared/data/library-export.csv
//	go run ./scripts/import-collection -school 6f1c… -file export.csv -dry-run
//
// The file is a CSV with a header row naming at least an ISBN column
// (case-insensitive; Copies and Available are read when present, every other
// column — Barcode, Title, Author, Location — is ignored). ISBNs are
// normalised as the API does (hyphens, spaces, ISBN-10 → ISBN-13); rows
// without an ISBN, with an invalid one, or with copies that are not whole
// numbers ≥ 0 are skipped and counted by reason; rows repeating an ISBN (one
// book on several barcodes) are merged into the first, their copies added.
// Copies defaults to 1 and Available to Copies.
//
// It writes through the same set-based statements as the LMS
// PATCH /v1/collection/{id} (schema/collection: ApplyPatch, in chunks of 500
// rows for the progress bar), all in one transaction: a new ISBN is added (an
// unknown one becomes a bare edition), an item whose copies differ is
// updated, the rest is unchanged; items the file does not name are left as
// they are. The editions it added that are not hydrated yet are queued for
// hydration (hydrate-bulk tasks of 500). The school's collection is created
// when it has none. -dry-run does all of it and rolls back. The report (rows
// read; items added, updated, unchanged; rows skipped by reason, merged)
// goes to stdout, and a "Staff: import-collection" event records the actor
// and the counts. A second import of the same file changes nothing.
//
// Role: it logs in as huey_staff_rw (STAFF_DATABASE_URL) and its transaction
// runs as huey_job_import_collection with the principal
// staff-school:<school>, so row security lets it read and write that one
// school's collection and items only (no delete), read editions, and call
// huey.school_attrs, huey.ensure_bare_editions, huey.staff_queue_hydration
// and huey.staff_record_event.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/collection"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/scripts/internal/staff"
)

func main() { staff.Main("import-collection", run) }

var job = staff.Job{Script: "import-collection", Login: staff.LoginRW, Role: staff.RoleImportCollection}

// chunk is how many rows one ApplyPatch call carries.
const chunk = 500

// report counts what an import did.
type report struct {
	rows, added, updated, unchanged, merged int
	skipped                                 map[string]int
	bareEditions, hydrationTasks            int
	collectionCreated                       bool
}

func (r report) skippedTotal() int {
	n := 0
	for _, v := range r.skipped {
		n += v
	}
	return n
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := staff.NewFlags(job.Script, stderr)
	school := fs.String("school", "", "the school's `ID` (its wriveted identifier, a uuid; required)")
	file := fs.String("file", "", "the library export CSV `PATH` (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *school == "" || *file == "" {
		return errors.New("give the school and the file: -school ID -file PATH")
	}
	schoolID, err := uuid.Parse(*school)
	if err != nil {
		return fmt.Errorf("-school: not a school id (a uuid): %q", *school)
	}
	f, err := os.Open(*file) // #nosec G304 -- the operator names the file
	if err != nil {
		return err
	}
	defer f.Close()
	rows, rep, err := parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	s, err := staff.Open(ctx, getenv, job, *fs.DryRun)
	if err != nil {
		return err
	}
	defer s.Close()

	start := time.Now()
	bar := staff.NewProgress(stderr, "rows")
	var collID uuid.UUID
	err = s.Write(ctx, s.Claims("staff-school:"+schoolID.String()), func(tx *db.Tx) error {
		var err error
		collID, err = importRows(ctx, tx, s, schoolID, rows, &rep, bar)
		return err
	})
	bar.Finish()
	if err != nil {
		return err
	}
	took := time.Since(start).Round(time.Millisecond)
	if s.DryRun {
		fmt.Fprintf(stdout, "dry run of %s into school %s (%s): rolled back, nothing was written\n", *file, schoolID, took)
	} else {
		fmt.Fprintf(stdout, "imported %s into school %s, collection %s (%s)\n", *file, schoolID, collID, took)
	}
	fmt.Fprintln(stdout, rep.summary())
	return nil
}

// importRows applies rows to the school's collection in tx and records the
// audit event; it returns the collection's id.
func importRows(ctx context.Context, tx *db.Tx, s *staff.Session, school uuid.UUID, rows []row,
	rep *report, bar *staff.Progress) (uuid.UUID, error) {
	if err := collection.UsePlanPerCall(ctx, tx); err != nil {
		return uuid.Nil, err
	}
	var schoolWID int64
	if err := tx.QueryRow(ctx, `SELECT id FROM huey.school_attrs($1)`, school).Scan(&schoolWID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, fmt.Errorf("no school %s", school)
		}
		return uuid.Nil, err
	}
	collID, created, err := schoolCollection(ctx, tx, school)
	if err != nil {
		return uuid.Nil, err
	}
	rep.collectionCreated = created

	isbns := make([]string, len(rows))
	for i, r := range rows {
		isbns[i] = r.isbn
	}
	type copies struct{ total, available int }
	held := map[string]copies{}
	q, err := tx.Query(ctx, `SELECT edition_isbn, copies_total, copies_available FROM collection_items
		WHERE collection_id = $1 AND edition_isbn = ANY ($2)`, collID, isbns)
	if err != nil {
		return uuid.Nil, err
	}
	for q.Next() {
		var (
			isbn string
			c    copies
		)
		if err := q.Scan(&isbn, &c.total, &c.available); err != nil {
			q.Close()
			return uuid.Nil, err
		}
		held[isbn] = c
	}
	q.Close()
	if err := q.Err(); err != nil {
		return uuid.Nil, err
	}

	add, update := "add", "update"
	var added []string
	bar.Update(0, len(rows))
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		var items []collection.Item
		for _, r := range part {
			h, ok := held[r.isbn]
			switch {
			case !ok:
				items = append(items, collection.Item{Action: &add, EditionISBN: &r.isbn, CopiesTotal: &r.copies, CopiesAvailable: &r.available})
				if r.copies == 0 || r.available == 0 {
					// the add path reads a 0 as "not given" (as the API does);
					// the update that follows in the same patch stores it
					items = append(items, collection.Item{Action: &update, EditionISBN: &r.isbn, CopiesTotal: &r.copies, CopiesAvailable: &r.available})
				}
				added = append(added, r.isbn)
				rep.added++
			case h.total != r.copies || h.available != r.available:
				items = append(items, collection.Item{Action: &update, EditionISBN: &r.isbn, CopiesTotal: &r.copies, CopiesAvailable: &r.available})
				rep.updated++
			default:
				rep.unchanged++
			}
		}
		if len(items) > 0 {
			plan, err := collection.PlanPatch(items)
			if err != nil {
				return uuid.Nil, err
			}
			res, err := collection.ApplyPatch(ctx, tx, collID, plan, collection.AddOptions{Conflict: collection.ConflictMerge, SchoolID: &schoolWID})
			if err != nil {
				return uuid.Nil, err
			}
			rep.bareEditions += res.Unhydrated // the added ISBNs whose editions are bare or not hydrated yet
		}
		bar.Update(start+len(part), len(rows))
	}
	if len(added) > 0 {
		if err := tx.QueryRow(ctx, `SELECT huey.staff_queue_hydration($1)`, added).Scan(&rep.hydrationTasks); err != nil {
			return uuid.Nil, err
		}
	}
	if rep.added+rep.updated == 0 && !rep.collectionCreated {
		return collID, nil // nothing written, nothing to record
	}
	info := map[string]any{"collection_id": collID.String(), "rows": rep.rows, "added": rep.added, "updated": rep.updated,
		"unchanged": rep.unchanged, "merged": rep.merged, "skipped": rep.skipped, "unhydrated": rep.bareEditions,
		"hydration_tasks": rep.hydrationTasks, "collection_created": rep.collectionCreated}
	return collID, s.Audit(ctx, tx, fmt.Sprintf("Imported a library export into collection %s: %d added, %d updated",
		collID, rep.added, rep.updated), &schoolWID, info)
}

// schoolCollection returns the school's collection (the oldest, as the API
// does), creating it when the school has none.
func schoolCollection(ctx context.Context, tx *db.Tx, school uuid.UUID) (uuid.UUID, bool, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM collections WHERE school_id = $1 ORDER BY created_at, id LIMIT 1`, school).Scan(&id)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return id, false, err
	}
	id = uuid.New()
	_, err = tx.Exec(ctx, `INSERT INTO collections (id, school_id, name, info, created_at, updated_at)
		VALUES ($1, $2, 'Library', '{}', huey.utcnow(), huey.utcnow())`, id, school)
	return id, true, err
}

// summary is the report's line: "rows 2503: added 2500, updated 0,
// unchanged 0; skipped 2 (invalid ISBN 1, no ISBN 1); merged 1; …".
func (r report) summary() string {
	var reasons []string
	for k, v := range r.skipped {
		reasons = append(reasons, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(reasons)
	skipped := fmt.Sprint(r.skippedTotal())
	if len(reasons) > 0 {
		skipped += " (" + strings.Join(reasons, ", ") + ")"
	}
	s := fmt.Sprintf("rows %d: added %d, updated %d, unchanged %d; skipped %s; merged %d (duplicate ISBNs); "+
		"added without a hydrated edition %d; hydration tasks queued %d",
		r.rows, r.added, r.updated, r.unchanged, skipped, r.merged, r.bareEditions, r.hydrationTasks)
	if r.collectionCreated {
		s += "; the school's collection was created"
	}
	return s
}
