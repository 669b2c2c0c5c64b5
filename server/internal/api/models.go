package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// isoTime renders database timestamps as the original does: ISO-8601 without
// offset, with microseconds only when non-zero (api.md §0.5).
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	s := tt.Format("2006-01-02T15:04:05")
	if us := tt.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return json.Marshal(s)
}

func isoPtr(t *time.Time) *isoTime {
	if t == nil {
		return nil
	}
	v := isoTime(*t)
	return &v
}

// lower returns an enum's API value from its database label (most enums).
func lower(label string) string { return strings.ToLower(label) }

func lowerPtr(label *string) *string {
	if label == nil {
		return nil
	}
	v := strings.ToLower(*label)
	return &v
}

// rawOrNull returns stored JSON, or JSON null.
func rawOrNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return json.RawMessage(b)
}

// userBrief is UserBrief (api.md §1.2).
type userBrief struct {
	ID          uuid.UUID `json:"id"`
	Type        string    `json:"type"`
	Name        string    `json:"name"`
	Email       *string   `json:"email"`
	IsActive    bool      `json:"is_active"`
	LastLoginAt *isoTime  `json:"last_login_at"`
}

type productOut struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// subscriptionBrief is SubscriptionBrief; subscriptionDetail adds the rest.
type subscriptionBrief struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Provider   string     `json:"provider"`
	IsActive   bool       `json:"is_active"`
	Expiration *isoTime   `json:"expiration"`
	Product    productOut `json:"product"`
}

type subscriptionDetail struct {
	subscriptionBrief
	StripeCustomerID string          `json:"stripe_customer_id"`
	CreatedAt        isoTime         `json:"created_at"`
	UpdatedAt        isoTime         `json:"updated_at"`
	Info             json.RawMessage `json:"info"`
}

// collectionBrief is CollectionBrief (api.md §1.6).
type collectionBrief struct {
	ID        uuid.UUID  `json:"id"`
	Name      string     `json:"name"`
	BookCount int64      `json:"book_count"`
	SchoolID  *uuid.UUID `json:"school_id"`
	UserID    *uuid.UUID `json:"user_id"`
	UpdatedAt isoTime    `json:"updated_at"`
}

// token is the Token model.
type token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
}

func bearerToken(t string) token { return token{AccessToken: t, TokenType: "bearer"} }
