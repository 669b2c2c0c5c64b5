package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema"
	"github.com/wriveted/huey-api/schema/benchdata"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/pglocal"
)

// The login roles the migrations create, and the bench's own one.
const (
	roleAPI   = "huey_api"
	roleIdeal = "huey_bench_ideal" // BYPASSRLS, reads only: the "ideal SQL" runs as it
)

var migrationLogins = []string{"huey_api", "huey_owner", "huey_staff_ro", "huey_staff_rw"}

// target is the database the bench runs against: its server's superuser URL
// (any database) and the bench database's name.
type target struct {
	superURL     *url.URL // path = the database
	rolePassword string
	cluster      *pglocal.Cluster // nil with BENCH_DATABASE_URL
}

// urlFor returns the bench database's URL for a login.
func (t *target) urlFor(user, password string) string {
	u := *t.superURL
	u.User = url.UserPassword(user, password)
	return u.String()
}

func (t *target) superuserURL() string { return t.superURL.String() }

func (t *target) dbName() string { return t.superURL.Path[1:] }

// withDB returns u pointing at database name.
func withDB(u *url.URL, name string) *url.URL {
	c := *u
	c.Path = "/" + name
	return &c
}

// derivePassword derives the login roles' password from the superuser's, as
// schema/dbtest does, so the bench and the tests agree on a shared server.
func derivePassword(superPassword, what string) string {
	sum := sha256.Sum256([]byte(superPassword + "/" + what))
	return hex.EncodeToString(sum[:16])
}

// startCluster starts the bench's private cluster (fsync off: the data is
// rebuilt from the fixture at will).
func startCluster(dataDir string) (*pglocal.Cluster, error) {
	dir, moved, err := pglocal.ResolveDir(filepath.Join(dataDir, "bench-postgres"))
	if err != nil {
		return nil, err
	}
	if moved {
		say("the postgres user cannot reach %s, so the bench cluster lives in %s", filepath.Join(dataDir, "bench-postgres"), dir)
	}
	start := time.Now()
	c, err := pglocal.Start(pglocal.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	say("bench cluster on 127.0.0.1:%d (%s, %s)", c.Port, dir, time.Since(start).Round(time.Millisecond))
	return c, nil
}

// fixtureTag names what a loaded database holds: the migrations' checksum,
// the fixture's size and script, and the bench's own additions (ideal.go).
// It is kept as the database's comment; a run whose tag matches reuses it.
func fixtureTag(z benchdata.Size) (string, error) {
	sum, err := schema.Dir().Checksum()
	if err != nil {
		return "", err
	}
	script, err := z.SQL()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%+v\n%s\n%s\n", sum.Sum(), z, script, idealSetupSQL)
	return "huey bench fixture " + hex.EncodeToString(h.Sum(nil))[:24], nil
}

// prepareDatabase makes sure database t.dbName() holds the migrated schema
// and the fixture of size z: reused when its tag matches (and fresh is
// false), rebuilt otherwise. It also sets the login roles' passwords and
// creates the ideal role.
func prepareDatabase(ctx context.Context, t *target, z benchdata.Size, fresh bool) error {
	tag, err := fixtureTag(z)
	if err != nil {
		return err
	}
	admin, err := pgx.Connect(ctx, withDB(t.superURL, "postgres").String())
	if err != nil {
		return fmt.Errorf("connect as superuser: %w", err)
	}
	defer admin.Close(ctx)
	var super bool
	if err := admin.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		return err
	}
	if !super {
		return errors.New("BENCH_DATABASE_URL must name a superuser (the fixture skips triggers and creates a role)")
	}
	name := t.dbName()
	var exists bool
	var comment *string
	if err := admin.QueryRow(ctx, `SELECT true, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`,
		name).Scan(&exists, &comment); err != nil && !db.IsNotFound(err) {
		return err
	}
	if exists && !fresh && comment != nil && *comment == tag {
		say("reusing database %s (fixture unchanged; -fresh rebuilds it)", name)
		return setupRoles(ctx, t)
	}
	if exists {
		say("dropping database %s (%s)", name, map[bool]string{true: "-fresh", false: "migrations or fixture changed"}[fresh])
		if _, err := admin.Exec(ctx, `DROP DATABASE `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	start := time.Now()
	if err := migrate(ctx, t.superuserURL()); err != nil {
		return err
	}
	say("migrated %s (%s)", name, time.Since(start).Round(time.Millisecond))
	if err := setupRoles(ctx, t); err != nil {
		return err
	}
	start = time.Now()
	conn, err := pgx.Connect(ctx, t.superuserURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	say("loading the fixture (%d schools × %d accounts, %d editions, %d items each, %d + %d big) …",
		z.Schools, z.Members, z.Editions, z.Items, z.BigItems, z.LMSItems)
	if err := benchdata.Load(ctx, conn, z); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, idealSetupSQL); err != nil {
		return fmt.Errorf("ideal tables and grants: %w", err)
	}
	if _, err := conn.Exec(ctx, `COMMENT ON DATABASE `+pgx.Identifier{name}.Sanitize()+` IS `+quoteLiteral(tag)); err != nil {
		return err
	}
	say("fixture loaded (%s)", time.Since(start).Round(time.Second))
	return nil
}

func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

func migrate(ctx context.Context, u string) error {
	if _, err := schema.MigrateURL(ctx, u, schema.MigrateOptions{}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// setupRoles gives the migrations' login roles the derived password (when
// they do not already log in with it) and creates the ideal role. Roles are
// cluster-wide: on a shared server this is what schema/dbtest does too.
func setupRoles(ctx context.Context, t *target) error {
	works := func(role string) bool {
		c, err := pgx.Connect(ctx, t.urlFor(role, t.rolePassword))
		if err != nil {
			return false
		}
		_ = c.Close(ctx)
		return true
	}
	conn, err := pgx.Connect(ctx, t.superuserURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, r := range migrationLogins {
		if works(r) {
			continue
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD %s", r, quoteLiteral(t.rolePassword))); err != nil {
			return fmt.Errorf("set the password of %s: %w", r, err)
		}
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[1]s') THEN
    CREATE ROLE %[1]s LOGIN BYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
ALTER ROLE %[1]s PASSWORD %[2]s;
ALTER ROLE %[1]s SET jit = off;`, roleIdeal, quoteLiteral(t.rolePassword))); err != nil {
		return fmt.Errorf("create role %s: %w", roleIdeal, err)
	}
	return nil
}
