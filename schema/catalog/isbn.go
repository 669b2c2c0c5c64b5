package catalog

import (
	"errors"
	"strings"
)

// ErrInvalidISBN is returned (wrapped) for an ISBN that does not normalise
// (domain.md §6.8). The API answers 422 {"detail":"Invalid ISBN"}.
var ErrInvalidISBN = errors.New("invalid ISBN")

// NormalizeISBN returns the ISBN-13 form of s, the form every edition is
// stored and looked up by (domain.md §6.8):
//
//  1. upper-case, keep only 0-9 and X; nothing left is invalid;
//  2. X may appear only as the last character;
//  3. left-pad with zeros to at least 10 characters;
//  4. the length must be 10 or 13 and the check digit must validate
//     (ISBN-10: weights 1..9, sum mod 11, 10 → X; ISBN-13: weights 1,3
//     alternating, 10 - sum mod 10, 10 → 0);
//  5. an ISBN-10 becomes 978 + its first nine digits + a recomputed check digit.
//
// Any failure returns an error wrapping ErrInvalidISBN.
func NormalizeISBN(s string) (string, error) {
	var b strings.Builder
	b.Grow(13)
	for _, r := range strings.ToUpper(s) {
		if (r >= '0' && r <= '9') || r == 'X' {
			if b.Len() >= 13 {
				return "", ErrInvalidISBN // too long for any ISBN, however padded
			}
			b.WriteRune(r)
		}
	}
	c := b.String()
	if c == "" {
		return "", ErrInvalidISBN
	}
	if i := strings.IndexByte(c, 'X'); i >= 0 && i != len(c)-1 {
		return "", ErrInvalidISBN
	}
	if len(c) < 10 {
		c = strings.Repeat("0", 10-len(c)) + c
	}
	switch len(c) {
	case 10:
		if checkDigit10(c[:9]) != c[9] {
			return "", ErrInvalidISBN
		}
		body := "978" + c[:9]
		return body + string(checkDigit13(body)), nil
	case 13:
		if c[12] == 'X' || checkDigit13(c[:12]) != c[12] {
			return "", ErrInvalidISBN
		}
		return c, nil
	default:
		return "", ErrInvalidISBN
	}
}

// checkDigit10 is the ISBN-10 check character of nine digits.
func checkDigit10(body string) byte {
	sum := 0
	for i := range 9 {
		sum += (i + 1) * int(body[i]-'0')
	}
	if r := sum % 11; r != 10 {
		return byte('0' + r)
	}
	return 'X'
}

// checkDigit13 is the ISBN-13 check digit of twelve digits.
func checkDigit13(body string) byte {
	sum := 0
	for i := range 12 {
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += w * int(body[i]-'0')
	}
	return byte('0' + (10-sum%10)%10)
}

// normalizeISBNs normalises each of isbns, drops the invalid ones, the ones
// equal to except and duplicates, keeping the first occurrence's order.
func normalizeISBNs(isbns []string, except string) []string {
	out := make([]string, 0, len(isbns))
	seen := map[string]bool{except: true}
	for _, s := range isbns {
		n, err := NormalizeISBN(s)
		if err != nil || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}
