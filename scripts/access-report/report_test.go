package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// The matrix is generated once per test binary, on a fresh migrated database.
var (
	once   sync.Once
	matrix *Matrix
	genErr error
)

func theMatrix(t *testing.T) *Matrix {
	t.Helper()
	once.Do(func() {
		d := dbtest.NewDB(t)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, d.SuperuserURL())
		if err != nil {
			genErr = err
			return
		}
		defer conn.Close(ctx)
		matrix, genErr = generate(ctx, conn)
	})
	if genErr != nil {
		t.Fatal(genErr)
	}
	return matrix
}

// TestAccessMatrixFresh (issue 16 item 2): the committed matrix is what the
// policies and migrations produce now, so every access change shows up in
// review as a diff of docs/access-matrix.md. Regenerate with make access-report.
func TestAccessMatrixFresh(t *testing.T) {
	m := theMatrix(t)
	md, page, err := render(m)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"access-matrix.md": md, "access-matrix.html": page} {
		got, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Errorf("docs/%s: %v (run make access-report)", name, err)
			continue
		}
		if string(got) != want {
			t.Errorf("docs/%s is stale: a policy or migration changed access; run make access-report and review the diff", name)
		}
	}
}

// TestAccessCrossCheck (issue 16 item 2): every cell where the policy allows
// but row security refuses (a 404 the policy did not predict), or the policy
// refuses but row security would allow (the policy is the only guard), is in
// the reviewed allow-list with its reason; and no allow-list entry is stale.
func TestAccessCrossCheck(t *testing.T) {
	m := theMatrix(t)
	for _, c := range m.Unexplained() {
		t.Errorf("%s | %s | %s | %s: %s (policy %s %s; row security %s %s): fix the policy or the row policies, or add it to scripts/access-report/allowlist.txt with a reason",
			c.Account, c.Resource, c.Tenant, c.Action, c.Mismatch, c.Entry.File, c.Entry.N, c.RLSOp, c.RLS)
	}
	for _, e := range unused(m.allow) {
		t.Errorf("allowlist.txt:%d (%s | %s | %s | %s) matches no disagreement any more: remove it", e.Line, e.Account, e.Resource, e.Tenant, e.Action)
	}
	if len(m.Cells) < 500 {
		t.Errorf("only %d cells", len(m.Cells))
	}
}
