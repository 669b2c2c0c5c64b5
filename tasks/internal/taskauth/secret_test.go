package taskauth

import (
	"errors"
	"strings"
	"testing"
)

const testSecret = "a-local-queue-secret-of-at-least-32-bytes"

func TestNewSecretRefusesShortSecrets(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "short", strings.Repeat("x", MinSecretLen-1)} {
		if v, err := NewSecret(s); err == nil || v != nil {
			t.Errorf("NewSecret(%d bytes) = %v, %v; want an error", len(s), v, err)
		}
	}
	if _, err := NewSecret(strings.Repeat("x", MinSecretLen)); err != nil {
		t.Errorf("NewSecret(%d bytes): %v", MinSecretLen, err)
	}
}

func TestSecretVerify(t *testing.T) {
	t.Parallel()
	v, err := NewSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header string
		want   error // nil: accepted
	}{
		{"right secret", "Bearer " + testSecret, nil},
		{"scheme is case-insensitive", "bearer " + testSecret, nil},
		{"surrounding spaces", "  Bearer   " + testSecret + " ", nil},
		{"missing header", "", ErrNoCredentials},
		{"blank header", "   ", ErrNoCredentials},
		{"wrong secret", "Bearer " + strings.Repeat("y", len(testSecret)), ErrInvalidCredentials},
		{"secret with a suffix", "Bearer " + testSecret + "x", ErrInvalidCredentials},
		{"prefix of the secret", "Bearer " + testSecret[:MinSecretLen], ErrInvalidCredentials},
		{"wrong scheme", "Basic " + testSecret, ErrInvalidCredentials},
		{"no scheme", testSecret, ErrInvalidCredentials},
		{"scheme only", "Bearer", ErrInvalidCredentials},
		{"two credentials", "Bearer " + testSecret + " " + testSecret, ErrInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := v.Verify(t.Context(), tc.header)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatalf("error message quotes the secret: %v", err)
			}
		})
	}
}
