// Package auth is the API token format: it turns a bearer token into a
// verified subject and signs new tokens. It is the one package under server/
// that others import (tasks and staff scripts sign and verify the same
// tokens with the same SECRET_KEY). It knows
// nothing of the database or of policies: account loading and principals
// happen in package api, decisions in package policies.
//
// Tokens are the original service's (access.md §2): JWS compact HS256 signed
// with SECRET_KEY, claims `sub`, `iat`, `exp` only. The subject must match
// ^wriveted:(user-account|service-account):<uuid>$ case-insensitively (fixes
// F13); anything else is rejected. Only the pinned algorithm verifies: `none`,
// algorithm switching and bad signatures all fail.
package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Lifetimes of the tokens the original issues (access.md §2.3).
const (
	UserTokenTTL           = 8 * 24 * time.Hour      // Firebase exchange, class-code login
	MagicLinkTTL           = 90 * 24 * time.Hour     // POST /user/{id}/auth-token
	ServiceAccountTokenTTL = 1_051_200 * time.Minute // two years
	DefaultTokenTTL        = 24 * time.Hour          // token helper without a lifetime
	clockSkew              = 30 * time.Second
)

// Kind is the kind of account a subject names.
type Kind string

// Account kinds.
const (
	KindUser           Kind = "user"
	KindServiceAccount Kind = "service_account"
)

// ErrInvalidToken covers every way a presented token can fail: bad
// signature, wrong algorithm, expired, malformed, missing claims or a subject
// outside the accepted form. Callers answer 403 "Could not validate credentials".
var ErrInvalidToken = errors.New("invalid token")

var subjectRE = regexp.MustCompile(`(?i)^wriveted:(user-account|service-account):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)

// Subject is a parsed token subject.
type Subject struct {
	Kind Kind
	ID   uuid.UUID
}

// ParseSubject accepts exactly wriveted:(user-account|service-account):<uuid>,
// case-insensitively.
func ParseSubject(s string) (Subject, error) {
	m := subjectRE.FindStringSubmatch(s)
	if m == nil {
		return Subject{}, fmt.Errorf("%w: subject not in the accepted form", ErrInvalidToken)
	}
	id, err := uuid.Parse(m[2])
	if err != nil {
		return Subject{}, fmt.Errorf("%w: subject id: %v", ErrInvalidToken, err)
	}
	k := KindUser
	if strings.EqualFold(m[1], "service-account") {
		k = KindServiceAccount
	}
	return Subject{Kind: k, ID: id}, nil
}

// String renders the subject as the original writes it: users as
// `Wriveted:User-Account:<id>`, service accounts as `wriveted:service-account:<id>`.
func (s Subject) String() string {
	if s.Kind == KindServiceAccount {
		return "wriveted:service-account:" + s.ID.String()
	}
	return "Wriveted:User-Account:" + s.ID.String()
}

// Token is a verified token.
type Token struct {
	Subject  Subject
	IssuedAt time.Time
	Expiry   time.Time
}

// Signer issues tokens. HS256 is the original's; an asymmetric signer
// (EdDSA with a kid and a JWKS) can be added behind the same interface.
type Signer interface {
	Sign(sub Subject, ttl time.Duration, now time.Time) (string, error)
}

// Verifier verifies presented tokens.
type Verifier interface {
	Verify(raw string, now time.Time) (Token, error)
}

// HS256 signs and verifies the original's tokens with a shared secret.
type HS256 struct {
	key []byte
}

var (
	_ Signer   = (*HS256)(nil)
	_ Verifier = (*HS256)(nil)
)

// NewHS256 returns a signer/verifier for secret (at least 32 bytes).
func NewHS256(secret []byte) (*HS256, error) {
	if len(secret) < 32 {
		return nil, errors.New("HS256 secret must be at least 32 bytes")
	}
	return &HS256{key: append([]byte(nil), secret...)}, nil
}

// Sign issues a token for sub valid for ttl from now.
func (h *HS256) Sign(sub Subject, ttl time.Duration, now time.Time) (string, error) {
	tok, err := jwt.NewBuilder().
		Subject(sub.String()).
		IssuedAt(now).
		Expiration(now.Add(ttl)).
		Build()
	if err != nil {
		return "", fmt.Errorf("build token: %w", err)
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256, h.key))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return string(b), nil
}

// Verify checks signature (HS256 only), expiry, the presence of sub, iat and
// exp, and the subject's form.
func (h *HS256) Verify(raw string, now time.Time) (Token, error) {
	// jwx verifies with the algorithm pinned to the key, whatever the header
	// claims; a header naming another algorithm is refused outright.
	if alg, err := headerAlg(raw); err != nil || alg != jwa.HS256.String() {
		return Token{}, fmt.Errorf("%w: algorithm %q not accepted", ErrInvalidToken, alg)
	}
	return verify(raw, now, jwt.WithKey(jwa.HS256, h.key))
}

// verify parses and validates raw with the given key option: signature,
// expiry (with clock skew), the presence of sub, iat and exp, and the
// subject's form.
func verify(raw string, now time.Time, key jwt.ParseOption) (Token, error) {
	if err := canonicalCompact(raw); err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	tok, err := jwt.ParseString(raw,
		key,
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithAcceptableSkew(clockSkew),
		jwt.WithRequiredClaim(jwt.SubjectKey),
		jwt.WithRequiredClaim(jwt.IssuedAtKey),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	sub, err := ParseSubject(tok.Subject())
	if err != nil {
		return Token{}, err
	}
	return Token{Subject: sub, IssuedAt: tok.IssuedAt(), Expiry: tok.Expiration()}, nil
}

// canonicalCompact accepts a compact JWS only in its one encoding: three
// segments of unpadded base64url (RFC 7515 §2) with zero trailing bits. The
// JWS library also decodes padded, standard-alphabet and line-broken base64
// and ignores trailing bits, so without this one signed token had many
// accepted spellings (found by FuzzVerify); tokens we and the original issue
// are canonical.
func canonicalCompact(raw string) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWS")
	}
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			if c := p[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return errors.New("not unpadded base64url")
			}
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(p); err != nil {
			return fmt.Errorf("not canonical base64url: %w", err)
		}
	}
	return nil
}

// headerAlg reads the `alg` of a compact JWS header without verifying anything.
func headerAlg(raw string) (string, error) {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", err
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", err
	}
	return h.Alg, nil
}
