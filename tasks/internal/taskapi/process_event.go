package taskapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/account"
	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/tasks/jobs"
)

// Event processing (tasks.md §6): POST /v1/process-event {"event_id"} loads
// the event and runs what its title asks for, in the task's transaction.
// Events whose contents cannot be processed (no reader, malformed info, an
// unknown collection item) are logged and answered null, as the original
// did on a validation error: retrying would not change them.

// Titles processed (tasks.md §6; api.md §2.13 queues exactly these).
const (
	titleBookReviewed        = "Huey: Book reviewed"
	titleReadingLogged       = "Reader timeline event: Reading logged"
	titleSubscriptionStarted = "Subscription started"
	titleTest                = "Test"
)

// Reading-log notifications (tasks.md §6, §5.4).
const (
	readingLoggedTemplateID = "d-841938d74d9142509af934005ad6e3ed"
	readingLoggedFrom       = "Huey Books"
	smsTitleMax             = 30
)

// likedBooksDescription is the info of the lists book reviews create.
const likedBooksDescription = "List of all books liked in a Chat"

// loadedEvent is what processing needs of an event.
type loadedEvent struct {
	id       uuid.UUID
	title    string
	schoolID *int64
	userID   *uuid.UUID
	info     []byte // JSON object, or nil
}

// POST /v1/process-event {"event_id": uuid}
func (s *server) postProcessEvent(c echo.Context) error {
	var in struct {
		EventID *string `json:"event_id"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.EventID == nil {
		return validation("event_id", "Field required", "missing")
	}
	id, err := uuid.Parse(*in.EventID)
	if err != nil {
		return validation("event_id", "Input should be a valid UUID", "uuid_parsing")
	}
	return s.run(c, func(ctx context.Context, tx *db.Tx) (any, error) {
		ev := loadedEvent{id: id}
		err := tx.QueryRow(ctx, `SELECT title, school_id, user_id, info FROM public.events WHERE id = $1`, id).
			Scan(&ev.title, &ev.schoolID, &ev.userID, &ev.info)
		if db.IsNotFound(err) {
			return nil, echo.NewHTTPError(http.StatusNotFound, "Event with id "+id.String()+" not found")
		}
		if err != nil {
			return nil, fmt.Errorf("load event %s: %w", id, err)
		}
		log := s.log.With(slog.String("event_id", id.String()), slog.String("title", ev.title))
		switch ev.title {
		case titleTest:
			if err := markTestEvent(ctx, tx, id); err != nil {
				return nil, err
			}
			return map[string]string{"msg": "ok"}, nil
		case titleBookReviewed:
			return nil, s.processBookReview(ctx, tx, log, ev)
		case titleReadingLogged:
			return nil, s.processReadingLogged(ctx, tx, log, ev)
		case titleSubscriptionStarted:
			log.Info("subscription started (no processing)")
			return nil, nil
		default:
			return nil, nil
		}
	})
}

// markTestEvent sets the Test event's info.description to "MODIFIED" (only
// admins update events, and only their info: migration 20261127000010).
func markTestEvent(ctx context.Context, tx *db.Tx, id uuid.UUID) error {
	_, err := tx.Exec(ctx, `UPDATE public.events
SET info = coalesce(info, '{}'::jsonb) || jsonb_build_object('description', 'MODIFIED') WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("modify test event %s: %w", id, err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Huey: Book reviewed

// workEdition is a work and the edition (ISBN) a list item names.
type workEdition struct {
	workID int64
	isbn   string
}

// bookReview is one review: {isbn, liked} (other fields are ignored).
type bookReview struct {
	ISBN  any `json:"isbn"`
	Liked any `json:"liked"`
}

// likedISBNs collects the ISBNs of liked books: info.reviews when present,
// else info itself as one review. ISBNs are normalised (catalog.NormalizeISBN);
// invalid ones are dropped; order is kept and repeats removed.
func likedISBNs(info []byte) []string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(info, &fields) != nil {
		return nil
	}
	var reviews []bookReview
	if raw, ok := fields["reviews"]; ok && string(raw) != "null" {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		for _, r := range list {
			var one bookReview
			if json.Unmarshal(r, &one) == nil {
				reviews = append(reviews, one)
			}
		}
	} else {
		var one bookReview
		if json.Unmarshal(info, &one) == nil {
			reviews = append(reviews, one)
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, r := range reviews {
		raw, isString := r.ISBN.(string)
		if liked, _ := r.Liked.(bool); !liked || !isString {
			continue
		}
		isbn, err := catalog.NormalizeISBN(raw)
		if err != nil || seen[isbn] {
			continue
		}
		seen[isbn] = true
		out = append(out, isbn)
	}
	return out
}

// likedListTarget is one "Liked Books" list a review adds to.
type likedListTarget struct {
	listType string // PERSONAL or SCHOOL
	schoolID *int64
	userID   *uuid.UUID
	name     string
}

// processBookReview adds the liked books of a review (tasks.md §6, the
// intended behaviour: F-T7 fixed) to the event school's School list "Liked
// Books", the event user's Personal "Liked Books" and, for a student, the
// School list "<class name> Liked Books" of the student's school. Lists are
// created when missing: the Personal one owned by the event user, the School
// ones by the school alone (R10: the original made the poster their owner);
// works already on a list are skipped, new ones appended.
func (s *server) processBookReview(ctx context.Context, tx *db.Tx, log *slog.Logger, ev loadedEvent) error {
	isbns := likedISBNs(ev.info)
	if len(isbns) == 0 {
		log.Info("book review without liked books")
		return nil
	}
	books, err := likedEditions(ctx, tx, isbns)
	if err != nil {
		return err
	}
	if len(books) == 0 {
		log.Info("book review names no known edition", slog.Int("liked", len(isbns)))
		return nil
	}
	var targets []likedListTarget
	// School lists made here belong to the school (no user_id), never to the
	// event's poster: a student (or a kiosk) that owned one could edit or
	// rename it for the whole school (R10/F17).
	if ev.schoolID != nil {
		targets = append(targets, likedListTarget{listType: "SCHOOL", schoolID: ev.schoolID, name: "Liked Books"})
	}
	if ev.userID != nil {
		targets = append(targets, likedListTarget{listType: "PERSONAL", userID: ev.userID, name: "Liked Books"})
		var (
			className     *string
			classSchoolID *int64
		)
		err := tx.QueryRow(ctx, `SELECT cg.name, st.school_id FROM public.students st
  JOIN public.class_groups cg ON cg.id = st.class_group_id WHERE st.id = $1`, *ev.userID).Scan(&className, &classSchoolID)
		switch {
		case db.IsNotFound(err): // not a student
		case err != nil:
			return fmt.Errorf("load class of %s: %w", *ev.userID, err)
		case className != nil && classSchoolID != nil:
			// The class's list lives in the student's (the class's) school;
			// the original passed the event's school, which may be absent.
			targets = append(targets, likedListTarget{listType: "SCHOOL", schoolID: classSchoolID,
				name: *className + " Liked Books"})
		}
	}
	for _, t := range targets {
		added, err := addLikedBooks(ctx, tx, t, books)
		if err != nil {
			return err
		}
		log.Info("liked books added", slog.String("list", t.name), slog.String("type", t.listType), slog.Int64("added", added))
	}
	return nil
}

// likedEditions looks up the works of the liked ISBNs, in review order, one
// entry per work (a later edition of a work already liked is skipped, as the
// original's item-by-item add skipped it).
func likedEditions(ctx context.Context, tx *db.Tx, isbns []string) ([]workEdition, error) {
	rows, err := tx.Query(ctx, `SELECT e.isbn, e.work_id
FROM unnest($1::text[]) WITH ORDINALITY AS x(isbn, ord)
JOIN public.editions e ON e.isbn = x.isbn
WHERE e.work_id IS NOT NULL
ORDER BY x.ord`, isbns)
	if err != nil {
		return nil, fmt.Errorf("look up liked editions: %w", err)
	}
	defer rows.Close()
	var out []workEdition
	seen := map[int64]bool{}
	for rows.Next() {
		var b workEdition
		if err := rows.Scan(&b.isbn, &b.workID); err != nil {
			return nil, err
		}
		if !seen[b.workID] {
			seen[b.workID] = true
			out = append(out, b)
		}
	}
	return out, rows.Err()
}

// addLikedBooks finds the target list, or creates it, and appends the books
// it lacks; it returns how many were added. The list is found as the
// original's filters did: by type, by school and user when given, and by
// case-insensitive name containment; an exact name is preferred, so the
// school's "Liked Books" never resolves to a "<class> Liked Books" list.
// A transaction-scoped advisory lock on the list's identity keeps two
// concurrent reviews from creating it twice.
func addLikedBooks(ctx context.Context, tx *db.Tx, t likedListTarget, books []workEdition) (int64, error) {
	key := fmt.Sprintf("liked-books:%s:%v:%v:%s", t.listType, derefOr(t.schoolID), derefOr(t.userID), strings.ToLower(t.name))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key); err != nil {
		return 0, fmt.Errorf("lock list %q: %w", t.name, err)
	}
	var listID uuid.UUID
	err := tx.QueryRow(ctx, `SELECT id FROM public.book_lists
WHERE type = $1::enum_book_list_type
  AND ($2::integer IS NULL OR school_id = $2)
  AND ($3::uuid IS NULL OR user_id = $3)
  AND strpos(lower(name), lower($4)) > 0
ORDER BY lower(name) = lower($4) DESC, created_at, id
LIMIT 1
FOR UPDATE`, t.listType, t.schoolID, t.userID, t.name).Scan(&listID)
	switch {
	case db.IsNotFound(err):
		listID = uuid.New()
		if err := insertBooklist(ctx, tx, listID, t.name, t.listType, t.schoolID, t.userID, likedBooksDescription); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, fmt.Errorf("find list %q: %w", t.name, err)
	}
	works := make([]int64, len(books))
	isbns := make([]string, len(books))
	for i, b := range books {
		works[i], isbns[i] = b.workID, b.isbn
	}
	added, err := appendBooklistItems(ctx, tx, listID, works, isbns)
	if err != nil {
		return 0, err
	}
	if added > 0 {
		if _, err := tx.Exec(ctx, `UPDATE public.book_lists SET updated_at = huey.utcnow() WHERE id = $1`, listID); err != nil {
			return 0, fmt.Errorf("touch list %s: %w", listID, err)
		}
	}
	return added, nil
}

func derefOr[T any](p *T) any {
	if p == nil {
		return ""
	}
	return *p
}

// ---------------------------------------------------------------------------
// Reader timeline event: Reading logged

// readingLog is the event's info (tasks.md §6).
type readingLog struct {
	CollectionItemID *int64  `json:"collection_item_id"`
	CollectionID     *string `json:"collection_id"`
	Descriptor       string  `json:"descriptor"`
	Emoji            string  `json:"emoji"`
	Timestamp        any     `json:"timestamp"`
	Finished         bool    `json:"finished"`
	Stopped          bool    `json:"stopped"`
}

// parseReadingLog reads the event's info, or its "reading_logged" object
// when the log sits there (events some clients record nest it).
func parseReadingLog(info []byte) (readingLog, error) {
	var l readingLog
	if err := json.Unmarshal(info, &l); err != nil {
		return l, err
	}
	if l.CollectionItemID == nil {
		var nested struct {
			ReadingLogged *readingLog `json:"reading_logged"`
		}
		if json.Unmarshal(info, &nested) == nil && nested.ReadingLogged != nil {
			l = *nested.ReadingLogged
		}
	}
	if l.CollectionItemID == nil {
		return l, errors.New("collection_item_id is required")
	}
	if l.CollectionID != nil {
		if _, err := uuid.Parse(*l.CollectionID); err != nil {
			return l, errors.New("collection_id is not a uuid")
		}
	}
	return l, nil
}

func (l readingLog) status() string {
	switch {
	case l.Finished:
		return "READ"
	case l.Stopped:
		return "STOPPED_READING"
	default:
		return "READING"
	}
}

// supporterAssoc is one supporter of a reader to notify.
type supporterAssoc struct {
	id         uuid.UUID
	name       string
	email      *string
	phone      *string
	userType   string
	allowEmail bool
	allowPhone bool
}

// processReadingLogged records the activity of a reading log and notifies
// the reader's supporters (tasks.md §6). Two fixes to the original:
//
//   - Only active associations are notified. The original's
//     `is_active and allow_email or allow_phone` also notified inactive
//     associations that allow the phone; that precedence bug is not kept.
//   - The feedback link carries no bearer token (access.md F11): the
//     supporter signs in to the app, which reads the event as the supporter
//     (the event policy lets an active supporter read the reader's reading
//     logs, F20).
//
// SMS go out through queued send-sms tasks (one per event and supporter, by
// idempotency key); e-mails through the Messenger, after every database
// write, so a failed statement never follows a sent e-mail.
func (s *server) processReadingLogged(ctx context.Context, tx *db.Tx, log *slog.Logger, ev loadedEvent) error {
	if ev.userID == nil {
		log.Warn("reading log without a reader")
		return nil
	}
	reader := *ev.userID
	l, err := parseReadingLog(ev.info)
	if err != nil {
		log.Warn("reading log event not understood", slog.String("error", err.Error()))
		return nil
	}
	itemID := *l.CollectionItemID
	// R1: what the reader named is read and written under the reader's own
	// claims, so the reader's row security decides (schema/account derives
	// them as the API would for the reader's token); the worker's claims come
	// back for the fan-out to the supporters, which no caller input steers.
	acc, err := account.LoadIn(ctx, tx, account.KindUser, reader)
	if errors.Is(err, account.ErrNoAccount) || (err == nil && (!acc.IsActive || !isReaderType(acc.UserType))) {
		log.Warn("reading log of an account that is not an active reader", slog.String("user_id", reader.String()))
		return nil
	}
	if err != nil {
		return err
	}
	readerName := acc.Name
	claims := acc.Claims(account.UserSubject(reader), account.NormalPrincipals(acc.Principals()))
	var (
		collectionID uuid.UUID
		bookTitle    string
		logged       bool
	)
	err = tx.As(ctx, claims, func() error {
		if itemID < -1<<31 || itemID >= 1<<31 {
			return nil
		}
		err := tx.QueryRow(ctx, `SELECT collection_id, title FROM huey.reading_log_item($1)`, itemID).
			Scan(&collectionID, &bookTitle)
		if db.IsNotFound(err) {
			return nil // unknown, or not the reader's to log
		}
		if err != nil {
			return fmt.Errorf("load collection item %d: %w", itemID, err)
		}
		if l.CollectionID != nil && !strings.EqualFold(*l.CollectionID, collectionID.String()) {
			return nil // the item is not in the collection the log names
		}
		if _, err := tx.Exec(ctx, `INSERT INTO public.collection_item_activity_log (collection_item_id, reader_id, status, "timestamp")
VALUES ($1, $2, $3::enum_collection_item_read_status, huey.utcnow())`, itemID, reader, l.status()); err != nil {
			return fmt.Errorf("record reading activity: %w", err)
		}
		logged = true
		return nil
	})
	if err != nil {
		return err
	}
	if !logged {
		log.Warn("reading log names an item that is unknown, of another collection, or outside the reader's collections",
			slog.Int64("collection_item_id", itemID), slog.String("user_id", reader.String()))
		return nil
	}

	supporters, err := readerSupporters(ctx, tx, reader)
	if err != nil {
		return err
	}
	feedbackURL := strings.TrimRight(s.opts.AppURL, "/") + "/reader-feedback/?" +
		url.Values{"event_id": {ev.id.String()}}.Encode()
	var emails []Message
	for _, sup := range supporters {
		var channels []string
		if sup.allowEmail && sup.email != nil {
			emails = append(emails, Message{Channel: "email", To: []string{*sup.email}, From: readingLoggedFrom,
				Subject: readerName + " has done some reading!", TemplateID: readingLoggedTemplateID,
				TemplateData: map[string]any{"supporter_name": sup.name, "reader_name": readerName,
					"book_title": bookTitle, "emoji": l.Emoji, "descriptor": l.Descriptor, "encoded_url": feedbackURL}})
			channels = append(channels, "email")
		}
		if sup.allowPhone && sup.phone != nil {
			body := fmt.Sprintf("%s read some of %s, and described it as '%s %s'.\nChoose a one-tap response: %s\nHuey Books",
				readerName, truncateAtWord(bookTitle, smsTitleMax), l.Descriptor, l.Emoji, feedbackURL)
			if err := jobs.Enqueue(ctx, tx, jobs.Task{Kind: jobs.KindSendSMS,
				Payload:        map[string]any{"to": *sup.phone, "body": body, "shorten_urls": true},
				IdempotencyKey: "reading-logged-sms:" + ev.id.String() + ":" + sup.id.String()}); err != nil {
				return err
			}
			channels = append(channels, "sms")
		}
		if len(channels) == 0 {
			log.Warn("supporter has no e-mail or phone to accept alerts", slog.String("supporter_id", sup.id.String()))
			continue
		}
		if err := s.recordEvent(ctx, tx, "Notification Sent: Reading Logged",
			fmt.Sprintf("Notification re: %s's reading was sent to %s %s by %s", readerName, sup.userType, sup.name,
				strings.Join(channels, " and ")),
			"DEBUG", nil, &reader, map[string]any{"recipient_id": sup.id, "recipient_type": sup.userType, "event_id": ev.id}); err != nil {
			return err
		}
	}
	for _, m := range emails {
		if _, err := s.sendMessage(ctx, tx, m, &reader); err != nil {
			return fmt.Errorf("send reading-log e-mail: %w", err)
		}
	}
	return nil
}

// readerSupporters lists the reader's active supporter associations that
// allow e-mail or phone, with the supporter's contact details. The phone is
// the account's info.phone_number (what the API stores, api.md §1.2), or the
// info.phone key the original's SMS path read (domain.md §3.1). Deactivated
// supporter accounts are left out: they cannot sign in to answer.
func readerSupporters(ctx context.Context, tx *db.Tx, reader uuid.UUID) ([]supporterAssoc, error) {
	rows, err := tx.Query(ctx, `SELECT u.id, u.name, nullif(u.email, ''),
  coalesce(nullif(u.info ->> 'phone_number', ''), nullif(u.info ->> 'phone', '')),
  lower(u.type::text), a.allow_email, a.allow_phone
FROM public.supporter_reader_association a
JOIN public.users u ON u.id = a.supporter_id
WHERE a.reader_id = $1 AND a.is_active AND (a.allow_email OR a.allow_phone) AND u.is_active
ORDER BY u.id`, reader)
	if err != nil {
		return nil, fmt.Errorf("list supporters of %s: %w", reader, err)
	}
	defer rows.Close()
	var out []supporterAssoc
	for rows.Next() {
		var a supporterAssoc
		if err := rows.Scan(&a.id, &a.name, &a.email, &a.phone, &a.userType, &a.allowEmail, &a.allowPhone); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// truncateAtWord shortens s to at most limit characters, cutting at the last
// word boundary and adding "..." (the SMS title of tasks.md §5.4).
func truncateAtWord(s string, limit int) string {
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	cut := string(r[:limit-3])
	if i := strings.LastIndex(cut, " "); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ") + "..."
}

// isReaderType: accounts that log reading (readers: public readers and
// students).
func isReaderType(userType string) bool { return userType == "PUBLIC" || userType == "STUDENT" }
