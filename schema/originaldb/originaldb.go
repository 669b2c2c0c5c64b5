// Package originaldb builds, for tests, a database shaped like one the
// original service created and still runs on: its tables at Alembic head
// 3252097e86db, owned (as on Cloud SQL) by a non-superuser login with
// CREATEROLE, with no roles of ours, no row security, and the original's own
// quirks that a takeover must reconcile (issue 13):
//
//   - update_edition_title() with unqualified table names and an UPDATE …
//     FROM works without a join condition (an edition gets some other work's
//     title);
//   - the original's 12 hue rows: slot 7 is hue08_charming_inspiring
//     ("Charming/Inspiring"), slot 12 hue13_straightforward ("Straightforward"),
//     no hue04_joyful_charming, info NULL;
//   - search_view_v1 joining an author's names without COALESCE (an author
//     without a first name contributes nothing);
//   - an alembic_version table and some out-of-scope tables (CMS, chat).
//
// It is built from our baseline migration and the facts above (spec/domain.md,
// issue 13); nothing is copied from the original's code.
package originaldb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema"
)

// AlembicHead is the original's migration head this project takes over.
const AlembicHead = "3252097e86db"

// Original is a database built by Create.
type Original struct {
	Owner    string // the deploying login: owns the database and every table
	Password string
}

// SQL is the original's schema and seed rows, as its owner runs it.
func SQL() (string, error) {
	files, err := schema.Dir().Files()
	if err != nil {
		return "", err
	}
	s := string(files[0].Bytes())
	for _, r := range []struct{ from, to, with string }{
		{"CREATE FUNCTION public.update_edition_title() RETURNS trigger", "CREATE TRIGGER update_edition_title_trigger", originalTitleTrigger},
		{"INSERT INTO public.hues (id, key, name, info) VALUES", "SELECT setval('public.hues_id_seq', 13, true);", originalHues},
	} {
		i := strings.Index(s, r.from)
		j := strings.Index(s, r.to)
		if i < 0 || j < i {
			return "", fmt.Errorf("originaldb: the baseline no longer has %q … %q", r.from, r.to)
		}
		if strings.HasPrefix(r.to, "SELECT setval") {
			j += len(r.to)
		}
		s = s[:i] + r.with + s[j:]
	}
	const ourNames = "COALESCE(au.first_name || ' ', '') || au.last_name"
	if !strings.Contains(s, ourNames) {
		return "", fmt.Errorf("originaldb: the baseline's search_view_v1 changed")
	}
	s = strings.Replace(s, ourNames, "au.first_name || ' ' || au.last_name", 1)
	return s + outOfScope, nil
}

const originalTitleTrigger = `CREATE FUNCTION public.update_edition_title() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE editions SET title = COALESCE(editions.edition_title, works.title)
    FROM works
    WHERE editions.id = NEW.id;
    RETURN NULL;
END;
$$;

`

const originalHues = `INSERT INTO public.hues (id, key, name, info) VALUES
    (1, 'hue01_dark_suspense', 'Dark/Suspense', NULL),
    (2, 'hue02_beautiful_whimsical', 'Beautiful/Whimsical', NULL),
    (3, 'hue03_dark_beautiful', 'Dark/Beautiful', NULL),
    (4, 'hue05_funny_comic', 'Funny/Comic', NULL),
    (5, 'hue06_dark_gritty', 'Dark/Gritty', NULL),
    (6, 'hue07_silly_charming', 'Silly/Charming', NULL),
    (7, 'hue08_charming_inspiring', 'Charming/Inspiring', NULL),
    (8, 'hue09_charming_playful', 'Charming/Playful', NULL),
    (9, 'hue10_inspiring', 'Inspiring', NULL),
    (10, 'hue11_realistic_hope', 'Realistic/Hope', NULL),
    (11, 'hue12_funny_quirky', 'Funny/Quirky', NULL),
    (12, 'hue13_straightforward', 'Straightforward', NULL);
SELECT setval('public.hues_id_seq', 12, true);`

const outOfScope = `
CREATE TABLE public.alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO public.alembic_version VALUES ('` + AlembicHead + `');
CREATE TABLE public.cms_content (id uuid PRIMARY KEY, type text NOT NULL, content jsonb);
CREATE TABLE public.conversation_sessions (id uuid PRIMARY KEY, user_id uuid REFERENCES public.users (id), state jsonb);
`

// Create builds the original's database in the empty database superURL names:
// a new login (LOGIN CREATEROLE, not a superuser) becomes the database's
// owner and creates everything. urlFor gives the URL of that database for a
// login and password.
func Create(ctx context.Context, superURL string, urlFor func(user, password string) string) (Original, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	o := Original{Owner: "original_" + hex.EncodeToString(b), Password: hex.EncodeToString(b) + "-pw"}
	ddl, err := SQL()
	if err != nil {
		return o, err
	}
	su, err := pgx.Connect(ctx, superURL)
	if err != nil {
		return o, err
	}
	defer su.Close(ctx)
	var dbName string
	if err := su.QueryRow(ctx, `SELECT current_database()`).Scan(&dbName); err != nil {
		return o, err
	}
	for _, q := range []string{
		fmt.Sprintf(`CREATE ROLE %s LOGIN CREATEROLE PASSWORD '%s'`, o.Owner, o.Password),
		fmt.Sprintf(`ALTER DATABASE %s OWNER TO %s`, pgx.Identifier{dbName}.Sanitize(), o.Owner),
	} {
		if _, err := su.Exec(ctx, q); err != nil {
			return o, fmt.Errorf("originaldb: %s: %w", q, err)
		}
	}
	conn, err := pgx.Connect(ctx, urlFor(o.Owner, o.Password))
	if err != nil {
		return o, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, ddl); err != nil {
		return o, fmt.Errorf("originaldb: create the original's schema: %w", err)
	}
	return o, nil
}
