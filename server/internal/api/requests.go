package api

import (
	"encoding/json"

	"github.com/oapi-codegen/nullable"

	"github.com/wriveted/huey-api/server/internal/api/apitypes"
)

// Request bodies: the types generated from openapi.yaml (package apitypes,
// `make openapi-gen`), so the document is the one source of truth for their
// shape. A field added to the document appears here after regeneration;
// the request validation (openapi.go) has already enforced the document's
// types, required fields, enums, bounds and lengths before a handler
// decodes a body, so handlers check only what the document cannot say
// (cross-field rules, lookups, pydantic's own error entries).
//
// A nullable field is a nullable.Nullable: absent, null and a value stay
// apart, as PATCH needs.

// Authentication.
type (
	classCodeIn       = apitypes.ClassCodeLoginIn
	registerStudentIn = apitypes.RegisterStudentIn
)

// Users.
type (
	userCreateIn = apitypes.UserCreateIn
	userUpdateIn = apitypes.UserUpdateIn
)

// Booklists.
type (
	booklistCreateIn = apitypes.BookListCreateIn
	booklistUpdateIn = apitypes.BookListUpdateIn
)

// Class groups.
type (
	classGroupCreateIn = apitypes.ClassGroupCreateIn
	classGroupUpdateIn = apitypes.ClassGroupUpdateIn
)

// Collections: the API decodes the generated types and hands
// schema/collection's Item (the shape the staff import shares) on.
type (
	collectionCreateIn        = apitypes.CollectionCreateIn
	collectionItemIn          = apitypes.CollectionItemCreateIn
	collectionUpdateIn        = apitypes.CollectionAndItemsUpdateIn
	collectionItemUpdateIn    = apitypes.CollectionItemUpdate
	collectionItemAndStatusIn = apitypes.CollectionItemAndStatusCreateIn
)

// Collection items.
type collectionItemActivityIn = apitypes.CollectionItemActivityBase

// Catalogue writes.
type (
	editionCreateIn = apitypes.EditionCreateIn
	editionUpdateIn = apitypes.EditionUpdateIn
	workCreateIn    = apitypes.WorkCreateWithEditionsIn
	workUpdateIn    = apitypes.WorkUpdateIn
	labelSetIn      = apitypes.LabelSetCreateIn
	labelSetPatchIn = apitypes.LabelSetPatch
	personIn        = apitypes.PersonCreateIn
)

// Catalogue: the ISBN lists of POST /editions/compare and POST /hydrate.
type (
	editionsCompareIn = apitypes.PostEditionsCompareJSONBody
	hydrateIn         = apitypes.PostHydrateJSONBody
)

// Events.
type eventCreateIn = apitypes.EventCreateIn

// Supporter feedback.
type readingFeedbackIn = apitypes.ReadingLogEventFeedback

// Recommendations.
type hueyFilterIn = apitypes.HueyRecommendationFilter

// Schools.
type (
	schoolCreateIn = apitypes.SchoolCreateIn
	schoolPatchIn  = apitypes.SchoolPatchOptions
)

// Service accounts.
type (
	serviceAccountCreateIn = apitypes.ServiceAccountCreateIn
	serviceAccountUpdateIn = apitypes.ServiceAccountUpdateIn
)

// rawOf is n's JSON: nil when absent, "null" when null.
func rawOf(n nullable.Nullable[json.RawMessage]) json.RawMessage {
	switch {
	case !n.IsSpecified():
		return nil
	case n.IsNull():
		return json.RawMessage("null")
	}
	return n.MustGet()
}

// valueOf is n's value, or nil when n is absent or null.
func valueOf[T any](n nullable.Nullable[T]) *T {
	v, err := n.Get()
	if err != nil {
		return nil
	}
	return &v
}
