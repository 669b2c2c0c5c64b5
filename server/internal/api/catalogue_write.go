package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
	"github.com/wriveted/huey-api/tasks/jobs"
)

// Catalogue writes (api.md §2.8–§2.10). Who may write is decided by the
// route's policy (F8: admins, educators, school admins, LMS and school
// service accounts create and patch; only admins delete works, generate
// labels and patch labelsets) and again by row security. Each write is one
// transaction, its event recorded in it (DECISIONS §6); the rules themselves
// live in schema/catalog.

// ---------------------------------------------------------------------------
// Input models

var labelOrigins = func() []enumValue {
	var out []enumValue
	for _, o := range []string{"HUMAN", "GPT4", "PREDICTED_NIELSEN", "NIELSEN_CBMC", "NIELSEN_BIC", "NIELSEN_THEMA",
		"NIELSEN_IA", "NIELSEN_RA", "CLUSTER_RELEVANCE", "CLUSTER_ZAINAB", "OTHER", "VERTEXAI"} {
		out = append(out, enumValue{o, o})
	}
	return out
}()

var recommendStatuses = []enumValue{{"GOOD", "GOOD"}, {"BAD_BORING", "BAD_BORING"}, {"BAD_REFERENCE", "BAD_REFERENCE"},
	{"BAD_CONTROVERSIAL", "BAD_CONTROVERSIAL"}, {"BAD_LOW_QUALITY", "BAD_LOW_QUALITY"}}

var genreSources = []enumValue{{"BISAC", "BISAC"}, {"BIC", "BIC"}, {"THEMA", "THEMA"}, {"LOCSH", "LOCSH"},
	{"HUMAN", "HUMAN"}, {"VERTEXAI", "VERTEXAI"}, {"OTHER", "OTHER"}}

func origin(s *string) *catalog.Origin {
	if s == nil {
		return nil
	}
	o := catalog.Origin(*s)
	return &o
}

// labelSetPatchOf checks a LabelSetCreateIn the document has validated and
// returns the catalogue's patch: origins and statuses are names in any case
// (c.enum) and the ages int4 (int_overflow), which the document cannot say.
func labelSetPatchOf(c *checks, loc []any, in labelSetIn) catalog.LabelSetPatch {
	at := func(k string) []any { return append(append([]any{}, loc...), k) }
	keys, _ := in.ReadingAbilityKeys.Get()
	info, _ := in.Info.Get()
	p := catalog.LabelSetPatch{
		HuePrimaryKey: valueOf(in.HuePrimaryKey), HueSecondaryKey: valueOf(in.HueSecondaryKey),
		HueTertiaryKey: valueOf(in.HueTertiaryKey),
		HueOrigin:      origin(c.enum(at("hue_origin"), labelOrigins, valueOf(in.HueOrigin))),
		MinAge:         valueOf(in.MinAge), MaxAge: valueOf(in.MaxAge),
		AgeOrigin:            origin(c.enum(at("age_origin"), labelOrigins, valueOf(in.AgeOrigin))),
		ReadingAbilityKeys:   keys,
		ReadingAbilityOrigin: origin(c.enum(at("reading_ability_origin"), labelOrigins, valueOf(in.ReadingAbilityOrigin))),
		HueySummary:          valueOf(in.HueySummary),
		SummaryOrigin:        origin(c.enum(at("summary_origin"), labelOrigins, valueOf(in.SummaryOrigin))),
		LabelledByUserID:     valueOf(in.LabelledByUserId), LabelledBySAID: valueOf(in.LabelledBySaId),
		Info:                  info,
		RecommendStatusOrigin: origin(c.enum(at("recommend_status_origin"), labelOrigins, valueOf(in.RecommendStatusOrigin))),
		Checked:               valueOf(in.Checked),
	}
	if rs := c.enum(at("recommend_status"), recommendStatuses, valueOf(in.RecommendStatus)); rs != nil {
		v := catalog.RecommendStatus(*rs)
		p.RecommendStatus = &v
	}
	c.int32(at("min_age"), p.MinAge)
	c.int32(at("max_age"), p.MaxAge)
	return p
}

// people turns people the document has validated (last_name required, both
// names at most 200 characters) into the catalogue's.
func people(in []personIn) []catalog.Person {
	out := make([]catalog.Person, 0, len(in))
	for _, p := range in {
		info, _ := p.Info.Get()
		out = append(out, catalog.Person{FirstName: valueOf(p.FirstName), LastName: p.LastName, Info: info})
	}
	return out
}

// coverURL checks a cover: an absolute URL, kept verbatim. Base64 data URIs
// (api.md §1.9) need object storage, which this server has not got: 422.
func (c *checks) coverURL(loc []any, v *string) {
	if v == nil {
		return
	}
	if strings.HasPrefix(*v, "data:") {
		c.add(loc, "value_error", "Value error, image uploads are not supported by this server; give the cover as a URL", "[BASE64 IMAGE]")
		return
	}
	u, err := url.Parse(*v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		c.add(loc, "url_parsing", "Input should be a valid URL", *v)
		return
	}
	c.str(loc, v, 200)
}

// editionInfo checks EditionInfo: pages are coerced to a string, genre
// sources must be known, list fields default to [].
func (c *checks) editionInfo(loc []any, info map[string]any) map[string]any {
	if info == nil {
		return nil
	}
	at := func(k ...any) []any { return append(append([]any{}, loc...), k...) }
	switch p := info["pages"].(type) {
	case float64:
		info["pages"] = strconv.FormatFloat(p, 'f', -1, 64)
	case nil, string:
	default:
		c.add(at("pages"), "string_type", "Input should be a valid string", p)
	}
	for _, k := range []string{"genres", "bic_qualifiers", "thema_qualifiers", "medium_tags", "links"} {
		v, ok := info[k]
		if !ok || v == nil {
			info[k] = []any{}
			continue
		}
		if _, ok := v.([]any); !ok {
			c.add(at(k), "list_type", "Input should be a valid list", v)
		}
	}
	if genres, ok := info["genres"].([]any); ok {
		for i, g := range genres {
			m, ok := g.(map[string]any)
			if !ok {
				c.add(at("genres", i), "model_type", "Input should be a valid dictionary", g)
				continue
			}
			if _, ok := m["name"].(string); !ok {
				c.add(at("genres", i, "name"), "missing", "Field required", nil)
			}
			src, _ := m["source"].(string)
			if label, ok := parseEnum(genreSources, src); ok {
				m["source"] = label
			} else {
				c.add(at("genres", i, "source"), "enum", "Input should be "+strings.Join(enumValues(genreSources), ", "), m["source"])
			}
		}
	}
	return info
}

// editionOf checks an EditionCreateIn the document has validated (isbn
// required, info an object; work_id is ignored). The lengths stay here (the
// validator's entry would add ctx.max_length), as do the int4 ranges
// (int_overflow), the cover URL and the info's rules.
func editionOf(c *checks, loc []any, in editionCreateIn) catalog.EditionIn {
	at := func(k string) []any { return append(append([]any{}, loc...), k) }
	leading, title, subtitle := valueOf(in.LeadingArticle), valueOf(in.Title), valueOf(in.Subtitle)
	series, number, date, cover := valueOf(in.SeriesName), valueOf(in.SeriesNumber), valueOf(in.DatePublished), valueOf(in.CoverUrl)
	c.str(at("leading_article"), leading, 20)
	c.str(at("title"), title, 512)
	c.str(at("subtitle"), subtitle, 512)
	c.str(at("series_name"), series, 512)
	c.int32(at("series_number"), number)
	c.int32(at("date_published"), date)
	c.coverURL(at("cover_url"), cover)
	others, _ := in.OtherIsbns.Get()
	out := catalog.EditionIn{ISBN: in.Isbn, OtherISBNs: others, LeadingArticle: leading,
		Title: title, Subtitle: subtitle, SeriesName: series, SeriesNumber: number,
		Authors:      people(in.Authors.GetOrEmpty()),
		Illustrators: people(in.Illustrators.GetOrEmpty()),
		CoverURL:     cover, DatePublished: date, Hydrated: in.Hydrated != nil && *in.Hydrated}
	if ls := valueOf(in.Labelset); ls != nil {
		p := labelSetPatchOf(c, at("labelset"), *ls)
		out.LabelSet = &p
	}
	if info, _ := in.Info.Get(); info != nil {
		out.Info = c.editionInfo(at("info"), info)
	}
	return out
}

// ---------------------------------------------------------------------------
// §2.9 Edition writes

// POST /edition: create or hydrate one edition (catalog.UpsertEdition); no event.
func (s *Server) postEdition(c echo.Context) error {
	ctx := c.Request().Context()
	var in editionCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	var ck checks
	ed := editionOf(&ck, []any{"body"}, in)
	if err := ck.err(); err != nil {
		return err
	}
	isbn, err := catalog.NormalizeISBN(ed.ISBN)
	if err != nil {
		return httpError(http.StatusUnprocessableEntity, msgISBNInvalidWrite)
	}
	var out json.RawMessage
	err = db.InTx(ctx, s.pool, identityOf(ctx).Claims, func(tx *db.Tx) error {
		if _, err := catalog.UpsertEdition(ctx, tx, ed); err != nil {
			return err
		}
		var err error
		out, err = txJSON(ctx, tx, editionDetailSQL, isbn)
		return err
	})
	if errors.Is(err, catalog.ErrAlreadyHydrated) {
		return httpError(http.StatusConflict,
			msgEditionExists.format(isbn))
	}
	if err := catalogueError(err); err != nil {
		return err
	}
	return rawJSON(c, out)
}

// POST /editions: bulk upsert; the message counts rows actually created
// (the original counted the input: the fixed defect).
func (s *Server) postEditions(c echo.Context) error {
	ctx := c.Request().Context()
	in, err := decodeList[editionCreateIn](c)
	if err != nil {
		return err
	}
	var ck checks
	items := make([]catalog.EditionIn, len(in))
	for i := range in {
		items[i] = editionOf(&ck, []any{"body", i}, in[i])
	}
	if err := ck.err(); err != nil {
		return err
	}
	ident := identityOf(ctx)
	var msg string
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		res, err := catalog.BulkUpsertEditions(ctx, tx, items)
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("Bulk load of %d editions complete. Created %d new editions.", res.Processed, res.Created)
		return recordEvent(ctx, tx, ident, "Bulk editions added", msg, "NORMAL", nil,
			map[string]any{"created": res.Created, "processed": res.Processed})
	})
	if err := catalogueError(err); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"msg": msg})
}

var datetimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// PATCH /edition/{isbn}?merge_dicts=
func (s *Server) patchEdition(c echo.Context) error {
	ctx := c.Request().Context()
	isbn, err := catalog.NormalizeISBN(c.Param("isbn"))
	if err != nil {
		return httpError(http.StatusUnprocessableEntity, msgISBNInvalid)
	}
	merge, err := queryBool(c, "merge_dicts")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	var in editionUpdateIn
	var sent map[string]any
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	_ = json.Unmarshal(body, &sent)
	p, err := parseEditionPatch(in, merge, sent)
	if err != nil {
		return err
	}
	ident := identityOf(ctx)
	var out json.RawMessage
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) (err error) {
		out, err = applyEditionPatch(ctx, tx, ident, isbn, p)
		return err
	})
	if err := catalogueError(err); err != nil {
		return err
	}
	return rawJSON(c, out)
}

// editionPatch is a validated PATCH /edition body, parsed once and then applied.
type editionPatch struct {
	in         editionUpdateIn
	merge      bool // merge_dicts: info deep-merges into the stored info
	date       *int64
	hydratedAt *time.Time
	illusIDs   []int64          // illustrators given by id
	illusNew   []catalog.Person // illustrators to create
	info       map[string]any
	changes    map[string]any // the event's changes: the fields sent, not null
}

// parseEditionPatch checks in (sent is the body as a map): 422 with every
// problem found.
func parseEditionPatch(in editionUpdateIn, merge *bool, sent map[string]any) (editionPatch, error) {
	p := editionPatch{in: in, merge: merge != nil && *merge, changes: map[string]any{}}
	var ck checks
	// The lengths stay here (the validator's entry would add
	// ctx.max_length), as do the URL, the numeric string and the datetime.
	ck.str([]any{"body", "leading_article"}, valueOf(in.LeadingArticle), 20)
	ck.str([]any{"body", "edition_title"}, valueOf(in.EditionTitle), 512)
	ck.str([]any{"body", "edition_subtitle"}, valueOf(in.EditionSubtitle), 512)
	ck.coverURL([]any{"body", "cover_url"}, valueOf(in.CoverUrl))
	if d := valueOf(in.DatePublished); d != nil {
		n, err := strconv.ParseInt(strings.TrimSpace(*d), 10, 32)
		if err != nil {
			ck.add([]any{"body", "date_published"}, "value_error", "Value error, date_published must be numeric", *d)
		}
		p.date = &n
	}
	if h := valueOf(in.HydratedAt); h != nil {
		if p.hydratedAt = parseDatetime(*h); p.hydratedAt == nil {
			ck.add([]any{"body", "hydrated_at"}, "datetime_from_date_parsing", "Input should be a valid datetime", *h)
		}
	}
	var persons []personIn
	for i, it := range in.Illustrators.GetOrEmpty() { // the document has checked: an id or a person
		if id, err := it.AsEditionUpdateInIllustrators0(); err == nil {
			p.illusIDs = append(p.illusIDs, int64(id))
			continue
		}
		person, err := it.AsPersonCreateIn()
		if err != nil {
			ck.add([]any{"body", "illustrators", i}, "model_type", "Input should be an illustrator id or IllustratorCreateIn", nil)
			continue
		}
		persons = append(persons, person)
	}
	p.illusNew = people(persons)
	info, _ := in.Info.Get()
	p.info = ck.editionInfo([]any{"body", "info"}, info)
	for k, v := range sent {
		if v != nil && slices.Contains([]string{"leading_article", "edition_title", "edition_subtitle", "date_published",
			"illustrators", "cover_url", "work_id", "info", "hydrated_at"}, k) {
			p.changes[k] = v
		}
	}
	return p, ck.err()
}

// parseDatetime reads s in the first of datetimeLayouts that fits, as UTC;
// nil when none does.
func parseDatetime(s string) *time.Time {
	for _, l := range datetimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			u := t.UTC()
			return &u
		}
	}
	return nil
}

// applyEditionPatch writes p to the edition of isbn in tx, records the
// event and reads the edition back.
func applyEditionPatch(ctx context.Context, tx *db.Tx, ident *Identity, isbn string, p editionPatch) (json.RawMessage, error) {
	q := queries.New(tx)
	cur, err := q.LockEditionForPatch(ctx, isbn)
	if db.IsNotFound(err) {
		return nil, errEditionNotFound(isbn)
	}
	if err != nil {
		return nil, err
	}
	if err := updateEditionColumns(ctx, tx, q, cur, p); err != nil {
		return nil, err
	}
	if valueOf(p.in.Illustrators) != nil {
		if err := setEditionIllustrators(ctx, q, cur.ID, p); err != nil {
			return nil, err
		}
	}
	title, err := q.GetEditionEventTitle(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	if err := recordEvent(ctx, tx, ident, "Edition updated", fmt.Sprintf("Made a change to '%s'", title), "NORMAL", nil,
		map[string]any{"changes": p.changes, "title": title, "isbn": isbn}); err != nil {
		return nil, err
	}
	return txJSON(ctx, tx, editionDetailSQL, isbn)
}

// updateEditionColumns sends one UPDATE of the columns p sets (none when it
// sets none): a work must exist (404); info replaces the stored info or,
// with merge_dicts, deep-merges into it.
func updateEditionColumns(ctx context.Context, tx *db.Tx, q *queries.Queries, cur queries.LockEditionForPatchRow, p editionPatch) error {
	var u queries.EditionUpdate
	if v := valueOf(p.in.LeadingArticle); v != nil {
		u.Set("leading_article", *v)
	}
	if v := valueOf(p.in.EditionTitle); v != nil {
		u.Set("edition_title", *v)
	}
	if v := valueOf(p.in.EditionSubtitle); v != nil {
		u.Set("edition_subtitle", *v)
	}
	if p.date != nil {
		u.Set("date_published", *p.date)
	}
	if v := valueOf(p.in.CoverUrl); v != nil {
		u.Set("cover_url", *v)
	}
	if p.hydratedAt != nil {
		u.Set("hydrated_at", *p.hydratedAt)
	}
	if w := valueOf(p.in.WorkId); w != nil {
		work := int64(*w)
		exists, err := q.WorkExists(ctx, int32(clampInt4(work)))
		if err != nil {
			return err
		}
		if !exists {
			return errWorkNotFound(work)
		}
		u.Set("work_id", work)
	}
	if p.info != nil {
		info := p.info
		if p.merge {
			var old map[string]any
			_ = json.Unmarshal(cur.Info, &old)
			info = deepMerge(old, info)
		}
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		u.SetJSONB("info", string(b))
	}
	if u.Empty() {
		return nil
	}
	sql, args := u.SQL(cur.ID)
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

// setEditionIllustrators replaces the edition's illustrators with p's.
func setEditionIllustrators(ctx context.Context, q *queries.Queries, edition int32, p editionPatch) error {
	ids, err := resolveIllustrators(ctx, q, p.illusIDs, p.illusNew)
	if err != nil {
		return err
	}
	if err := q.DeleteEditionIllustrators(ctx, edition); err != nil {
		return err
	}
	return q.InsertEditionIllustrators(ctx, queries.InsertEditionIllustratorsParams{EditionID: edition, IllustratorIds: ids})
}

// resolveIllustrators returns the ids of PATCH /edition's illustrators: ids
// must exist (404); objects are new illustrators (409 when the name exists).
func resolveIllustrators(ctx context.Context, q *queries.Queries, ids []int64, people []catalog.Person) ([]int32, error) {
	out := make([]int32, 0, len(ids)+len(people))
	for _, id := range ids {
		exists, err := q.IllustratorExists(ctx, int32(clampInt4(id)))
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, httpError(http.StatusNotFound, msgIllustratorNotFound.format(id))
		}
		out = append(out, int32(id))
	}
	for _, p := range people {
		info := p.Info
		if info == nil {
			info = map[string]any{}
		}
		b, err := json.Marshal(info)
		if err != nil {
			return nil, err
		}
		id, err := q.InsertIllustrator(ctx, queries.InsertIllustratorParams{FirstName: p.FirstName, LastName: p.LastName, Info: b})
		if db.IsNotFound(err) {
			first := ""
			if p.FirstName != nil {
				first = *p.FirstName
			}
			return nil, httpError(http.StatusConflict, msgIllustratorExists.format(first, p.LastName))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// clampInt4 keeps an id inside int4 so a look-up of an impossible id finds
// nothing instead of failing.
func clampInt4(id int64) int64 {
	if id < math.MinInt32 || id > math.MaxInt32 {
		return 0
	}
	return id
}

// ---------------------------------------------------------------------------
// §2.8 Work writes

// POST /work: authors by id must exist (422, the original's 500 fixed);
// editions are got or created and moved to the new work. Event "Work created".
func (s *Server) postWork(c echo.Context) error {
	ctx := c.Request().Context()
	var in workCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	// The document has checked title, authors and editions are there and
	// each author an id or a person; the type in any case, the lengths
	// (no ctx.max_length in today's entries) and int4 ids stay here.
	var ck checks
	info, _ := in.Info.Get()
	w := catalog.WorkIn{LeadingArticle: valueOf(in.LeadingArticle), Subtitle: valueOf(in.Subtitle), EditionISBNs: in.Editions,
		Info: info, Title: in.Title}
	if in.Type != nil {
		if t := ck.enum([]any{"body", "type"}, workTypes, in.Type); t != nil {
			w.Type = catalog.WorkType(*t)
		}
	}
	ck.str([]any{"body", "title"}, &in.Title, 512)
	ck.str([]any{"body", "subtitle"}, w.Subtitle, 512)
	ck.str([]any{"body", "leading_article"}, w.LeadingArticle, 20)
	for i, a := range in.Authors {
		if n, err := a.AsWorkCreateWithEditionsInAuthors0(); err == nil {
			id := int64(n)
			if id < math.MinInt32 || id > math.MaxInt32 {
				ck.add([]any{"body", "authors", i}, "value_error", fmt.Sprintf("Value error, Author with id %d not found", id), id)
			}
			w.Authors = append(w.Authors, catalog.AuthorRef{ID: id})
			continue
		}
		p, err := a.AsPersonCreateIn()
		if err != nil {
			ck.add([]any{"body", "authors", i}, "model_type", "Input should be an author id or AuthorCreateIn", nil)
			continue
		}
		w.Authors = append(w.Authors, catalog.AuthorRef{New: &people([]personIn{p})[0]})
	}
	if err := ck.err(); err != nil {
		return err
	}
	ident := identityOf(ctx)
	var out json.RawMessage
	err := db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		id, err := catalog.CreateWork(ctx, tx, w)
		if err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, ident, "Work created",
			fmt.Sprintf("'%s' created with %d editions", w.Title, len(in.Editions)), "NORMAL", nil,
			map[string]any{"work_id": id, "title": w.Title}); err != nil {
			return err
		}
		out, err = txJSON(ctx, tx, workDetailSQL, id)
		return err
	})
	if errors.Is(err, catalog.ErrUnknownAuthor) {
		return errValidation(validationError{Type: "value_error", Loc: []any{"body", "authors"},
			Msg: "Value error, " + err.Error(), Input: nil})
	}
	if err := catalogueError(err); err != nil {
		return err
	}
	return rawJSON(c, out)
}

// PATCH /work/{work_id}: the labelset patch (origin rules, domain.md §7.6),
// then the given fields. Event "Work updated" with the before/after diff.
func (s *Server) patchWork(c echo.Context) error {
	ctx := c.Request().Context()
	id, ok, err := pathInt(c, "work_id")
	if err != nil {
		return err
	}
	var in workUpdateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	// Lengths stay here: the validator's entry would add ctx.max_length.
	var ck checks
	leading, title, subtitle := valueOf(in.LeadingArticle), valueOf(in.Title), valueOf(in.Subtitle)
	ck.str([]any{"body", "title"}, title, 512)
	ck.str([]any{"body", "subtitle"}, subtitle, 512)
	ck.str([]any{"body", "leading_article"}, leading, 20)
	var patch *catalog.LabelSetPatch
	if ls := valueOf(in.Labelset); ls != nil {
		p := labelSetPatchOf(&ck, []any{"body", "labelset"}, *ls)
		patch = &p
	}
	if err := ck.err(); err != nil {
		return err
	}
	if !ok {
		return errWorkNotFound(c.Param("work_id"))
	}
	ident := identityOf(ctx)
	var out json.RawMessage
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		before, err := txJSON(ctx, tx, queries.WorkSnapshotForUpdate, id)
		if err != nil {
			return err
		}
		if before == nil {
			return errWorkNotFound(id)
		}
		if patch != nil {
			if _, err := catalog.ApplyLabelSetPatch(ctx, tx, id, *patch); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, queries.UpdateWork,
			id, leading != nil, leading, title, subtitle != nil, subtitle); err != nil {
			return err
		}
		after, err := txJSON(ctx, tx, workSnapshotSQL, id)
		if err != nil {
			return err
		}
		changes, title := workChanges(before, after)
		if err := recordEvent(ctx, tx, ident, "Work updated", fmt.Sprintf("Made a change to '%s'", title), "NORMAL", nil,
			map[string]any{"changes": changes, "work_id": id}); err != nil {
			return err
		}
		out, err = txJSON(ctx, tx, workDetailSQL, id)
		return err
	})
	if err := catalogueError(err); err != nil {
		return err
	}
	return rawJSON(c, out)
}

// workChanges diffs two work snapshots: {field: [old, new]}, the labelset's
// fields nested under "labelset" (its updated_at left out).
func workChanges(before, after json.RawMessage) (map[string]any, string) {
	var b, a map[string]any
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	changes := map[string]any{}
	for k, nv := range a {
		ov := b[k]
		if k == "labelset" {
			om, _ := ov.(map[string]any)
			nm, _ := nv.(map[string]any)
			ls := map[string]any{}
			for f, x := range nm {
				if f != "updated_at" && !jsonEqual(om[f], x) {
					ls[f] = []any{om[f], x}
				}
			}
			if len(ls) > 0 {
				changes["labelset"] = ls
			}
			continue
		}
		if !jsonEqual(ov, nv) {
			changes[k] = []any{ov, nv}
		}
	}
	title, _ := a["title"].(string)
	return changes, title
}

// DELETE /work/{work_id}: answers the work as it was. The safe behaviour of
// catalog.DeleteWork: the work's editions are detached (work_id NULL), not
// deleted, so no school's collection loses a book (the original deleted
// them, and with them every collection item of those books).
func (s *Server) deleteWork(c echo.Context) error {
	ctx := c.Request().Context()
	id, ok, err := pathInt(c, "work_id")
	if err != nil {
		return err
	}
	if !ok {
		return errWorkNotFound(c.Param("work_id"))
	}
	ident := identityOf(ctx)
	var out json.RawMessage
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		var err error
		if out, err = txJSON(ctx, tx, workDetailSQL, id); err != nil {
			return err
		}
		if out == nil {
			return errWorkNotFound(id)
		}
		var w struct {
			Title string `json:"title"`
		}
		_ = json.Unmarshal(out, &w)
		if err := recordEvent(ctx, tx, ident, "Work deleted", fmt.Sprintf("Deleted work '%s'", w.Title), "NORMAL", nil,
			map[string]any{"work_id": id}); err != nil {
			return err
		}
		if err := catalog.DeleteWork(ctx, tx, id); err != nil {
			if errors.Is(err, db.ErrNotFound) {
				return errForbidden() // visible but not deletable: row security refused
			}
			return err
		}
		return nil
	})
	if err := catalogueError(err); err != nil {
		return err
	}
	return rawJSON(c, out)
}

// POST /work/{work_id}/generate-labels (ADMIN): queues task generate-labels.
func (s *Server) postWorkGenerateLabels(c echo.Context) error {
	ctx := c.Request().Context()
	id, ok, err := pathInt(c, "work_id")
	if err != nil {
		return err
	}
	if !ok {
		return errWorkNotFound(c.Param("work_id"))
	}
	err = db.InTx(ctx, s.pool, identityOf(ctx).Claims, func(tx *db.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, queries.WorkExists, id).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return errWorkNotFound(id)
		}
		return jobs.Enqueue(ctx, tx, jobs.Task{Kind: jobs.KindGenerateLabels, Payload: map[string]any{"work_id": id}})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// ---------------------------------------------------------------------------
// §2.10 PATCH /labelsets (ADMIN)

// PATCH /labelsets: each patch finds the work of the edition with exactly
// that ISBN (unknown += 1 when none), then applies the origin rules. One
// transaction; each patch runs under a savepoint so a failing one counts as
// an error and leaves the others (errors += 1), as the original's per-patch
// commits do.
func (s *Server) patchLabelSets(c echo.Context) error {
	ctx := c.Request().Context()
	in, err := decodeList[labelSetPatchIn](c)
	if err != nil {
		return err
	}
	var ck checks
	patches := make([]catalog.LabelSetPatch, len(in))
	isbns := make([]string, 0, len(in))
	for i, p := range in { // isbn, huey_pick and patch_data: required by the document
		isbns = append(isbns, p.Isbn)
		d := valueOf(p.PatchData)
		if d == nil { // a null patch_data, which the document lets through: pydantic's entry
			ck.add([]any{"body", i, "patch_data"}, "missing", "Field required", nil)
			continue
		}
		patches[i] = labelSetPatchOf(&ck, []any{"body", i, "patch_data"}, *d)
	}
	if err := ck.err(); err != nil {
		return err
	}
	var patched, unknown, failed int
	err = db.InTx(ctx, s.pool, identityOf(ctx).Claims, func(tx *db.Tx) error {
		works := map[string]int64{}
		rows, err := tx.Query(ctx, queries.WorksOfEditions, isbns)
		if err != nil {
			return err
		}
		for rows.Next() {
			var isbn string
			var w int64
			if err := rows.Scan(&isbn, &w); err != nil {
				rows.Close()
				return err
			}
			works[isbn] = w
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, p := range in {
			w, ok := works[p.Isbn]
			if !ok {
				unknown++
				continue
			}
			if _, err := tx.Exec(ctx, `SAVEPOINT labelset_patch`); err != nil {
				return err
			}
			if _, err := catalog.ApplyLabelSetPatch(ctx, tx, w, patches[i]); err != nil {
				s.logger.WarnContext(ctx, "labelset patch failed", "isbn", p.Isbn, "error", err.Error())
				if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT labelset_patch`); err != nil {
					return err
				}
				failed++
				continue
			}
			if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT labelset_patch`); err != nil {
				return err
			}
			patched++
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"patched": patched, "unknown": unknown, "errors": failed})
}
