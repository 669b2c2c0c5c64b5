package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
	"github.com/wriveted/huey-api/tasks/jobs"
)

// Hydration (api.md §2.17): admins start bulk hydration, which the task
// server runs (hydrate-bulk, tasks.md §3), or hydrate one ISBN at once.
// Only the single look-up calls the provider from a request; POST /hydrate
// only queues (F-T4).

// Hydrator fetches one edition's metadata from the provider
// (hydrate.Client, configured by NIELSEN_API_URL, NIELSEN_CLIENT_ID and
// NIELSEN_PASSWORD).
type Hydrator interface {
	Hydrate(ctx context.Context, isbn13 string) (hydrate.HydratedBookData, error)
}

const (
	// hydrateTaskSize is the most ISBNs one hydrate-bulk task carries: the
	// task runs in one transaction, so large selections are split.
	hydrateTaskSize = 500
	// hydrateLimit is POST /hydrate's default selection size.
	hydrateLimit = 5000
	// hydrationLogsURL is where the task server's logs are read.
	hydrationLogsURL = "https://console.cloud.google.com/logs/query;query=%22hydrate-bulk%22"
)

// POST /hydrate (ADMIN): queues hydrate-bulk with the body's ISBNs or, for
// an absent or empty list, the `limit` unhydrated editions with the highest
// collection_count, in tasks of at most 500 ISBNs, in the request's
// transaction. Answers a JSON string.
func (s *Server) postHydrate(c echo.Context) error {
	ctx := c.Request().Context()
	limit, err := queryInt(c, "limit", hydrateLimit, 0, 1<<31-1)
	if err != nil {
		return err
	}
	var isbns hydrateIn
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		if err := decodeBody(c, &isbns); err != nil {
			return err
		}
	}
	err = db.InTx(ctx, s.pool, identityOf(ctx).Claims, func(tx *db.Tx) error {
		if len(isbns) == 0 {
			// By collection_count (domain.md §11.3): the selection the original
			// meant (its filter was constant false, F-T5).
			rows, err := tx.Query(ctx, queries.SelectEditionsToHydrate, limit)
			if err != nil {
				return fmt.Errorf("select editions to hydrate: %w", err)
			}
			if isbns, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				return fmt.Errorf("select editions to hydrate: %w", err)
			}
		}
		for start := 0; start < len(isbns); start += hydrateTaskSize {
			chunk := isbns[start:min(start+hydrateTaskSize, len(isbns))]
			if err := jobs.Enqueue(ctx, tx, jobs.Task{Kind: jobs.KindHydrateBulk, Payload: chunk}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	events := c.Scheme() + "://" + c.Request().Host + "/v1/events?" +
		url.Values{"query": {"Hydration"}, "match_prefix": {"true"}}.Encode()
	return c.JSON(http.StatusOK, fmt.Sprintf(
		"Started hydration of %d editions. Check the logs (%s) and events (%s) to track progress.",
		len(isbns), hydrationLogsURL, events))
}

// GET /hydrate/{isbn} (ADMIN): fetches one record now (tasks.md §3.2–3.6)
// and answers HydratedBookData. use_cache is accepted and ignored (there is
// no metadata cache); with dry=false the record is also stored by the
// single edition upsert (api.md §2.9), which the original crashed on.
func (s *Server) getHydrate(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := queryBool(c, "use_cache"); err != nil {
		return err
	}
	dry, err := queryBool(c, "dry")
	if err != nil {
		return err
	}
	isbn, err := catalog.NormalizeISBN(c.Param("isbn"))
	if err != nil {
		return httpError(http.StatusUnprocessableEntity, msgISBNInvalid)
	}
	if s.opts.Hydrator == nil {
		return unavailable("hydrator_unconfigured", hydrate.ErrUnavailable.Error())
	}
	d, err := s.opts.Hydrator.Hydrate(ctx, isbn)
	if err != nil {
		return s.hydrationError(ctx, isbn, err)
	}
	if dry != nil && !*dry {
		err := db.InTx(ctx, s.pool, identityOf(ctx).Claims, func(tx *db.Tx) error {
			_, err := catalog.UpsertEdition(ctx, tx, hydratedEdition(isbn, d))
			return err
		})
		if errors.Is(err, catalog.ErrAlreadyHydrated) {
			return httpError(http.StatusConflict,
				msgEditionExists.format(isbn))
		}
		if err := catalogueError(err); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, hydratedJSON(d))
}

// hydrationError maps the provider's errors to the original's answers
// (tasks.md §3.3); the cause of a provider failure is logged, never sent.
func (s *Server) hydrationError(ctx context.Context, isbn string, err error) error {
	switch {
	case errors.Is(err, hydrate.ErrNotFound):
		return httpError(http.StatusNotFound, hydrate.ErrNotFound.Error())
	case errors.Is(err, hydrate.ErrRateLimited):
		return httpError(http.StatusTooManyRequests, hydrate.ErrRateLimited.Error())
	case errors.Is(err, hydrate.ErrUnavailable):
		return unavailable("hydrator_unavailable", hydrate.ErrUnavailable.Error())
	case ctx.Err() != nil:
		return ctx.Err()
	}
	s.logger.WarnContext(ctx, "hydrate: provider error", slog.String("isbn", isbn), slog.String("error", err.Error()))
	return unavailable("hydrator_provider_error", hydrate.ErrProvider.Error())
}

// hydratedJSON is d as the API answers it: hydrated_on in the original's
// datetime format (UTC, no offset).
func hydratedJSON(d hydrate.HydratedBookData) any {
	b, err := json.Marshal(d)
	if err != nil {
		return d
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return d
	}
	if d.HydratedOn != nil {
		m["hydrated_on"] = d.HydratedOn.UTC().Format("2006-01-02T15:04:05.999999")
	}
	return m
}

// hydratedEdition is the record with its estimated labelset (applied to the
// work the upsert creates or finds).
func hydratedEdition(isbn string, d hydrate.HydratedBookData) catalog.EditionIn {
	in := d.EditionIn(isbn)
	if est := d.Labelset; est != nil {
		p := est.Patch()
		in.LabelSet = &p
	}
	return in
}
