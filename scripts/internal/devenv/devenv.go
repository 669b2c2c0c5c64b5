// Package devenv is the environment `make run` writes to .data/dev.env, so
// scripts reach the private development database the way the services do:
// `set -a; . .data/dev.env; set +a`. The launcher (scripts/run-local) writes
// it, and the test of the README's token commands uses the same code.
package devenv

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// LoginRoles are the roles that log in (each with its own password).
var LoginRoles = []string{"huey_api", "huey_owner", "huey_staff_ro", "huey_staff_rw"}

// For is the environment of the development database: urlFor gives the URL
// of the database for a login role, superURL is the cluster's superuser
// (migrations only).
func For(urlFor func(role string) string, superURL, secretKey, taskSecret string) map[string]string {
	return map[string]string{
		"APP_ENV":                "development",
		"DATABASE_URL":           urlFor("huey_api"),
		"MIGRATION_DATABASE_URL": superURL,
		// scripts that write (import-books, get-auth-token -create-admin) and
		// those that only read (get-auth-token) each log in as their own role
		"STAFF_DATABASE_URL":    urlFor("huey_staff_rw"),
		"STAFF_RO_DATABASE_URL": urlFor("huey_staff_ro"),
		"SECRET_KEY":            secretKey,
		"INTERNAL_TASK_SECRET":  taskSecret,
	}
}

// Write writes env as shell assignments (0600: it holds secrets).
func Write(path string, env map[string]string) error {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by `make run`; secrets for the private development database only.\n")
	b.WriteString("# Use: set -a; . .data/dev.env; set +a\n")
	for _, k := range keys {
		if strings.Contains(env[k], "'") {
			return fmt.Errorf("devenv: %s holds a quote", k)
		}
		fmt.Fprintf(&b, "%s='%s'\n", k, env[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
