package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wriveted/huey-api/schema/catalog"
)

// row is one book of the export after normalisation and merging.
type row struct {
	isbn              string
	copies, available int
}

// Reasons a row is skipped.
const (
	skipNoISBN      = "no ISBN"
	skipInvalidISBN = "invalid ISBN"
	skipBadCopies   = "copies not a whole number >= 0"
)

// parse reads the export: the rows to apply (one per ISBN, in file order)
// and the counts of rows read, skipped and merged. A file that is not CSV or
// has no ISBN column is an error, before anything is written.
func parse(r io.Reader) ([]row, report, error) {
	rep := report{skipped: map[string]int{}}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, rep, errors.New("the file is empty")
	}
	if err != nil {
		return nil, rep, fmt.Errorf("not a CSV file: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	isbnCol, ok := col["isbn"]
	if !ok {
		return nil, rep, fmt.Errorf("no ISBN column in the header %q", strings.Join(header, ","))
	}
	field := func(rec []string, name string) (string, bool) {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return "", false
		}
		v := strings.TrimSpace(rec[i])
		return v, v != ""
	}
	count := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 0 && n <= 1<<31-1
	}
	var rows []row
	pos := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, rep, fmt.Errorf("not a CSV file: %w", err)
		}
		rep.rows++
		raw := ""
		if isbnCol < len(rec) {
			raw = strings.TrimSpace(rec[isbnCol])
		}
		if raw == "" {
			rep.skipped[skipNoISBN]++
			continue
		}
		isbn, err := catalog.NormalizeISBN(raw)
		if err != nil {
			rep.skipped[skipInvalidISBN]++
			continue
		}
		x := row{isbn: isbn, copies: 1}
		if v, ok := field(rec, "copies"); ok {
			if x.copies, ok = count(v); !ok {
				rep.skipped[skipBadCopies]++
				continue
			}
		}
		x.available = x.copies
		if v, ok := field(rec, "available"); ok {
			if x.available, ok = count(v); !ok {
				rep.skipped[skipBadCopies]++
				continue
			}
		}
		if i, dup := pos[isbn]; dup {
			rows[i].copies += x.copies
			rows[i].available += x.available
			rep.merged++
			continue
		}
		pos[isbn] = len(rows)
		rows = append(rows, x)
	}
	return rows, rep, nil
}
