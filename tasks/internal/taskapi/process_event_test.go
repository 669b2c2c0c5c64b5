package taskapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/tasks/internal/taskapi"
	"github.com/wriveted/huey-api/tasks/jobs"
)

// pefx inserts the fixtures of the event and pathway tests as the superuser.
type pefx struct {
	t   *testing.T
	env *taskEnv
}

func newPefx(t *testing.T, env *taskEnv) pefx { return pefx{t: t, env: env} }

func (f pefx) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.env.super.Exec(f.t.Context(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f pefx) scan(dest any, sql string, args ...any) {
	f.t.Helper()
	if err := f.env.super.QueryRow(f.t.Context(), sql, args...).Scan(dest); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

// school creates a school and returns its integer id and wriveted identifier.
func (f pefx) school(name string) (int64, uuid.UUID) {
	f.t.Helper()
	var id int64
	var wid uuid.UUID
	if err := f.env.super.QueryRow(f.t.Context(), `INSERT INTO schools (name, state, country_code, info)
		VALUES ($1, 'ACTIVE', 'NZL', '{}') RETURNING id, wriveted_identifier`, name).Scan(&id, &wid); err != nil {
		f.t.Fatal(err)
	}
	return id, wid
}

// user creates an account of type typ (DB label) with the given e-mail
// (empty: none) and info (JSON); readers get their readers row.
func (f pefx) user(name, typ, email, info string) uuid.UUID {
	f.t.Helper()
	id := uuid.New()
	var mail *string
	if email != "" {
		mail = &email
	}
	f.exec(`INSERT INTO users (id, is_active, email, name, info, created_at, updated_at, type)
		VALUES ($1, true, $2, $3, $4, now(), now(), $5)`, id, mail, name, info, typ)
	switch typ {
	case "PUBLIC":
		f.exec(`INSERT INTO readers (id, huey_attributes, first_name, last_name_initial) VALUES ($1, '{}', 'Pat', 'R')`, id)
		f.exec(`INSERT INTO public_readers (id, reader_info) VALUES ($1, '{}')`, id)
	case "SUPPORTER":
		f.exec(`INSERT INTO supporters (id, supporter_info) VALUES ($1, '{}')`, id)
	case "PARENT":
		f.exec(`INSERT INTO parents (id, parent_info) VALUES ($1, '{}')`, id)
	}
	return id
}

// student creates a student of a new class named class in the school.
func (f pefx) student(name string, schoolID int64, schoolWID uuid.UUID, class string) uuid.UUID {
	f.t.Helper()
	var cls uuid.UUID
	f.scan(&cls, `INSERT INTO class_groups (school_id, name, join_code) VALUES ($1, $2, $3) RETURNING id`,
		schoolWID, class, strings.ToUpper(uuid.NewString()[:6]))
	id := uuid.New()
	f.exec(`INSERT INTO users (id, is_active, name, info, created_at, updated_at, type)
		VALUES ($1, true, $2, '{}', now(), now(), 'STUDENT')`, id, name)
	f.exec(`INSERT INTO readers (id, huey_attributes, first_name, last_name_initial) VALUES ($1, '{}', 'Sam', 'S')`, id)
	f.exec(`INSERT INTO students (id, school_id, student_info, class_group_id, username) VALUES ($1, $2, '{}', $3, $4)`,
		id, schoolID, cls, strings.ReplaceAll(name, " ", "")+"42")
	return id
}

var pefxISBNSeq atomic.Int64 //nolint:gochecknoglobals // test ISBN counter

// pefxISBN returns a fresh valid ISBN-13.
func pefxISBN() string {
	n := 200000000 + pefxISBNSeq.Add(1)*7919%700000000
	body := "978" + strconv.FormatInt(n, 10)
	sum := 0
	for i, r := range body {
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += w * int(r-'0')
	}
	return body + strconv.Itoa((10-sum%10)%10)
}

// book creates a work titled title with one edition (with a cover) and
// returns the work id and the ISBN.
func (f pefx) book(title string) (int64, string) {
	f.t.Helper()
	var work int64
	f.scan(&work, `INSERT INTO works (type, title, info) VALUES ('BOOK', $1, '{}') RETURNING id`, title)
	isbn := pefxISBN()
	f.exec(`INSERT INTO editions (isbn, work_id, cover_url, info) VALUES ($1, $2, 'https://covers.example/x.jpg', '{}')`, isbn, work)
	return work, isbn
}

// event records an event as the superuser and returns its id.
func (f pefx) event(title string, schoolID *int64, userID *uuid.UUID, info any) uuid.UUID {
	f.t.Helper()
	raw, err := json.Marshal(info)
	if err != nil {
		f.t.Fatal(err)
	}
	id := uuid.New()
	f.exec(`INSERT INTO events (id, title, level, school_id, user_id, info, "timestamp")
		VALUES ($1, $2, 'NORMAL', $3, $4, $5, now() AT TIME ZONE 'UTC')`, id, title, schoolID, userID, raw)
	return id
}

// processEvent posts /v1/process-event for id and returns status and body.
func (f pefx) processEvent(id uuid.UUID, taskID string) (int, string) {
	f.t.Helper()
	code, body := f.env.post(f.t, "/v1/process-event", map[string]any{"event_id": id.String()}, taskID)
	return code, string(body)
}

// listItems returns a list's items as "work:edition" in position order,
// checking the positions are 0..n-1.
func (f pefx) listItems(listID uuid.UUID) []string {
	f.t.Helper()
	rows, err := f.env.super.Query(f.t.Context(), `SELECT work_id, order_id, info ->> 'edition' FROM book_list_works
		WHERE booklist_id = $1 ORDER BY order_id`, listID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for i := 0; rows.Next(); i++ {
		var (
			work, order int64
			edition     *string
		)
		if err := rows.Scan(&work, &order, &edition); err != nil {
			f.t.Fatal(err)
		}
		if order != int64(i) {
			f.t.Errorf("list %s: item %d at position %d", listID, i, order)
		}
		e := "<nil>"
		if edition != nil {
			e = *edition
		}
		out = append(out, strconv.FormatInt(work, 10)+":"+e)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func pefxItem(work int64, isbn string) string { return strconv.FormatInt(work, 10) + ":" + isbn }

func TestProcessEventRequests(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	missing := uuid.New()
	for _, tc := range []struct {
		name string
		body any
		want int
		in   string
	}{
		{"unknown event", map[string]any{"event_id": missing.String()}, http.StatusNotFound,
			`{"detail":"Event with id ` + missing.String() + ` not found"}`},
		{"not a uuid", map[string]any{"event_id": "nope"}, http.StatusUnprocessableEntity, `"uuid_parsing"`},
		{"no event id", map[string]any{}, http.StatusUnprocessableEntity, `"missing"`},
		{"malformed JSON", []byte(`{"event_id":`), http.StatusUnprocessableEntity, `"json_invalid"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body := env.post(t, "/v1/process-event", tc.body, "")
			if code != tc.want || !strings.Contains(string(body), tc.in) {
				t.Errorf("%d %s, want %d containing %s", code, body, tc.want, tc.in)
			}
		})
	}

	// Titles without processing answer null and change nothing.
	reader := f.user("Ria Reader", "PUBLIC", "", "{}")
	for _, title := range []string{"Subscription started", "Something else"} {
		id := f.event(title, nil, &reader, map[string]any{"description": "d"})
		if code, body := f.processEvent(id, ""); code != http.StatusOK || body != "null" {
			t.Errorf("%s: %d %s, want 200 null", title, code, body)
		}
	}
	if n := env.count(t, `SELECT count(*) FROM events`); n != 2 {
		t.Errorf("%d events, want the 2 fixtures only", n)
	}
	if n := env.count(t, `SELECT count(*) FROM book_lists`) + env.count(t, `SELECT count(*) FROM task_queue`); n != 0 {
		t.Errorf("no-op titles wrote %d lists or tasks", n)
	}
}

// The Test event's description becomes "MODIFIED"; the event keeps its id,
// title, attribution and other info.
func TestProcessTestEvent(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	reader := f.user("Tess Test", "PUBLIC", "", "{}")
	id := f.event("Test", nil, &reader, map[string]any{"description": "original", "keep": 7})
	code, body := f.processEvent(id, "")
	if code != http.StatusOK || body != `{"msg":"ok"}` {
		t.Fatalf("%d %s", code, body)
	}
	var (
		desc, keep, title string
		user              uuid.UUID
	)
	if err := env.super.QueryRow(t.Context(), `SELECT info ->> 'description', info ->> 'keep', title, user_id FROM events
		WHERE id = $1`, id).Scan(&desc, &keep, &title, &user); err != nil {
		t.Fatal(err)
	}
	if desc != "MODIFIED" || keep != "7" || title != "Test" || user != reader {
		t.Errorf("event now %q %q %q %s", desc, keep, title, user)
	}
	if n := env.count(t, `SELECT count(*) FROM events`); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
}

// Process-event refuses callers without the shared secret, and does nothing.
func TestProcessEventNeedsTheSecret(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	id := f.event("Test", nil, nil, map[string]any{"description": "original"})
	for _, path := range []string{"/v1/process-event", "/v1/generate-reading-pathways"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, env.srv.URL+path,
			strings.NewReader(`{"event_id":"`+id.String()+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without the secret: %d, want 401", path, resp.StatusCode)
		}
	}
	if n := env.count(t, `SELECT count(*) FROM events WHERE info ->> 'description' = 'original'`); n != 1 {
		t.Error("an unauthenticated request changed the event")
	}
}

// A student's review adds the liked, known books to the school's list, the
// student's Personal list and the class list, creating each once; a second
// review appends only what is new.
func TestProcessBookReview(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	schoolID, schoolWID := f.school("Kauri School")
	student := f.student("Kim Student", schoolID, schoolWID, "Room 5")
	w1, i1 := f.book("First Liked")
	_, i2 := f.book("Not Liked")
	w3, i3 := f.book("Third Liked")
	w4, i4 := f.book("Fourth Liked")
	unknown := pefxISBN()

	// ISBNs are normalised: hyphens and the ISBN-10 form name the same edition.
	hyphenated := i1[:3] + "-" + i1[3:]
	first := f.event("Huey: Book reviewed", &schoolID, &student, map[string]any{"reviews": []any{
		map[string]any{"isbn": hyphenated, "liked": true, "read": true},
		map[string]any{"isbn": i2, "liked": false, "read": true},
		map[string]any{"isbn": unknown, "liked": true, "read": true},
		map[string]any{"isbn": i3, "liked": true, "read": false},
		map[string]any{"isbn": "garbage", "liked": true},
	}})
	if code, body := f.processEvent(first, ""); code != http.StatusOK || body != "null" {
		t.Fatalf("%d %s", code, body)
	}

	type list struct {
		id       uuid.UUID
		typ      string
		school   *int64
		user     *uuid.UUID
		describe string
	}
	lists := map[string]list{}
	loadLists := func() {
		t.Helper()
		rows, err := env.super.Query(t.Context(), `SELECT id, name, type::text, school_id, user_id, info ->> 'description' FROM book_lists`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		clear(lists)
		for rows.Next() {
			var l list
			var name string
			if err := rows.Scan(&l.id, &name, &l.typ, &l.school, &l.user, &l.describe); err != nil {
				t.Fatal(err)
			}
			if _, dup := lists[name+"/"+l.typ]; dup {
				t.Errorf("list %s (%s) created twice", name, l.typ)
			}
			lists[name+"/"+l.typ] = l
		}
	}
	loadLists()
	if len(lists) != 3 {
		t.Fatalf("lists %v, want 3", lists)
	}
	want := []string{pefxItem(w1, i1), pefxItem(w3, i3)}
	for _, key := range []string{"Liked Books/SCHOOL", "Liked Books/PERSONAL", "Room 5 Liked Books/SCHOOL"} {
		l, ok := lists[key]
		if !ok {
			t.Fatalf("no list %s in %v", key, lists)
		}
		// R10: the Personal list is the student's; School lists are the school's alone
		if ownedByStudent := l.user != nil && *l.user == student; ownedByStudent != (l.typ == "PERSONAL") ||
			l.describe != "List of all books liked in a Chat" {
			t.Errorf("%s: owner %v, description %q", key, l.user, l.describe)
		}
		if (l.typ == "SCHOOL") != (l.school != nil && *l.school == schoolID) {
			t.Errorf("%s: school %v", key, l.school)
		}
		if got := f.listItems(l.id); !slices.Equal(got, want) {
			t.Errorf("%s items %v, want %v", key, got, want)
		}
	}

	// A second review (its info the review itself) adds one new book at the end
	// and skips one already listed; the lists are found, not created again.
	second := f.event("Huey: Book reviewed", &schoolID, &student, map[string]any{"isbn": i4, "liked": true, "read": true})
	third := f.event("Huey: Book reviewed", &schoolID, &student, map[string]any{"isbn": i3, "liked": true, "read": true})
	for _, id := range []uuid.UUID{second, third} {
		if code, body := f.processEvent(id, ""); code != http.StatusOK || body != "null" {
			t.Fatalf("%d %s", code, body)
		}
	}
	loadLists()
	if len(lists) != 3 {
		t.Fatalf("lists after more reviews %v, want the same 3", lists)
	}
	want = append(want, pefxItem(w4, i4))
	for key, l := range lists {
		if got := f.listItems(l.id); !slices.Equal(got, want) {
			t.Errorf("%s items %v, want %v", key, got, want)
		}
	}
}

// A review without a school fills the user's Personal list only; a review
// with nothing liked creates nothing.
func TestProcessBookReviewWithoutSchool(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	reader := f.user("Pia Public", "PUBLIC", "", "{}")
	w, isbn := f.book("Loved")
	none := f.event("Huey: Book reviewed", nil, &reader, map[string]any{"reviews": []any{
		map[string]any{"isbn": isbn, "liked": false}}})
	if code, body := f.processEvent(none, ""); code != http.StatusOK || body != "null" {
		t.Fatalf("%d %s", code, body)
	}
	if n := env.count(t, `SELECT count(*) FROM book_lists`); n != 0 {
		t.Fatalf("nothing liked, yet %d lists", n)
	}
	liked := f.event("Huey: Book reviewed", nil, &reader, map[string]any{"reviews": []any{
		map[string]any{"isbn": isbn, "liked": true}}})
	if code, body := f.processEvent(liked, ""); code != http.StatusOK || body != "null" {
		t.Fatalf("%d %s", code, body)
	}
	var id uuid.UUID
	if err := env.super.QueryRow(t.Context(), `SELECT id FROM book_lists WHERE type = 'PERSONAL' AND user_id = $1
		AND name = 'Liked Books' AND school_id IS NULL`, reader).Scan(&id); err != nil {
		t.Fatalf("personal list: %v", err)
	}
	if got := f.listItems(id); !slices.Equal(got, []string{pefxItem(w, isbn)}) {
		t.Errorf("items %v", got)
	}
	if n := env.count(t, `SELECT count(*) FROM book_lists`); n != 1 {
		t.Errorf("%d lists, want 1", n)
	}
}

// readingFx is a reader with a book in their collection and supporters.
type readingFx struct {
	reader, emailOnly, phoneOnly, both, inactive, inactivePhone uuid.UUID
	itemID                                                      int64
	collectionID                                                uuid.UUID
}

func newReadingFx(f pefx) readingFx {
	f.t.Helper()
	var r readingFx
	r.reader = f.user("Rua Reader", "PUBLIC", "", "{}")
	_, isbn := f.book("The Very Long Title Of A Book About Dragons")
	f.scan(&r.collectionID, `INSERT INTO collections (user_id, name, info) VALUES ($1, 'Rua''s books', '{}') RETURNING id`, r.reader)
	f.scan(&r.itemID, `INSERT INTO collection_items (collection_id, edition_isbn, copies_available, copies_total, info)
		VALUES ($1, $2, 1, 1, '{}') RETURNING id`, r.collectionID, isbn)
	support := func(name, email, info string, active, allowEmail, allowPhone bool) uuid.UUID {
		id := f.user(name, "SUPPORTER", email, info)
		f.exec(`INSERT INTO supporter_reader_association (supporter_id, reader_id, is_active, allow_phone, allow_email, supporter_nickname)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, r.reader, active, allowPhone, allowEmail, "Aunty "+name)
		return id
	}
	r.emailOnly = support("Ema", "ema@example.org", `{"phone_number": "+64211111111"}`, true, true, false)
	r.phoneOnly = support("Pho", "pho@example.org", `{"phone_number": "+64212222222"}`, true, false, true)
	r.both = support("Bot", "bot@example.org", `{"phone": "+64213333333"}`, true, true, true)
	r.inactive = support("Ina", "ina@example.org", `{"phone_number": "+64214444444"}`, false, true, false)
	// The original notified this one (inactive, but allows the phone).
	r.inactivePhone = support("Inp", "inp@example.org", `{"phone_number": "+64215555555"}`, false, true, true)
	return r
}

func TestProcessReadingLogged(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t, func(o *taskapi.Options) { o.AppURL = "https://app.example/" })
	f := newPefx(t, env)
	r := newReadingFx(f)
	ev := f.event("Reader timeline event: Reading logged", nil, &r.reader, map[string]any{
		"collection_item_id": r.itemID, "collection_id": r.collectionID.String(), "descriptor": "exciting",
		"emoji": "🐉", "timestamp": "2026-11-27T10:00:00", "finished": false, "stopped": false, "description": ""})
	task := env.enqueue(t, jobs.KindProcessEvent, map[string]any{"event_id": ev.String()}, "process-event:"+ev.String())
	code, body := f.processEvent(ev, task)
	if code != http.StatusOK || body != "null" {
		t.Fatalf("%d %s", code, body)
	}

	// The activity row, for the event's reader.
	var status string
	if err := env.super.QueryRow(t.Context(), `SELECT status::text FROM collection_item_activity_log
		WHERE collection_item_id = $1 AND reader_id = $2`, r.itemID, r.reader).Scan(&status); err != nil {
		t.Fatalf("activity: %v", err)
	}
	if status != "READING" {
		t.Errorf("status %s, want READING", status)
	}

	// E-mails to the active supporters allowing e-mail, with a link without a token (F11).
	wantURL := "https://app.example/reader-feedback/?event_id=" + ev.String()
	got := map[string]bool{}
	for _, m := range env.msgs.all() {
		if m.Channel != "email" || len(m.To) != 1 {
			t.Errorf("unexpected message %+v", m)
			continue
		}
		got[m.To[0]] = true
		d := m.TemplateData
		if m.TemplateID != "d-841938d74d9142509af934005ad6e3ed" || m.Subject != "Rua Reader has done some reading!" ||
			m.From != "Huey Books" || d["reader_name"] != "Rua Reader" || d["emoji"] != "🐉" || d["descriptor"] != "exciting" ||
			d["book_title"] != "The Very Long Title Of A Book About Dragons" || d["encoded_url"] != wantURL {
			t.Errorf("e-mail %+v", m)
		}
		if u, _ := d["encoded_url"].(string); strings.Contains(u, "token") {
			t.Errorf("feedback URL carries a token: %s", u)
		}
		if want := map[string]string{"ema@example.org": "Ema", "bot@example.org": "Bot"}[m.To[0]]; d["supporter_name"] != want {
			t.Errorf("supporter_name %v, want %s", d["supporter_name"], want)
		}
	}
	if len(got) != 2 || !got["ema@example.org"] || !got["bot@example.org"] {
		t.Errorf("e-mailed %v, want ema and bot", got)
	}

	// SMS queued for the active supporters allowing the phone, never for inactive ones.
	rows, err := env.super.Query(t.Context(), `SELECT idempotency_key, payload FROM task_queue WHERE kind = 'send-sms' ORDER BY idempotency_key`)
	if err != nil {
		t.Fatal(err)
	}
	sms := map[string]map[string]any{}
	for rows.Next() {
		var key string
		var payload []byte
		if err := rows.Scan(&key, &payload); err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		if err := json.Unmarshal(payload, &p); err != nil {
			t.Fatal(err)
		}
		sms[key] = p
	}
	rows.Close()
	wantBody := "Rua Reader read some of The Very Long Title Of A..., and described it as 'exciting 🐉'.\n" +
		"Choose a one-tap response: " + wantURL + "\nHuey Books"
	for supporter, phone := range map[uuid.UUID]string{r.phoneOnly: "+64212222222", r.both: "+64213333333"} {
		p, ok := sms["reading-logged-sms:"+ev.String()+":"+supporter.String()]
		if !ok {
			t.Errorf("no SMS for %s in %v", phone, sms)
			continue
		}
		if p["to"] != phone || p["body"] != wantBody || p["shorten_urls"] != true {
			t.Errorf("SMS %v, want to %s body %q", p, phone, wantBody)
		}
	}
	if len(sms) != 2 {
		t.Errorf("%d SMS queued, want 2: %v", len(sms), sms)
	}

	// One notification event per notified supporter, attributed to the reader.
	var notified []string
	nrows, err := env.super.Query(t.Context(), `SELECT info ->> 'recipient_id', info ->> 'recipient_type', info ->> 'event_id', level::text
		FROM events WHERE title = 'Notification Sent: Reading Logged' AND user_id = $1 AND service_account_id IS NULL
		ORDER BY 1`, r.reader)
	if err != nil {
		t.Fatal(err)
	}
	for nrows.Next() {
		var rid, rtype, eid, level string
		if err := nrows.Scan(&rid, &rtype, &eid, &level); err != nil {
			t.Fatal(err)
		}
		if rtype != "supporter" || eid != ev.String() || level != "DEBUG" {
			t.Errorf("notification event %s %s %s %s", rid, rtype, eid, level)
		}
		notified = append(notified, rid)
	}
	nrows.Close()
	for _, inactive := range []uuid.UUID{r.inactive, r.inactivePhone} {
		for _, n := range notified {
			if n == inactive.String() {
				t.Errorf("inactive association %s notified", inactive)
			}
		}
	}
	if len(notified) != 3 {
		t.Errorf("notified %v, want ema, pho and bot", notified)
	}

	// Redelivered, the task answers its stored result and notifies no one again.
	if code, body := f.processEvent(ev, task); code != http.StatusOK || body != "null" {
		t.Fatalf("redelivery: %d %s", code, body)
	}
	if n := len(env.msgs.all()); n != 2 {
		t.Errorf("redelivery sent e-mail again: %d messages", n)
	}
	if n := env.count(t, `SELECT count(*) FROM collection_item_activity_log`); n != 1 {
		t.Errorf("%d activity rows after redelivery, want 1", n)
	}
}

// Finished and stopped map to READ and STOPPED_READING; an event naming an
// unknown item, or without a reader, changes nothing.
func TestProcessReadingLoggedStatuses(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	r := newReadingFx(f)
	for _, tc := range []struct {
		info map[string]any
		want string
	}{
		{map[string]any{"finished": true, "stopped": true}, "READ"},
		{map[string]any{"stopped": true}, "STOPPED_READING"},
	} {
		tc.info["collection_item_id"] = r.itemID
		tc.info["descriptor"], tc.info["emoji"] = "ok", "🙂"
		ev := f.event("Reader timeline event: Reading logged", nil, &r.reader, tc.info)
		if code, body := f.processEvent(ev, ""); code != http.StatusOK || body != "null" {
			t.Fatalf("%d %s", code, body)
		}
		var status string
		if err := env.super.QueryRow(t.Context(), `SELECT status::text FROM collection_item_activity_log
			ORDER BY id DESC LIMIT 1`).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status != tc.want {
			t.Errorf("%v: status %s, want %s", tc.info, status, tc.want)
		}
	}
	before := len(env.msgs.all())
	for _, ev := range []uuid.UUID{
		f.event("Reader timeline event: Reading logged", nil, &r.reader, map[string]any{"collection_item_id": 999999, "emoji": "x"}),
		f.event("Reader timeline event: Reading logged", nil, nil, map[string]any{"collection_item_id": r.itemID}),
		f.event("Reader timeline event: Reading logged", nil, &r.reader, map[string]any{"emoji": "no item"}),
	} {
		if code, body := f.processEvent(ev, ""); code != http.StatusOK || body != "null" {
			t.Errorf("%d %s", code, body)
		}
	}
	if n := env.count(t, `SELECT count(*) FROM collection_item_activity_log`); n != 2 {
		t.Errorf("%d activity rows, want 2", n)
	}
	if n := len(env.msgs.all()); n != before {
		t.Errorf("unprocessable events sent %d messages", n-before)
	}
}

// R1 (issue 12): the worker reads every item, but a reading log may only
// name the reader's own, its parent's or its school's: an event naming
// another collection's item (written around the API's check) records no
// activity and mails no supporter that item's title.
func TestHardening_R1_ReadingLogOfAnotherCollectionsItemIsIgnored(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t, func(o *taskapi.Options) { o.AppURL = "https://app.example/" })
	f := newPefx(t, env)
	r := newReadingFx(f) // the reader, with supporters and an item of their own
	stranger := f.user("Stranger", "PUBLIC", "", "{}")
	_, isbn := f.book("Someone Else's Secret Title")
	var theirs uuid.UUID
	var foreign int64
	f.scan(&theirs, `INSERT INTO collections (user_id, name, info) VALUES ($1, 'Theirs', '{}') RETURNING id`, stranger)
	f.scan(&foreign, `INSERT INTO collection_items (collection_id, edition_isbn, copies_available, copies_total, info)
		VALUES ($1, $2, 1, 1, '{}') RETURNING id`, theirs, isbn)
	before := len(env.msgs.all())
	ev := f.event("Reader timeline event: Reading logged", nil, &r.reader, map[string]any{
		"collection_item_id": foreign, "descriptor": "sneaky", "emoji": "x"})
	if code, body := f.processEvent(ev, ""); code != http.StatusOK || body != "null" {
		t.Fatalf("%d %s", code, body)
	}
	if n := env.count(t, `SELECT count(*) FROM collection_item_activity_log`); n != 0 {
		t.Fatalf("%d activity rows on another collection's item", n)
	}
	if n := len(env.msgs.all()); n != before {
		t.Fatalf("%d messages sent about another collection's item", n-before)
	}
	// the reader's own item still works
	own := f.event("Reader timeline event: Reading logged", nil, &r.reader, map[string]any{"collection_item_id": r.itemID, "emoji": "x"})
	if code, body := f.processEvent(own, ""); code != http.StatusOK || body != "null" {
		t.Fatalf("%d %s", code, body)
	}
	if n := env.count(t, `SELECT count(*) FROM collection_item_activity_log`); n != 1 {
		t.Fatalf("%d activity rows for the reader's own item", n)
	}
}

// R1 (issue 12), run under the reader's claims: a student's reading of its
// school's book is recorded (the reader's own row security lets it: the
// insert policy collection_item_activity_log_insert_reader and the
// huey.reading_log_item door), another school's book is not, and neither is
// anything for a deactivated reader — whatever the worker itself could do.
func TestHardening_R1_ReadingLogRunsUnderTheReadersClaims(t *testing.T) {
	t.Parallel()
	env := newTaskEnv(t)
	f := newPefx(t, env)
	aID, aWID := f.school("R1 School A")
	_, bWID := f.school("R1 School B")
	student := f.student("Tui Student", aID, aWID, "Room 1")
	item := func(school uuid.UUID, title string) int64 {
		_, isbn := f.book(title)
		var coll uuid.UUID
		f.scan(&coll, `INSERT INTO collections (school_id, name, info) VALUES ($1, $2, '{}') RETURNING id`, school, title+" shelf")
		var id int64
		f.scan(&id, `INSERT INTO collection_items (collection_id, edition_isbn, copies_available, copies_total, info)
			VALUES ($1, $2, 1, 1, '{}') RETURNING id`, coll, isbn)
		return id
	}
	ours, theirs := item(aWID, "Our Library Book"), item(bWID, "Their Library Book")
	logged := func(it int64) int {
		return env.count(t, `SELECT count(*) FROM collection_item_activity_log WHERE collection_item_id = `+strconv.FormatInt(it, 10))
	}
	for _, it := range []int64{ours, theirs} {
		ev := f.event("Reader timeline event: Reading logged", &aID, &student, map[string]any{"collection_item_id": it, "emoji": "x"})
		if code, body := f.processEvent(ev, ""); code != http.StatusOK || body != "null" {
			t.Fatalf("%d %s", code, body)
		}
	}
	if n := logged(ours); n != 1 {
		t.Fatalf("%d activity rows for the student's school's book, want 1", n)
	}
	if n := logged(theirs); n != 0 {
		t.Fatalf("%d activity rows for another school's book", n)
	}
	f.exec(`UPDATE users SET is_active = false WHERE id = $1`, student)
	ev := f.event("Reader timeline event: Reading logged", &aID, &student, map[string]any{"collection_item_id": ours, "emoji": "x"})
	if code, body := f.processEvent(ev, ""); code != http.StatusOK || body != "null" {
		t.Fatalf("%d %s", code, body)
	}
	if n := logged(ours); n != 1 {
		t.Fatalf("a deactivated reader's log was recorded (%d rows)", n)
	}
}
