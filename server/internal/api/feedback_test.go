package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// Supporter feedback (api.md §2.14) with F20 fixed: the reader's active
// supporters reach its reading-log events; everyone else is refused at the
// step of the chain the spec names.

type fbFixture struct {
	*cast
	reader                     uuid.UUID
	readingLog, otherEvent     uuid.UUID
	inactive, stranger         string // supporters' cast names
	coverURL, bookTitle, isbn  string
	collectionItem             int64
	readerlessLog, readingLog2 uuid.UUID
}

func newFbFixture(t *testing.T) *fbFixture {
	t.Helper()
	c := newCast(t)
	v := c.v
	f := &fbFixture{cast: c, reader: c.ids["public reader"], inactive: "inactive supporter", stranger: "other supporter"}
	v.exec(`UPDATE readers SET parent_id = $1 WHERE id = $2`, c.ids["parent"], f.reader)
	for _, name := range []string{f.inactive, f.stranger} {
		id := v.user(name, "SUPPORTER", nil)
		c.ids[name], c.tokens[name] = id, v.userToken(id)
	}
	v.exec(`INSERT INTO supporter_reader_association (supporter_id, reader_id, is_active, supporter_nickname)
		VALUES ($1, $2, true, 'Aunty Sue'), ($3, $2, false, 'Old Friend')`, c.ids["supporter"], f.reader, c.ids[f.inactive])

	work := blWork(t, v, "The Gruffalo")
	f.isbn, f.bookTitle, f.coverURL = fmt.Sprintf("978%010d", work), "The Gruffalo", "https://example.org/c.jpg"
	var coll uuid.UUID
	if err := v.super.QueryRow(context.Background(), `INSERT INTO collections (user_id, name) VALUES ($1, 'Mine') RETURNING id`,
		f.reader).Scan(&coll); err != nil {
		t.Fatal(err)
	}
	if err := v.super.QueryRow(context.Background(), `INSERT INTO collection_items (collection_id, edition_isbn, copies_total, copies_available)
		VALUES ($1, $2, 1, 1) RETURNING id`, coll, f.isbn).Scan(&f.collectionItem); err != nil {
		t.Fatal(err)
	}
	info := fmt.Sprintf(`{"collection_item_id": %d, "collection_id": "%s", "emoji": "🤪", "descriptor": "Funny",
		"timestamp": "2024-05-01T09:30:00", "finished": true, "stopped": false, "description": ""}`, f.collectionItem, coll)
	const title = "Reader timeline event: Reading logged"
	f.readingLog = evInsert(t, v, title, "NORMAL", nil, &f.reader, nil, info, evTime(1))
	f.readingLog2 = evInsert(t, v, title, "NORMAL", nil, &f.reader, nil, info, evTime(2))
	f.otherEvent = evInsert(t, v, "Reader opened app", "NORMAL", nil, &f.reader, nil, `{}`, evTime(3))
	f.readerlessLog = evInsert(t, v, title, "NORMAL", nil, nil, nil, `{}`, evTime(4))
	return f
}

func fbPath(id uuid.UUID) string { return "/v1/feedback/" + id.String() }

func fbDetail(t *testing.T, v *env, method, path, token string, body any, status int, detail string) {
	t.Helper()
	rec := v.do(method, path, token, body)
	if rec.Code != status {
		t.Errorf("%s %s: %d %s, want %d %q", method, path, rec.Code, rec.Body, status, detail)
		return
	}
	if got := decode[map[string]any](t, rec)["detail"]; got != detail {
		t.Errorf("%s %s: detail %v, want %q", method, path, got, detail)
	}
}

func TestFeedbackScenarios(t *testing.T) {
	t.Parallel()
	f := newFbFixture(t)
	// Only the reader's active supporter reaches the page. Service accounts
	// fail the USER guard; the reader itself, its parent and admins read the
	// event but do not support its reader; everyone else may not read it.
	want := statuses(http.StatusForbidden, map[string]int{"anonymous": 401, "supporter": 200})
	f.run(t, http.MethodGet, func() string { return fbPath(f.readingLog) }, nil, want)
	const (
		msgNotSupporter = "Supporter not currently associated with reader"
		msgPerms        = "Insufficient permissions"
	)
	for who, detail := range map[string]string{
		"admin": msgNotSupporter, "public reader": msgNotSupporter, "parent": msgNotSupporter,
		"backend": "API requires a user", "kiosk": "API requires a user", "lms linked A": "API requires a user",
		"educator A": msgPerms, "student A": msgPerms, f.inactive: msgPerms, f.stranger: msgPerms,
	} {
		fbDetail(t, f.v, http.MethodGet, fbPath(f.readingLog), f.tokens[who], nil, 403, detail)
		fbDetail(t, f.v, http.MethodPost, fbPath(f.readingLog), f.tokens[who],
			map[string]any{"event_id": f.readingLog.String(), "comment": "Well done!", "gif_url": "https://gif.example/x.gif"}, 403, detail)
	}
	if n := f.v.count(`SELECT count(*) FROM events WHERE title LIKE 'Supporter encouragement%' OR title LIKE 'Notification%'`); n != 0 {
		t.Errorf("%d feedback events recorded by refused callers", n)
	}
}

func TestFeedbackChainOrder(t *testing.T) {
	t.Parallel()
	f := newFbFixture(t)
	v := f.v
	sup := f.tokens["supporter"]
	unknown := uuid.New()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var body any
		if method == http.MethodPost {
			body = map[string]any{"event_id": "x", "comment": "no", "gif_url": "nope"} // invalid, but checked last
		}
		// 404 for an unknown event.
		fbDetail(t, v, method, fbPath(unknown), sup, body, 404, "Event with id "+unknown.String()+" not found")
		// 403: a supporter may read only reading-log events.
		fbDetail(t, v, method, fbPath(f.otherEvent), sup, body, 403, "Insufficient permissions")
		// 400: a caller that reads it, but it is no reading-log event.
		fbDetail(t, v, method, fbPath(f.otherEvent), f.tokens["public reader"], body, 400, "The event is not a reading log event")
		// 404: a reading-log event without a reader.
		fbDetail(t, v, method, fbPath(f.readerlessLog), f.tokens["admin"], body, 404, "Resource User with id None not found.")
		// 422 for a path that is no UUID.
		wantStatus(t, v.do(method, "/v1/feedback/not-a-uuid", sup, body), 422)
	}
	// The USER guard: an inactive user is 400 "Inactive user".
	gone := v.user("Gone Supporter", "SUPPORTER", nil)
	v.exec(`UPDATE users SET is_active = false WHERE id = $1`, gone)
	fbDetail(t, v, http.MethodGet, fbPath(f.readingLog), v.userToken(gone), nil, 400, "Inactive user")
	wantStatus(t, v.do(http.MethodGet, fbPath(f.readingLog), "", nil), 401)
	// An association that ends takes effect at once.
	wantStatus(t, v.do(http.MethodGet, fbPath(f.readingLog), sup, nil), 200)
	v.exec(`UPDATE supporter_reader_association SET is_active = false WHERE supporter_id = $1`, f.ids["supporter"])
	fbDetail(t, v, http.MethodGet, fbPath(f.readingLog), sup, nil, 403, "Insufficient permissions")
}

func TestFeedbackPage(t *testing.T) {
	t.Parallel()
	f := newFbFixture(t)
	rc := newResponseChecker(t, f.v)
	rec := rc.do(http.MethodGet, fbPath(f.readingLog), f.tokens["supporter"], nil, 200)
	got := decode[map[string]any](t, rec)
	want := map[string]any{"reader_name": "public reader", "supporter_nickname": "Aunty Sue", "book_title": f.bookTitle,
		"cover_url": f.coverURL, "emoji": "🤪", "descriptor": "Funny", "timestamp": "2024-05-01T09:30:00",
		"finished": true, "stopped": false}
	if !jsonEqual(got, want) {
		t.Errorf("page %v, want %v", got, want)
	}
	rc.do(http.MethodGet, fbPath(f.otherEvent), f.tokens["public reader"], nil, 400)
	rc.do(http.MethodGet, fbPath(uuid.New()), f.tokens["supporter"], nil, 404)
	rc.do(http.MethodGet, fbPath(f.readingLog), f.tokens["admin"], nil, 403)
	// A reading log whose item is gone still shows (without the book).
	f.v.exec(`DELETE FROM collection_items WHERE id = $1`, f.collectionItem)
	got = decode[map[string]any](t, rc.do(http.MethodGet, fbPath(f.readingLog), f.tokens["supporter"], nil, 200))
	if got["book_title"] != nil || got["cover_url"] != nil || got["reader_name"] != "public reader" {
		t.Errorf("page without the item %v", got)
	}
}

func TestFeedbackPost(t *testing.T) {
	t.Parallel()
	f := newFbFixture(t)
	v := f.v
	sup, supID := f.tokens["supporter"], f.ids["supporter"]
	path := fbPath(f.readingLog)
	good := map[string]any{"event_id": f.readingLog.String(), "comment": "Great reading!", "gif_url": "https://gif.example/yay.gif",
		"emoji": "ignored"}
	// 422 after every check has passed; nothing is recorded.
	for name, body := range map[string]any{
		"short comment":   map[string]any{"event_id": f.readingLog.String(), "comment": "Hey!", "gif_url": "https://gif.example/x.gif"},
		"long comment":    map[string]any{"event_id": f.readingLog.String(), "comment": strings.Repeat("é", 141), "gif_url": "https://gif.example/x.gif"},
		"no comment":      map[string]any{"event_id": f.readingLog.String(), "gif_url": "https://gif.example/x.gif"},
		"bad gif":         map[string]any{"event_id": f.readingLog.String(), "comment": "Great reading!", "gif_url": "not a url"},
		"ftp gif":         map[string]any{"event_id": f.readingLog.String(), "comment": "Great reading!", "gif_url": "ftp://gif.example/x"},
		"no event id":     map[string]any{"comment": "Great reading!", "gif_url": "https://gif.example/x.gif"},
		"bad event id":    map[string]any{"event_id": "x", "comment": "Great reading!", "gif_url": "https://gif.example/x.gif"},
		"comment boolean": map[string]any{"event_id": f.readingLog.String(), "comment": true, "gif_url": "https://gif.example/x.gif"},
		"no body":         nil,
		"body not object": []any{1},
	} {
		rec := v.do(http.MethodPost, path, sup, body)
		if rec.Code != 422 {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	// 140 characters (not bytes) is the limit.
	if rec := v.do(http.MethodPost, fbPath(f.readingLog2), sup, map[string]any{"event_id": f.readingLog2.String(),
		"comment": strings.Repeat("é", 140), "gif_url": "https://gif.example/x.gif"}); rec.Code != 200 {
		t.Errorf("140 characters: %d %s", rec.Code, rec.Body)
	}
	if n := v.count(`SELECT count(*) FROM events WHERE (info ->> 'targeted_event_id' = $1 OR info ->> 'event_id' = $1)
		AND title <> 'Reader timeline event: Reading logged'`, f.readingLog.String()); n != 0 {
		t.Fatalf("%d events recorded by invalid requests", n)
	}

	rc := newResponseChecker(t, v)
	rec := rc.do(http.MethodPost, path, sup, good, 200)
	got := decode[map[string]any](t, rec)
	notification := map[string]any{
		"event_id":                f.readingLog.String(),
		"notification_title":      "Aunty Sue sent you a message!",
		"notification_type":       "supporter_feedback",
		"notification_extra":      map[string]any{"image": f.coverURL, "message": "For reading " + f.bookTitle},
		"notification_body_text":  "Great reading!",
		"notification_body_image": "https://gif.example/yay.gif",
		"notification_from_name":  "Aunty Sue",
		"description":             "Reader public reader received encouragement from supporter",
	}
	if got["title"] != "Notification: Supporter left feedback" || got["level"] != "normal" ||
		got["description"] != "Reader public reader received encouragement from supporter" ||
		!jsonEqual(got["info"], notification) || got["school"] != nil || got["service_account"] != nil ||
		!jsonEqual(got["user"], map[string]any{"id": f.reader.String(), "type": "public", "name": "public reader"}) {
		t.Errorf("answer %v", got)
	}

	// Both events are recorded, with the documented attribution and info.
	var sentInfo, noteInfo map[string]any
	var sentUser, noteUser uuid.UUID
	var sentDesc string
	if err := v.super.QueryRow(context.Background(), `SELECT user_id, info, info ->> 'description' FROM events
		WHERE title = 'Supporter encouragement: Reading feedback sent' AND info ->> 'targeted_event_id' = $1`,
		f.readingLog.String()).Scan(&sentUser, &sentInfo, &sentDesc); err != nil {
		t.Fatal(err)
	}
	if sentUser != supID || sentDesc != "Supporter supporter sent feedback to reader public reader" || !jsonEqual(sentInfo, map[string]any{
		"comment": "Great reading!", "description": sentDesc, "event_id": f.readingLog.String(),
		"gif_url": "https://gif.example/yay.gif", "supporter_id": supID.String(), "targeted_event_id": f.readingLog.String()}) {
		t.Errorf("sent event: %v %q %v", sentUser, sentDesc, sentInfo)
	}
	if err := v.super.QueryRow(context.Background(), `SELECT user_id, info FROM events
		WHERE title = 'Notification: Supporter left feedback' AND info ->> 'event_id' = $1 AND service_account_id IS NULL`,
		f.readingLog.String()).Scan(&noteUser, &noteInfo); err != nil {
		t.Fatal(err)
	}
	if noteUser != f.reader || !jsonEqual(noteInfo, notification) {
		t.Errorf("notification: %v %v", noteUser, noteInfo)
	}
	// The reader reads its notification.
	titles := f.evList(t, "public reader", "/v1/events?user_id="+f.reader.String()+"&query=Notification")
	if len(titles) != 2 { // this one and the 140-character one
		t.Errorf("the reader's notifications: %q", titles)
	}

	// Repeated: 409, for the page too, whatever the body; nothing more recorded.
	fbDetail(t, v, http.MethodPost, path, sup, good, 409, "Feedback already submitted for this reading log event")
	fbDetail(t, v, http.MethodPost, path, sup, map[string]any{"comment": "x"}, 409, "Feedback already submitted for this reading log event")
	fbDetail(t, v, http.MethodGet, path, sup, nil, 409, "Feedback already submitted for this reading log event")
	rc.do(http.MethodGet, path, sup, nil, 409)
	if n := v.count(`SELECT count(*) FROM events WHERE info ->> 'targeted_event_id' = $1 OR
		(title LIKE 'Notification%' AND info ->> 'event_id' = $1)`, f.readingLog.String()); n != 2 {
		t.Errorf("%d feedback events, want 2", n)
	}
}

// Concurrent POSTs for one event and supporter: one succeeds, the rest 409.
func TestFeedbackConcurrentPostsAreSerialised(t *testing.T) {
	t.Parallel()
	f := newFbFixture(t)
	body := map[string]any{"event_id": f.readingLog.String(), "comment": "Great reading!", "gif_url": "https://gif.example/yay.gif"}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
	)
	for range 8 {
		wg.Go(func() {
			rec := f.v.do(http.MethodPost, fbPath(f.readingLog), f.tokens["supporter"], body)
			mu.Lock()
			codes[rec.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[200] != 1 || codes[409] != 7 {
		t.Errorf("statuses %v, want one 200 and seven 409", codes)
	}
	for _, title := range []string{"Supporter encouragement: Reading feedback sent", "Notification: Supporter left feedback"} {
		if n := f.v.count(`SELECT count(*) FROM events WHERE title = $1`, title); n != 1 {
			t.Errorf("%d %q events, want 1", n, title)
		}
	}
	// Another event of the same reader is still open to feedback.
	wantStatus(t, f.v.do(http.MethodPost, fbPath(f.readingLog2), f.tokens["supporter"],
		map[string]any{"event_id": f.readingLog2.String(), "comment": "And again!", "gif_url": "https://gif.example/x.gif"}), 200)
}
