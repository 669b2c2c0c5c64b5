package auth

import (
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Keys is the API's token service: it always verifies the original's HS256
// tokens (SECRET_KEY), and, when an Ed25519 key is configured, signs new
// tokens with EdDSA under a `kid` and verifies them against its public key,
// which other services read from /.well-known/jwks.json. Without an Ed25519
// key it signs HS256, so the original service can verify our tokens during a
// migration.
type Keys struct {
	hs     *HS256
	ed     ed25519.PrivateKey
	kid    string
	public jwk.Set
}

var (
	_ Signer   = (*Keys)(nil)
	_ Verifier = (*Keys)(nil)
)

// NewKeys builds the token service. edSeed is the 32-byte Ed25519 seed,
// base64-encoded (standard or URL alphabet); empty means HS256 only.
func NewKeys(secret []byte, edSeed string) (*Keys, error) {
	hs, err := NewHS256(secret)
	if err != nil {
		return nil, err
	}
	k := &Keys{hs: hs, public: jwk.NewSet()}
	if edSeed == "" {
		return k, nil
	}
	seed, err := decodeSeed(edSeed)
	if err != nil {
		return nil, err
	}
	k.ed = ed25519.NewKeyFromSeed(seed)
	pub, err := jwk.FromRaw(k.ed.Public())
	if err != nil {
		return nil, fmt.Errorf("ed25519 public key: %w", err)
	}
	thumb, err := pub.Thumbprint(cryptoSHA256)
	if err != nil {
		return nil, err
	}
	k.kid = base64.RawURLEncoding.EncodeToString(thumb)
	for name, v := range map[string]any{jwk.KeyIDKey: k.kid, jwk.AlgorithmKey: jwa.EdDSA, jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(name, v); err != nil {
			return nil, err
		}
	}
	if err := k.public.AddKey(pub); err != nil {
		return nil, err
	}
	return k, nil
}

func decodeSeed(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == ed25519.SeedSize {
			return b, nil
		}
	}
	return nil, errors.New("the Ed25519 signing key must be a base64-encoded 32-byte seed")
}

// Sign issues a token: EdDSA with our kid when configured, else HS256.
func (k *Keys) Sign(sub Subject, ttl time.Duration, now time.Time) (string, error) {
	if k.ed == nil {
		return k.hs.Sign(sub, ttl, now)
	}
	tok, err := jwt.NewBuilder().Subject(sub.String()).IssuedAt(now).Expiration(now.Add(ttl)).Build()
	if err != nil {
		return "", fmt.Errorf("build token: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, k.kid); err != nil {
		return "", err
	}
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA, k.ed, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return string(b), nil
}

// Verify accepts HS256 tokens (the original's) and, when configured, EdDSA
// tokens whose kid names our key. The header's alg selects the path; each
// path pins its algorithm, so neither can be confused for the other.
func (k *Keys) Verify(raw string, now time.Time) (Token, error) {
	alg, err := headerAlg(raw)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	switch {
	case alg == jwa.HS256.String():
		return k.hs.Verify(raw, now)
	case alg == jwa.EdDSA.String() && k.ed != nil:
		return verify(raw, now, jwt.WithKeySet(k.public, jws.WithRequireKid(true)))
	default:
		return Token{}, fmt.Errorf("%w: algorithm %q not accepted", ErrInvalidToken, alg)
	}
}

// JWKS is the public key set as served at /.well-known/jwks.json
// (`{"keys": []}` when only HS256 is configured: a shared secret is never published).
func (k *Keys) JWKS() ([]byte, error) {
	return json.Marshal(k.public)
}

const cryptoSHA256 = crypto.SHA256
