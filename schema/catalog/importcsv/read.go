package importcsv

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// table is a parsed CSV file: the header and the records, each with the
// line it starts on.
type table struct {
	header []string
	recs   [][]string
	lines  []int
}

// readTable parses r: a UTF-8 BOM is dropped, quoted cells may span lines,
// rows may be ragged, and a stray quote inside an unquoted cell is kept as
// text (spreadsheet exports).
func readTable(r io.Reader) (table, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var t table
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return t, errors.New("the file is empty")
	}
	if err != nil {
		return t, fmt.Errorf("read the header: %w", err)
	}
	t.header = header
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return t, fmt.Errorf("read the CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		t.recs = append(t.recs, rec)
		t.lines = append(t.lines, line)
	}
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
