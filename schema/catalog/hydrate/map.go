package hydrate

import (
	"html"
	"regexp"
	"strconv"
	"strings"
)

// tagRE matches an HTML tag, comment or doctype (a "<" followed by a space is text).
var tagRE = regexp.MustCompile(`<[a-zA-Z/!][^>]*>`)

// Map turns a provider record into HydratedBookData (tasks.md §3.4), with Raw
// set to rec. It leaves Labelset, CoverURL and HydratedOn nil and OtherISBNs
// empty; Hydrate fills them. Blank values count as absent; numbers that do not
// parse are left out.
func Map(rec map[string]string) HydratedBookData {
	get := func(k string) *string {
		v, ok := rec[k]
		if v = strings.TrimSpace(v); !ok || v == "" {
			return nil
		}
		return &v
	}
	has := func(k string) bool { _, ok := rec[k]; return ok }

	d := HydratedBookData{
		ISBN:           deref(get("ISBN13")),
		OtherISBNs:     []string{},
		LeadingArticle: get("LA"),
		Title:          get("TL"),
		Subtitle:       get("ST"),
		SeriesName:     get("SN"),
		SeriesNumber:   atoi(digits(deref(get("NWS")))),
		Authors:        []Contributor{},
		Illustrators:   []Contributor{},
		DatePublished:  atoi(deref(get("PUBPD"))),
		Raw:            rec,
	}

	var pages any
	if n := atoi(deref(get("PAGNUM"))); n != nil {
		pages = strconv.Itoa(*n) // EditionInfo.pages is a string
	}
	genres := []map[string]any{}
	bic, thema, medium := []string{}, []string{}, []string{}
	addGenre := func(nameKey, source, codeKey string) {
		if name := get(nameKey); name != nil {
			var code any
			if c := get(codeKey); c != nil {
				code = *c
			}
			genres = append(genres, map[string]any{"name": *name, "source": source, "code": code})
		}
	}
	appendIf := func(list []string, k string) []string {
		if v := get(k); v != nil {
			return append(list, *v)
		}
		return list
	}
	for i := 1; i <= 9; i++ {
		n := strconv.Itoa(i)
		if has("CNF" + n) {
			if c, ok := contributor(get("ICFN"+n), get("ICKN"+n)); ok {
				switch deref(get("CR" + n)) {
				case "A01", "A02":
					d.Authors = append(d.Authors, c)
				case "A12", "A35":
					d.Illustrators = append(d.Illustrators, c)
				}
			}
		}
		addGenre("BISACT"+n, "BISAC", "BISACC"+n)
		addGenre("BIC2ST"+n, "BIC", "BIC2SC"+n)
		addGenre("THEMAST"+n, "THEMA", "THEMASC"+n)
		addGenre("LOCSH"+n, "LOCSH", "")
		bic = appendIf(bic, "BIC2QC"+n)
		thema = appendIf(thema, "THEMAQC"+n)
		medium = appendIf(medium, "PCTCT"+n)
	}
	medium = appendIf(medium, "PFCT")

	d.Info = map[string]any{
		"pages":            pages,
		"country":          opt(get("COP")),
		"genres":           genres,
		"bic_qualifiers":   bic,
		"thema_qualifiers": thema,
		"medium_tags":      medium,
		"prodcc":           opt(get("PRODCC")),
		"prodct":           opt(get("PRODCT")),
		"cbmccode":         opt(get("CBMCCODE")),
		"cbmctext":         opt(get("CBMCTEXT")),
		"keywords":         opt(get("KEYWORDS")),
		"summary_short":    opt(cleanSummary(get("AUSFSD"))),
		"summary_long":     opt(cleanSummary(get("AUSFLD"))),
		"interest_age":     opt(get("IA")),
		"reading_age":      opt(get("RA")),
		"image_flag":       deref(get("IMAGFLAG")) == "Y",
		"links":            []any{},
		"other":            nil,
	}
	return d
}

// contributor builds a name; a lone first name becomes the last name, and a
// contributor with no name at all is skipped.
func contributor(first, last *string) (Contributor, bool) {
	switch {
	case last != nil:
		return Contributor{FirstName: first, LastName: *last}, true
	case first != nil:
		return Contributor{LastName: *first}, true
	}
	return Contributor{}, false
}

// cleanSummary HTML-unescapes, strips tags, removes tabs, CR, LF and "nbsp;"
// and trims (tasks.md §3.4). Entities left after stripping are decoded once
// more, as the original's HTML parser does.
func cleanSummary(s *string) *string {
	if s == nil {
		return nil
	}
	v := tagRE.ReplaceAllString(html.UnescapeString(*s), "")
	v = strings.NewReplacer("\t", "", "\r", "", "\n", "", "nbsp;", "").Replace(html.UnescapeString(v))
	if v = strings.TrimSpace(v); v == "" {
		return nil
	}
	return &v
}

// digits keeps only the ASCII digits of s ("Book 3" → "3").
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func atoi(s string) *int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil
	}
	return &n
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// opt stores an optional string in Info: the string, or an untyped nil so
// that info[k] == nil holds for absent values.
func opt(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}
