package api

import (
	"errors"

	"github.com/google/uuid"

	"github.com/wriveted/huey-api/schema/db"
	"github.com/wriveted/huey-api/schema/queries"
)

// The schools resource's rows (schema/queries/school.sql) as API models.

// schoolErr is where the schools handlers turn "no such row" into the
// school's 404: db.Read and db.InTx return db.ErrNotFound for it.
func schoolErr(wid uuid.UUID, err error) error {
	if errors.Is(err, db.ErrNotFound) {
		return errSchoolNotFound(wid)
	}
	return err
}

// schoolRows is what queueSchoolDetail queues; detail assembles them once
// the batch has run.
type schoolRows struct {
	school    *queries.GetSchoolDetailRow
	admins    []queries.ListSchoolAdminsRow
	booklists []queries.ListSchoolBooklistsRow
	sub       *queries.GetSchoolSubscriptionRow
	col       *queries.GetSchoolCollectionRow
}

// queueSchoolDetail queues every query of a SchoolDetail on b.
func queueSchoolDetail(b queries.Queuer, wid uuid.UUID) *schoolRows {
	r := &schoolRows{}
	queries.QueueOne(b, &r.school, queries.GetSchoolDetail, wid)
	queries.QueueMany(b, &r.admins, queries.ListSchoolAdmins, wid)
	queries.QueueMany(b, &r.booklists, queries.ListSchoolBooklists, wid)
	queries.QueueOne(b, &r.sub, queries.GetSchoolSubscription, wid)
	queries.QueueOne(b, &r.col, queries.GetSchoolCollection, wid)
	return r
}

// detail returns the SchoolDetail, or db.ErrNotFound when the school is
// not visible.
func (r *schoolRows) detail() (*schoolDetail, error) {
	s := r.school
	if s == nil {
		return nil, db.ErrNotFound
	}
	state := lower(s.State)
	d := &schoolDetail{
		id: int64(s.ID), WrivetedIdentifier: s.WrivetedIdentifier, Name: s.Name,
		OfficialIdentifier: s.OfficialIdentifier, CountryCode: s.CountryCode, State: &state,
		Info: rawOrNull(s.Info), LmsType: s.LmsType, BookbotType: lower(s.BookbotType),
		CreatedAt: isoTime(s.CreatedAt), UpdatedAt: isoTime(s.UpdatedAt),
		StudentDomain: s.StudentDomain, TeacherDomain: s.TeacherDomain,
		Admins: make([]userBrief, 0, len(r.admins)), Booklists: make([]booklistRef, 0, len(r.booklists)),
	}
	if s.CountryID != nil {
		d.Country = &countryOut{ID: *s.CountryID, Name: *s.CountryName}
	}
	for _, a := range r.admins {
		d.Admins = append(d.Admins, userBrief{ID: a.ID, Name: a.Name, Email: a.Email, Type: lower(a.Type),
			IsActive: a.IsActive, LastLoginAt: isoPtr(a.LastLoginAt)})
	}
	for _, b := range r.booklists {
		d.Booklists = append(d.Booklists, booklistRef{ID: b.ID, Name: b.Name})
	}
	if x := r.sub; x != nil {
		d.Subscription = &subscriptionDetail{
			subscriptionBrief: subscriptionBrief{ID: x.ID, Type: lower(x.Type), Provider: lower(x.Provider),
				IsActive: x.IsActive, Expiration: isoPtr(&x.Expiration), Product: productOut{ID: x.ProductID, Name: x.ProductName}},
			StripeCustomerID: x.StripeCustomerID, CreatedAt: isoTime(x.CreatedAt), UpdatedAt: isoTime(x.UpdatedAt),
			Info: rawOrNull(x.Info),
		}
	}
	if c := r.col; c != nil {
		d.Collection = &collectionBrief{ID: c.ID, Name: c.Name, BookCount: int64(c.ItemCount),
			SchoolID: c.SchoolID, UserID: c.UserID, UpdatedAt: isoTime(c.UpdatedAt)}
	}
	return d, nil
}

// schoolOption is one row of GET /schools as a SchoolSelectorOption.
func schoolOption(r queries.SchoolListRow) schoolSelectorOption {
	state := lower(r.State)
	o := schoolSelectorOption{schoolBrief: schoolBrief{WrivetedIdentifier: r.WrivetedIdentifier, Name: r.Name,
		OfficialIdentifier: r.OfficialIdentifier, CountryCode: r.CountryCode, State: &state},
		Info: rawOrNull(r.Info), Admins: make([]userBrief, 0, len(r.AdminIDs))}
	if r.SubID != nil {
		o.Subscription = &subscriptionBrief{ID: *r.SubID, Type: lower(*r.SubType), Provider: lower(*r.SubProvider),
			IsActive: *r.SubIsActive, Expiration: isoPtr(r.SubExpiration),
			Product: productOut{ID: *r.ProductID, Name: *r.ProductName}}
	}
	if r.ColID != nil {
		o.Collection = &collectionBrief{ID: *r.ColID, Name: *r.ColName, BookCount: *r.ColBookCount,
			SchoolID: r.ColSchoolID, UserID: r.ColUserID, UpdatedAt: isoTime(*r.ColUpdatedAt)}
	}
	for i := range r.AdminIDs {
		o.Admins = append(o.Admins, userBrief{ID: r.AdminIDs[i], Name: r.AdminNames[i], Email: r.AdminEmails[i],
			Type: lower(r.AdminTypes[i]), IsActive: r.AdminActives[i], LastLoginAt: isoPtr(r.AdminLogins[i])})
	}
	return o
}
