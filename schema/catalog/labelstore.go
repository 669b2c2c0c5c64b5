package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// applyLabelSetPatches applies patches in order, each to the latest labelset
// of its work (created when the work has none), with a fixed number of
// statements however many patches there are: one batch to load the labelsets
// and the hue and reading ability keys, one insert for new labelsets, one
// batch for the updates and the replaced links. changed[i] belongs to patches[i].
func applyLabelSetPatches(ctx context.Context, tx DBTX, patches []workPatch, modes planModes) ([]bool, error) {
	changed := make([]bool, len(patches))
	if len(patches) == 0 {
		return changed, nil
	}
	normalized := make([]LabelSetPatch, len(patches))
	var workIDs []int64
	seenWork := map[int64]bool{}
	for i, wp := range patches {
		if err := wp.patch.validate(); err != nil {
			return nil, err
		}
		p := *wp.patch
		info, err := normalizeJSON(p.Info)
		if err != nil {
			return nil, fmt.Errorf("encode labelset info: %w", err)
		}
		p.Info = info
		normalized[i] = p
		if !seenWork[wp.workID] {
			seenWork[wp.workID] = true
			workIDs = append(workIDs, wp.workID)
		}
	}

	sets, r, err := loadLabelSets(ctx, tx, workIDs, modes)
	if err != nil {
		return nil, err
	}
	var fresh []*labelSet // in first-patch order
	for i, wp := range patches {
		ls := sets[wp.workID]
		if ls == nil {
			ls = &labelSet{workID: wp.workID, recommendStatus: RecommendGood, hueKeys: map[string]bool{}, fresh: true}
			sets[wp.workID] = ls
			fresh = append(fresh, ls)
		}
		changed[i] = ls.apply(&normalized[i], r)
	}

	if len(fresh) > 0 {
		if err := insertLabelSets(ctx, tx, fresh); err != nil {
			return nil, err
		}
	}
	var existing []*labelSet
	for _, id := range workIDs {
		if ls := sets[id]; !ls.fresh {
			existing = append(existing, ls)
		}
	}
	if err := writeLabelSets(ctx, tx, existing, append(existing, fresh...), modes); err != nil {
		return nil, err
	}
	return changed, nil
}

// loadLabelSets reads the latest labelset of each work, with its hue keys,
// and the hue and reading ability keys, in one round trip.
func loadLabelSets(ctx context.Context, tx DBTX, workIDs []int64, modes planModes) (map[int64]*labelSet, refs, error) {
	sets := map[int64]*labelSet{}
	r := refs{hues: map[string]int64{}, abilities: map[string]int64{}}
	b := &pgx.Batch{}
	modes.queue(b, true)
	b.Queue(`
SELECT DISTINCT ON (l.work_id) l.id, l.work_id, l.min_age, l.max_age, l.checked,
       l.labelled_by_user_id::text, l.labelled_by_sa_id::text, l.info::text, l.recommend_status::text,
       l.hue_origin::text, l.reading_ability_origin::text, l.age_origin::text,
       l.recommend_status_origin::text, l.huey_summary, l.summary_origin::text,
       ARRAY(SELECT h.key::text FROM public.labelset_hue_association a JOIN public.hues h ON h.id = a.hue_id
             WHERE a.labelset_id = l.id)
FROM public.labelsets l
WHERE l.work_id = ANY($1::int[])
ORDER BY l.work_id, l.id DESC`, workIDs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			ls := &labelSet{hueKeys: map[string]bool{}}
			var minAge, maxAge *int32
			var byUser, bySA, info *string
			var status string
			var hueO, raO, ageO, stO, sumO *string
			var keys []string
			if err := rows.Scan(&ls.id, &ls.workID, &minAge, &maxAge, &ls.checked, &byUser, &bySA, &info, &status,
				&hueO, &raO, &ageO, &stO, &ls.summary, &sumO, &keys); err != nil {
				return err
			}
			ls.minAge, ls.maxAge = intPtr(minAge), intPtr(maxAge)
			var err error
			if ls.labelledByUser, err = uuidPtr(byUser); err != nil {
				return err
			}
			if ls.labelledBySA, err = uuidPtr(bySA); err != nil {
				return err
			}
			if info != nil {
				if err := json.Unmarshal([]byte(*info), &ls.info); err != nil {
					return fmt.Errorf("decode info of labelset %d: %w", ls.id, err)
				}
			}
			ls.recommendStatus = RecommendStatus(status)
			ls.hueOrigin, ls.raOrigin, ls.ageOrigin = originPtr(hueO), originPtr(raO), originPtr(ageO)
			ls.statusOrigin, ls.summaryOrig = originPtr(stO), originPtr(sumO)
			for _, k := range keys {
				ls.hueKeys[k] = true
			}
			sets[ls.workID] = ls
		}
		return rows.Err()
	})
	scanKeys := func(into map[string]int64) func(pgx.Rows) error {
		return func(rows pgx.Rows) error {
			for rows.Next() {
				var id int64
				var key string
				if err := rows.Scan(&id, &key); err != nil {
					return err
				}
				into[key] = id
			}
			return rows.Err()
		}
	}
	b.Queue(`SELECT id, key FROM public.hues`).Query(scanKeys(r.hues))
	b.Queue(`SELECT id, key FROM public.reading_abilities`).Query(scanKeys(r.abilities))
	modes.queue(b, false)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, r, fmt.Errorf("load labelsets: %w", err)
	}
	return sets, r, nil
}

// labelColumns are the columns of labelsets a patch writes, as parallel
// arrays for unnest; the SQL below lists them in this order ($2…$14).
type labelColumns struct {
	minAge, maxAge                                    []*int32
	checked                                           []*bool
	byUser, bySA, info, status                        []*string
	hueO, raO, ageO, statusO, summary, summaryOrigins []*string
}

func (c *labelColumns) add(ls *labelSet) error {
	c.minAge = append(c.minAge, int32Ptr(ls.minAge))
	c.maxAge = append(c.maxAge, int32Ptr(ls.maxAge))
	c.checked = append(c.checked, ls.checked)
	c.byUser = append(c.byUser, uuidStr(ls.labelledByUser))
	c.bySA = append(c.bySA, uuidStr(ls.labelledBySA))
	info, err := jsonStr(ls.info)
	if err != nil {
		return fmt.Errorf("encode labelset info: %w", err)
	}
	c.info = append(c.info, info)
	st := string(ls.recommendStatus)
	c.status = append(c.status, &st)
	c.hueO = append(c.hueO, originStr(ls.hueOrigin))
	c.raO = append(c.raO, originStr(ls.raOrigin))
	c.ageO = append(c.ageO, originStr(ls.ageOrigin))
	c.statusO = append(c.statusO, originStr(ls.statusOrigin))
	c.summary = append(c.summary, ls.summary)
	c.summaryOrigins = append(c.summaryOrigins, originStr(ls.summaryOrig))
	return nil
}

func (c *labelColumns) args(first any) []any {
	return []any{first, c.minAge, c.maxAge, c.checked, c.byUser, c.bySA, c.info, c.status,
		c.hueO, c.raO, c.ageO, c.statusO, c.summary, c.summaryOrigins}
}

const labelUnnest = `unnest($1::int[], $2::int[], $3::int[], $4::bool[], $5::text[], $6::text[], $7::text[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
  AS u(key, min_age, max_age, checked, by_user, by_sa, info, status, hue_o, ra_o, age_o, status_o, summary, summary_o)`

// insertLabelSets inserts the new labelsets (one per work) and sets their ids.
func insertLabelSets(ctx context.Context, tx DBTX, fresh []*labelSet) error {
	var c labelColumns
	work := make([]int64, len(fresh))
	byWork := make(map[int64]*labelSet, len(fresh))
	for i, ls := range fresh {
		work[i] = ls.workID
		byWork[ls.workID] = ls
		if err := c.add(ls); err != nil {
			return err
		}
	}
	rows, err := tx.Query(ctx, `
INSERT INTO public.labelsets (work_id, min_age, max_age, checked, labelled_by_user_id, labelled_by_sa_id, info,
  recommend_status, hue_origin, reading_ability_origin, age_origin, recommend_status_origin, huey_summary,
  summary_origin, created_at, updated_at)
SELECT u.key, u.min_age, u.max_age, u.checked, u.by_user::uuid, u.by_sa::uuid, u.info::jsonb,
       u.status::public.recommendstatus, u.hue_o::public.labelorigin, u.ra_o::public.labelorigin,
       u.age_o::public.labelorigin, u.status_o::public.labelorigin, u.summary, u.summary_o::public.labelorigin,
       huey.utcnow(), huey.utcnow()
FROM `+labelUnnest+`
RETURNING id, work_id`, c.args(work)...)
	if err != nil {
		return fmt.Errorf("insert labelsets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, workID int64
		if err := rows.Scan(&id, &workID); err != nil {
			return fmt.Errorf("insert labelsets: %w", err)
		}
		byWork[workID].id = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert labelsets: %w", err)
	}
	return nil
}

// writeLabelSets updates the existing labelsets and replaces the hue and
// reading ability links of every patched labelset whose links changed, in
// one round trip.
func writeLabelSets(ctx context.Context, tx DBTX, existing, all []*labelSet, modes planModes) error {
	b := &pgx.Batch{}
	modes.queue(b, true)
	if len(existing) > 0 {
		var c labelColumns
		ids := make([]int64, len(existing))
		for i, ls := range existing {
			ids[i] = ls.id
			if err := c.add(ls); err != nil {
				return err
			}
		}
		b.Queue(`
UPDATE public.labelsets l
SET min_age = u.min_age, max_age = u.max_age, checked = u.checked, labelled_by_user_id = u.by_user::uuid,
    labelled_by_sa_id = u.by_sa::uuid, info = u.info::jsonb, recommend_status = u.status::public.recommendstatus,
    hue_origin = u.hue_o::public.labelorigin, reading_ability_origin = u.ra_o::public.labelorigin,
    age_origin = u.age_o::public.labelorigin, recommend_status_origin = u.status_o::public.labelorigin,
    huey_summary = u.summary, summary_origin = u.summary_o::public.labelorigin, updated_at = huey.utcnow()
FROM `+labelUnnest+`
WHERE l.id = u.key`, c.args(ids)...)
	}
	var hueSets, hueLS, hueIDs, raSets, raLS, raIDs []int64
	var hueOrd []string
	for _, ls := range all {
		if ls.huesReplaced {
			if !ls.fresh { // a new labelset has no links yet
				hueSets = append(hueSets, ls.id)
			}
			for _, h := range ls.newHues {
				hueLS, hueIDs, hueOrd = append(hueLS, ls.id), append(hueIDs, h.hueID), append(hueOrd, h.ordinal)
			}
		}
		if ls.abilitiesReplaced {
			if !ls.fresh {
				raSets = append(raSets, ls.id)
			}
			for _, a := range ls.newAbilities {
				raLS, raIDs = append(raLS, ls.id), append(raIDs, a)
			}
		}
	}
	if len(hueSets) > 0 {
		b.Queue(`DELETE FROM public.labelset_hue_association WHERE labelset_id = ANY($1::int[])`, hueSets)
	}
	if len(raSets) > 0 {
		b.Queue(`DELETE FROM public.labelset_reading_ability_association WHERE labelset_id = ANY($1::int[])`, raSets)
	}
	modes.queue(b, false) // the inserts check foreign keys: per-row plans the caller's way
	if len(hueLS) > 0 {
		b.Queue(`
INSERT INTO public.labelset_hue_association (labelset_id, hue_id, ordinal)
SELECT l, h, o::public.ordinal FROM unnest($1::int[], $2::int[], $3::text[]) AS u(l, h, o)
ON CONFLICT DO NOTHING`, hueLS, hueIDs, hueOrd)
	}
	if len(raLS) > 0 {
		b.Queue(`
INSERT INTO public.labelset_reading_ability_association (labelset_id, reading_ability_id)
SELECT l, a FROM unnest($1::int[], $2::int[]) AS u(l, a)
ON CONFLICT DO NOTHING`, raLS, raIDs)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write labelsets: %w", err)
	}
	return nil
}

// planModes switches plan_cache_mode within a bulk call: statements that
// join large input arrays to the tables are planned for their arrays
// (force_custom_plan); statements that fire triggers or check foreign keys
// run in the caller's mode, whose generic plans those per-row statements
// reuse. The zero value switches nothing.
type planModes struct{ caller string }

// queue adds the switch to b: to custom plans, or back to the caller's mode.
func (m planModes) queue(b *pgx.Batch, custom bool) {
	if m.caller == "" {
		return
	}
	mode := m.caller
	if custom {
		mode = "force_custom_plan"
	}
	b.Queue(`SELECT set_config('plan_cache_mode', $1, true)`, mode)
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

func int32Ptr(v *int) *int32 {
	if v == nil {
		return nil
	}
	i := int32(*v) // #nosec G115 -- values come from int4 columns or input checked by validate()
	return &i
}

func uuidPtr(s *string) (*uuid.UUID, error) {
	if s == nil {
		return nil, nil
	}
	u, err := uuid.Parse(*s)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func uuidStr(u *uuid.UUID) *string {
	if u == nil {
		return nil
	}
	s := u.String()
	return &s
}

func originPtr(s *string) *Origin {
	if s == nil {
		return nil
	}
	o := Origin(*s)
	return &o
}

func originStr(o *Origin) *string {
	if o == nil || *o == "" {
		return nil
	}
	s := string(*o)
	return &s
}

// jsonStr encodes a JSON object for a jsonb column; nil is NULL.
func jsonStr(m map[string]any) (*string, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}
