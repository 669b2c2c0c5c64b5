package schema_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// The embedded directory and the one on disk both match atlas.sum: a
// migration edited after its hash was written fails here, without the CLI.
func TestAtlasSumMatchesMigrations(t *testing.T) {
	t.Parallel()
	if err := migrate.Validate(schema.Dir()); err != nil {
		t.Fatalf("embedded migrations: %v (run `go run ./scripts/migrate-hash` only for a NEW file)", err)
	}
	local, err := migrate.NewLocalDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.Validate(local); err != nil {
		t.Fatalf("migrations on disk: %v", err)
	}
}

func TestEditedMigrationIsDetected(t *testing.T) {
	t.Parallel()
	mfs := fstest.MapFS{}
	err := fs.WalkDir(schema.Dir(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(schema.Dir(), p)
		mfs[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := schema.Dir().Files()
	first := files[0].Name()
	mfs[first] = &fstest.MapFile{Data: append(mfs[first].Data, []byte("\n-- sneaky edit\n")...)}
	err = migrate.Validate(schema.FSDir{FS: mfs})
	var cerr *migrate.ChecksumError
	if !errors.As(err, &cerr) || cerr.File != first || cerr.Reason != migrate.ReasonEdited {
		t.Fatalf("want ChecksumError(edited, %s), got %v", first, err)
	}
	if !errors.Is(err, migrate.ErrChecksumMismatch) {
		t.Fatalf("want ErrChecksumMismatch, got %v", err)
	}
}

func TestMigrateIsIdempotentAndStatusComplete(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	db := openSQL(t, d.SuperuserURL())
	applied, err := schema.Migrate(context.Background(), db, schema.Dir(), schema.MigrateOptions{})
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate: applied %v, err %v", applied, err)
	}
	st, err := schema.Status(context.Background(), db, schema.Dir())
	if err != nil {
		t.Fatal(err)
	}
	files, _ := schema.Dir().Files()
	if len(st) != len(files) {
		t.Fatalf("status lists %d files, want %d", len(st), len(files))
	}
	for _, s := range st {
		if !s.Applied || s.Baseline {
			t.Errorf("%s: applied=%v baseline=%v, want applied, not baseline", s.Version, s.Applied, s.Baseline)
		}
	}
	latest, _ := schema.Latest(schema.Dir())
	var rev string
	if err := db.QueryRow(`SELECT huey.database_revision()`).Scan(&rev); err != nil || rev != latest {
		t.Fatalf("huey.database_revision() = %q, %v; want %q", rev, err, latest)
	}
}

// A database created by the original service (its schema, no revisions of
// ours) is refused without -baseline, and with it only the later files run.
func TestBaselineTakesOverAnOriginalDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.EmptyDB(t)
	origURL := d.SuperuserURL()

	// The original's tables, plus one of its out-of-scope tables and alembic's.
	files, _ := schema.Dir().Files()
	conn, err := pgx.Connect(ctx, origURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, string(files[0].Bytes())+
		";CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY);"+
		"INSERT INTO public.alembic_version VALUES ('3252097e86db');"+
		"CREATE TABLE public.cms_content (id uuid PRIMARY KEY);")
	conn.Close(ctx)
	if err != nil {
		t.Fatalf("create original schema: %v", err)
	}

	db := openSQL(t, origURL)
	if _, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{}); err == nil ||
		!strings.Contains(err.Error(), "baseline") {
		t.Fatalf("migrate without -baseline on an original database: want a not-clean error, got %v", err)
	}
	applied, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{Baseline: files[0].Version()})
	if err != nil {
		t.Fatalf("migrate -baseline: %v", err)
	}
	if len(applied) != len(files)-1 || applied[0] != files[1].Version() {
		t.Fatalf("applied %v, want every file after the baseline", applied)
	}
	st, _ := schema.Status(ctx, db, schema.Dir())
	if !st[0].Baseline || !st[0].Applied || !st[1].Applied || st[1].Baseline {
		t.Fatalf("status after baseline: %+v", st)
	}
	// Tables we do not use stay untouched: no grants, no RLS changes.
	var grants int
	if err := db.QueryRow(`SELECT count(*) FROM information_schema.role_table_grants
		WHERE table_name = 'cms_content' AND grantee LIKE 'huey_%'`).Scan(&grants); err != nil || grants != 0 {
		t.Fatalf("out-of-scope table got %d grants (%v)", grants, err)
	}
}

func openSQL(t *testing.T, u string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
