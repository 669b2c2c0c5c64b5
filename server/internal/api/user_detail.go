package api

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wriveted/huey-api/schema/queries"
)

// SpecificUserDetail (api.md §1.2): UserDetail plus the fields of the
// account's type, read in one batch (one round trip with the claims).

type userIdentity struct {
	ID   uuid.UUID `json:"id"`
	Type string    `json:"type"`
	Name string    `json:"name"`
}

type readerIdentity struct {
	userIdentity
	FirstName       *string `json:"first_name"`
	LastNameInitial *string `json:"last_name_initial"`
}

type usersSchool struct {
	WrivetedIdentifier uuid.UUID `json:"wriveted_identifier"`
	OfficialIdentifier *string   `json:"official_identifier"`
	CountryCode        *string   `json:"country_code"`
	Name               string    `json:"name"`
}

type booklistBase struct {
	ID        uuid.UUID `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	BookCount int64     `json:"book_count"`
}

// userInfoKeys are the UserInfo fields; other stored keys are not output.
var userInfoKeys = []string{"sign_in_provider", "phone_number", "picture", "reader_info", "student_info",
	"educator_info", "school_admin_info", "wriveted_admin_info", "parent_info", "other"}

var hueyAttributeKeys = []string{"birthdate", "last_visited", "age", "reading_ability", "hues", "goals",
	"genres", "characters", "parent_nickname"}

// pick returns an object with exactly keys, taken from stored JSON (absent → null).
func pick(raw []byte, keys []string) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// The queries are schema/queries/user_read.sql (GetUserDetail …), queued
// on the caller's batch and scanned here.

// userDetailOut collects the parts; render builds the type's JSON.
type userDetailOut struct {
	found                          bool
	id                             uuid.UUID
	typ, name                      string
	email                          *string
	isActive, newsletter           bool
	lastLogin                      *time.Time
	created, updated               time.Time
	info, huey                     []byte
	firstName, lastInitial         *string
	parentID                       *uuid.UUID
	username                       *string
	schoolID                       *int64
	educatorInfo, adminInfo, pInfo []byte
	school                         *usersSchool
	booklists                      []booklistBase
	collection                     *collectionBrief
	children                       []readerIdentity
	parent                         *userIdentity
	subscription                   *subscriptionDetail
}

// queueUserDetail queues every query of a SpecificUserDetail of id.
func queueUserDetail(b batchQueuer, id uuid.UUID, d *userDetailOut) {
	b.Queue(queries.GetUserDetail, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				wid        *uuid.UUID
				off, cc    *string
				schoolName *string
			)
			if err := rows.Scan(&d.id, &d.typ, &d.name, &d.email, &d.isActive, &d.lastLogin, &d.info, &d.created,
				&d.updated, &d.newsletter, &d.firstName, &d.lastInitial, &d.huey, &d.parentID, &d.username,
				&d.schoolID, &d.educatorInfo, &d.adminInfo, &d.pInfo, &wid, &off, &cc, &schoolName); err != nil {
				return err
			}
			if wid != nil {
				d.school = &usersSchool{WrivetedIdentifier: *wid, OfficialIdentifier: off, CountryCode: cc, Name: *schoolName}
			}
			d.found = true
		}
		return rows.Err()
	})
	b.Queue(queries.ListUserBooklists, id).Query(func(rows pgx.Rows) error {
		d.booklists = []booklistBase{}
		for rows.Next() {
			var bl booklistBase
			var typ string
			if err := rows.Scan(&bl.ID, &bl.Name, &typ, &bl.BookCount); err != nil {
				return err
			}
			bl.Type = apiListType(typ)
			d.booklists = append(d.booklists, bl)
		}
		return rows.Err()
	})
	b.Queue(queries.GetUserCollection, id).Query(func(rows pgx.Rows) error {
		var err error
		d.collection, err = scanCollectionBrief(rows)
		return err
	})
	b.Queue(queries.ListUserChildren, id).Query(func(rows pgx.Rows) error {
		d.children = []readerIdentity{}
		for rows.Next() {
			var ch readerIdentity
			var typ string
			if err := rows.Scan(&ch.ID, &typ, &ch.Name, &ch.FirstName, &ch.LastNameInitial); err != nil {
				return err
			}
			ch.Type = lower(typ)
			d.children = append(d.children, ch)
		}
		return rows.Err()
	})
	b.Queue(queries.GetUserParent, id).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var p userIdentity
			var typ string
			if err := rows.Scan(&p.ID, &typ, &p.Name); err != nil {
				return err
			}
			p.Type = lower(typ)
			d.parent = &p
		}
		return rows.Err()
	})
	b.Queue(queries.GetUserSubscription, id).Query(func(rows pgx.Rows) error {
		var err error
		d.subscription, err = scanSubscriptionDetail(rows)
		return err
	})
}

// render builds the SpecificUserDetail object for the account's type.
func (d *userDetailOut) render() map[string]any {
	out := map[string]any{
		"id": d.id, "type": lower(d.typ), "name": d.name, "email": d.email, "is_active": d.isActive,
		"last_login_at": isoPtr(d.lastLogin), "info": pick(d.info, userInfoKeys),
		"created_at": isoTime(d.created), "updated_at": isoTime(d.updated), "newsletter": d.newsletter,
	}
	named := func(name string) *booklistBase {
		for i := range d.booklists {
			if d.booklists[i].Name == name {
				return &d.booklists[i]
			}
		}
		return nil
	}
	switch d.typ {
	case "STUDENT", "PUBLIC":
		out["first_name"], out["last_name_initial"] = d.firstName, d.lastInitial
		out["huey_attributes"] = pick(d.huey, hueyAttributeKeys)
		out["parent"] = d.parent
		out["booklists"] = d.booklists
		out["reading_path"] = map[string]any{"read_now": named("Books To Read Now"), "read_next": named("Books To Read Next")}
		out["special_lists"] = map[string]any{"read_books": named("Books I've Read"),
			"favorite_books": named("My Favourite Books"), "suggested_books": named("Suggested Books")}
		out["collection"] = d.collection
		if d.typ == "STUDENT" {
			out["username"], out["school"] = d.username, d.school
		}
	case "EDUCATOR":
		out["school"], out["educator_info"] = d.school, rawOrNull(d.educatorInfo)
	case "SCHOOL_ADMIN":
		out["school"], out["educator_info"], out["school_admin_info"] = d.school, rawOrNull(d.educatorInfo), rawOrNull(d.adminInfo)
	case "PARENT":
		out["children"], out["subscription"], out["parent_info"] = d.children, d.subscription, rawOrNull(d.pInfo)
	}
	return out
}
