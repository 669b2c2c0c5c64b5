package catalog

import (
	"context"
	"encoding/json"
	"fmt"
)

// nameKeySQL is the name_key generated column of authors and illustrators
// (domain.md §6.1), applied to input columns first_name and last_name: look-ups
// compute the key exactly as the column does.
const nameKeySQL = `lower(regexp_replace(coalesce(t.first_name, '') || t.last_name, '\W|_', '', 'g'))`

// titleKeySQL is the title_key generated column of series (domain.md §6.5).
const titleKeySQL = `lower(regexp_replace(lower(t.title), '(^(\w*the ))|(^(\w*a ))|[^a-z0-9]', '', 'g'))`

// GetOrCreateAuthors returns the id of each person's author, creating the
// authors whose name key is new, in one statement. ids[i] belongs to
// people[i]; people with equal name keys share an id (the first one's names
// and info are stored).
func GetOrCreateAuthors(ctx context.Context, tx DBTX, people []Person) ([]int64, error) {
	ids, err := getOrCreatePeople(ctx, tx, "authors", people)
	if err != nil {
		return nil, fmt.Errorf("get or create authors: %w", err)
	}
	return ids, nil
}

// GetOrCreateIllustrators is GetOrCreateAuthors for illustrators.
func GetOrCreateIllustrators(ctx context.Context, tx DBTX, people []Person) ([]int64, error) {
	ids, err := getOrCreatePeople(ctx, tx, "illustrators", people)
	if err != nil {
		return nil, fmt.Errorf("get or create illustrators: %w", err)
	}
	return ids, nil
}

// GetOrCreateSeries returns the id of each title's series, creating the
// series whose title key is new (a leading "the "/"a " and every
// non-alphanumeric ignored, so "The Treehouse" = "Treehouse"), in one
// statement. ids[i] belongs to titles[i].
func GetOrCreateSeries(ctx context.Context, tx DBTX, titles []string) ([]int64, error) {
	if len(titles) == 0 {
		return nil, nil
	}
	const q = `
WITH input AS (
  SELECT t.ord, t.title, ` + titleKeySQL + ` AS title_key
  FROM unnest($1::text[]) WITH ORDINALITY AS t(title, ord)
), created AS (
  INSERT INTO public.series (title)
  SELECT DISTINCT ON (title_key) title FROM input ORDER BY title_key, ord
  ON CONFLICT DO NOTHING
  RETURNING id, title_key
)
SELECT i.title_key, coalesce(c.id, s.id)
FROM input i
LEFT JOIN created c ON c.title_key = i.title_key
LEFT JOIN public.series s ON s.title_key = i.title_key
ORDER BY i.ord`
	ids, err := keyedIDs(ctx, tx, len(titles), q, `SELECT title_key, id FROM public.series WHERE title_key = ANY($1)`, titles)
	if err != nil {
		return nil, fmt.Errorf("get or create series: %w", err)
	}
	return ids, nil
}

// getOrCreatePeople is GetOrCreateAuthors for table authors or illustrators.
func getOrCreatePeople(ctx context.Context, tx DBTX, table string, people []Person) ([]int64, error) {
	if len(people) == 0 {
		return nil, nil
	}
	first := make([]*string, len(people))
	last := make([]string, len(people))
	info := make([]*string, len(people))
	for i, p := range people {
		first[i], last[i] = p.FirstName, p.LastName
		if p.Info != nil {
			b, err := json.Marshal(p.Info)
			if err != nil {
				return nil, fmt.Errorf("encode info of %s: %w", p.LastName, err)
			}
			s := string(b)
			info[i] = &s
		}
	}
	// table is one of two constants, never input.
	q := `
WITH input AS (
  SELECT t.ord, t.first_name, t.last_name, t.info, ` + nameKeySQL + ` AS name_key
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(first_name, last_name, info, ord)
), created AS (
  INSERT INTO public.` + table + ` (first_name, last_name, info)
  SELECT DISTINCT ON (name_key) first_name, last_name, coalesce(info::jsonb, '{}'::jsonb)
  FROM input ORDER BY name_key, ord
  ON CONFLICT (name_key) DO NOTHING
  RETURNING id, name_key
)
SELECT i.name_key, coalesce(c.id, p.id)
FROM input i
LEFT JOIN created c ON c.name_key = i.name_key
LEFT JOIN public.` + table + ` p ON p.name_key = i.name_key
ORDER BY i.ord`
	return keyedIDs(ctx, tx, len(people), q, `SELECT name_key, id FROM public.`+table+` WHERE name_key = ANY($1)`,
		first, last, info)
}

// keyedIDs runs an insert-ignore-and-select statement returning (key, id)
// per input row, in input order. A row inserted by a concurrent transaction
// that committed after the statement's snapshot has no id yet: those keys
// are looked up again with retry (a new statement, a new snapshot).
func keyedIDs(ctx context.Context, tx DBTX, n int, q, retry string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, n)
	ids := make([]int64, 0, n)
	var missing []string
	for rows.Next() {
		var key string
		var id *int64
		if err := rows.Scan(&key, &id); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, key)
		if id == nil {
			missing = append(missing, key)
			ids = append(ids, 0)
		} else {
			ids = append(ids, *id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, fmt.Errorf("got %d ids for %d rows", len(ids), n)
	}
	if len(missing) == 0 {
		return ids, nil
	}
	found := map[string]int64{}
	rows, err = tx.Query(ctx, retry, missing)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var key string
		var id int64
		if err := rows.Scan(&key, &id); err != nil {
			rows.Close()
			return nil, err
		}
		found[key] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, id := range ids {
		if id != 0 {
			continue
		}
		if ids[i] = found[keys[i]]; ids[i] == 0 {
			return nil, fmt.Errorf("row with key %q neither created nor visible", keys[i])
		}
	}
	return ids, nil
}
