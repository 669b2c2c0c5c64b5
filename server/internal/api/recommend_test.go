package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
)

type recBook struct {
	WorkID        int64   `json:"work_id"`
	ISBN          string  `json:"isbn"`
	CoverURL      *string `json:"cover_url"`
	DisplayTitle  string  `json:"display_title"`
	AuthorsString string  `json:"authors_string"`
	Summary       *string `json:"summary"`
	Labels        struct {
		ID          string  `json:"id"`
		WorkID      string  `json:"work_id"`
		HueySummary *string `json:"huey_summary"`
		Hues        []struct {
			ID, Name, Key string
		} `json:"hues"`
		ReadingAbilities []struct {
			ID, Key, Name string
		} `json:"reading_abilities"`
		MinAge *int `json:"min_age"`
		MaxAge *int `json:"max_age"`
	} `json:"labels"`
}

type recOut struct {
	Count int       `json:"count"`
	Books []recBook `json:"books"`
	Query struct {
		Hues              []string `json:"hues"`
		Age               *int     `json:"age"`
		ReadingAbilities  []string `json:"reading_abilities"`
		RecommendableOnly *bool    `json:"recommendable_only"`
		ExcludeISBNs      []string `json:"exclude_isbns"`
		Fallback          any      `json:"fallback"`
		SchoolID          *int64   `json:"school_id"`
	} `json:"query"`
	raw map[string]any
}

func (o recOut) isbns() []string {
	out := []string{}
	for _, b := range o.Books {
		out = append(out, b.ISBN)
	}
	return out
}

// lastEvent is the newest event with title: its info and school.
func (v *env) recLastEvent(title string) (info map[string]any, level string, schoolID *int64) {
	v.t.Helper()
	var raw []byte
	err := v.super.QueryRow(context.Background(), `SELECT info, level::text, school_id FROM events WHERE title = $1
		ORDER BY "timestamp" DESC, id LIMIT 1`, title).Scan(&raw, &level, &schoolID)
	if err != nil {
		v.t.Fatalf("event %q: %v", title, err)
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		v.t.Fatal(err)
	}
	return info, level, schoolID
}

// eligible lists the works Q(P) may return, per SQL written independently of
// the handler's: latest labelset, an edition with a cover passing the filters.
func (v *env) recEligible(hues, abilities []string, age *int, isbns []string) []string {
	v.t.Helper()
	return v.superStrings(`
		SELECT DISTINCT e.work_id::text FROM editions e
		JOIN LATERAL (SELECT * FROM labelsets l WHERE l.work_id = e.work_id ORDER BY l.id DESC LIMIT 1) l ON true
		WHERE e.cover_url IS NOT NULL
		  AND ($4::text[] IS NULL OR e.isbn = ANY ($4))
		  AND EXISTS (SELECT FROM labelset_hue_association x JOIN hues h ON h.id = x.hue_id
		              WHERE x.labelset_id = l.id AND (coalesce(cardinality($1::text[]), 0) = 0 OR h.key = ANY ($1)))
		  AND EXISTS (SELECT FROM labelset_reading_ability_association x JOIN reading_abilities r ON r.id = x.reading_ability_id
		              WHERE x.labelset_id = l.id AND (coalesce(cardinality($2::text[]), 0) = 0 OR r.key = ANY ($2)))
		  AND ($3::integer IS NULL OR (l.min_age <= $3 AND l.max_age >= $3))
		ORDER BY 1`, hues, abilities, age, isbns)
}

func recPtr[T any](v T) *T { return &v }

func TestRecommend(t *testing.T) {
	t.Parallel()
	c := newSearchCast(t)
	v := c.v
	studentA := v.userToken(v.user("Student A", "STUDENT", &c.a))
	educatorA := v.userToken(v.user("Educator A", "EDUCATOR", &c.a))
	reader := v.userToken(v.user("Reader", "PUBLIC", nil))
	admin := v.userToken(v.user("Admin", "WRIVETED", nil))
	lmsA := v.saToken(v.serviceAccount("LMS A", "LMS", c.a))
	rc := newResponseChecker(t, v)
	recommend := func(tok, query string, body map[string]any, want int) recOut {
		t.Helper()
		rec := rc.do(http.MethodPost, "/v1/recommend"+query, tok, body, want)
		if want != http.StatusOK {
			return recOut{}
		}
		out := decode[recOut](t, rec)
		out.raw = decode[map[string]any](t, rec)
		return out
	}

	t.Run("filters, checked against SQL", func(t *testing.T) {
		body := map[string]any{"hues": []string{"hue05_funny_comic", "hue12_funny_quirky"}, "age": 8,
			"reading_abilities": []string{"TREEHOUSE"}}
		want := v.recEligible([]string{"hue05_funny_comic", "hue12_funny_quirky"}, []string{"TREEHOUSE"}, recPtr(8), nil)
		if len(want) < 10 {
			t.Fatalf("sample: only %d eligible works", len(want))
		}
		got := recommend(studentA, "?limit=4", body, http.StatusOK)
		if got.Count != 4 || len(got.Books) != 4 {
			t.Fatalf("count %d books %d", got.Count, len(got.Books))
		}
		authors := map[string]bool{}
		for _, b := range got.Books {
			if !slices.Contains(want, fmt.Sprint(b.WorkID)) {
				t.Errorf("work %d is not eligible", b.WorkID)
			}
			if authors[b.AuthorsString] {
				t.Errorf("author %q twice", b.AuthorsString)
			}
			authors[b.AuthorsString] = true
			if b.CoverURL == nil || b.DisplayTitle == "" || b.Summary == nil || b.Labels.WorkID != fmt.Sprint(b.WorkID) {
				t.Errorf("book %+v", b)
			}
			if *b.Labels.MinAge > 8 || *b.Labels.MaxAge < 8 {
				t.Errorf("ages %d–%d", *b.Labels.MinAge, *b.Labels.MaxAge)
			}
			if !slices.ContainsFunc(b.Labels.ReadingAbilities, func(r struct{ ID, Key, Name string }) bool { return r.Key == "TREEHOUSE" }) {
				t.Errorf("abilities %+v", b.Labels.ReadingAbilities)
			}
			if fmt.Sprint(v.scalar(`SELECT work_id FROM editions WHERE isbn = $1`, b.ISBN)) != fmt.Sprint(b.WorkID) {
				t.Errorf("isbn %s is not an edition of %d", b.ISBN, b.WorkID)
			}
		}
		if q := got.raw["query"].(map[string]any); q["fallback"] != nil || q["school_id"] != nil || q["age"] != float64(8) {
			t.Errorf("query %v", q)
		}
		if _, ok := got.raw["query"].(map[string]any)["limit"]; ok {
			t.Error("query carries limit")
		}
		// Deterministic under the test seed; the event records what was returned.
		again := recommend(studentA, "?limit=4", body, http.StatusOK)
		if !slices.Equal(again.isbns(), got.isbns()) {
			t.Errorf("order changed: %v then %v", got.isbns(), again.isbns())
		}
		info, level, school := v.recLastEvent("Made a recommendation")
		if level != "NORMAL" || school != nil || info["description"] != "Made a recommendation of 4 books" ||
			info["fallback_level"] != float64(0) || len(info["recommended"].([]any)) != 4 {
			t.Errorf("event %v %s %v", info, level, school)
		}
		// exclude_isbns: none of them again (nulls are ignored).
		body["exclude_isbns"] = append([]any{nil}, recAnySlice(got.isbns())...)
		ex := recommend(studentA, "?limit=4", body, http.StatusOK)
		for _, isbn := range ex.isbns() {
			if slices.Contains(got.isbns(), isbn) {
				t.Errorf("excluded %s returned", isbn)
			}
		}
		if ex.Count == 0 || !slices.Equal(ex.Query.ExcludeISBNs, got.isbns()) {
			t.Errorf("exclude: count %d query %v", ex.Count, ex.Query.ExcludeISBNs)
		}
	})

	t.Run("F9: a school's collection only for those who may read it", func(t *testing.T) {
		body := map[string]any{"wriveted_identifier": c.a.WID.String()}
		for _, tok := range []string{studentA, educatorA, lmsA, admin} {
			got := recommend(tok, "?limit=5", body, http.StatusOK)
			if got.Count != 5 || got.Query.SchoolID == nil || *got.Query.SchoolID != c.a.ID {
				t.Fatalf("count %d school %v", got.Count, got.Query.SchoolID)
			}
			for _, isbn := range got.isbns() {
				if !slices.Contains(c.aISBNs, isbn) {
					t.Errorf("%s is not in school A's collection", isbn)
				}
			}
		}
		_, _, school := v.recLastEvent("Made a recommendation")
		if school == nil || *school != c.a.ID {
			t.Errorf("event school %v", school)
		}
		recommend(studentA, "", map[string]any{"wriveted_identifier": c.b.WID.String()}, http.StatusForbidden)
		recommend(educatorA, "", map[string]any{"wriveted_identifier": c.b.WID.String()}, http.StatusForbidden)
		recommend(reader, "", body, http.StatusForbidden)
		recommend(lmsA, "", map[string]any{"wriveted_identifier": c.b.WID.String()}, http.StatusForbidden)
		got := recommend(admin, "", map[string]any{"wriveted_identifier": c.b.WID.String()}, http.StatusOK)
		for _, isbn := range got.isbns() {
			if !slices.Contains(c.bISBNs, isbn) {
				t.Errorf("%s is not in school B's collection", isbn)
			}
		}
		recommend(studentA, "", map[string]any{"wriveted_identifier": uuid.NewString()}, http.StatusNotFound)
		recommend(studentA, "", map[string]any{"wriveted_identifier": "nope"}, http.StatusUnprocessableEntity)
		// A school without a collection: no collection filter.
		sc := v.school("School C", "ACTIVE")
		admC := v.userToken(v.user("Admin C", "SCHOOL_ADMIN", &sc))
		if got := recommend(admC, "", map[string]any{"wriveted_identifier": sc.WID.String()}, http.StatusOK); got.Count != 5 {
			t.Errorf("no collection: %d books", got.Count)
		}
	})

	// A school whose collection holds editions of two authors' works only.
	t.Run("dedupe by authors_string", func(t *testing.T) {
		sd := v.school("School D", "ACTIVE")
		isbns := v.superStrings(`
			WITH solo AS (SELECT work_id, min(author_id) AS author_id FROM author_work_association
			              GROUP BY work_id HAVING count(*) = 1),
			top AS (SELECT author_id FROM solo GROUP BY author_id ORDER BY count(*) DESC, author_id LIMIT 2)
			SELECT e.isbn FROM editions e JOIN solo ON solo.work_id = e.work_id
			WHERE solo.author_id IN (SELECT author_id FROM top) AND e.cover_url IS NOT NULL`)
		v.schoolCollection(sd, isbns, nil)
		tok := v.userToken(v.user("Student D", "STUDENT", &sd))
		got := recommend(tok, "?limit=5", map[string]any{"wriveted_identifier": sd.WID.String()}, http.StatusOK)
		if got.Count != 2 || got.Books[0].AuthorsString == got.Books[1].AuthorsString {
			t.Errorf("%d books: %v", got.Count, got.Books)
		}
	})

	t.Run("exactly one result is returned, null summary as empty string", func(t *testing.T) {
		se := v.school("School E", "ACTIVE")
		isbn := c.aISBNs[3]
		v.schoolCollection(se, []string{isbn}, nil)
		v.exec(`UPDATE labelsets SET huey_summary = NULL WHERE id = (SELECT max(l.id) FROM labelsets l
			JOIN editions e ON e.work_id = l.work_id WHERE e.isbn = $1)`, isbn)
		tok := v.userToken(v.user("Student E", "STUDENT", &se))
		got := recommend(tok, "", map[string]any{"wriveted_identifier": se.WID.String()}, http.StatusOK)
		if got.Count != 1 || got.Books[0].ISBN != isbn || got.Books[0].Summary == nil || *got.Books[0].Summary != "" ||
			got.Books[0].Labels.HueySummary != nil {
			t.Fatalf("one book: %+v", got)
		}
		// Fallback (b) ran (hues null), (c) counted with nothing to widen.
		if got.raw["query"].(map[string]any)["hues"] != nil {
			t.Errorf("query %v", got.raw["query"])
		}
		info, _, _ := v.recLastEvent("Made a recommendation")
		if info["fallback_level"] != float64(2) || info["description"] != "Made a recommendation of 1 books" {
			t.Errorf("event %v", info)
		}
		// With fallback, (a) leaves the collection: more books.
		got = recommend(tok, "", map[string]any{"wriveted_identifier": se.WID.String(), "fallback": true}, http.StatusOK)
		if got.Count != 5 || got.Query.SchoolID != nil {
			t.Errorf("fallback (a): %d books, school %v", got.Count, got.Query.SchoolID)
		}
		if info, _, _ := v.recLastEvent("Made a recommendation"); info["fallback_level"] != float64(1) {
			t.Errorf("event %v", info)
		}
	})

	t.Run("fallbacks (b) and (c)", func(t *testing.T) {
		// (b): two works carry hue13_informative; dropping the hue filter finds more.
		if n := len(v.recEligible([]string{"hue13_informative"}, nil, nil, nil)); n >= 3 {
			t.Fatalf("sample: %d informative works", n)
		}
		got := recommend(reader, "", map[string]any{"hues": []string{"hue13_straightforward"}}, http.StatusOK)
		if got.Count != 5 || got.raw["query"].(map[string]any)["hues"] != nil {
			t.Errorf("(b): %d books, query %v", got.Count, got.raw["query"])
		}
		if info, _, _ := v.recLastEvent("Made a recommendation"); info["fallback_level"] != float64(1) {
			t.Errorf("event %v", info)
		}
		// (c) by reading ability: a school holding two SPOT books and three CAT_HAT ones.
		only := func(has, hasNot string, n int) []string {
			return v.superStrings(`
				SELECT min(e.isbn) FROM editions e
				JOIN LATERAL (SELECT l.id FROM labelsets l WHERE l.work_id = e.work_id ORDER BY l.id DESC LIMIT 1) l ON true
				WHERE e.cover_url IS NOT NULL
				  AND EXISTS (SELECT FROM labelset_hue_association x WHERE x.labelset_id = l.id)
				  AND EXISTS (SELECT FROM labelset_reading_ability_association x JOIN reading_abilities r ON r.id = x.reading_ability_id
				              WHERE x.labelset_id = l.id AND r.key = $1)
				  AND NOT EXISTS (SELECT FROM labelset_reading_ability_association x JOIN reading_abilities r ON r.id = x.reading_ability_id
				              WHERE x.labelset_id = l.id AND r.key = $2)
				GROUP BY e.work_id ORDER BY e.work_id LIMIT $3`, has, hasNot, n)
		}
		sf := v.school("School F", "ACTIVE")
		v.schoolCollection(sf, append(only("SPOT", "CAT_HAT", 2), only("CAT_HAT", "SPOT", 3)...), nil)
		tokF := v.userToken(v.user("Student F", "STUDENT", &sf))
		got = recommend(tokF, "?limit=5", map[string]any{"reading_abilities": []string{"spot"}, "age": nil,
			"hues": []string{"hue13_informative"}, "wriveted_identifier": sf.WID.String()}, http.StatusOK)
		if !slices.Equal(got.Query.ReadingAbilities, []string{"SPOT", "CAT_HAT"}) || got.Count != 5 || got.Query.Hues != nil {
			t.Errorf("(c): %d books, query %v", got.Count, got.raw["query"])
		}
		if info, _, _ := v.recLastEvent("Made a recommendation"); info["fallback_level"] != float64(2) {
			t.Errorf("event %v", info)
		}
		// (a), (b) and (c): with fallback, the collection is left first; the hue-less query finds enough.
		got = recommend(tokF, "?limit=5", map[string]any{"reading_abilities": []string{"SPOT"},
			"hues": []string{"hue13_informative"}, "wriveted_identifier": sf.WID.String(), "fallback": true}, http.StatusOK)
		if got.Query.SchoolID != nil || got.Query.Hues != nil || got.Count != 5 {
			t.Errorf("(a)+(b): %d books, query %v", got.Count, got.raw["query"])
		}
		if info, _, _ := v.recLastEvent("Made a recommendation"); info["fallback_level"] != float64(2) {
			t.Errorf("event %v", info)
		}
		// (c) by age, and no books at all.
		got = recommend(reader, "", map[string]any{"age": 40}, http.StatusOK)
		if got.Count != 0 || len(got.Books) != 0 || *got.Query.Age != 42 || got.Query.Hues != nil {
			t.Errorf("no books: %+v", got)
		}
		info, level, _ := v.recLastEvent("No books")
		if level != "WARNING" || info["fallback_level"] != float64(2) ||
			info["description"] != "No books met the criteria for recommendation" {
			t.Errorf("no-books event %v %s", info, level)
		}
		if q := info["query_parameters"].(map[string]any); q["age"] != float64(42) || q["limit"] != float64(10) {
			t.Errorf("query_parameters %v", q)
		}
	})

	t.Run("validation", func(t *testing.T) {
		for _, q := range []string{"?limit=0", "?limit=-1", "?limit=x", "?limit=1001"} {
			recommend(reader, q, map[string]any{}, http.StatusUnprocessableEntity)
		}
		d := detailOf(t, v.do(http.MethodPost, "/v1/recommend", reader, map[string]any{"hues": []string{"hue05_funny_comic", "hue99_nope"}}))
		if !hasEntry(d, "enum", []any{"body", "hues", float64(1)}, "hue99_nope") {
			t.Errorf("bad hue: %v", d)
		}
		d = detailOf(t, v.do(http.MethodPost, "/v1/recommend", reader, map[string]any{"reading_abilities": []string{"EASY"}}))
		if !hasEntry(d, "enum", []any{"body", "reading_abilities", float64(0)}, "EASY") {
			t.Errorf("bad ability: %v", d)
		}
		recommend(reader, "", nil, http.StatusUnprocessableEntity)
		recommend(reader, "", map[string]any{"age": "eight"}, http.StatusUnprocessableEntity)
		recommend("", "", map[string]any{}, http.StatusUnauthorized)
		// Legacy hue keys are accepted and answered as the current ones.
		got := recommend(reader, "?limit=2", map[string]any{"hues": []string{"hue08_charming_inspiring"}}, http.StatusOK)
		if !slices.Equal(got.Query.Hues, []string{"hue08_charming_courageous"}) || got.Count != 2 {
			t.Errorf("alias: %+v", got.Query)
		}
	})
}

func recAnySlice(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
