package api

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
	"github.com/wriveted/huey-api/tasks/jobs"
)

// Events (api.md §2.13). Who may call the routes and attach events to which
// school is decided by policies/events.rego (and the user and school
// policies); which events a caller reads is row security's (the event ACL of
// access.md §6.7 as events_select_* policies), so a list is filtered before it
// is paged (F14) and event-types names only titles the caller may read.

// eventsResource is the route-level resource of the event routes.
var eventsResource = policies.Resource{Type: resEvents}

// eventLevels is EventLevel (domain.md §2), mildest first: the enum's order
// in the database too, so `level >= x` means "x or more severe".
var eventLevels = []enumValue{{"DEBUG", "debug"}, {"NORMAL", "normal"}, {"WARNING", "warning"}, {"ERROR", "error"}}

// processedEventTitles are the titles queued for background processing
// (tasks.md §6); other titles enqueue nothing.
var processedEventTitles = []string{"Huey: Book reviewed", "Reader timeline event: Reading logged", "Subscription started", "Test"}

// schoolWrivetedIdentity is SchoolWrivetedIdentity (api.md §1.3).
type schoolWrivetedIdentity struct {
	WrivetedIdentifier uuid.UUID `json:"wriveted_identifier"`
	Name               string    `json:"name"`
}

// eventDetail is EventDetail (api.md §1.8): EventBrief plus the school, user
// and service account the event is attached to. Each is null when absent, or
// when row security hides that row from the caller.
type eventDetail struct {
	saEventBrief
	School         *schoolWrivetedIdentity `json:"school"`
	User           *userIdentity           `json:"user"`
	ServiceAccount *serviceAccountBrief    `json:"service_account"`
}

// ---------------------------------------------------------------------------
// POST /events

// newEvent is a validated EventCreateIn.
type newEvent struct {
	title, description, level string
	schoolWID, userID         *uuid.UUID
	info                      map[string]json.RawMessage
}

// newEventOf takes a body the document has validated (title, level, the
// ids); it checks only the level's names, accepted in any case, which the
// document cannot list.
func newEventOf(in eventCreateIn) (*newEvent, error) {
	var ck checks
	ev := &newEvent{title: in.Title, schoolWID: valueOf(in.SchoolId), userID: valueOf(in.UserId),
		info: map[string]json.RawMessage{}}
	if d := valueOf(in.Description); d != nil {
		ev.description = *d
	}
	if l := ck.enum([]any{"body", "level"}, eventLevels, &in.Level); l != nil {
		ev.level = *l
	}
	if info := valueOf(in.Info); info != nil && *info != nil {
		ev.info = *info
	}
	if err := ck.err(); err != nil {
		return nil, err
	}
	// Stored info = the given info plus description (api.md §2.13).
	desc, _ := json.Marshal(ev.description)
	ev.info["description"] = desc
	return ev, nil
}

// POST /events: the user (404, 403 without `update`), then the school (404,
// 403 without `read` unless the policy lets the caller attach events to any
// school), then the event and its processing task in one transaction.
func (s *Server) postEvent(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	var in eventCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	ev, err := newEventOf(in)
	if err != nil {
		return err
	}

	// The policy attributes of the user and school, and what the answer
	// shows of them, in one round trip.
	var (
		userRes   policies.Resource
		userFound bool
		user      *userIdentity
		schoolID  *int64
		school    *schoolWrivetedIdentity
	)
	if ev.userID != nil || ev.schoolWID != nil {
		err := db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) {
			if ev.userID != nil {
				queueUserAttrs(b, *ev.userID, &userRes, &userFound)
				b.Queue(queries.GetEventUser, *ev.userID).Query(func(rows pgx.Rows) error {
					for rows.Next() {
						var u userIdentity
						if err := rows.Scan(&u.ID, &u.Type, &u.Name); err != nil {
							return err
						}
						u.Type, user = lower(u.Type), &u
					}
					return rows.Err()
				})
			}
			if ev.schoolWID != nil {
				queueSchoolAttrs(b, *ev.schoolWID, &schoolID)
				b.Queue(queries.GetEventSchoolName, *ev.schoolWID).Query(func(rows pgx.Rows) error {
					for rows.Next() {
						sc := schoolWrivetedIdentity{WrivetedIdentifier: *ev.schoolWID}
						if err := rows.Scan(&sc.Name); err != nil {
							return err
						}
						school = &sc
					}
					return rows.Err()
				})
			}
		})
		if err != nil {
			return err
		}
	}
	if ev.userID != nil {
		if !userFound {
			return errUserNotFound(*ev.userID)
		}
		ok, err := s.may(ctx, userRes, "update")
		if err != nil {
			return err
		}
		if !ok {
			return httpError(http.StatusForbidden, msgEventCreateUser)
		}
	}
	if ev.schoolWID != nil {
		if schoolID == nil {
			return errSchoolNotFound(*ev.schoolWID)
		}
		ok, err := s.may(ctx, schoolResource(*schoolID), "read")
		if err == nil && !ok {
			ok, err = s.may(ctx, policies.Resource{Type: eventsResource.Type,
				Attrs: map[string]string{"school_id": strconv.FormatInt(*schoolID, 10)}}, "attach-school")
		}
		if err != nil {
			return err
		}
		if !ok {
			return httpError(http.StatusForbidden, msgEventCreateSchool)
		}
	}

	// Attributed to the named user instead of the caller (api.md §2.13).
	userID, saID := actor(ident)
	if ev.userID != nil {
		userID, saID = ev.userID, nil
	}
	if err := s.checkReadingLogItem(ctx, ev, userID); err != nil {
		return err
	}
	out := eventDetail{saEventBrief: saEventBrief{Title: ev.title, Description: ev.description, Level: lower(ev.level)},
		School: school}
	info, err := json.Marshal(ev.info)
	if err != nil {
		return err
	}
	out.Info = info
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		id, ts, err := recordEventAs(ctx, tx, userID, saID, ev.title, ev.description, ev.level, schoolID, out.Info)
		if err != nil {
			return err
		}
		out.Timestamp = isoTime(ts)
		if !slices.Contains(processedEventTitles, ev.title) {
			return nil
		}
		return jobs.Enqueue(ctx, tx, jobs.Task{Kind: jobs.KindProcessEvent,
			Payload:        map[string]any{"event_id": id, "title": ev.title, "info": out.Info},
			IdempotencyKey: "process-event:" + id.String()})
	})
	switch {
	case isPermissionDenied(err): // the policy allowed it; row security did not
		return errForbidden()
	case err != nil:
		return err
	}
	// The answer is built from what was written: the caller may not read the
	// event back (a kiosk's school event), and shows only what it sent or may read.
	switch {
	case ev.userID != nil:
		out.User = user
	case ident.IsUser():
		out.User = &userIdentity{ID: ident.Account.ID, Type: lower(ident.Account.UserType), Name: ident.Account.Name}
	default:
		out.ServiceAccount = &serviceAccountBrief{ID: ident.Account.ID, Name: ident.Account.Name,
			Type: lower(ident.Account.ServiceType), IsActive: ident.Account.IsActive}
	}
	return c.JSON(http.StatusOK, out)
}

// ---------------------------------------------------------------------------
// GET /events

// eventFilters are the list's query parameters (api.md §2.13).
type eventFilters struct {
	queries                      []string
	matchPrefix                  bool
	level                        *string
	schoolWID, userID, serviceID *uuid.UUID
	jsonPath                     *string
	since                        *time.Time
	skip, limit                  int
}

func parseEventFilters(c echo.Context) (eventFilters, error) {
	var (
		f   eventFilters
		err error
	)
	if f.skip, f.limit, err = page(c); err != nil {
		return f, err
	}
	f.queries = c.QueryParams()["query"]
	if p, err := queryBool(c, "match_prefix"); err != nil {
		return f, err
	} else if p != nil {
		f.matchPrefix = *p
	}
	if f.level, err = queryLevel(c); err != nil {
		return f, err
	}
	for name, dst := range map[string]**uuid.UUID{"school_id": &f.schoolWID, "user_id": &f.userID,
		"service_account_id": &f.serviceID} {
		if *dst, err = queryUUID(c, name); err != nil {
			return f, err
		}
	}
	if c.QueryParams().Has("info_jsonpath_match") {
		v := c.QueryParam("info_jsonpath_match")
		f.jsonPath = &v
	}
	if f.since, err = queryDateTime(c, "since"); err != nil {
		return f, err
	}
	return f, nil
}

// queryLevel reads the optional `level` (an EventLevel; api.md §0.6).
func queryLevel(c echo.Context) (*string, error) {
	raw := c.QueryParam("level")
	if raw == "" {
		return nil, nil
	}
	label, ok := parseEnum(eventLevels, raw)
	if !ok {
		return nil, errValidation(validationError{Type: "enum", Loc: []any{"query", "level"},
			Msg: "Input should be " + strings.Join(enumValues(eventLevels), ", "), Input: raw})
	}
	return &label, nil
}

func queryUUID(c echo.Context, name string) (*uuid.UUID, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return nil, nil
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return nil, errValidation(validationError{Type: "uuid_parsing", Loc: []any{"query", name},
			Msg: "Input should be a valid UUID", Input: raw})
	}
	return &id, nil
}

// eventListAttrs are what the list's checks decide on, read by doors (the
// user, the school) or under row security (the service account).
type eventListAttrs struct {
	user      policies.Resource
	userFound bool
	schoolID  *int64
	saFound   bool
	read      bool // every attribute query answered
}

// queue adds the attribute queries of f's filters to b.
func (a *eventListAttrs) queue(b *pgx.Batch, f eventFilters) {
	if f.userID != nil {
		queueUserAttrs(b, *f.userID, &a.user, &a.userFound)
	}
	if f.serviceID != nil {
		// Existence only (no permission check on the account, api.md
		// §2.13): service accounts are hidden from non-admins, so a definer
		// door answers; the events stay filtered by row security.
		b.Queue(queries.ServiceAccountExists, *f.serviceID).QueryRow(func(r pgx.Row) error {
			return r.Scan(&a.saFound)
		})
	}
	if f.schoolWID != nil {
		queueSchoolAttrs(b, *f.schoolWID, &a.schoolID)
	}
	b.Queue(queries.AttrsAnswered).QueryRow(func(r pgx.Row) error { return r.Scan(&a.read) })
}

// decide runs the list's checks in the order of api.md §2.13.
func (s *Server) decideEventList(ctx context.Context, f eventFilters, a eventListAttrs) error {
	if f.userID != nil {
		if !a.userFound {
			return errUserNotFound(*f.userID)
		}
		ok, err := s.may(ctx, a.user, "read")
		if err != nil {
			return err
		}
		if !ok {
			return httpError(http.StatusForbidden, msgEventsFilterUser)
		}
	}
	if f.serviceID != nil && !a.saFound {
		return errServiceAccountNotFound(*f.serviceID)
	}
	if f.schoolWID != nil {
		if a.schoolID == nil {
			return errSchoolNotFound(*f.schoolWID)
		}
		ok, err := s.may(ctx, schoolResource(*a.schoolID), "read")
		if err != nil {
			return err
		}
		if !ok {
			return httpError(http.StatusForbidden, msgEventsFilterSchool)
		}
	}
	return nil
}

// eventListQuery builds the list query of f (queries.EventList).
func eventListQuery(f eventFilters) (string, []any) {
	var w queries.Filter
	if len(f.queries) > 0 {
		patterns := make([]string, len(f.queries))
		for i, q := range f.queries {
			patterns[i] = likePattern(q)
			if f.matchPrefix {
				patterns[i] = strings.TrimPrefix(patterns[i], "%")
			}
		}
		w.Add("e.title ILIKE ANY ($?::text[])", patterns)
	}
	if f.level != nil {
		w.Add("e.level >= $?::eventlevel", *f.level)
	}
	if f.schoolWID != nil {
		// by its integer id, resolved in the statement so that the page
		// travels with the attributes (every signed-in account reads schools)
		w.Add("e.school_id = (SELECT sc.id FROM schools sc WHERE sc.wriveted_identifier = $?)", *f.schoolWID)
	}
	if f.userID != nil {
		w.Add("e.user_id = $?", *f.userID)
	}
	if f.serviceID != nil {
		w.Add("e.service_account_id = $?", *f.serviceID)
	}
	if f.since != nil {
		w.Add(`e."timestamp" >= $?`, *f.since)
	}
	if f.jsonPath != nil { // last: evaluated on rows the other filters kept
		w.Add("jsonb_path_match(e.info, $?::jsonpath)", *f.jsonPath)
	}
	return queries.EventList(&w, f.skip, f.limit)
}

// scanEventDetails reads the rows of queries.EventList.
func scanEventDetails(rows pgx.Rows) ([]eventDetail, error) {
	out := []eventDetail{}
	for rows.Next() {
		var (
			ev                 eventDetail
			level              string
			ts                 time.Time
			info               []byte
			schoolWID          *uuid.UUID
			schoolName         *string
			userID             *uuid.UUID
			userType, userName *string
			saID               *uuid.UUID
			saName, saType     *string
			saActive           *bool
		)
		if err := rows.Scan(&ev.Title, &ev.Description, &level, &ts, &info, &schoolWID, &schoolName,
			&userID, &userType, &userName, &saID, &saName, &saType, &saActive); err != nil {
			return nil, err
		}
		ev.Level, ev.Timestamp, ev.Info = lower(level), isoTime(ts), rawOrNull(info)
		if schoolWID != nil {
			ev.School = &schoolWrivetedIdentity{WrivetedIdentifier: *schoolWID, Name: *schoolName}
		}
		if userID != nil {
			ev.User = &userIdentity{ID: *userID, Type: lower(*userType), Name: *userName}
		}
		if saID != nil {
			ev.ServiceAccount = &serviceAccountBrief{ID: *saID, Name: *saName, Type: lower(*saType), IsActive: *saActive}
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// GET /events: the checks of api.md §2.13 in order, then one page of what
// row security lets the caller read. Attributes and page travel in one
// round trip; the page is returned only once every check has passed.
func (s *Server) getEvents(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	f, err := parseEventFilters(c)
	if err != nil {
		return err
	}
	if f.schoolWID == nil && f.userID == nil {
		ok, err := s.may(ctx, eventsResource, "read-global")
		if err != nil {
			return err
		}
		if !ok {
			return httpError(http.StatusForbidden, msgEventsGlobal)
		}
	}
	var (
		a    eventListAttrs
		data []eventDetail
	)
	q, args := eventListQuery(f)
	err = db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) {
		a.queue(b, f)
		if f.jsonPath != nil { // a syntax error fails here even when no row would be tested
			b.Queue(queries.ValidJSONPath, *f.jsonPath)
		}
		b.Queue(q, args...).Query(func(rows pgx.Rows) error {
			var err error
			data, err = scanEventDetails(rows)
			return err
		})
	})
	filterErr := err != nil && f.jsonPath != nil && isFilterError(err)
	if err != nil && !filterErr {
		return err
	}
	if filterErr && !a.read { // the attributes did not arrive: ask again, alone
		a = eventListAttrs{}
		if err := db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) { a.queue(b, f) }); err != nil {
			return err
		}
	}
	if err := s.decideEventList(ctx, f, a); err != nil {
		return err
	}
	if filterErr {
		return httpError(http.StatusBadRequest, msgEventsFilterProblem)
	}
	return c.JSON(http.StatusOK, pageOf(data, f.skip, f.limit, nil))
}

// ---------------------------------------------------------------------------
// GET /event-types

// GET /event-types: the distinct titles of the events the caller may read
// (row security; F14: another school's titles stay hidden), levels ≥ level.
func (s *Server) getEventTypes(c echo.Context) error {
	ctx := c.Request().Context()
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	level, err := queryLevel(c)
	if err != nil {
		return err
	}
	titles := []string{}
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		b.Queue(queries.ListEventTypes, level, skip, limit).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var t string
				if err := rows.Scan(&t); err != nil {
					return err
				}
				titles = append(titles, t)
			}
			return rows.Err()
		})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(titles, skip, limit, nil))
}

// checkReadingLogItem (R1): a "Reading logged" event's collection item must
// be its reader's — in the reader's own, parent's or school's collection —
// or background work would record activity on, and mail the title of,
// another tenant's book. A missing item and a foreign one answer alike.
func (s *Server) checkReadingLogItem(ctx context.Context, ev *newEvent, reader *uuid.UUID) error {
	if ev.title != "Reader timeline event: Reading logged" || reader == nil {
		return nil
	}
	item, loc := readingLogItem(ev.info)
	if item == nil {
		return nil
	}
	allowed := false
	if *item >= math.MinInt32 && *item <= math.MaxInt32 {
		err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
			b.Queue(queries.ReadingLogItemAllowed, *reader, *item).QueryRow(func(r pgx.Row) error {
				return r.Scan(&allowed)
			})
		})
		if err != nil {
			return err
		}
	}
	if !allowed {
		return invalid(loc, "The collection item is not in the reader's collections (their own, their parent's or their school's)", *item)
	}
	return nil
}

// readingLogItem is the event info's collection_item_id (at the top, or in a
// "reading_logged" object as some clients nest it) and where it was; nil
// when there is none or it is not an integer (the task ignores such logs).
func readingLogItem(info map[string]json.RawMessage) (*int64, []any) {
	loc := []any{"body", "info", "collection_item_id"}
	raw, ok := info["collection_item_id"]
	if !ok {
		var nested map[string]json.RawMessage
		if r, has := info["reading_logged"]; has && json.Unmarshal(r, &nested) == nil {
			raw, ok = nested["collection_item_id"]
			loc = []any{"body", "info", "reading_logged", "collection_item_id"}
		}
	}
	var n int64
	if !ok || json.Unmarshal(raw, &n) != nil {
		return nil, nil
	}
	return &n, loc
}
