package taskapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/db"
)

// Message is one e-mail, SMS or alert the task server sends.
type Message struct {
	Channel      string         `json:"channel"` // email, sms, slack
	To           []string       `json:"to"`
	From         string         `json:"from,omitempty"`
	Subject      string         `json:"subject,omitempty"`
	Body         string         `json:"body,omitempty"`
	TemplateID   string         `json:"template_id,omitempty"`
	TemplateData map[string]any `json:"template_data,omitempty"`
}

// Messenger sends messages (SendGrid, Twilio and Slack in the original).
type Messenger interface {
	// Send delivers m and returns the provider's message id.
	Send(ctx context.Context, m Message) (id string, err error)
}

// LogMessenger is the default Messenger: it sends nothing, logs the message
// and lets the caller record it as an event, so development and tests see
// exactly what would have gone out.
type LogMessenger struct{ Logger *slog.Logger }

// Send implements Messenger.
func (l LogMessenger) Send(_ context.Context, m Message) (string, error) {
	id := "logged-" + uuid.NewString()
	if l.Logger != nil {
		l.Logger.Info("message not sent (no provider configured)", slog.String("channel", m.Channel),
			slog.Int("recipients", len(m.To)), slog.String("subject", m.Subject),
			slog.String("template_id", m.TemplateID), slog.String("id", id))
	}
	return id, nil
}

// sendMessage sends m through the messenger and records event "<Channel>
// message sent" (level debug) in tx, attributed to the given account or,
// without one, to the background-work account.
func (s *server) sendMessage(ctx context.Context, tx *db.Tx, m Message, userID *uuid.UUID) (string, error) {
	id, err := s.opts.Messenger.Send(ctx, m)
	if err != nil {
		return "", err
	}
	info := map[string]any{"message": m, "provider_message_id": id}
	title := map[string]string{"email": "Email sent", "sms": "SMS sent", "slack": "Slack alert sent"}[m.Channel]
	desc := "Sent " + m.Channel + " to " + strings.Join(m.To, ", ")
	if err := s.recordEvent(ctx, tx, title, desc, "DEBUG", nil, userID, info); err != nil {
		return "", err
	}
	return id, nil
}

// recordEvent writes an event through huey.record_event (DECISIONS §6) in
// tx: attributed to userID when given, else to the background-work account.
func (s *server) recordEvent(ctx context.Context, tx *db.Tx, title, description, level string, schoolID *int64,
	userID *uuid.UUID, info any) error {
	var sa *uuid.UUID
	if userID == nil {
		sa = &s.opts.ActorID
	}
	raw, err := json.Marshal(info)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `SELECT huey.record_event($1, $2, $3::eventlevel, $4, $5, $6, $7)`,
		title, description, level, schoolID, userID, sa, raw)
	return err
}

// userExists reports whether a user account exists (tasks name accounts by id).
func userExists(ctx context.Context, tx *db.Tx, id uuid.UUID) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM public.users WHERE id = $1)`, id).Scan(&ok)
	return ok, err
}

// stringOrList accepts "x" or ["x", "y"].
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*l = many
	return nil
}

// POST /v1/send-email {"email_data", "user_id"?, "service_account_id"?}
func (s *server) postSendEmail(c echo.Context) error {
	var in struct {
		EmailData *struct {
			FromEmail    string         `json:"from_email"`
			FromName     string         `json:"from_name"`
			ToEmails     stringOrList   `json:"to_emails"`
			Subject      string         `json:"subject"`
			TemplateID   string         `json:"template_id"`
			TemplateData map[string]any `json:"template_data"`
			HTMLContent  string         `json:"html_content"`
		} `json:"email_data"`
		UserID           *uuid.UUID `json:"user_id"`
		ServiceAccountID *uuid.UUID `json:"service_account_id"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.EmailData == nil || len(in.EmailData.ToEmails) == 0 {
		return validation("email_data", "email_data with at least one of to_emails is required", "missing")
	}
	return s.run(c, func(ctx context.Context, tx *db.Tx) (any, error) {
		if in.UserID != nil {
			ok, err := userExists(ctx, tx, *in.UserID)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, echo.NewHTTPError(http.StatusNotFound, "User "+in.UserID.String()+" not found")
			}
		}
		d := in.EmailData
		from := d.FromEmail
		if d.FromName != "" {
			from = d.FromName + " <" + d.FromEmail + ">"
		}
		_, err := s.sendMessage(ctx, tx, Message{Channel: "email", To: d.ToEmails, From: from, Subject: d.Subject,
			Body: d.HTMLContent, TemplateID: d.TemplateID, TemplateData: d.TemplateData}, in.UserID)
		return nil, err
	})
}

// POST /v1/send-sms {"to": string|[string], "body", "shorten_urls"}: the
// original passed a model object where JSON was expected (F-T4); here the
// message goes through the Messenger and its summary is answered.
func (s *server) postSendSMS(c echo.Context) error {
	var in struct {
		To          stringOrList `json:"to"`
		Body        string       `json:"body"`
		ShortenURLs bool         `json:"shorten_urls"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if len(in.To) == 0 || in.Body == "" {
		return validation("to", "to and body are required", "missing")
	}
	return s.run(c, func(ctx context.Context, tx *db.Tx) (any, error) {
		id, err := s.sendMessage(ctx, tx, Message{Channel: "sms", To: in.To, Body: in.Body}, nil)
		if err != nil {
			return nil, err
		}
		return map[string]any{"id": id, "to": in.To, "body": in.Body, "shorten_urls": in.ShortenURLs, "status": "sent"}, nil
	})
}

// POST /v1/event-to-slack-alert {"event_id", "slack_channel", "slack_extra"}
// (deprecated in the original): the event as an alert through the Messenger.
func (s *server) postEventToSlackAlert(c echo.Context) error {
	var in struct {
		EventID      uuid.UUID         `json:"event_id"`
		SlackChannel string            `json:"slack_channel"`
		SlackExtra   map[string]string `json:"slack_extra"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.SlackChannel == "" {
		in.SlackChannel = "#api-alerts"
	}
	return s.run(c, func(ctx context.Context, tx *db.Tx) (any, error) {
		var title, level string
		var info []byte
		err := tx.QueryRow(ctx, `SELECT title, level::text, info FROM public.events WHERE id = $1`, in.EventID).
			Scan(&title, &level, &info)
		if db.IsNotFound(err) {
			return nil, echo.NewHTTPError(http.StatusNotFound, "Event with id "+in.EventID.String()+" not found")
		}
		if err != nil {
			return nil, err
		}
		var body map[string]any
		_ = json.Unmarshal(info, &body)
		data := map[string]any{"level": strings.ToLower(level), "info": body, "extra": in.SlackExtra}
		_, err = s.sendMessage(ctx, tx, Message{Channel: "slack", To: []string{in.SlackChannel}, Subject: title,
			TemplateData: data}, nil)
		return nil, err
	})
}

// POST /v1/update-search-index: refresh search_view_v1 and, which the
// original never did (F-T5), work_collection_frequency, which gates search.
func (s *server) postUpdateSearchIndex(c echo.Context) error {
	return s.run(c, func(ctx context.Context, tx *db.Tx) (any, error) {
		if err := RefreshViews(ctx, tx); err != nil {
			return nil, err
		}
		return map[string]string{"msg": "ok"}, nil
	})
}

// RefreshViews refreshes the materialized views search depends on, through
// their SECURITY DEFINER doors (DECISIONS §2).
func RefreshViews(ctx context.Context, tx *db.Tx) error {
	_, err := tx.Exec(ctx, `SELECT huey.refresh_work_collection_frequency(), huey.refresh_search_view()`)
	return err
}

// POST /v1/process-outbox-events: one batch of the queue (tasks.md §4.2's
// entry point, so Cloud Scheduler drains task_queue in production).
func (s *server) postProcessOutbox(c echo.Context) error {
	if s.opts.Dispatch == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "The task queue is not configured")
	}
	st, err := s.opts.Dispatch(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"msg": "EventOutbox processing completed", "stats": st})
}
