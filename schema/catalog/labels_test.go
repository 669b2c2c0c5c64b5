package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/dbtest"
)

// labels is a work's latest labelset as the tests compare it.
type labels struct {
	Count                                                 int // labelsets of the work
	Hues                                                  []string
	HueOrigin, AgeOrigin, RAOrigin, StatusOrigin, SumOrig *string
	MinAge, MaxAge                                        *int32
	Abilities                                             []string
	Status                                                string
	Summary                                               *string
	Info                                                  map[string]any
	Checked                                               *bool
	ByUser, BySA                                          *string
}

func readLabels(t testing.TB, tx pgx.Tx, workID int64) labels {
	t.Helper()
	var l labels
	var info *string
	err := tx.QueryRow(context.Background(), `
SELECT (SELECT count(*) FROM labelsets WHERE work_id = $1),
       ARRAY(SELECT h.key || ':' || x.ordinal FROM labelset_hue_association x JOIN hues h ON h.id = x.hue_id
             WHERE x.labelset_id = l.id ORDER BY x.ordinal),
       l.hue_origin::text, l.age_origin::text, l.reading_ability_origin::text, l.recommend_status_origin::text,
       l.summary_origin::text, l.min_age, l.max_age,
       ARRAY(SELECT r.key FROM labelset_reading_ability_association x JOIN reading_abilities r ON r.id = x.reading_ability_id
             WHERE x.labelset_id = l.id ORDER BY r.id),
       l.recommend_status::text, l.huey_summary, l.info::text, l.checked, l.labelled_by_user_id::text, l.labelled_by_sa_id::text
FROM labelsets l WHERE l.work_id = $1 ORDER BY l.id DESC LIMIT 1`, workID).Scan(&l.Count, &l.Hues, &l.HueOrigin, &l.AgeOrigin,
		&l.RAOrigin, &l.StatusOrigin, &l.SumOrig, &l.MinAge, &l.MaxAge, &l.Abilities, &l.Status, &l.Summary, &info,
		&l.Checked, &l.ByUser, &l.BySA)
	if err != nil {
		t.Fatalf("read labels of work %d: %v", workID, err)
	}
	if info != nil {
		if err := json.Unmarshal([]byte(*info), &l.Info); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// labelFixture: a work with a stored labelset set by SQL (stored == "" means
// no labelset), then the patch applied.
type labelCase struct {
	name   string
	stored string // SET clause of the stored labelset's UPDATE, "" = no labelset; "new" = an empty labelset
	hues   []string
	abil   []string
	patch  catalog.LabelSetPatch
	// changed is ApplyLabelSetPatch's answer; check inspects the result.
	changed bool
	check   func(t *testing.T, l labels)
}

func runLabelCases(t *testing.T, cases []labelCase) {
	t.Helper()
	d := dbtest.NewDB(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tx := txAs(t, d, adminClaims)
			ctx := context.Background()
			w := scalar[int64](t, tx, `INSERT INTO works (type, title) VALUES ('BOOK', 'W') RETURNING id`)
			if c.stored != "" {
				ls := scalar[int64](t, tx, `INSERT INTO labelsets (work_id) VALUES ($1) RETURNING id`, w)
				if c.stored != "new" {
					exec(t, tx, `UPDATE labelsets SET `+c.stored+` WHERE id = $1`, ls)
				}
				for i, h := range c.hues {
					exec(t, tx, `INSERT INTO labelset_hue_association (labelset_id, hue_id, ordinal)
						SELECT $1, id, (ARRAY['PRIMARY','SECONDARY','TERTIARY'])[$3]::ordinal FROM hues WHERE key = $2`, ls, h, i+1)
				}
				for _, a := range c.abil {
					exec(t, tx, `INSERT INTO labelset_reading_ability_association (labelset_id, reading_ability_id)
						SELECT $1, id FROM reading_abilities WHERE key = $2`, ls, a)
				}
			}
			changed, err := catalog.ApplyLabelSetPatch(ctx, tx, w, c.patch)
			if err != nil {
				t.Fatal(err)
			}
			if changed != c.changed {
				t.Errorf("changed = %v, want %v", changed, c.changed)
			}
			l := readLabels(t, tx, w)
			if l.Count != 1 {
				t.Errorf("%d labelsets, want 1", l.Count)
			}
			c.check(t, l)
		})
	}
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func num(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}

func origin(o catalog.Origin) *catalog.Origin { return &o }

// The origin weights of domain.md §7.6.
func TestOriginWeights(t *testing.T) {
	t.Parallel()
	want := map[catalog.Origin]float64{"HUMAN": 5, "VERTEXAI": 4, "GPT4": 4, "CLUSTER_RELEVANCE": 3, "CLUSTER_ZAINAB": 2,
		"NIELSEN_CBMC": 1.5, "NIELSEN_BIC": 1.4, "NIELSEN_THEMA": 1.3, "NIELSEN_IA": 1.2, "NIELSEN_RA": 1.1,
		"PREDICTED_NIELSEN": 1, "OTHER": 0}
	for o, w := range want {
		if got, ok := o.Weight(); !ok || got != w {
			t.Errorf("%s weighs %v (%v), want %v", o, got, ok, w)
		}
	}
	if _, ok := catalog.Origin("MAGIC").Weight(); ok {
		t.Error("an unknown origin has a weight")
	}
}

func TestLabelSetPatchEmpty(t *testing.T) {
	t.Parallel()
	empty := []catalog.LabelSetPatch{{}, {MinAge: ptr(0), Checked: ptr(false), HuePrimaryKey: ptr(""), Info: map[string]any{},
		ReadingAbilityKeys: []string{}, HueOrigin: origin("")}}
	for i, p := range empty {
		if !p.Empty() {
			t.Errorf("patch %d: not empty", i)
		}
	}
	full := []catalog.LabelSetPatch{{MinAge: ptr(1)}, {Checked: ptr(true)}, {HueOrigin: origin(catalog.OriginOther)},
		{ReadingAbilityKeys: []string{"SPOT"}}, {Info: map[string]any{"a": nil}}, {LabelledBySAID: &uuid.UUID{}}}
	for i, p := range full {
		if p.Empty() {
			t.Errorf("patch %d: empty", i)
		}
	}
}

func TestCanonicalHueKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"hue08_charming_inspiring": "hue08_charming_courageous",
		"hue13_straightforward": "hue13_informative", "hue04_joyful_charming": "hue04_joyful_charming",
		"hue01_dark_suspense": "hue01_dark_suspense"} {
		if got, ok := catalog.CanonicalHueKey(in); !ok || got != want {
			t.Errorf("CanonicalHueKey(%s) = %s, %v", in, got, ok)
		}
	}
	if _, ok := catalog.CanonicalHueKey("hue99_nope"); ok {
		t.Error("an unknown key resolved")
	}
}

// Row "Hues" of domain.md §7.6.
func TestLabelPatchHues(t *testing.T) {
	t.Parallel()
	runLabelCases(t, []labelCase{
		{name: "new labelset, keys resolved with aliases, unknown key ignored", changed: true,
			patch: catalog.LabelSetPatch{HueOrigin: origin(catalog.OriginGPT4), HuePrimaryKey: ptr("hue01_dark_suspense"),
				HueSecondaryKey: ptr("hue08_charming_inspiring"), HueTertiaryKey: ptr("hue99_unknown")},
			check: func(t *testing.T, l labels) {
				eq(t, "hues", l.Hues, []string{"hue01_dark_suspense:PRIMARY", "hue08_charming_courageous:SECONDARY"})
				eq(t, "hue origin", str(l.HueOrigin), "GPT4")
			}},
		{name: "weaker origin refused", stored: `hue_origin = 'HUMAN'`, hues: []string{"hue05_funny_comic"}, changed: false,
			patch: catalog.LabelSetPatch{HueOrigin: origin(catalog.OriginVertexAI), HuePrimaryKey: ptr("hue01_dark_suspense")},
			check: func(t *testing.T, l labels) {
				eq(t, "hues", l.Hues, []string{"hue05_funny_comic:PRIMARY"})
				eq(t, "hue origin", str(l.HueOrigin), "HUMAN")
			}},
		{name: "equal weight passes (VERTEXAI over GPT4)", stored: `hue_origin = 'GPT4'`, hues: []string{"hue05_funny_comic"}, changed: true,
			patch: catalog.LabelSetPatch{HueOrigin: origin(catalog.OriginVertexAI), HuePrimaryKey: ptr("hue12_funny_quirky"),
				HueSecondaryKey: ptr("hue05_funny_comic")},
			check: func(t *testing.T, l labels) {
				eq(t, "hues", l.Hues, []string{"hue12_funny_quirky:PRIMARY", "hue05_funny_comic:SECONDARY"})
				eq(t, "hue origin", str(l.HueOrigin), "VERTEXAI")
			}},
		{name: "a key in two slots gets the first slot's ordinal", changed: true,
			patch: catalog.LabelSetPatch{HueOrigin: origin(catalog.OriginHuman), HuePrimaryKey: ptr("hue10_inspiring"),
				HueSecondaryKey: ptr("hue10_inspiring"), HueTertiaryKey: ptr("hue02_beautiful_whimsical")},
			check: func(t *testing.T, l labels) {
				eq(t, "hues", l.Hues, []string{"hue10_inspiring:PRIMARY", "hue02_beautiful_whimsical:TERTIARY"})
			}},
		{name: "same three keys: links kept, origin updated", stored: `hue_origin = 'OTHER'`, changed: true,
			hues: []string{"hue01_dark_suspense", "hue03_dark_beautiful", "hue06_dark_gritty"},
			patch: catalog.LabelSetPatch{HueOrigin: origin(catalog.OriginHuman), HuePrimaryKey: ptr("hue06_dark_gritty"),
				HueSecondaryKey: ptr("hue03_dark_beautiful"), HueTertiaryKey: ptr("hue01_dark_suspense")},
			check: func(t *testing.T, l labels) {
				eq(t, "hues", l.Hues, []string{"hue01_dark_suspense:PRIMARY", "hue03_dark_beautiful:SECONDARY", "hue06_dark_gritty:TERTIARY"})
				eq(t, "hue origin", str(l.HueOrigin), "HUMAN")
			}},
		{name: "origin without keys clears hues and origin", stored: `hue_origin = 'OTHER'`, hues: []string{"hue05_funny_comic"}, changed: true,
			patch: catalog.LabelSetPatch{HueOrigin: origin(catalog.OriginOther)},
			check: func(t *testing.T, l labels) {
				eq(t, "hues", l.Hues, []string{})
				eq(t, "hue origin", str(l.HueOrigin), "<nil>")
			}},
		{name: "keys without origin ignored", stored: "new", hues: []string{"hue05_funny_comic"}, changed: false,
			patch: catalog.LabelSetPatch{HuePrimaryKey: ptr("hue01_dark_suspense")},
			check: func(t *testing.T, l labels) {
				eq(t, "hues", l.Hues, []string{"hue05_funny_comic:PRIMARY"})
			}},
	})
}

// Row "Age".
func TestLabelPatchAge(t *testing.T) {
	t.Parallel()
	runLabelCases(t, []labelCase{
		{name: "one bound set, the other kept", stored: `min_age = 5, max_age = 9, age_origin = 'NIELSEN_IA'`, changed: true,
			patch: catalog.LabelSetPatch{AgeOrigin: origin(catalog.OriginNielsenCBMC), MinAge: ptr(0)},
			check: func(t *testing.T, l labels) {
				eq(t, "ages", []any{num(l.MinAge), num(l.MaxAge)}, []any{int32(0), int32(9)})
				eq(t, "age origin", str(l.AgeOrigin), "NIELSEN_CBMC")
			}},
		{name: "both absent clears both", stored: `min_age = 5, max_age = 9, age_origin = 'OTHER'`, changed: true,
			patch: catalog.LabelSetPatch{AgeOrigin: origin(catalog.OriginOther)},
			check: func(t *testing.T, l labels) {
				eq(t, "ages", []any{num(l.MinAge), num(l.MaxAge)}, []any{nil, nil})
				eq(t, "age origin", str(l.AgeOrigin), "OTHER")
			}},
		{name: "weaker origin refused (PREDICTED_NIELSEN under NIELSEN_RA)", stored: `min_age = 5, max_age = 9, age_origin = 'NIELSEN_RA'`,
			patch: catalog.LabelSetPatch{AgeOrigin: origin(catalog.OriginPredictedNielsen), MinAge: ptr(1), MaxAge: ptr(2)},
			check: func(t *testing.T, l labels) {
				eq(t, "ages", []any{num(l.MinAge), num(l.MaxAge)}, []any{int32(5), int32(9)})
				eq(t, "age origin", str(l.AgeOrigin), "NIELSEN_RA")
			}},
		{name: "ages without origin ignored", changed: false,
			patch: catalog.LabelSetPatch{MinAge: ptr(1), MaxAge: ptr(2)},
			check: func(t *testing.T, l labels) {
				eq(t, "ages", []any{num(l.MinAge), num(l.MaxAge)}, []any{nil, nil})
			}},
	})
}

// Row "Reading ability".
func TestLabelPatchReadingAbility(t *testing.T) {
	t.Parallel()
	runLabelCases(t, []labelCase{
		{name: "replaced, unknown keys ignored", stored: `reading_ability_origin = 'CLUSTER_ZAINAB'`, abil: []string{"SPOT"}, changed: true,
			patch: catalog.LabelSetPatch{ReadingAbilityOrigin: origin(catalog.OriginClusterRelevance),
				ReadingAbilityKeys: []string{"TREEHOUSE", "NOPE", "HARRY_POTTER"}},
			check: func(t *testing.T, l labels) {
				eq(t, "abilities", l.Abilities, []string{"TREEHOUSE", "HARRY_POTTER"})
				eq(t, "origin", str(l.RAOrigin), "CLUSTER_RELEVANCE")
			}},
		{name: "empty keys: not applied", stored: `reading_ability_origin = 'OTHER'`, abil: []string{"SPOT"}, changed: false,
			patch: catalog.LabelSetPatch{ReadingAbilityOrigin: origin(catalog.OriginHuman), ReadingAbilityKeys: []string{}},
			check: func(t *testing.T, l labels) {
				eq(t, "abilities", l.Abilities, []string{"SPOT"})
				eq(t, "origin", str(l.RAOrigin), "OTHER")
			}},
		{name: "weaker origin refused", stored: `reading_ability_origin = 'CLUSTER_ZAINAB'`, abil: []string{"SPOT"}, changed: false,
			patch: catalog.LabelSetPatch{ReadingAbilityOrigin: origin(catalog.OriginNielsenCBMC), ReadingAbilityKeys: []string{"CAT_HAT"}},
			check: func(t *testing.T, l labels) {
				eq(t, "abilities", l.Abilities, []string{"SPOT"})
			}},
	})
}

// Row "Recommend status", with the BAD_CONTROVERSIAL rule.
func TestLabelPatchRecommendStatus(t *testing.T) {
	t.Parallel()
	st := func(s catalog.RecommendStatus) *catalog.RecommendStatus { return &s }
	runLabelCases(t, []labelCase{
		{name: "normal weight rule", stored: `recommend_status = 'BAD_BORING', recommend_status_origin = 'NIELSEN_BIC'`, changed: true,
			patch: catalog.LabelSetPatch{RecommendStatusOrigin: origin(catalog.OriginNielsenBIC), RecommendStatus: st(catalog.RecommendGood)},
			check: func(t *testing.T, l labels) {
				eq(t, "status", l.Status+" "+str(l.StatusOrigin), "GOOD NIELSEN_BIC")
			}},
		{name: "weaker origin refused", stored: `recommend_status = 'BAD_BORING', recommend_status_origin = 'NIELSEN_BIC'`,
			patch: catalog.LabelSetPatch{RecommendStatusOrigin: origin(catalog.OriginNielsenThema), RecommendStatus: st(catalog.RecommendGood)},
			check: func(t *testing.T, l labels) {
				eq(t, "status", l.Status+" "+str(l.StatusOrigin), "BAD_BORING NIELSEN_BIC")
			}},
		{name: "BAD_CONTROVERSIAL yields not to an outweighing GPT4", stored: `recommend_status = 'BAD_CONTROVERSIAL', recommend_status_origin = 'OTHER'`,
			patch: catalog.LabelSetPatch{RecommendStatusOrigin: origin(catalog.OriginGPT4), RecommendStatus: st(catalog.RecommendGood)},
			check: func(t *testing.T, l labels) {
				eq(t, "status", l.Status+" "+str(l.StatusOrigin), "BAD_CONTROVERSIAL OTHER")
			}},
		{name: "BAD_CONTROVERSIAL yields to HUMAN", stored: `recommend_status = 'BAD_CONTROVERSIAL', recommend_status_origin = 'HUMAN'`, changed: true,
			patch: catalog.LabelSetPatch{RecommendStatusOrigin: origin(catalog.OriginHuman), RecommendStatus: st(catalog.RecommendGood)},
			check: func(t *testing.T, l labels) {
				eq(t, "status", l.Status+" "+str(l.StatusOrigin), "GOOD HUMAN")
			}},
		{name: "BAD_CONTROVERSIAL may be set by the weight rule", stored: "new", changed: true,
			patch: catalog.LabelSetPatch{RecommendStatusOrigin: origin(catalog.OriginPredictedNielsen),
				RecommendStatus: st(catalog.RecommendBadControversial)},
			check: func(t *testing.T, l labels) {
				eq(t, "status", l.Status+" "+str(l.StatusOrigin), "BAD_CONTROVERSIAL PREDICTED_NIELSEN")
			}},
		{name: "status without origin ignored", stored: "new",
			patch: catalog.LabelSetPatch{RecommendStatus: st(catalog.RecommendBadReference)},
			check: func(t *testing.T, l labels) {
				eq(t, "status", l.Status+" "+str(l.StatusOrigin), "GOOD <nil>")
			}},
	})
}

// Rows "Genres" and "Info".
func TestLabelPatchGenresAndInfo(t *testing.T) {
	t.Parallel()
	genres := []any{map[string]any{"name": "Humour", "source": "BIC", "code": "YFQ"}}
	runLabelCases(t, []labelCase{
		{name: "genres replace even when info is not a superset", stored: `info = '{"genres": [], "notes": "keep"}'`, changed: true,
			patch: catalog.LabelSetPatch{Info: map[string]any{"genres": genres, "other": 1}},
			check: func(t *testing.T, l labels) {
				eq(t, "info", l.Info, map[string]any{"genres": genres, "notes": "keep"})
			}},
		{name: "empty genres are not applied; not a superset: untouched", stored: `info = '{"genres": ["x"], "notes": "keep"}'`,
			patch: catalog.LabelSetPatch{Info: map[string]any{"genres": []any{}}},
			check: func(t *testing.T, l labels) {
				eq(t, "info", l.Info, map[string]any{"genres": []any{"x"}, "notes": "keep"})
			}},
		{name: "empty stored info: copied", stored: `info = '{}'`, changed: true,
			patch: catalog.LabelSetPatch{Info: map[string]any{"a": 1, "b": map[string]any{"c": true}}},
			check: func(t *testing.T, l labels) {
				eq(t, "info", l.Info, map[string]any{"a": 1.0, "b": map[string]any{"c": true}})
			}},
		{name: "superset: merged", stored: `info = '{"a": 1, "b": {"c": true}}'`, changed: true,
			patch: catalog.LabelSetPatch{Info: map[string]any{"a": 1, "b": map[string]any{"c": true}, "d": "new"}},
			check: func(t *testing.T, l labels) {
				eq(t, "info", l.Info, map[string]any{"a": 1.0, "b": map[string]any{"c": true}, "d": "new"})
			}},
		{name: "not a superset: untouched", stored: `info = '{"a": 1, "b": 2}'`, changed: false,
			patch: catalog.LabelSetPatch{Info: map[string]any{"a": 2, "d": "new"}},
			check: func(t *testing.T, l labels) {
				eq(t, "info", l.Info, map[string]any{"a": 1.0, "b": 2.0})
			}},
	})
}

// Row "Summary".
func TestLabelPatchSummary(t *testing.T) {
	t.Parallel()
	runLabelCases(t, []labelCase{
		{name: "replaced", stored: `huey_summary = 'old', summary_origin = 'GPT4'`, changed: true,
			patch: catalog.LabelSetPatch{SummaryOrigin: origin(catalog.OriginVertexAI), HueySummary: ptr("new")},
			check: func(t *testing.T, l labels) {
				eq(t, "summary", str(l.Summary)+" "+str(l.SumOrig), "new VERTEXAI")
			}},
		{name: "weaker origin refused", stored: `huey_summary = 'old', summary_origin = 'HUMAN'`,
			patch: catalog.LabelSetPatch{SummaryOrigin: origin(catalog.OriginGPT4), HueySummary: ptr("new")},
			check: func(t *testing.T, l labels) {
				eq(t, "summary", str(l.Summary)+" "+str(l.SumOrig), "old HUMAN")
			}},
		{name: "empty summary ignored", stored: `huey_summary = 'old', summary_origin = 'OTHER'`,
			patch: catalog.LabelSetPatch{SummaryOrigin: origin(catalog.OriginHuman), HueySummary: ptr("")},
			check: func(t *testing.T, l labels) {
				eq(t, "summary", str(l.Summary)+" "+str(l.SumOrig), "old OTHER")
			}},
	})
}

// Rows "Labeller" and "Checked".
func TestLabelPatchLabellerAndChecked(t *testing.T) {
	t.Parallel()
	d := dbtest.NewDB(t)
	tx := txAs(t, d, adminClaims)
	ctx := context.Background()
	user, sa := uuid.New(), uuid.New()
	exec(t, tx, `INSERT INTO users (id, name, type, is_active, created_at, updated_at) VALUES ($1, 'Labeller', 'WRIVETED', true, now(), now())`, user)
	exec(t, tx, `INSERT INTO service_accounts (id, name, type, is_active, created_at, updated_at) VALUES ($1, 'bot', 'BACKEND', true, now(), now())`, sa)
	w := scalar[int64](t, tx, `INSERT INTO works (type, title) VALUES ('BOOK', 'W') RETURNING id`)

	// Nothing applies (weight refused): no labeller; checked always assigned.
	exec(t, tx, `INSERT INTO labelsets (work_id, age_origin, min_age) VALUES ($1, 'HUMAN', 3)`, w)
	changed, err := catalog.ApplyLabelSetPatch(ctx, tx, w, catalog.LabelSetPatch{AgeOrigin: origin(catalog.OriginOther), MinAge: ptr(9),
		LabelledByUserID: &user, LabelledBySAID: &sa, Checked: ptr(true)})
	if err != nil || changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	l := readLabels(t, tx, w)
	if l.ByUser != nil || l.BySA != nil || l.Checked == nil || !*l.Checked || num(l.MinAge) != int32(3) {
		t.Errorf("after a refused patch: %+v", l)
	}
	// A group applies: the labellers given are recorded; omitting checked clears it.
	changed, err = catalog.ApplyLabelSetPatch(ctx, tx, w, catalog.LabelSetPatch{AgeOrigin: origin(catalog.OriginHuman), MinAge: ptr(9),
		LabelledBySAID: &sa})
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	l = readLabels(t, tx, w)
	if l.ByUser != nil || str(l.BySA) != sa.String() || l.Checked != nil || num(l.MinAge) != int32(9) {
		t.Errorf("after an applied patch: %+v", l)
	}
	changed, err = catalog.ApplyLabelSetPatch(ctx, tx, w, catalog.LabelSetPatch{SummaryOrigin: origin(catalog.OriginHuman),
		HueySummary: ptr("s"), LabelledByUserID: &user, Checked: ptr(false)})
	if err != nil || !changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	l = readLabels(t, tx, w)
	if str(l.ByUser) != user.String() || str(l.BySA) != sa.String() || l.Checked == nil || *l.Checked {
		t.Errorf("after a second patch: %+v", l)
	}
	// The latest labelset (highest id) is the one patched.
	newer := scalar[int64](t, tx, `INSERT INTO labelsets (work_id) VALUES ($1) RETURNING id`, w)
	if _, err := catalog.ApplyLabelSetPatch(ctx, tx, w, catalog.LabelSetPatch{AgeOrigin: origin(catalog.OriginOther), MaxAge: ptr(12)}); err != nil {
		t.Fatal(err)
	}
	if got := scalar[*int32](t, tx, `SELECT max_age FROM labelsets WHERE id = $1`, newer); num(got) != int32(12) {
		t.Errorf("latest labelset max_age = %v", num(got))
	}
	// Unknown origins are refused before anything is written.
	if _, err := catalog.ApplyLabelSetPatch(ctx, tx, w, catalog.LabelSetPatch{AgeOrigin: origin("MAGIC")}); !errors.Is(err, catalog.ErrInvalidInput) {
		t.Errorf("unknown origin: %v", err)
	}
}
