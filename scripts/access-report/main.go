// Command access-report generates the access matrix (issue 16): for every
// account kind × resource × action × own/other school, the Rego decision
// with the ACL entry that decided, and what row security lets the same
// claims read, insert, update and delete, run on a fixture of two schools
// built on the real migrations. It writes docs/access-matrix.md (committed;
// `go test ./scripts/access-report/` fails when it is stale) and
// docs/access-matrix.html (a page with filters, for reviewers).
//
//	go run ./scripts/access-report            # or: make access-report
//	go run ./scripts/access-report -check     # exit 1 when the committed files are stale
//
// The database: ACCESS_REPORT_DATABASE_URL (a superuser; a database
// huey_access_report is created, migrated and dropped on it), else a
// private cluster under .data/access-report-postgres, stopped afterwards.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the migrator

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/pglocal"
)

const dbName = "huey_access_report"

func main() {
	mdPath := flag.String("md", "docs/access-matrix.md", "the Markdown matrix to write")
	htmlPath := flag.String("html", "docs/access-matrix.html", "the HTML page to write")
	check := flag.Bool("check", false, "only compare with the files; exit 1 when they differ")
	flag.Parse()
	if err := run(*mdPath, *htmlPath, *check); err != nil {
		fmt.Fprintln(os.Stderr, "access-report:", err)
		os.Exit(1)
	}
}

func run(mdPath, htmlPath string, check bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	superURL, stop, err := server()
	if err != nil {
		return err
	}
	defer stop()
	u, err := url.Parse(superURL)
	if err != nil {
		return err
	}
	admin, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+dbName+` WITH (FORCE)`); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+dbName); err != nil {
		return err
	}
	defer func() { _, _ = admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+dbName+` WITH (FORCE)`) }()
	u.Path = "/" + dbName
	if err := migrate(ctx, u.String()); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return err
	}
	m, err := generate(ctx, conn)
	_ = conn.Close(ctx)
	if err != nil {
		return err
	}
	md, page, err := render(m)
	if err != nil {
		return err
	}
	if check {
		for path, want := range map[string]string{mdPath: md, htmlPath: page} {
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				return fmt.Errorf("%s is stale: run make access-report", path)
			}
		}
	} else {
		for path, body := range map[string]string{mdPath: md, htmlPath: page} {
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				return err
			}
		}
	}
	for _, c := range m.Unexplained() {
		fmt.Fprintf(os.Stderr, "access-report: not in the allow-list: %s | %s | %s | %s — %s (%s %s)\n",
			c.Account, c.Resource, c.Tenant, c.Action, c.Mismatch, c.RLSOp, c.RLS)
	}
	fmt.Printf("access-report: %d cells, %d disagreements (%d not in the allow-list), %s\n",
		len(m.Cells), countMismatches(m), len(m.Unexplained()), time.Since(start).Round(time.Millisecond))
	if !check {
		fmt.Printf("access-report: wrote %s and %s\n", mdPath, htmlPath)
	}
	return nil
}

func countMismatches(m *Matrix) int {
	n := 0
	for _, c := range m.Cells {
		if c.Mismatch != "" {
			n++
		}
	}
	return n
}

// generate computes the matrix on a freshly migrated database (conn: a superuser).
func generate(ctx context.Context, conn *pgx.Conn) (*Matrix, error) {
	engine, err := policies.New(ctx)
	if err != nil {
		return nil, err
	}
	allow, err := parseAllowlist(allowlistText)
	if err != nil {
		return nil, err
	}
	m, err := Generate(ctx, conn, engine, allow)
	if err != nil {
		return nil, err
	}
	m.allow = allow
	return m, nil
}

func render(m *Matrix) (string, string, error) {
	page, err := m.HTML()
	return m.Markdown(), page, err
}

// server returns a superuser URL (any database) and how to stop what was started.
func server() (string, func(), error) {
	if v := os.Getenv("ACCESS_REPORT_DATABASE_URL"); v != "" {
		return v, func() {}, nil
	}
	root, err := pglocal.ModuleRoot()
	if err != nil {
		return "", nil, err
	}
	dir, _, err := pglocal.ResolveDir(filepath.Join(root, ".data", "access-report-postgres"))
	if err != nil {
		return "", nil, err
	}
	c, err := pglocal.Start(pglocal.Options{Dir: dir})
	if err != nil {
		return "", nil, fmt.Errorf("start postgres (or set ACCESS_REPORT_DATABASE_URL): %w", err)
	}
	return c.SuperuserURL("postgres"), func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "access-report:", err)
		}
	}, nil
}

func migrate(ctx context.Context, u string) error {
	if _, err := schema.MigrateURL(ctx, u, schema.MigrateOptions{}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
