package catalog

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DBTX is what the package needs of a transaction. *db.Tx (a claims-bound
// transaction from db.InTx) and pgx.Tx satisfy it. Every statement runs under
// the row security of the role and claims the transaction carries.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

var (
	// ErrAlreadyHydrated is returned by UpsertEdition when an edition with
	// the ISBN exists and is hydrated. The API answers 409 "Edition already
	// exists with ISBN <isbn>. Use the PATCH method to update." (the
	// EditionResult returned with it carries the normalised ISBN).
	ErrAlreadyHydrated = errors.New("edition already exists and is hydrated")

	// ErrUnknownAuthor is returned (wrapped, naming the ids) by CreateWork
	// when an author given by id does not exist or is not visible. The API
	// answers 422 (the original's 500 is a defect, api.md §2.8).
	ErrUnknownAuthor = errors.New("unknown author")

	// ErrInvalidInput is returned (wrapped, naming the field) for a value
	// the database would refuse: an unknown work type, label origin or
	// recommend status, or an integer outside int4 (ages, date_published,
	// series_number). Nothing has been written then. The API validates
	// first and answers 422.
	ErrInvalidInput = errors.New("invalid input")
)

// Person is an author or illustrator to get or create (AuthorCreateIn,
// IllustratorCreateIn). People are the same when their name keys are:
// lower-case first+last name with every non-alphanumeric character removed,
// so "C.S. Lewis" and "C S Lewis" are one author. Info is stored only when
// the person is created ({} when nil).
type Person struct {
	FirstName *string
	LastName  string
	Info      map[string]any
}

// WorkType is the database label of a work's type.
type WorkType string

// Work types (domain.md §2 worktype; API values book, podcast).
const (
	WorkBook    WorkType = "BOOK"
	WorkPodcast WorkType = "PODCAST"
)

func (t WorkType) valid() bool { return t == WorkBook || t == WorkPodcast }

// EditionIn mirrors EditionCreateIn (api.md §1.4), the body of POST /edition
// and the items of POST /editions. A nil pointer or map is an absent field.
// The input's work_id is ignored by the spec and so has no field here.
type EditionIn struct {
	ISBN           string   // required; any format NormalizeISBN accepts
	OtherISBNs     []string // other ISBNs of the same work; invalid ones are dropped
	LeadingArticle *string
	Title          *string // the edition title; a non-empty title lets a work be found or created
	Subtitle       *string
	SeriesName     *string
	SeriesNumber   *int
	Authors        []Person
	Illustrators   []Person
	// CoverURL must already be a URL: the API uploads a base64 data URI to
	// object storage first (api.md §1.9) and passes the public URL.
	CoverURL      *string
	DatePublished *int
	LabelSet      *LabelSetPatch // applied to the work only when not Empty()
	Info          map[string]any // EditionInfo, stored as given
	Hydrated      bool
}

// EditionResult is what UpsertEdition did.
type EditionResult struct {
	ID      int64  // editions.id
	ISBN    string // the normalised ISBN-13
	WorkID  *int64 // the edition's work after the upsert, nil when it has none
	Created bool   // a new editions row was inserted (false: an unhydrated one was hydrated)
}

// BulkResult is what BulkUpsertEditions did.
type BulkResult struct {
	// Processed is the number of distinct valid ISBNs of the input
	// (api.md §2.9 step 4, n).
	Processed int
	// Created is the number of those ISBNs whose editions row this call
	// inserted (m, with the original's defect fixed: not the input count).
	// Bare editions created for other ISBNs that are not themselves input
	// ISBNs are not counted.
	Created int
	// Hydrated counts existing unhydrated editions of hydrated items that
	// were hydrated; Skipped counts hydrated items whose edition was already
	// hydrated (left untouched, as the spec says).
	Hydrated, Skipped int
}

// AuthorRef names an author of a new work (WorkCreateWithEditionsIn.authors
// is [AuthorCreateIn | int]): New when set, else the existing author ID.
type AuthorRef struct {
	ID  int64
	New *Person
}

// WorkIn mirrors WorkCreateWithEditionsIn (api.md §1.4), the body of POST /work.
type WorkIn struct {
	Type           WorkType // "" means BOOK
	LeadingArticle *string
	Title          string
	Subtitle       *string
	Authors        []AuthorRef
	// EditionISBNs are normalised (invalid ones skipped), get-or-created as
	// bare editions and moved to the new work.
	EditionISBNs []string
	Info         map[string]any
}
