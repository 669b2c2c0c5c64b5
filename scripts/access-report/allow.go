package main

import (
	_ "embed"
	"fmt"
	"strings"
)

// allowlistText is the reviewed allow-list of the cross-check: the cells
// where the policy and row security disagree on purpose, each with its reason.
//
//go:embed allowlist.txt
var allowlistText string

// AllowEntry is one line of allowlist.txt:
//
//	account | resource | tenant | action | reason
//
// account, tenant and action may be `*`; resource is matched exactly.
type AllowEntry struct {
	Line                              int
	Account, Resource, Tenant, Action string
	Reason                            string
	used                              int
}

// parseAllowlist reads allowlist.txt; blank lines and lines starting with # are skipped.
func parseAllowlist(text string) ([]AllowEntry, error) {
	var out []AllowEntry
	for i, ln := range strings.Split(text, "\n") {
		ln = strings.TrimSpace(ln)
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		f := strings.Split(ln, "|")
		if len(f) != 5 {
			return nil, fmt.Errorf("allowlist.txt:%d: want `account | resource | tenant | action | reason`, got %q", i+1, ln)
		}
		for j := range f {
			f[j] = strings.TrimSpace(f[j])
		}
		if f[4] == "" {
			return nil, fmt.Errorf("allowlist.txt:%d: no reason", i+1)
		}
		out = append(out, AllowEntry{Line: i + 1, Account: f[0], Resource: f[1], Tenant: f[2], Action: f[3], Reason: f[4]})
	}
	return out, nil
}

func matchField(pattern, v string) bool { return pattern == "*" || pattern == v }

// matchAllow returns the first entry covering c, or nil.
func matchAllow(es []AllowEntry, c Cell) *AllowEntry {
	for i := range es {
		e := &es[i]
		if matchField(e.Account, c.Account) && e.Resource == c.Resource && matchField(e.Tenant, c.Tenant) && matchField(e.Action, c.Action) {
			return e
		}
	}
	return nil
}

// Unused are the entries no mismatch needed: stale, to be removed.
func unused(es []AllowEntry) []AllowEntry {
	var out []AllowEntry
	for _, e := range es {
		if e.used == 0 {
			out = append(out, e)
		}
	}
	return out
}
