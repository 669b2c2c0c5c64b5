package taskapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/tasks/jobs"
)

// hydrate-bulk (tasks.md §3.1, the intended behaviour).
//
// The whole task is one transaction (taskapi's rule: its effect and its done
// mark commit together), so every chunk is saved inside it and a crash
// rolls the whole list back for a redelivery. The provider is called inside
// that transaction too. A caller should therefore send lists of a few
// hundred ISBNs: POST /v1/hydrate splits its selection into tasks of at most
// 500.

// hydrateChunk is how many ISBNs are fetched before they are saved.
const hydrateChunk = 10

// hydrationStats are the counts of "Hydration: Finish" (tasks.md §3.1 step 5).
type hydrationStats struct {
	Total            int `json:"total"`             // ISBNs given
	Processed        int `json:"processed"`         // valid ISBNs the provider answered (any answer but unavailable/rate limited)
	Hydrated         int `json:"hydrated"`          // editions saved from a provider record
	WithLabelset     int `json:"with_labelset"`     // of those, with an estimated labelset applied to their work
	Errors           int `json:"errors"`            // provider errors, and records that could not be saved
	CombinedEditions int `json:"combined_editions"` // ISBNs skipped as another ISBN of a record already fetched
	NotFound         int `json:"not_found"`         // ISBNs the provider has no record of
	Invalid          int `json:"invalid"`           // strings that are not ISBNs (skipped)
}

// hydrated is one provider record, for the ISBN it was asked for.
type hydrated struct {
	isbn string
	data hydrate.HydratedBookData
}

// POST /v1/hydrate-bulk [isbn, …]: hydrates the editions in chunks of 10 and
// answers {"msg":"ok"}. Without a provider (NIELSEN_API_URL unset) a
// non-empty list is answered 503, so the queue retries it later.
func (s *server) postHydrateBulk(c echo.Context) error {
	var isbns []string
	if err := bindJSON(c, &isbns); err != nil {
		return err
	}
	if len(isbns) > 0 && s.opts.Hydrator == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, hydrate.ErrUnavailable.Error())
	}
	return s.run(c, func(ctx context.Context, tx *db.Tx) (any, error) {
		if len(isbns) == 0 {
			s.log.Info("hydrate-bulk: no ISBNs to hydrate")
			return map[string]string{"msg": "ok"}, nil
		}
		return map[string]string{"msg": "ok"}, s.hydrateBulk(ctx, tx, isbns)
	})
}

// hydrateBulk is tasks.md §3.1: events "Hydration: Begin batch", then chunks
// of fetches each followed by a save, then "Hydration: Finish". The provider
// being unavailable or rate limited saves what the chunk has, records a
// warning event (with the ISBNs left) and stops.
func (s *server) hydrateBulk(ctx context.Context, tx *db.Tx, isbns []string) error {
	st := hydrationStats{Total: len(isbns)}
	if err := s.recordEvent(ctx, tx, "Hydration: Begin batch", fmt.Sprintf("Hydrating %d editions", len(isbns)),
		"DEBUG", nil, nil, map[string]any{"total": len(isbns)}); err != nil {
		return err
	}
	seen := map[string]bool{}     // ISBNs asked for or covered by an earlier record
	combined := map[string]bool{} // other ISBNs of records already fetched
	for start := 0; start < len(isbns); start += hydrateChunk {
		chunk := isbns[start:min(start+hydrateChunk, len(isbns))]
		var found []hydrated
		var missing []string
		var stop error
		var stopAt int
		for i, raw := range chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			isbn, err := catalog.NormalizeISBN(raw)
			if err != nil {
				st.Invalid++
				continue
			}
			if seen[isbn] {
				if combined[isbn] {
					st.CombinedEditions++
				}
				continue
			}
			d, err := s.opts.Hydrator.Hydrate(ctx, isbn)
			switch {
			case err == nil:
				seen[isbn] = true
				st.Processed++
				found = append(found, hydrated{isbn: isbn, data: d})
				for _, o := range d.OtherISBNs {
					if n, err := catalog.NormalizeISBN(o); err == nil && !seen[n] {
						seen[n], combined[n] = true, true
					}
				}
			case errors.Is(err, hydrate.ErrUnavailable), errors.Is(err, hydrate.ErrRateLimited):
				stop, stopAt = err, start+i
			case errors.Is(err, hydrate.ErrNotFound):
				seen[isbn] = true
				st.Processed++
				st.NotFound++
				missing = append(missing, isbn)
			default:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				seen[isbn] = true
				st.Processed++
				st.Errors++
				s.log.Warn("hydrate-bulk: provider error", slog.String("isbn", isbn), slog.String("error", err.Error()))
			}
			if stop != nil {
				break
			}
		}
		if err := s.saveHydrated(ctx, tx, found, &st); err != nil {
			return err
		}
		if err := markNotFound(ctx, tx, missing); err != nil {
			return err
		}
		if stop != nil {
			title, desc := "Hydration: Nielsen API error", "Nielsen API is unavailable"
			if errors.Is(stop, hydrate.ErrRateLimited) {
				title, desc = "Hydration: Nielsen rate limit error", "Nielsen API rate limit reached"
			}
			remaining := isbns[stopAt:]
			s.log.Warn("hydrate-bulk: stopped", slog.String("reason", desc), slog.Int("remaining", len(remaining)))
			return s.recordEvent(ctx, tx, title,
				fmt.Sprintf("%s: hydration stopped with %d of %d ISBNs left.", desc, len(remaining), len(isbns)),
				"WARNING", nil, nil, map[string]any{"stats": st, "isbn": isbns[stopAt], "remaining": remaining})
		}
	}
	return s.recordEvent(ctx, tx, "Hydration: Finish",
		fmt.Sprintf("Hydration service has completed, enriching %d / %d editions.", st.Hydrated, st.Total),
		"DEBUG", nil, nil, st)
}

// saveHydrated saves one chunk's records (saveRecords) under a savepoint;
// when the chunk fails as a whole, each record is retried on its own and a
// record that still fails is counted as an error, so one bad record does not
// lose its neighbours.
func (s *server) saveHydrated(ctx context.Context, tx *db.Tx, found []hydrated, st *hydrationStats) error {
	if len(found) == 0 {
		return nil
	}
	n, err := s.inSavepoint(ctx, tx, func() (int, error) { return s.saveRecords(ctx, tx, found) })
	if err == nil {
		st.Hydrated += len(found)
		st.WithLabelset += n
		return nil
	}
	if ctx.Err() != nil || errors.Is(err, errSavepoint) {
		return err
	}
	for _, r := range found {
		n, err := s.inSavepoint(ctx, tx, func() (int, error) { return s.saveRecords(ctx, tx, []hydrated{r}) })
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, errSavepoint) {
				return err
			}
			st.Errors++
			s.log.Warn("hydrate-bulk: could not save", slog.String("isbn", r.isbn), slog.String("error", err.Error()))
			continue
		}
		st.Hydrated++
		st.WithLabelset += n
	}
	return nil
}

// errSavepoint marks a failure of the savepoint statements themselves: the
// transaction is then unusable and the task fails.
var errSavepoint = errors.New("savepoint")

// inSavepoint runs fn under a savepoint, rolled back when fn fails.
func (s *server) inSavepoint(ctx context.Context, tx *db.Tx, fn func() (int, error)) (int, error) {
	if _, err := tx.Exec(ctx, `SAVEPOINT hydrate_save`); err != nil {
		return 0, fmt.Errorf("%w: %w", errSavepoint, err)
	}
	n, err := fn()
	if err != nil {
		if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT hydrate_save`); rerr != nil {
			return 0, fmt.Errorf("%w: %w", errSavepoint, rerr)
		}
		return 0, err
	}
	if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT hydrate_save`); err != nil {
		return 0, fmt.Errorf("%w: %w", errSavepoint, err)
	}
	return n, nil
}

// saveEditionsSQL is step 4's "save editions" over the chunk's records:
// edition_title = title, info and date_published only where empty,
// cover_url where found, hydrated_at = now. It also covers editions that
// were already hydrated (the bulk upsert skips those).
const saveEditionsSQL = `
UPDATE public.editions e
SET edition_title = coalesce(u.title, e.edition_title),
    info = CASE WHEN e.info IS NULL OR e.info = '{}'::jsonb THEN coalesce(u.info::jsonb, e.info) ELSE e.info END,
    date_published = coalesce(e.date_published, u.published),
    cover_url = coalesce(u.cover, e.cover_url),
    hydrated_at = huey.utcnow()
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) AS u(isbn, title, info, published, cover)
WHERE e.isbn = u.isbn
RETURNING e.isbn, e.work_id`

// saveRecords is tasks.md §3.1 step 4 for some records: the edition bulk
// upsert (api.md §2.9: new editions inserted, unhydrated ones hydrated,
// works found or created from title, authors and series), then "save
// editions" (saveEditionsSQL), then each work's labelset patched with the
// record's estimate (labelled by the background-work account, the stored
// "checked" kept) and, with LabelAfterHydration and a cover, generate-labels
// queued for the work once a day. It returns how many records had a
// labelset applied. An already hydrated edition without a work keeps none
// (the upsert leaves hydrated editions alone).
func (s *server) saveRecords(ctx context.Context, tx *db.Tx, records []hydrated) (int, error) {
	items := make([]catalog.EditionIn, len(records))
	isbns := make([]string, len(records))
	titles, infos, covers := make([]*string, len(records)), make([]*string, len(records)), make([]*string, len(records))
	published := make([]*int32, len(records))
	for i, r := range records {
		items[i] = r.data.EditionIn(r.isbn) // the labelset is applied to every record's work separately
		isbns[i], titles[i], covers[i] = r.isbn, r.data.Title, r.data.CoverURL
		if r.data.Info != nil {
			b, err := json.Marshal(r.data.Info)
			if err != nil {
				return 0, fmt.Errorf("encode info of %s: %w", r.isbn, err)
			}
			info := string(b)
			infos[i] = &info
		}
		if p := r.data.DatePublished; p != nil && *p >= -1<<31 && *p < 1<<31 {
			v := int32(*p)
			published[i] = &v
		}
	}
	if _, err := catalog.BulkUpsertEditions(ctx, tx, items); err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, saveEditionsSQL, isbns, titles, infos, published, covers)
	if err != nil {
		return 0, fmt.Errorf("save editions: %w", err)
	}
	works := map[string]int64{}
	for rows.Next() {
		var isbn string
		var work *int64
		if err := rows.Scan(&isbn, &work); err != nil {
			rows.Close()
			return 0, fmt.Errorf("save editions: %w", err)
		}
		if work != nil {
			works[isbn] = *work
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("save editions: %w", err)
	}

	labelled := 0
	day := s.opts.Now().UTC().Format(time.DateOnly)
	for _, r := range records {
		work, ok := works[r.isbn]
		if !ok {
			continue
		}
		est := r.data.Labelset
		if est == nil {
			e := hydrate.Estimate(r.data)
			est = &e
		}
		if p := est.Patch(); !p.Empty() {
			actor := s.opts.ActorID
			p.LabelledBySAID = &actor
			if err := keepChecked(ctx, tx, work, &p); err != nil {
				return 0, err
			}
			if _, err := catalog.ApplyLabelSetPatch(ctx, tx, work, p); err != nil {
				return 0, err
			}
			labelled++
		}
		if s.opts.LabelAfterHydration && r.data.CoverURL != nil && *r.data.CoverURL != "" {
			if err := jobs.Enqueue(ctx, tx, jobs.Task{Kind: jobs.KindGenerateLabels,
				Payload:        map[string]any{"work_id": work},
				IdempotencyKey: fmt.Sprintf("generate-labels-after-hydration:%d:%s", work, day)}); err != nil {
				return 0, err
			}
		}
	}
	return labelled, nil
}

// markNotFound records on each still unhydrated edition the provider did
// not know that it was tried: info.hydration.not_found_at (UTC, ISO 8601).
// hydrated_at stays NULL, so the edition remains open to POST /v1/edition
// and to a later hydration (which replaces its info, marker included), but
// POST /v1/hydrate's default selection skips it for 30 days.
// Unknown ISBNs create no edition.
func markNotFound(ctx context.Context, tx *db.Tx, isbns []string) error {
	if len(isbns) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
UPDATE public.editions
SET info = coalesce(info, '{}'::jsonb) || jsonb_build_object('hydration',
      jsonb_build_object('not_found_at', to_char(huey.utcnow(), 'YYYY-MM-DD"T"HH24:MI:SS')))
WHERE isbn = ANY($1::text[]) AND hydrated_at IS NULL AND (info IS NULL OR jsonb_typeof(info) = 'object')`, isbns)
	if err != nil {
		return fmt.Errorf("mark not found: %w", err)
	}
	return nil
}
