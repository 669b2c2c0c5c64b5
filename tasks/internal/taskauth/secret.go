package taskauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// MinSecretLen is the shortest INTERNAL_TASK_SECRET NewSecret accepts.
const MinSecretLen = 32

// secret accepts one shared secret.
type secret struct {
	sum [sha256.Size]byte
}

// NewSecret returns a Verifier accepting "Bearer <secret>" (the local queue's
// INTERNAL_TASK_SECRET). The comparison takes the same time whatever the
// presented value, its length included: both sides are hashed with SHA-256
// and the digests compared with crypto/subtle. A secret shorter than
// MinSecretLen bytes is refused.
func NewSecret(s string) (Verifier, error) {
	if len(s) < MinSecretLen {
		return nil, errors.New("task secret must be at least 32 bytes")
	}
	return &secret{sum: sha256.Sum256([]byte(s))}, nil
}

// Verify implements Verifier.
func (v *secret) Verify(_ context.Context, authorization string) error {
	cred, err := bearer(authorization)
	if err != nil {
		return err
	}
	got := sha256.Sum256([]byte(cred))
	if subtle.ConstantTimeCompare(got[:], v.sum[:]) != 1 {
		return invalid("secret does not match")
	}
	return nil
}
