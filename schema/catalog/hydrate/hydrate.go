// Package hydrate fetches book metadata from a Nielsen-style provider and
// turns it into HydratedBookData with an estimated labelset (tasks.md §3).
//
// It imports nothing from this module but schema/catalog (for the labelset
// patch an estimate becomes, EstimatedLabelSet.Patch), so both the public API
// (GET /v1/hydrate/{isbn}) and the task server (hydrate-bulk, the rule-based
// labeller) can use it. Persisting the result (editions, works, labelsets)
// is the caller's job.
//
// Flow: Client.Fetch reads the provider record, Map turns it into
// HydratedBookData (§3.4), Estimate infers labels (§3.5), and Client.Hydrate
// does all three plus the cover look-up (§3.6, adapted).
//
// Invariant: the provider password travels only in the request query; no
// error returned by this package contains the request URL's query or quotes
// a response body.
package hydrate

import (
	"errors"
	"time"
)

// Errors returned by Client.Fetch and Client.Hydrate, wrapped; test them with
// errors.Is. Their text is the API's error detail (api.md §2.17).
var (
	// ErrNotFound: resultCode 00 with no or zero hits (404).
	ErrNotFound = errors.New("No results found") //nolint:staticcheck // the API's detail text
	// ErrUnavailable: resultCode 01 (503).
	ErrUnavailable = errors.New("Nielsen API is unavailable") //nolint:staticcheck // the API's detail text
	// ErrRateLimited: resultCode 50, the daily limit (429).
	ErrRateLimited = errors.New("Nielsen API rate limit reached") //nolint:staticcheck // the API's detail text
	// ErrProvider: resultCodes 02 and 03, unknown codes, transport errors,
	// non-200 statuses and unparsable responses (503). The cause is wrapped too.
	ErrProvider = errors.New("Something went wrong with the Nielsen API") //nolint:staticcheck // the API's detail text
)

// Label origins, recommend statuses and reading ability keys, spelled as the
// database enums (domain.md).
const (
	originCBMC      = "NIELSEN_CBMC"
	originTHEMA     = "NIELSEN_THEMA"
	originBIC       = "NIELSEN_BIC"
	originIA        = "NIELSEN_IA"
	originRA        = "NIELSEN_RA"
	originPredicted = "PREDICTED_NIELSEN"

	statusGood          = "GOOD"
	statusReference     = "BAD_REFERENCE"
	statusControversial = "BAD_CONTROVERSIAL"

	abilitySpot      = "SPOT"
	abilityCatHat    = "CAT_HAT"
	abilityTreehouse = "TREEHOUSE"
	abilityCharlie   = "CHARLIE_CHOCOLATE"
	abilityHarry     = "HARRY_POTTER"
)

// Contributor is an author or illustrator as the provider names them. A
// contributor with only a first name (a company, say) has it as LastName.
type Contributor struct {
	FirstName *string `json:"first_name"`
	LastName  string  `json:"last_name"`
}

// HydratedBookData is one provider record in the shape of api.md §1.10.
// Absent optional values are nil and encode as null; lists are never nil
// when built by Map.
type HydratedBookData struct {
	ISBN           string        `json:"isbn"`
	OtherISBNs     []string      `json:"other_isbns"`
	Title          *string       `json:"title"`
	LeadingArticle *string       `json:"leading_article"`
	Subtitle       *string       `json:"subtitle"`
	SeriesName     *string       `json:"series_name"`
	SeriesNumber   *int          `json:"series_number"`
	Authors        []Contributor `json:"authors"`
	Illustrators   []Contributor `json:"illustrators"`
	CoverURL       *string       `json:"cover_url"`
	DatePublished  *int          `json:"date_published"`
	// Info is an EditionInfo (api.md §1.4) with every key present: strings or
	// nil for pages (digits, as EditionInfo coerces it to a string), country,
	// prodcc, prodct, cbmccode, cbmctext, keywords, summary_short,
	// summary_long, interest_age, reading_age; []string for bic_qualifiers,
	// thema_qualifiers, medium_tags; image_flag bool; genres
	// []map[string]any{name, source, code}; links []any; other nil.
	Info       map[string]any     `json:"info"`
	Labelset   *EstimatedLabelSet `json:"labelset"`
	HydratedOn *time.Time         `json:"hydrated_on"`
	// Raw is the provider record: element tag → text.
	Raw map[string]string `json:"raw"`
}

// EstimatedLabelSet is the labelset inferred from a record (tasks.md §3.5),
// ready to patch a work's labelset. Hues are never inferred.
type EstimatedLabelSet struct {
	Hues                  []string       `json:"hues"`
	HueOrigin             *string        `json:"hue_origin"`
	MinAge                *int           `json:"min_age"`
	MaxAge                *int           `json:"max_age"`
	AgeOrigin             *string        `json:"age_origin"`
	ReadingAbilities      []string       `json:"reading_abilities"`
	ReadingAbilityOrigin  *string        `json:"reading_ability_origin"`
	HueySummary           *string        `json:"huey_summary"`
	SummaryOrigin         *string        `json:"summary_origin"`
	Info                  map[string]any `json:"info"`
	RecommendStatus       *string        `json:"recommend_status"`
	RecommendStatusOrigin *string        `json:"recommend_status_origin"`
}

func ptr[T any](v T) *T { return &v }
