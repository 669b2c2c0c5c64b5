package fbemu

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// claimsOf decodes an emulator ID token's payload (the token is unsigned).
func claimsOf(t *testing.T, idToken string) map[string]any {
	t.Helper()
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", idToken)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// The emulator is shared with the other test processes of the run, so these
// tests use unique e-mails and never call Clear.
func TestCreateUserIssuesAVerifiedPasswordToken(t *testing.T) {
	t.Parallel()
	e := ForTest(t)
	ctx := context.Background()
	if e.Host() != "127.0.0.1:19099" || e.ProjectID() != "demo-huey" {
		t.Fatalf("host %s, project %s", e.Host(), e.ProjectID())
	}
	email := "fbemu-" + uuid.NewString()[:8] + "@example.org"
	tok, uid, err := e.CreateUser(ctx, email, "secret-pw", "Ana Reader", true)
	if err != nil {
		t.Fatal(err)
	}
	c := claimsOf(t, tok)
	fb, _ := c["firebase"].(map[string]any)
	if c["email"] != email || c["email_verified"] != true || c["name"] != "Ana Reader" || c["user_id"] != uid ||
		c["sub"] != uid || c["aud"] != "demo-huey" || c["iss"] != "https://securetoken.google.com/demo-huey" ||
		fb["sign_in_provider"] != "password" {
		t.Fatalf("claims %v", c)
	}

	unverified := "fbemu-" + uuid.NewString()[:8] + "@example.org"
	tok, _, err = e.CreateUser(ctx, unverified, "secret-pw", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, tok); c["email_verified"] != false || c["name"] != nil {
		t.Fatalf("claims %v", c)
	}

	if err := e.UpdateUser(ctx, uid, map[string]any{"photoUrl": "https://example.org/p.jpg"}); err != nil {
		t.Fatal(err)
	}
	tok, _, err = e.SignIn(ctx, email, "secret-pw")
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, tok); c["picture"] != "https://example.org/p.jpg" {
		t.Fatalf("claims after update %v", c)
	}
	if _, _, err := e.SignIn(ctx, email, "wrong-pw"); err == nil {
		t.Fatal("sign-in with a wrong password succeeded")
	}
}

func TestMissingInstallationSaysWhatToRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Another port, so this never meets the shared emulator.
	cfg := `{"emulators": {"auth": {"host": "127.0.0.1", "port": 19098}}}`
	if err := os.WriteFile(filepath.Join(dir, "firebase.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join(os.TempDir(), "huey-fbemu-127.0.0.1-19098")) })
	_, err := start(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "make firebase-emulator-deps") {
		t.Fatalf("error %v, want one naming `make firebase-emulator-deps`", err)
	}
}
