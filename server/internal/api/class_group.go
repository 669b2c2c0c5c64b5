package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/wriveted/huey-api/policies"
	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// Classes (api.md §2.6). Who may attempt what is in policies/classes.rego
// (the route-level ACL) and policies/class.rego (one class, F5 fixed: its
// school's integer id); which rows exist is row security (class_groups_*
// policies): a school's staff read and rename its classes, its students read
// them, its school admins create and delete them, admins everything. Lists
// are filtered by row security before they are paged (F14).

// classGroupBrief is ClassGroupBrief (api.md §1.3).
type classGroupBrief struct {
	ID           uuid.UUID  `json:"id"`
	SchoolID     *uuid.UUID `json:"school_id"` // the school's wriveted_identifier
	Name         string     `json:"name"`
	StudentCount int64      `json:"student_count"`
	UpdatedAt    isoTime    `json:"updated_at"`
}

// classGroupWithCode is ClassGroupBriefWithJoiningCode; note is not stored
// and always null.
type classGroupWithCode struct {
	classGroupBrief
	JoinCode *string `json:"join_code"`
	Note     *string `json:"note"`
}

// classStudent is StudentIdentity.
type classStudent struct {
	readerIdentity
	Username string      `json:"username"`
	School   usersSchool `json:"school"`
}

// classGroupDetail is ClassGroupDetail.
type classGroupDetail struct {
	classGroupWithCode
	Students []classStudent `json:"students"`
}

func errClassNotFound(id uuid.UUID) error {
	return httpError(http.StatusNotFound, msgClassNotFound.format(id))
}

// classResource is a class as the policy sees it: its school's integer id
// as attrs.school_id (F5).
func classResource(id uuid.UUID, schoolID int64) policies.Resource {
	return policies.Resource{Type: resClass, ID: id.String(),
		Attrs: map[string]string{"school_id": strconv.FormatInt(schoolID, 10)}}
}

// ---------------------------------------------------------------------------
// Policy attributes of one class, read in the round trip of the data.

// classAttrs is what the class policy needs: whether the class exists for
// the caller and its school's integer id (nil for a class without a school).
type classAttrs struct {
	found    bool
	schoolID *int64
}

// queueClassAttrs reads the class's school through the narrow
// huey.class_attrs door (queries.ClassAttrs), so an existing class the caller
// may not read is refused (403), not hidden (DECISIONS §4). Scanned by hand:
// the school is NULL for a class without one.
func queueClassAttrs(b batchQueuer, id uuid.UUID, out *classAttrs) {
	b.Queue(queries.ClassAttrs, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&out.schoolID); err != nil {
				return err
			}
			out.found = true
		}
		return rows.Err()
	})
}

// classCheck is one permission check of a class route, on the class (the
// route's declared action) or on its school, in the order api.md §2.6 lists
// them.
type classCheck struct {
	onSchool bool
	action   string
}

// classCheckDeclared is the route's declared decision on the class.
func classCheckDeclared() classCheck              { return classCheck{} }
func classCheckOnSchool(action string) classCheck { return classCheck{onSchool: true, action: action} }

// decideClass takes a class route's decisions: 404 when the class does not
// exist for the caller, 403 on the first check refused. A class without a
// school fails every class-level check (api.md §2.6).
func (s *Server) decideClass(c echo.Context, id uuid.UUID, a classAttrs, checks ...classCheck) error {
	ctx := c.Request().Context()
	action, err := declaredAction(c, resClass)
	if err != nil {
		return err
	}
	if !a.found {
		return errClassNotFound(id)
	}
	if a.schoolID == nil {
		return errForbidden()
	}
	for _, ck := range checks {
		res, act := classResource(id, *a.schoolID), action
		if ck.onSchool {
			res, act = schoolResource(*a.schoolID), ck.action
		}
		if err := s.check(ctx, res, act); err != nil {
			return err
		}
	}
	return nil
}

// readClassAttrs reads a class's policy attributes alone (the decision of a
// write, before its transaction).
func (s *Server) readClassAttrs(ctx context.Context, id uuid.UUID) (classAttrs, error) {
	var a classAttrs
	err := db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) { queueClassAttrs(b, id, &a) })
	return a, err
}

// ---------------------------------------------------------------------------
// Reading classes.

// scanClassBrief scans a ClassGroupBrief and its join code (the columns of
// queries.GetClassBrief and queries.ListClasses).
func scanClassBrief(row pgx.Row, out *classGroupWithCode) error {
	var updated time.Time
	if err := row.Scan(&out.ID, &out.SchoolID, &out.Name, &updated, &out.StudentCount, &out.JoinCode); err != nil {
		return err
	}
	out.UpdatedAt = isoTime(updated)
	return nil
}

// queueClassDetail queues a ClassGroupDetail's queries; *out stays nil when
// the class is not visible.
func queueClassDetail(b batchQueuer, id uuid.UUID, out **classGroupDetail) {
	d := &classGroupDetail{Students: []classStudent{}}
	b.Queue(queries.GetClassBrief, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			if err := scanClassBrief(rows, &d.classGroupWithCode); err != nil {
				return err
			}
			*out = d
		}
		return rows.Err()
	})
	b.Queue(queries.ListClassStudents, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var st classStudent
			if err := rows.Scan(&st.ID, &st.Name, &st.FirstName, &st.LastNameInitial, &st.Username,
				&st.School.WrivetedIdentifier, &st.School.Name, &st.School.OfficialIdentifier,
				&st.School.CountryCode); err != nil {
				return err
			}
			st.Type = "student"
			d.Students = append(d.Students, st)
		}
		return rows.Err()
	})
}

// readClassTx reads a ClassGroupDetail inside a write transaction.
func readClassTx(ctx context.Context, tx *db.Tx, id uuid.UUID) (*classGroupDetail, error) {
	var d *classGroupDetail
	b := &pgx.Batch{}
	queueClassDetail(b, id, &d)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, db.ErrNotFound
	}
	return d, nil
}

// GET /class/{id}: read on the class's school, then read on the class; the
// attributes and the data travel in one round trip.
func (s *Server) getClass(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var (
		a classAttrs
		d *classGroupDetail
	)
	err = db.Read(ctx, s.pool, identityOf(ctx).Claims, func(b *pgx.Batch) {
		queueClassAttrs(b, id, &a)
		queueClassDetail(b, id, &d)
	})
	if err != nil {
		return err
	}
	if err := s.decideClass(c, id, a, classCheckOnSchool("read"), classCheckDeclared()); err != nil {
		return err
	}
	if d == nil {
		return errClassNotFound(id)
	}
	return c.JSON(http.StatusOK, d)
}

// GET /classes: route ACL `read`; a school filter unless the caller is an
// admin; `read` on that school. Row security drops the classes the caller
// may not read before skip/limit apply (F14).
func (s *Server) getClasses(c echo.Context) error {
	ctx := c.Request().Context()
	skip, limit, err := page(c)
	if err != nil {
		return err
	}
	var school *uuid.UUID
	if c.QueryParams().Has("school_id") {
		raw := c.QueryParam("school_id")
		wid, err := uuid.Parse(raw)
		if err != nil {
			return errValidation(validationError{Type: "uuid_parsing", Loc: []any{"query", "school_id"},
				Msg: "Input should be a valid UUID", Input: raw})
		}
		school = &wid
	}
	q, err := queryString(c, "query", 512)
	if err != nil {
		return err
	}
	ident := identityOf(ctx)
	if school == nil && !ident.Principals.Has("role:admin") {
		return httpError(http.StatusForbidden, msgClassesNeedSchool)
	}

	var f queries.Filter
	if school != nil {
		f.Add("g.school_id = $?", *school)
	}
	if q != nil {
		f.Add("g.name ILIKE $?", likePattern(*q))
	}
	sql, args := f.Page(queries.ListClasses, "g.name, g.id", skip, limit)

	var schoolID *int64
	data := []classGroupBrief{}
	err = db.Read(ctx, s.pool, ident.Claims, func(b *pgx.Batch) {
		if school != nil {
			queueSchoolAttrs(b, *school, &schoolID)
		}
		b.Queue(sql, args...).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var g classGroupWithCode
				if err := scanClassBrief(rows, &g); err != nil {
					return err
				}
				data = append(data, g.classGroupBrief)
			}
			return rows.Err()
		})
	})
	if err != nil {
		return err
	}
	if school != nil {
		if schoolID == nil {
			return errSchoolNotFound(*school)
		}
		ok, err := s.may(ctx, schoolResource(*schoolID), "read")
		if err != nil {
			return err
		}
		if !ok {
			return httpError(http.StatusForbidden, msgClassesSchoolDenied)
		}
	}
	return c.JSON(http.StatusOK, pageOf(data, skip, limit, nil)) // total: null (api.md §2.6)
}

// ---------------------------------------------------------------------------
// POST /school/{wriveted_identifier}/class

// POST /school/{wriveted_identifier}/class: route ACL `create`, then
// `update` on the school. The class always belongs to the path's school: a
// body school_id naming another school is ignored (api.md §2.6 defect fixed).
func (s *Server) postClass(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	wid, schoolID, err := s.decideSchool(c)
	if err != nil {
		return err
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var in classGroupCreateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	// school_id is validated by the document and ignored; a missing name is
	// the original's string detail, which the document cannot express.
	if valueOf(in.Name) == nil {
		return httpError(http.StatusUnprocessableEntity, msgClassCreateFailed)
	}
	name := *valueOf(in.Name)
	var out classGroupWithCode
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		g, err := queries.New(tx).InsertClass(ctx, queries.InsertClassParams{SchoolID: &wid, Name: name})
		if err != nil {
			return err
		}
		out = classGroupWithCode{classGroupBrief: classGroupBrief{ID: g.ID, SchoolID: g.SchoolID, Name: g.Name,
			StudentCount: g.StudentCount, UpdatedAt: isoTime(g.UpdatedAt)}, JoinCode: g.JoinCode}
		return recordEvent(ctx, tx, ident, "New class created",
			fmt.Sprintf("%s created class '%s'", ident.Account.Name, name), "NORMAL", &schoolID, nil)
	})
	switch {
	case isIntegrityError(err):
		return httpError(http.StatusUnprocessableEntity, msgClassCreateFailed)
	case isPermissionDenied(err): // the policy allowed it; row security did not
		return errForbidden()
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// ---------------------------------------------------------------------------
// PATCH /class/{id}

// PATCH /class/{id}: `update` on the class, then `read` on its school.
func (s *Server) patchClass(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	a, err := s.readClassAttrs(ctx, id)
	if err != nil {
		return err
	}
	if err := s.decideClass(c, id, a, classCheckDeclared(), classCheckOnSchool("read")); err != nil {
		return err
	}
	if err := s.validateRequest(c); err != nil {
		return err
	}
	var in classGroupUpdateIn
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	// Only name is stored (the document validated the rest, and its length).
	name := valueOf(in.Name)
	var d *classGroupDetail
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		if name != nil {
			n, err := queries.New(tx).RenameClass(ctx, queries.RenameClassParams{ID: id, Name: *name})
			if err != nil {
				return err
			}
			if n != 1 {
				return errForbidden() // the policy allowed it; row security did not
			}
		}
		var err error
		d, err = readClassTx(ctx, tx, id)
		return err
	})
	switch {
	case errors.Is(err, db.ErrNotFound):
		return errClassNotFound(id)
	case isIntegrityError(err):
		return httpError(http.StatusUnprocessableEntity, msgClassRenameFailed)
	case isPermissionDenied(err):
		return errForbidden()
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// ---------------------------------------------------------------------------
// DELETE /class/{id}

// DELETE /class/{id}: `delete` on the class, then `update` on its school.
// Its students become inactive public readers, kept whole (their readers
// rows stay and a public_readers row is added: the non-orphaning version of
// domain.md §12), then the class is deleted, all in one transaction.
func (s *Server) deleteClass(c echo.Context) error {
	ctx := c.Request().Context()
	ident := identityOf(ctx)
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	a, err := s.readClassAttrs(ctx, id)
	if err != nil {
		return err
	}
	if err := s.decideClass(c, id, a, classCheckDeclared(), classCheckOnSchool("update")); err != nil {
		return err
	}
	var (
		before   classGroupWithCode
		demoted  []uuid.UUID
		schoolID = *a.schoolID
	)
	err = db.InTx(ctx, s.pool, ident.Claims, func(tx *db.Tx) error {
		q := queries.New(tx)
		g, err := q.LockClassForDelete(ctx, id)
		if err != nil {
			return err
		}
		before = classGroupWithCode{classGroupBrief: classGroupBrief{ID: g.ID, SchoolID: g.SchoolID, Name: g.Name,
			StudentCount: g.StudentCount, UpdatedAt: isoTime(g.UpdatedAt)}}
		if err := recordEvent(ctx, tx, ident, "Class Deleted",
			fmt.Sprintf("Class %s in %s deleted.", before.Name, g.SchoolName), "NORMAL", &schoolID, nil); err != nil {
			return err
		}
		if demoted, err = q.ListClassStudentIDs(ctx, id); err != nil {
			return err
		}
		// While the students rows still name the school (the F1 guard and
		// the row security of a school admin both look the school up there):
		// demote, then add the public_readers rows, then delete the students.
		n, err := q.DemoteClassStudents(ctx, demoted)
		if err != nil {
			return err
		}
		if n != int64(len(demoted)) {
			return errForbidden() // the policy allowed it; row security did not
		}
		if err := q.EnsureClassPublicReaders(ctx, demoted); err != nil {
			return err
		}
		if n, err = q.DeleteClassStudents(ctx, demoted); err != nil {
			return err
		}
		if n != int64(len(demoted)) {
			return errForbidden()
		}
		if n, err = q.DeleteClass(ctx, id); err != nil {
			return err
		}
		if n != 1 {
			return errForbidden()
		}
		return nil
	})
	switch {
	case errors.Is(err, db.ErrNotFound):
		return errClassNotFound(id)
	case isPermissionDenied(err):
		return errForbidden()
	case err != nil:
		return err
	}
	for _, u := range demoted {
		s.accounts.forget(u)
	}
	return c.JSON(http.StatusOK, before.classGroupBrief)
}
