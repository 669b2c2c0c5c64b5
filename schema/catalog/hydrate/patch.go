package hydrate

import (
	"slices"

	"github.com/wriveted/huey-api/schema/catalog"
)

// Patch turns the estimate into a labelset patch (used by hydration and the
// rule-based labeller). A group
// is given only with its origin, so absent estimates leave stored labels
// alone (domain.md §7.6); ages found without an origin count as
// PREDICTED_NIELSEN. Hues are never estimated.
func (est EstimatedLabelSet) Patch() catalog.LabelSetPatch {
	origin := func(s *string) *catalog.Origin {
		if s == nil || *s == "" {
			return nil
		}
		o := catalog.Origin(*s)
		return &o
	}
	var p catalog.LabelSetPatch
	if est.MinAge != nil || est.MaxAge != nil {
		p.MinAge, p.MaxAge, p.AgeOrigin = est.MinAge, est.MaxAge, origin(est.AgeOrigin)
		if p.AgeOrigin == nil {
			o := catalog.OriginPredictedNielsen
			p.AgeOrigin = &o
		}
	}
	if len(est.ReadingAbilities) > 0 && est.ReadingAbilityOrigin != nil {
		p.ReadingAbilityKeys, p.ReadingAbilityOrigin = slices.Clone(est.ReadingAbilities), origin(est.ReadingAbilityOrigin)
	}
	if est.HueySummary != nil && *est.HueySummary != "" && est.SummaryOrigin != nil {
		p.HueySummary, p.SummaryOrigin = est.HueySummary, origin(est.SummaryOrigin)
	}
	if est.RecommendStatus != nil && est.RecommendStatusOrigin != nil {
		rs := catalog.RecommendStatus(*est.RecommendStatus)
		p.RecommendStatus, p.RecommendStatusOrigin = &rs, origin(est.RecommendStatusOrigin)
	}
	if len(est.Info) > 0 {
		p.Info = est.Info
	}
	return p
}

// EditionIn is the record as an EditionCreateIn with hydrated true, stored
// under the ISBN it was asked for (its labelset is not attached: callers
// decide where the estimate goes).
func (d HydratedBookData) EditionIn(isbn string) catalog.EditionIn {
	in := catalog.EditionIn{ISBN: isbn, OtherISBNs: d.OtherISBNs, LeadingArticle: d.LeadingArticle, Title: d.Title,
		Subtitle: d.Subtitle, SeriesName: d.SeriesName, SeriesNumber: d.SeriesNumber, CoverURL: d.CoverURL,
		DatePublished: d.DatePublished, Info: d.Info, Hydrated: true}
	for _, a := range d.Authors {
		in.Authors = append(in.Authors, catalog.Person{FirstName: a.FirstName, LastName: a.LastName})
	}
	for _, a := range d.Illustrators {
		in.Illustrators = append(in.Illustrators, catalog.Person{FirstName: a.FirstName, LastName: a.LastName})
	}
	return in
}
