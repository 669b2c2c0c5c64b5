// Package sampledata finds the sample data a checkout is used with: the files
// in the shared/data directory beside it (<module root>/../shared/data/). It
// is development tooling (make run, tests), like pglocal: no code a deployed
// binary runs imports it.
package sampledata

import (
	"os"
	"path/filepath"

	"github.com/wriveted/huey-api/schema/pglocal"
)

// LabelledBooks is the path of labelled-books.csv, the sample catalogue, found
// from the working directory. It returns the path it looked at and whether the
// file is there.
func LabelledBooks() (string, bool) {
	root, err := pglocal.ModuleRoot()
	if err != nil {
		return "", false
	}
	p := filepath.Join(filepath.Dir(root), "shared", "data", "labelled-books.csv")
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return p, false
	}
	return p, true
}
