package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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

// scanCollectionBrief reads at most one CollectionBrief (id, name, book count,
// school id, user id, updated_at).
func scanCollectionBrief(rows pgx.Rows) (*collectionBrief, error) {
	var out *collectionBrief
	for rows.Next() {
		var col collectionBrief
		var updated time.Time
		if err := rows.Scan(&col.ID, &col.Name, &col.BookCount, &col.SchoolID, &col.UserID, &updated); err != nil {
			return nil, err
		}
		col.UpdatedAt = isoTime(updated)
		out = &col
	}
	return out, rows.Err()
}

// scanSubscriptionDetail reads at most one SubscriptionDetail (the columns of
// queries.GetSchoolSubscription / queries.GetUserSubscription).
func scanSubscriptionDetail(rows pgx.Rows) (*subscriptionDetail, error) {
	var out *subscriptionDetail
	for rows.Next() {
		var (
			sub              subscriptionDetail
			typ, provider    string
			exp              *time.Time
			created, updated time.Time
			info             []byte
		)
		if err := rows.Scan(&sub.ID, &typ, &provider, &sub.IsActive, &exp, &sub.Product.ID, &sub.Product.Name,
			&sub.StripeCustomerID, &created, &updated, &info); err != nil {
			return nil, err
		}
		sub.Type, sub.Provider, sub.Expiration = lower(typ), lower(provider), isoPtr(exp)
		sub.CreatedAt, sub.UpdatedAt, sub.Info = isoTime(created), isoTime(updated), rawOrNull(info)
		out = &sub
	}
	return out, rows.Err()
}

// deepMerge merges src into dst: nested objects key by key, other values replaced.
func deepMerge(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				dst[k] = deepMerge(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// jsonEqual reports whether a and b encode to the same JSON.
func jsonEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}
