package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Supporter feedback (api.md §2.14), with F20 fixed: a supporter with an
// ACTIVE association to a reader reads that reader's reading-log events (the
// event policy, policies/event.rego, decides on the association the door
// huey.event_attrs looks up; row security agrees) and sends it
// encouragement. Guard USER (authenticateUser), then the chain of checks in
// the original's order; the page's data comes through the door
// huey.reading_feedback_context, which answers only the event's active
// supporters.

const (
	readingLogPrefix           = "Reader timeline event:"
	feedbackSentTitle          = "Supporter encouragement: Reading feedback sent" // also in queries.FeedbackSent
	feedbackNotificationTitle  = "Notification: Supporter left feedback"
	feedbackNotificationFormat = "%s sent you a message!"
)

func errEventNotFound(id uuid.UUID) error {
	return httpError(http.StatusNotFound, msgEventNotFound.format(id))
}

// feedbackTarget is a reading-log event as the chain sees it.
type feedbackTarget struct {
	id        uuid.UUID
	found     bool // huey.event_attrs answered
	title     string
	schoolID  *int64
	readerID  *uuid.UUID
	supported bool // the caller actively supports readerID
	sent      bool // the caller already sent feedback on it

	// reading_feedback_context: only for the event's active supporters
	page       bool
	readerName string
	nickname   string
	bookTitle  *string
	coverURL   *string
	readerType string

	visible   bool // the event under row security
	info      []byte
	timestamp time.Time
}

// resource is the event as the policy sees it (policies/event.rego).
func (t *feedbackTarget) resource() policies.Resource {
	attrs := map[string]string{"title": t.title, "school_id": "", "user_id": "", "supported": strconv.FormatBool(t.supported)}
	if t.schoolID != nil {
		attrs["school_id"] = strconv.FormatInt(*t.schoolID, 10)
	}
	if t.readerID != nil {
		attrs["user_id"] = t.readerID.String()
	}
	return policies.Resource{Type: resEvent, ID: t.id.String(), Attrs: attrs}
}

// queueFeedbackTarget queues everything the chain and the answer need: the
// policy attributes, the page's data, the event (row security) and the
// earlier feedback.
func queueFeedbackTarget(b *pgx.Batch, t *feedbackTarget, supporter uuid.UUID) {
	b.Queue(queries.EventAttrs, t.id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&t.title, &t.schoolID, &t.readerID, &t.supported); err != nil {
				return err
			}
			t.found = true
		}
		return rows.Err()
	})
	b.Queue(queries.ReadingFeedbackContext, t.id).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&t.readerName, &t.nickname, &t.bookTitle, &t.coverURL, &t.readerType); err != nil {
					return err
				}
				t.readerType, t.page = lower(t.readerType), true
			}
			return rows.Err()
		})
	b.Queue(queries.GetEventInfo, t.id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&t.info, &t.timestamp); err != nil {
				return err
			}
			t.visible = true
		}
		return rows.Err()
	})
	b.Queue(queries.FeedbackSent, t.id.String(), supporter).QueryRow(func(r pgx.Row) error { return r.Scan(&t.sent) })
}

// feedbackChain reads the event of the path and runs the checks of api.md
// §2.14 in order: the event (404), `read` on it (403), a reading-log title
// (400), its reader (404), the caller's active association with the reader
// (403), no earlier feedback from the caller (409).
func (s *Server) feedbackChain(c echo.Context) (*feedbackTarget, error) {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, err := pathUUID(c, "event_id")
	if err != nil {
		return nil, err
	}
	t := &feedbackTarget{id: id}
	if err := db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) { queueFeedbackTarget(b, t, ident.Account.ID) }); err != nil {
		return nil, err
	}
	if !t.found {
		return nil, errEventNotFound(id)
	}
	action, err := declaredAction(c, resEvent)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, t.resource(), action); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(t.title, readingLogPrefix) {
		return nil, httpError(http.StatusBadRequest, msgFeedbackNotReadingLog)
	}
	if t.readerID == nil {
		return nil, httpError(http.StatusNotFound, msgUserNotFound.format("None"))
	}
	if !t.supported {
		return nil, httpError(http.StatusForbidden, msgFeedbackNotSupporter)
	}
	if t.sent {
		return nil, feedbackConflict()
	}
	if !t.page || !t.visible { // the association ended between the queries: fail closed
		return nil, errEventNotFound(id)
	}
	return t, nil
}

func feedbackConflict() error { return httpError(http.StatusConflict, msgFeedbackAlreadySent) }

// readingFeedbackOut is the feedback page (api.md §2.14).
type readingFeedbackOut struct {
	ReaderName        string  `json:"reader_name"`
	SupporterNickname string  `json:"supporter_nickname"`
	BookTitle         *string `json:"book_title"`
	CoverURL          *string `json:"cover_url"`
	Emoji             *string `json:"emoji"`
	Descriptor        *string `json:"descriptor"`
	Timestamp         any     `json:"timestamp"`
	Finished          bool    `json:"finished"`
	Stopped           bool    `json:"stopped"`
}

// GET /feedback/{event_id} (USER)
func (s *Server) getFeedback(c echo.Context) error {
	t, err := s.feedbackChain(c)
	if err != nil {
		return err
	}
	// The reading-log info (tasks.md §6): {collection_item_id, descriptor,
	// emoji, timestamp, finished, stopped}; anything malformed reads as absent.
	var info struct {
		Emoji      any `json:"emoji"`
		Descriptor any `json:"descriptor"`
		Timestamp  any `json:"timestamp"`
		Finished   any `json:"finished"`
		Stopped    any `json:"stopped"`
	}
	_ = json.Unmarshal(t.info, &info)
	str := func(v any) *string {
		if s, ok := v.(string); ok {
			return &s
		}
		return nil
	}
	out := readingFeedbackOut{ReaderName: t.readerName, SupporterNickname: t.nickname, BookTitle: t.bookTitle,
		CoverURL: t.coverURL, Emoji: str(info.Emoji), Descriptor: str(info.Descriptor),
		Timestamp: isoTime(t.timestamp), Finished: info.Finished == true, Stopped: info.Stopped == true}
	if ts := str(info.Timestamp); ts != nil {
		out.Timestamp = *ts
	}
	return c.JSON(http.StatusOK, out)
}

type readingFeedback struct {
	eventID         uuid.UUID
	comment, gifURL string
}

// readingFeedbackOf checks what the document cannot: gif_url is an http(s)
// URL (the document has required the fields and bounded the comment).
func readingFeedbackOf(in readingFeedbackIn) (readingFeedback, error) {
	out := readingFeedback{eventID: in.EventId, comment: in.Comment}
	u, ok := validURL(in.GifUrl)
	if !ok {
		return out, errValidation(validationError{Type: "url_parsing", Loc: []any{"body", "gif_url"},
			Msg: "Input should be a valid URL", Input: in.GifUrl})
	}
	out.gifURL = u
	return out, nil
}

// POST /feedback/{event_id} (USER): the chain, then the body (422), then
// both events in one transaction, serialised per event and supporter so that
// a repeated POST is a 409 even when two race.
func (s *Server) postFeedback(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	t, err := s.feedbackChain(c)
	if err != nil {
		return err
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var in readingFeedbackIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	fb, err := readingFeedbackOf(in)
	if err != nil {
		return err
	}

	supporter := ident.Account
	title := ""
	if t.bookTitle != nil {
		title = *t.bookTitle
	}
	sentInfo := map[string]any{"event_id": fb.eventID.String(), "comment": fb.comment, "gif_url": fb.gifURL,
		"supporter_id": supporter.ID.String(), "targeted_event_id": t.id.String()}
	description := fmt.Sprintf("Reader %s received encouragement from %s", t.readerName, supporter.Name)
	notification := map[string]any{
		"event_id":                t.id.String(),
		"notification_title":      fmt.Sprintf(feedbackNotificationFormat, t.nickname),
		"notification_type":       "supporter_feedback",
		"notification_extra":      map[string]any{"image": t.coverURL, "message": "For reading " + title},
		"notification_body_text":  fb.comment,
		"notification_body_image": fb.gifURL,
		"notification_from_name":  t.nickname,
		"description":             description,
	}
	var ts time.Time
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		// One POST at a time per (event, supporter); the check below then
		// sees what an earlier one committed.
		q := queries.New(tx)
		if err := q.LockSupporterFeedback(ctx, "supporter-feedback:"+t.id.String()+":"+supporter.ID.String()); err != nil {
			return err
		}
		sent, err := q.FeedbackSent(ctx, queries.FeedbackSentParams{Column1: t.id.String(), UserID: &supporter.ID})
		if err != nil {
			return err
		}
		if sent {
			return feedbackConflict()
		}
		if err := recordEvent(ctx, tx, ident, feedbackSentTitle,
			fmt.Sprintf("Supporter %s sent feedback to reader %s", supporter.Name, t.readerName), "NORMAL", nil, sentInfo); err != nil {
			return err
		}
		// To the reader: allowed by row security to its active supporters
		// (events_insert_supporter_feedback).
		_, ts, err = recordEventAs(ctx, tx, t.readerID, nil, feedbackNotificationTitle, description, "NORMAL", nil, notification)
		return err
	})
	switch {
	case isPermissionDenied(err): // the association ended meanwhile
		return errForbidden()
	case err != nil:
		return err
	}
	info, err := json.Marshal(notification)
	if err != nil {
		return err
	}
	// Built from what was written: the supporter does not read the
	// notification (nor the reader's account) back.
	return c.JSON(http.StatusOK, eventDetail{
		saEventBrief: saEventBrief{Title: feedbackNotificationTitle, Description: description, Level: "normal",
			Timestamp: isoTime(ts), Info: info},
		User: &userIdentity{ID: *t.readerID, Type: t.readerType, Name: t.readerName},
	})
}
