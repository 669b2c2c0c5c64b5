package taskapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/catalog/hydrate"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/tasks/labels"
)

// generate-labels (tasks.md §5.2) and the default labeller (DECISIONS §6).

// ErrNothingToInfer is returned (wrapped) by RuleBasedLabeller when the
// work's main edition carries nothing the inference rules read.
var ErrNothingToInfer = errors.New("nothing to infer labels from")

// RuleBasedLabeller is the default labels.Provider: the rule-based inference
// of tasks.md §3.5 (hydrate.Estimate) over the main edition's info, with the
// origins Estimate gives (NIELSEN_* for ages, PREDICTED_NIELSEN otherwise).
// It never infers hues, and it leaves Checked unset. It does no I/O.
type RuleBasedLabeller struct{}

var _ labels.Provider = RuleBasedLabeller{}

// Label implements labels.Provider. An edition without info, or one from
// which nothing but the default recommend status follows (no ages, reading
// abilities, summary or BAD_* status), is an error wrapping ErrNothingToInfer.
func (RuleBasedLabeller) Label(_ context.Context, in labels.Input) (catalog.LabelSetPatch, error) {
	if len(in.MainEditionInfo) == 0 {
		return catalog.LabelSetPatch{}, fmt.Errorf("label work %d: %w", in.WorkID, ErrNothingToInfer)
	}
	p := hydrate.Estimate(hydrate.HydratedBookData{Info: in.MainEditionInfo}).Patch()
	if p.MinAge == nil && p.MaxAge == nil && len(p.ReadingAbilityKeys) == 0 && p.HueySummary == nil &&
		(p.RecommendStatus == nil || *p.RecommendStatus == catalog.RecommendGood) {
		return catalog.LabelSetPatch{}, fmt.Errorf("label work %d: %w", in.WorkID, ErrNothingToInfer)
	}
	return p, nil
}

// keepChecked gives a patch without Checked the work's stored value, so
// machine labels never clear (or set) a human's "checked" mark: the patch
// rules assign checked unconditionally (domain.md §7.6), which for a
// labeller that does not decide it would uncheck reviewed works.
func keepChecked(ctx context.Context, tx *db.Tx, workID int64, p *catalog.LabelSetPatch) error {
	if p.Checked != nil {
		return nil
	}
	var checked *bool
	err := tx.QueryRow(ctx, `SELECT checked FROM public.labelsets WHERE work_id = $1 ORDER BY id DESC LIMIT 1`, workID).
		Scan(&checked)
	if err != nil && !db.IsNotFound(err) {
		return fmt.Errorf("read checked of work %d: %w", workID, err)
	}
	p.Checked = checked
	return nil
}

// maxLabelEditions bounds the editions a labelling request is built from.
const maxLabelEditions = 20

// labelWorkSQL reads a work's title, display title, authors string and the
// huey_summary of its latest labelset.
const labelWorkSQL = `
SELECT w.title, coalesce(nullif(w.leading_article, '') || ' ', '') || w.title,
       coalesce((SELECT string_agg(CASE WHEN coalesce(a.first_name, '') <> '' THEN a.first_name || ' ' || a.last_name
                                        ELSE a.last_name END, ', ' ORDER BY a.id)
                 FROM public.author_work_association aw JOIN public.authors a ON a.id = aw.author_id
                 WHERE aw.work_id = w.id), ''),
       coalesce((SELECT l.huey_summary FROM public.labelsets l WHERE l.work_id = w.id ORDER BY l.id DESC LIMIT 1), '')
FROM public.works w WHERE w.id = $1`

// labelEditionsSQL reads the info of up to $3 editions of work $1 titled
// like the work ($2), richest first: most keys with a non-empty value.
const labelEditionsSQL = `
SELECT e.info FROM public.editions e
WHERE e.work_id = $1 AND e.title = $2 AND jsonb_typeof(e.info) = 'object'
ORDER BY (SELECT count(*) FROM jsonb_each(e.info) j
          WHERE j.value NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb, 'false'::jsonb)) DESC, e.id
LIMIT $3`

// loadLabelInput builds the labelling request of work id (tasks.md §5.2):
// ok is false when there is no such work. The editions are those titled
// like the work, richest info first, or else the work's first edition; the
// main edition is the first of them.
func loadLabelInput(ctx context.Context, tx *db.Tx, id int64) (in labels.Input, title string, ok bool, err error) {
	in.WorkID = id
	err = tx.QueryRow(ctx, labelWorkSQL, id).Scan(&title, &in.DisplayTitle, &in.Authors, &in.HueySummary)
	if db.IsNotFound(err) {
		return in, "", false, nil
	}
	if err != nil {
		return in, "", false, fmt.Errorf("load work %d: %w", id, err)
	}
	infos, err := editionInfos(ctx, tx, labelEditionsSQL, id, title, maxLabelEditions)
	if err != nil {
		return in, "", false, err
	}
	if len(infos) == 0 {
		if infos, err = editionInfos(ctx, tx, `SELECT e.info FROM public.editions e WHERE e.work_id = $1 ORDER BY e.id LIMIT 1`, id); err != nil {
			return in, "", false, err
		}
	}
	var pages []int
	for _, info := range infos {
		if s := infoText(info, "summary_short"); s != "" && !slices.Contains(in.ShortSummaries, s) {
			in.ShortSummaries = append(in.ShortSummaries, s)
		}
		for _, g := range genreNames(info["genres"]) {
			if !slices.Contains(in.Genres, g) {
				in.Genres = append(in.Genres, g)
			}
		}
		if n := infoInt(info["pages"]); n > 0 {
			pages = append(pages, n)
		}
	}
	in.MedianPages = median(pages)
	if len(infos) > 0 && infos[0] != nil {
		main := infos[0]
		in.LongSummary, in.Keywords = infoText(main, "summary_long"), infoText(main, "keywords")
		in.CBMCText, in.ProdCT = infoText(main, "cbmctext"), infoText(main, "prodct")
		in.MainEditionInfo = main
	}
	return in, title, true, nil
}

// editionInfos runs q and decodes its single jsonb column; a NULL or
// non-object info is a nil map.
func editionInfos(ctx context.Context, tx *db.Tx, q string, args ...any) ([]map[string]any, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("load editions: %w", err)
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("load editions: %w", err)
	}
	out := make([]map[string]any, 0, len(raws))
	for _, raw := range raws {
		var m map[string]any
		_ = json.Unmarshal(raw, &m) // NULL or not an object: nil
		out = append(out, m)
	}
	return out, nil
}

// infoText is a trimmed string value of info, or "".
func infoText(info map[string]any, key string) string {
	s, _ := info[key].(string)
	return strings.TrimSpace(s)
}

// infoInt reads a page count stored as a number or as digits.
func infoInt(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case string:
		n, _ := strconv.Atoi(strings.TrimSpace(x))
		return n
	}
	return 0
}

// genreNames reads info.genres: [{"name": …}] (EditionInfo) or plain strings.
func genreNames(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, g := range list {
		var name string
		switch x := g.(type) {
		case map[string]any:
			name, _ = x["name"].(string)
		case string:
			name = x
		}
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// median of the page counts (the mean of the middle two for an even
// count, rounded down); 0 when there are none.
func median(ns []int) int {
	if len(ns) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ns))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// labelSnapshotSQL is the state "Work updated" diffs: the work's title and
// its latest labelset (hue and reading ability keys), locking the work.
const labelSnapshotSQL = `
SELECT w.title, (SELECT json_build_object(
    'hues', (SELECT coalesce(json_agg(h.key ORDER BY lh.ordinal, h.id), '[]'::json)
             FROM public.labelset_hue_association lh JOIN public.hues h ON h.id = lh.hue_id WHERE lh.labelset_id = l.id),
    'hue_origin', l.hue_origin::text, 'min_age', l.min_age, 'max_age', l.max_age, 'age_origin', l.age_origin::text,
    'reading_abilities', (SELECT coalesce(json_agg(r.key ORDER BY r.id), '[]'::json)
             FROM public.labelset_reading_ability_association lr JOIN public.reading_abilities r ON r.id = lr.reading_ability_id
             WHERE lr.labelset_id = l.id),
    'reading_ability_origin', l.reading_ability_origin::text, 'huey_summary', l.huey_summary,
    'summary_origin', l.summary_origin::text, 'labelled_by_user_id', l.labelled_by_user_id,
    'labelled_by_sa_id', l.labelled_by_sa_id, 'info', l.info, 'recommend_status', l.recommend_status::text,
    'recommend_status_origin', l.recommend_status_origin::text, 'checked', l.checked)
  FROM public.labelsets l WHERE l.work_id = w.id ORDER BY l.id DESC LIMIT 1)
FROM public.works w WHERE w.id = $1
FOR UPDATE OF w`

// labelSetChanges diffs two labelset snapshots: {field: [old, new]}.
func labelSetChanges(before, after []byte) map[string]any {
	var b, a map[string]any
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	changes := map[string]any{}
	for k, nv := range a {
		if ov := b[k]; !reflect.DeepEqual(ov, nv) {
			changes[k] = []any{ov, nv}
		}
	}
	return changes
}

// labellerFailed reports whether applying the labeller's patch failed
// because of the patch (an unknown origin or status, a value the database
// refuses) rather than the database or the connection.
func labellerFailed(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, catalog.ErrInvalidInput) ||
		(errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23")))
}

// POST /v1/generate-labels {"work_id"} (tasks.md §5.2): asks the labeller
// for a labelset patch and applies it as PATCH /v1/work/{id} {"labelset"}
// does (catalog.ApplyLabelSetPatch, labelled by the background-work
// account), recording "Work updated" in the same transaction. A labeller
// failure is logged and answered {"msg":"error"}: the task is done, not
// retried. The labeller is called inside the task's transaction (the work
// is locked only afterwards); OPENAI_TIMEOUT bounds how long it stays open.
func (s *server) postGenerateLabels(c echo.Context) error {
	var in struct {
		WorkID *int64 `json:"work_id"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.WorkID == nil {
		return validation("work_id", "Field required", "missing")
	}
	id := *in.WorkID
	failed := map[string]string{"msg": "error"}
	return s.run(c, func(ctx context.Context, tx *db.Tx) (any, error) {
		input, _, ok, err := loadLabelInput(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("Work with id %d not found", id))
		}
		patch, err := s.opts.Labeller.Label(ctx, input)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s.log.Warn("generate-labels: labelling failed", slog.Int64("work_id", id), slog.String("error", err.Error()))
			return failed, nil
		}
		actor := s.opts.ActorID
		patch.LabelledBySAID, patch.LabelledByUserID = &actor, nil
		if err := keepChecked(ctx, tx, id, &patch); err != nil {
			return nil, err
		}

		var title string
		var before, after []byte
		if err := tx.QueryRow(ctx, labelSnapshotSQL, id).Scan(&title, &before); err != nil {
			return nil, fmt.Errorf("snapshot work %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `SAVEPOINT generate_labels`); err != nil {
			return nil, err
		}
		if _, err := catalog.ApplyLabelSetPatch(ctx, tx, id, patch); err != nil {
			if !labellerFailed(err) {
				return nil, err
			}
			if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT generate_labels`); rerr != nil {
				return nil, rerr
			}
			s.log.Warn("generate-labels: the labeller's patch was refused", slog.Int64("work_id", id),
				slog.String("error", err.Error()))
			return failed, nil
		}
		if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT generate_labels`); err != nil {
			return nil, err
		}
		if err := tx.QueryRow(ctx, labelSnapshotSQL, id).Scan(&title, &after); err != nil {
			return nil, fmt.Errorf("snapshot work %d: %w", id, err)
		}
		changes := map[string]any{}
		if ls := labelSetChanges(before, after); len(ls) > 0 {
			changes["labelset"] = ls
		}
		if err := s.recordEvent(ctx, tx, "Work updated", fmt.Sprintf("Made a change to '%s'", title), "NORMAL", nil, nil,
			map[string]any{"work_id": id, "changes": changes, "labelset": json.RawMessage(after)}); err != nil {
			return nil, err
		}
		return map[string]string{"msg": "ok"}, nil
	})
}
