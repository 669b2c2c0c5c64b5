package db

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// URLFromEnv returns DATABASE_URL, or the original service's
// SQLALCHEMY_DATABASE_URI with its `+driver` scheme suffix stripped
// (postgresql+psycopg2:// → postgresql://). DECISIONS.md §1.
func URLFromEnv(getenv func(string) string) (string, error) {
	if v := getenv("DATABASE_URL"); v != "" {
		return NormalizeURL("DATABASE_URL", v)
	}
	if v := getenv("SQLALCHEMY_DATABASE_URI"); v != "" {
		return NormalizeURL("SQLALCHEMY_DATABASE_URI", v)
	}
	return "", errors.New("DATABASE_URL is not set: set it to the huey_api login, e.g. postgres://huey_api:PASSWORD@HOST:5432/DB (or use `make run`, which starts a private database)")
}

var driverSuffix = regexp.MustCompile(`^(postgres(?:ql)?)\+[a-z0-9_]+://`)

// NormalizeURL checks that v (the value of setting name) is a Postgres URL
// and strips a SQLAlchemy driver suffix from its scheme.
func NormalizeURL(name, v string) (string, error) {
	v = driverSuffix.ReplaceAllString(strings.TrimSpace(v), "$1://")
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// or postgresql:// URL", name)
	}
	return v, nil
}

// StaffURL is the login of a staff script: STAFF_DATABASE_URL, or
// DATABASE_URL with its user replaced by role (huey_staff_ro or
// huey_staff_rw) and the password from STAFF_DATABASE_PASSWORD (DECISIONS §1).
func StaffURL(getenv func(string) string, role string) (string, error) {
	if v := getenv("STAFF_DATABASE_URL"); v != "" {
		return NormalizeURL("STAFF_DATABASE_URL", v)
	}
	base, err := URLFromEnv(getenv)
	if err != nil {
		return "", fmt.Errorf("set STAFF_DATABASE_URL to the %s login, or DATABASE_URL", role)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.User = url.User(role)
	if pw := getenv("STAFF_DATABASE_PASSWORD"); pw != "" {
		u.User = url.UserPassword(role, pw)
	}
	return strings.Replace(u.String(), "postgresql://", "postgres://", 1), nil
}
