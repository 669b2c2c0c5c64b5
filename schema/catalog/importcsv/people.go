package importcsv

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// person is one contributor's name as written in the CSV, split for the
// catalogue's first_name/last_name columns (the last word is the last name;
// the dedup key is built from both, so where the split falls does not matter).
type person struct {
	First string
	Last  string
}

// Name is the person's name as one string.
func (p person) Name() string { return strings.TrimSpace(p.First + " " + p.Last) }

// nameKey is the catalogue's dedup key (domain.md §6.1): lower-case, letters
// and digits only.
func nameKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	// roleRe finds a role marker: "illustrated by", "illustrations by",
	// "foreword by", "translated by", …
	roleRe = regexp.MustCompile(`(?i)\b(illustrated|illustrations|illustration|pictures|drawings|foreword|introduction|afterword|translated|translation|edited|adapted|retold|narrated|photographs|photography)\s+by\b:?`)
	// roleWordRe is a segment that is only a role word, naming the role of
	// the segment before it ("Terry Denton;illustrator") or a parenthesised
	// role after a name ("Terry Denton (illustrator)").
	roleWordRe  = regexp.MustCompile(`(?i)^\(?\s*(author|writer|illustrator|illustrations|illustrated|artist|editor|translator|foreword|narrator|photographer)\s*\)?\.?$`)
	roleParenRe = regexp.MustCompile(`(?i)\s*\(\s*(author|writer|illustrator|illustrations|illustrated|artist|editor|translator|foreword|narrator|photographer)\s*\)\s*$`)
	// andRe splits people joined by "&" or a whole-word "and".
	andRe = regexp.MustCompile(`(?i)\s*(?:&|\band\b)\s*`)
)

type role int

const (
	roleAuthor role = iota
	roleIllustrator
	roleOther // foreword, translation, editing, …: not stored
)

func roleOf(word string) role {
	w := strings.ToLower(word)
	switch {
	case strings.HasPrefix(w, "illustrat"), w == "pictures", w == "drawings", w == "artist":
		return roleIllustrator
	case w == "author", w == "writer":
		return roleAuthor
	default:
		return roleOther
	}
}

// credit is a run of text naming people in one role.
type credit struct {
	role role
	text string
}

// splitCredits cuts an `Author` cell into runs of people by role:
//
//	"Jackie French; illustrated by Bruce Whatley"
//	"Kerry Greenwood, illustrated by Annie White"
//	"Loll Kirby; foreword by Anna Taylor; illustrated by Adelina Lirius"
//	"Andy Griffiths;author;Terry Denton;illustrator", "Terry Denton (illustrator)"
//
// Text before any marker is authors.
func splitCredits(cell string) []credit {
	var out []credit
	for _, seg := range strings.Split(cell, ";") {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			continue
		}
		if m := roleWordRe.FindStringSubmatch(seg); m != nil {
			// a bare role word applies to the run before it
			if n := len(out); n > 0 {
				out[n-1].role = roleOf(m[1])
			}
			continue
		}
		for seg != "" {
			loc := roleRe.FindStringSubmatchIndex(seg)
			if loc == nil {
				out = append(out, credit{role: roleAuthor, text: seg})
				break
			}
			if before := strings.Trim(seg[:loc[0]], " ,"); before != "" {
				out = append(out, credit{role: roleAuthor, text: before})
			}
			r := roleOf(seg[loc[2]:loc[3]])
			rest := seg[loc[1]:]
			// the run lasts until the next marker
			next := roleRe.FindStringIndex(rest)
			end := len(rest)
			if next != nil {
				end = next[0]
			}
			out = append(out, credit{role: r, text: strings.Trim(rest[:end], " ,")})
			seg = strings.TrimSpace(rest[end:])
		}
	}
	return out
}

// splitPeople splits a run of names: "A & B", "A and B", "A, B, and C",
// "Last, First" (two single words around one comma), "Hashmi, Kerri &
// Marshall, Kerri", and a shared surname ("Prue & Kerry Mason").
func splitPeople(text string) []person {
	people, _ := splitPeopleRoles(text, roleAuthor)
	return people
}

// splitPeopleRoles is splitPeople where a name may carry its own role,
// "Terry Denton (illustrator)"; the others have role def. roles[i] is the
// role of people[i].
func splitPeopleRoles(text string, def role) (people []person, roles []role) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	groups := andRe.Split(text, -1)
	var names []string
	var joined []bool // names[i] was joined to names[i+1] by &/and
	for gi, g := range groups {
		g = strings.Trim(g, " ,")
		if g == "" {
			continue
		}
		parts := strings.Split(g, ",")
		var clean []string
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				clean = append(clean, p)
			}
		}
		if len(clean) == 2 && !strings.Contains(clean[0], " ") && !strings.Contains(clean[1], " ") {
			clean = []string{clean[1] + " " + clean[0]} // "Fraillon, Zana"
		}
		for i, c := range clean {
			names = append(names, c)
			joined = append(joined, i == len(clean)-1 && gi < len(groups)-1)
		}
	}
	seen := map[string]bool{}
	for i, n := range names {
		r := def
		if m := roleParenRe.FindStringSubmatchIndex(n); m != nil {
			r = roleOf(n[m[2]:m[3]])
			n = strings.TrimSpace(n[:m[0]])
		}
		words := strings.Fields(n)
		if len(words) == 1 && joined[i] && i+1 < len(names) {
			// "Prue & Kerry Mason": Prue Mason
			if next := strings.Fields(roleParenRe.ReplaceAllString(names[i+1], "")); len(next) > 1 {
				words = append(words, next[len(next)-1])
			}
		}
		p := personOf(words)
		k := nameKey(p.Name())
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		people = append(people, p)
		roles = append(roles, r)
	}
	return people, roles
}

func personOf(words []string) person {
	if len(words) == 0 {
		return person{}
	}
	return person{First: strings.Join(words[:len(words)-1], " "), Last: words[len(words)-1]}
}

// contributors maps an `Author` cell and an optional separate illustrator
// cell to authors and illustrators. Illustrators named in the Author cell
// (by a role marker) win; otherwise the illustrator cell is used, and a
// co-author it names ("Margaret Wild & Ritva Voutila", illustrator "Ritva
// Voutila") is moved from the authors to the illustrators, as long as an
// author remains.
func contributors(authorCell, illustratorCell string) (authors, illustrators []person) {
	for _, c := range splitCredits(cleanText(authorCell)) {
		people, roles := splitPeopleRoles(c.text, c.role)
		for i, p := range people {
			switch roles[i] {
			case roleAuthor:
				authors = appendPeople(authors, []person{p})
			case roleIllustrator:
				illustrators = appendPeople(illustrators, []person{p})
			}
		}
	}
	if len(illustrators) > 0 {
		return authors, illustrators
	}
	illustrators = splitPeople(cleanText(illustratorCell))
	if len(illustrators) == 0 || len(authors) < 2 {
		return authors, illustrators
	}
	isIllustrator := map[string]bool{}
	for _, p := range illustrators {
		isIllustrator[nameKey(p.Name())] = true
	}
	kept := make([]person, 0, len(authors))
	for _, a := range authors {
		if !isIllustrator[nameKey(a.Name())] {
			kept = append(kept, a)
		}
	}
	if len(kept) > 0 {
		authors = kept
	}
	return authors, illustrators
}

func appendPeople(list, more []person) []person {
	for _, p := range more {
		dup := false
		for _, q := range list {
			if nameKey(q.Name()) == nameKey(p.Name()) {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, p)
		}
	}
	return list
}

// cleanText repairs text that was UTF-8 decoded as Windows-1252 and encoded
// again ("RauÌ\u0081l" → "Raúl"), composes it to NFC, and collapses runs of
// white space.
func cleanText(s string) string {
	s = norm.NFC.String(fixMojibake(s))
	return strings.Join(strings.Fields(s), " ")
}

// cleanParagraph is cleanText for long text: line breaks are kept.
func cleanParagraph(s string) string {
	s = norm.NFC.String(fixMojibake(s))
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// fixMojibake undoes one round of "UTF-8 bytes read as Windows-1252". It
// changes s only when every rune maps back to a byte and those bytes are
// valid UTF-8 that differs from s, so correct text ("René") is left alone.
func fixMojibake(s string) string {
	suspicious := false
	for _, r := range s {
		if r >= 0x80 {
			suspicious = true
			break
		}
	}
	if !suspicious {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		c, ok := cp1252Byte(r)
		if !ok {
			return s
		}
		b = append(b, c)
	}
	if !utf8.Valid(b) || string(b) == s {
		return s
	}
	return string(b)
}

// cp1252Byte is the Windows-1252 byte that decodes to r.
func cp1252Byte(r rune) (byte, bool) {
	if r < 0x80 || (r >= 0xA0 && r <= 0xFF) {
		return byte(r), true
	}
	switch r {
	case 0x81, 0x8D, 0x8F, 0x90, 0x9D: // undefined in 1252; decoders pass them through
		return byte(r), true
	case '€':
		return 0x80, true
	case '‚':
		return 0x82, true
	case 'ƒ':
		return 0x83, true
	case '„':
		return 0x84, true
	case '…':
		return 0x85, true
	case '†':
		return 0x86, true
	case '‡':
		return 0x87, true
	case 'ˆ':
		return 0x88, true
	case '‰':
		return 0x89, true
	case 'Š':
		return 0x8A, true
	case '‹':
		return 0x8B, true
	case 'Œ':
		return 0x8C, true
	case 'Ž':
		return 0x8E, true
	case '‘':
		return 0x91, true
	case '’':
		return 0x92, true
	case '“':
		return 0x93, true
	case '”':
		return 0x94, true
	case '•':
		return 0x95, true
	case '–':
		return 0x96, true
	case '—':
		return 0x97, true
	case '˜':
		return 0x98, true
	case '™':
		return 0x99, true
	case 'š':
		return 0x9A, true
	case '›':
		return 0x9B, true
	case 'œ':
		return 0x9C, true
	case 'ž':
		return 0x9E, true
	case 'Ÿ':
		return 0x9F, true
	}
	return 0, false
}
