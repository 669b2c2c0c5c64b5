package schema_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/dbtest"
)

// dirUpTo is the migrations directory without the files from version on
// (with its own atlas.sum), to migrate a database to just before a change.
func dirUpTo(t *testing.T, version string) schema.FSDir {
	t.Helper()
	mfs := fstest.MapFS{}
	files, err := schema.Dir().Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Version() < version {
			mfs[f.Name()] = &fstest.MapFile{Data: f.Bytes()}
		}
	}
	dir := schema.FSDir{FS: mfs}
	sum, err := dir.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	b, err := sum.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	mfs["atlas.sum"] = &fstest.MapFile{Data: b}
	return dir
}

// R9 (issue 12): usernames are unique in a school ignoring case. Migration
// 015 renames existing case variants (the earliest account keeps the name)
// with an event each, then the index refuses new ones.
func TestHardening_R9_UsernamesUniqueIgnoringCase(t *testing.T) {
	ctx := context.Background()
	d := dbtest.EmptyDB(t)
	db := openSQL(t, d.SuperuserURL())
	if _, err := schema.Migrate(ctx, db, dirUpTo(t, "20261127000015"), schema.MigrateOptions{}); err != nil {
		t.Fatalf("migrate to 014: %v", err)
	}
	conn, err := pgx.Connect(ctx, d.SuperuserURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(`INSERT INTO schools (id, name, state, wriveted_identifier) VALUES
		(1, 'One', 'ACTIVE', '00000000-0000-4000-8000-00000000000a'), (2, 'Two', 'ACTIVE', '00000000-0000-4000-8000-00000000000b');
		INSERT INTO class_groups (id, school_id, name) VALUES
		('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-00000000000a', 'C'),
		('00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-00000000000b', 'C')`)
	students := []struct {
		id, username string
		school       int
		created      string
	}{
		{"00000000-0000-4000-8000-000000000001", "alice", 1, "2024-01-01"},
		{"00000000-0000-4000-8000-000000000002", "ALICE", 1, "2024-02-01"},
		{"00000000-0000-4000-8000-000000000003", "Alice", 1, "2024-03-01"},
		{"00000000-0000-4000-8000-000000000004", "alice2", 1, "2024-04-01"}, // the first suffix is taken
		{"00000000-0000-4000-8000-000000000005", "ALICE", 2, "2024-01-01"},  // another school: no conflict
	}
	for _, s := range students {
		mustExec(`INSERT INTO users (id, is_active, name, created_at, updated_at, type) VALUES ($1, true, 'S', $2, $2, 'STUDENT')`, s.id, s.created)
		mustExec(`INSERT INTO readers (id) VALUES ($1)`, s.id)
		mustExec(`INSERT INTO students (id, school_id, class_group_id, username) VALUES ($1, $2, $3, $4)`,
			s.id, s.school, map[int]string{1: "00000000-0000-4000-8000-0000000000c1", 2: "00000000-0000-4000-8000-0000000000c2"}[s.school], s.username)
	}
	if _, err := schema.Migrate(ctx, db, schema.Dir(), schema.MigrateOptions{}); err != nil {
		t.Fatalf("migrate 015 over case-variant usernames: %v", err)
	}
	want := map[string]string{
		"00000000-0000-4000-8000-000000000001": "alice", "00000000-0000-4000-8000-000000000002": "ALICE3",
		"00000000-0000-4000-8000-000000000003": "Alice4", "00000000-0000-4000-8000-000000000004": "alice2",
		"00000000-0000-4000-8000-000000000005": "ALICE",
	}
	for id, name := range want {
		var got string
		if err := conn.QueryRow(ctx, `SELECT username FROM students WHERE id = $1`, id).Scan(&got); err != nil || got != name {
			t.Errorf("student %s: username %q (%v), want %q", id, got, err, name)
		}
	}
	var events int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM events WHERE title = 'Student username changed' AND school_id = 1`).Scan(&events); err != nil || events != 2 {
		t.Errorf("rename events: %d (%v), want 2", events, err)
	}
	_, err = conn.Exec(ctx, `UPDATE students SET username = 'aLiCe' WHERE id = '00000000-0000-4000-8000-000000000004'`)
	if err == nil || !strings.Contains(err.Error(), "uq_students_school_lower_username") {
		t.Fatalf("a case variant in the same school: %v, want a unique violation", err)
	}
}
