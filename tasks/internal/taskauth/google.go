package taskauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// GoogleJWKSURL is where Google publishes the keys that sign its OIDC ID
// tokens, those Cloud Tasks attaches included.
const GoogleJWKSURL = "https://www.googleapis.com/oauth2/v3/certs"

const (
	// googleClockSkew is the leeway on exp, iat and nbf.
	googleClockSkew = 30 * time.Second
	// defaultMinRefreshInterval bounds JWKS fetches forced by unknown kids.
	defaultMinRefreshInterval = time.Minute
	// jwksPeriodicRefresh is the least time between the cache's periodic
	// refreshes; Google's Cache-Control max-age (hours) usually decides.
	jwksPeriodicRefresh = 15 * time.Minute
	// jwksHTTPTimeout bounds one fetch of the key set.
	jwksHTTPTimeout = 10 * time.Second
)

// GoogleOIDCOptions configure NewGoogleOIDC.
type GoogleOIDCOptions struct {
	// Audience is the expected aud: the internal service URL the tasks are
	// created with (cloudq.Config.OIDCAudience). Required.
	Audience string
	// ServiceAccountEmail is the expected email claim
	// (GCP_CLOUD_TASKS_SERVICE_ACCOUNT); email_verified must be true. Required.
	ServiceAccountEmail string
	// JWKSURL is the key set to verify against; "" means GoogleJWKSURL.
	// It must be an https URL.
	JWKSURL string
	// HTTPClient fetches the key set; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// MinRefreshInterval is the least time between two key-set fetches forced
	// by a token whose kid is not in the cached set (Google rotating its keys
	// ahead of the cache's periodic refresh). It stops tokens with made-up
	// kids from turning into a fetch each. 0 means one minute.
	MinRefreshInterval time.Duration
}

// googleOIDC verifies Google-signed OIDC ID tokens.
type googleOIDC struct {
	audience   string
	email      string
	jwksURL    string
	cache      *jwk.Cache
	minRefresh time.Duration

	mu         sync.Mutex // serialises forced refreshes
	lastForced time.Time  // when an unknown kid last forced a refresh
}

// NewGoogleOIDC returns a Verifier for the OIDC ID tokens Cloud Tasks
// attaches to its HTTP requests ("Bearer <jwt>"). A token is accepted only
// when all of these hold:
//
//   - it is a compact JWS with exactly one signature, alg RS256 (anything
//     else, "none" and HMAC included, is refused before any key is touched)
//     and a kid naming an RSA key in Google's key set;
//   - the RS256 signature verifies with that key;
//   - iss is https://accounts.google.com or accounts.google.com;
//   - aud contains o.Audience;
//   - email is o.ServiceAccountEmail and email_verified is true;
//   - exp is present and not past, and iat and nbf (when present) are not in
//     the future, each with 30 s of leeway.
//
// Keys come from a jwk.Cache registered on the JWKS URL, which refreshes the
// set in the background as the response's Cache-Control allows (at most
// every 15 minutes). When Google rotates its keys before that refresh, a
// token with an unknown kid forces one synchronous refresh, at most once per
// o.MinRefreshInterval; if the kid is still unknown, the token is refused.
//
// ctx bounds the life of the cache's background refresh: pass the server's
// lifetime context. The key set is fetched once here, so a wrong URL or an
// unreachable key set fails at start-up rather than at the first task.
func NewGoogleOIDC(ctx context.Context, o GoogleOIDCOptions) (Verifier, error) {
	var errs []error
	if o.Audience == "" {
		errs = append(errs, errors.New("google OIDC: audience is required"))
	}
	if o.ServiceAccountEmail == "" {
		errs = append(errs, errors.New("google OIDC: service account e-mail is required"))
	}
	if o.JWKSURL == "" {
		o.JWKSURL = GoogleJWKSURL
	}
	if u, err := url.Parse(o.JWKSURL); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("google OIDC: JWKS URL %q must be an https URL", o.JWKSURL))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: jwksHTTPTimeout}
	}
	if o.MinRefreshInterval <= 0 {
		o.MinRefreshInterval = defaultMinRefreshInterval
	}
	cache := jwk.NewCache(ctx)
	if err := cache.Register(o.JWKSURL,
		jwk.WithHTTPClient(client),
		jwk.WithMinRefreshInterval(jwksPeriodicRefresh),
	); err != nil {
		return nil, fmt.Errorf("google OIDC: register JWKS %s: %w", o.JWKSURL, err)
	}
	if _, err := cache.Refresh(ctx, o.JWKSURL); err != nil {
		return nil, fmt.Errorf("google OIDC: fetch JWKS: %w", err)
	}
	return &googleOIDC{
		audience:   o.Audience,
		email:      o.ServiceAccountEmail,
		jwksURL:    o.JWKSURL,
		cache:      cache,
		minRefresh: o.MinRefreshInterval,
	}, nil
}

// Verify implements Verifier.
func (g *googleOIDC) Verify(ctx context.Context, authorization string) error {
	raw, err := bearer(authorization)
	if err != nil {
		return err
	}
	kid, err := rs256KeyID(raw)
	if err != nil {
		return err
	}
	key, err := g.key(ctx, kid)
	if err != nil {
		return err
	}
	_, err = jwt.ParseString(raw,
		jwt.WithKey(jwa.RS256, key),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(googleClockSkew),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithAudience(g.audience),
		jwt.WithValidator(googleClaims{email: g.email}),
	)
	if err == nil {
		return nil
	}
	// Validation messages name the failed claim ("aud" not satisfied);
	// anything else is a bad signature or payload. Neither quotes the token.
	var ve jwt.ValidationError
	if errors.As(err, &ve) {
		return invalid(ve.Error())
	}
	return invalid("signature or payload does not verify")
}

// rs256KeyID reads the protected header of a compact JWS without trusting
// it: exactly one signature, alg RS256 and a kid, or a refusal.
func rs256KeyID(raw string) (string, error) {
	if strings.Count(raw, ".") != 2 {
		return "", invalid("token is not a compact JWS")
	}
	msg, err := jws.ParseString(raw)
	if err != nil {
		return "", invalid("token header does not parse")
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return "", invalid("token must carry exactly one signature")
	}
	h := sigs[0].ProtectedHeaders()
	if alg := h.Algorithm(); alg != jwa.RS256 {
		return "", invalid(fmt.Sprintf("algorithm %q not accepted", clip(alg.String())))
	}
	kid := h.KeyID()
	if kid == "" {
		return "", invalid("token has no kid")
	}
	return kid, nil
}

// key returns the RSA key named kid, forcing one refresh of the set (rate
// limited) when kid is unknown.
func (g *googleOIDC) key(ctx context.Context, kid string) (jwk.Key, error) {
	set, err := g.cache.Get(ctx, g.jwksURL)
	if err != nil {
		return nil, fmt.Errorf("google JWKS: %w", err)
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return rsaSigningKey(k)
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	// Another request may have refreshed the set while this one waited.
	if set, err = g.cache.Get(ctx, g.jwksURL); err != nil {
		return nil, fmt.Errorf("google JWKS: %w", err)
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return rsaSigningKey(k)
	}
	if since := time.Since(g.lastForced); !g.lastForced.IsZero() && since < g.minRefresh {
		return nil, invalid(fmt.Sprintf("unknown kid %q (key set refreshed %s ago)", clip(kid), since.Round(time.Second)))
	}
	g.lastForced = time.Now()
	if set, err = g.cache.Refresh(ctx, g.jwksURL); err != nil {
		return nil, fmt.Errorf("refresh google JWKS: %w", err)
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return rsaSigningKey(k)
	}
	return nil, invalid(fmt.Sprintf("unknown kid %q", clip(kid)))
}

// rsaSigningKey refuses a published key that is not an RSA signing key for
// RS256, whatever the token claims.
func rsaSigningKey(k jwk.Key) (jwk.Key, error) {
	if k.KeyType() != jwa.RSA {
		return nil, invalid("kid names a non-RSA key")
	}
	if alg := k.Algorithm().String(); alg != "" && alg != jwa.RS256.String() {
		return nil, invalid("kid names a key for another algorithm")
	}
	if use := k.KeyUsage(); use != "" && use != jwk.ForSignature.String() {
		return nil, invalid("kid names a key not for signatures")
	}
	return k, nil
}

// googleIssuers are the two spellings of Google's issuer.
const (
	googleIssuer     = "https://accounts.google.com"
	googleIssuerBare = "accounts.google.com"
)

// googleClaims checks the claims jwx has no option for: one of two issuers,
// the e-mail and its verification.
type googleClaims struct{ email string }

func (c googleClaims) Validate(_ context.Context, t jwt.Token) jwt.ValidationError {
	if iss := t.Issuer(); iss != googleIssuer && iss != googleIssuerBare {
		return jwt.NewValidationError(fmt.Errorf(`"iss" not satisfied: %q is not Google`, clip(iss)))
	}
	if v, _ := t.Get("email"); v != c.email {
		return jwt.NewValidationError(fmt.Errorf(`"email" not satisfied: %q is not the task service account`, clip(fmt.Sprint(v))))
	}
	if v, _ := t.Get("email_verified"); v != true {
		return jwt.NewValidationError(errors.New(`"email_verified" not satisfied`))
	}
	return nil
}

// clip shortens a caller-supplied value before it reaches a log line.
func clip(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		return s[:maxLen] + "…"
	}
	return s
}
