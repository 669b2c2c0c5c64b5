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

// StaffURL is the login of a staff script: for the read-only role
// STAFF_RO_DATABASE_URL when set (`make run` writes both), else
// STAFF_DATABASE_URL, else DATABASE_URL with its user replaced by role
// (huey_staff_ro or huey_staff_rw) and the password from
// STAFF_DATABASE_PASSWORD (DECISIONS §1). StaffRole tells which role a URL
// logs in as.
func StaffURL(getenv func(string) string, role string) (string, error) {
	if v := getenv("STAFF_RO_DATABASE_URL"); v != "" && role == "huey_staff_ro" {
		return NormalizeURL("STAFF_RO_DATABASE_URL", v)
	}
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

// StaffRole is the staff role a staff URL logs in as — its user when that is
// huey_staff_ro or huey_staff_rw — else want. A script that only needs the
// read-only role's doors runs as huey_staff_rw when that is the login it was
// given (the read-write role reaches the same doors).
func StaffRole(staffURL, want string) string {
	u, err := url.Parse(staffURL)
	if err != nil || u.User == nil {
		return want
	}
	if n := u.User.Username(); n == "huey_staff_ro" || n == "huey_staff_rw" {
		return n
	}
	return want
}
