package staff

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// IsTerminal reports whether w is a terminal (a character device), where a
// progress bar may redraw itself.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Progress draws "[=====>    ] 120/465 rows" on one line, redrawn in place.
// A nil *Progress draws nothing, so scripts call it unconditionally.
type Progress struct {
	w     io.Writer
	unit  string
	drawn bool
}

// NewProgress returns a bar on w counting unit ("rows"), or nil when w is
// not a terminal.
func NewProgress(w io.Writer, unit string) *Progress {
	if !IsTerminal(w) {
		return nil
	}
	return newProgress(w, unit)
}

func newProgress(w io.Writer, unit string) *Progress { return &Progress{w: w, unit: unit} }

const barWidth = 30

// Update redraws the bar at done of total; nil-safe.
func (b *Progress) Update(done, total int) {
	if b == nil {
		return
	}
	filled := barWidth
	if total > 0 {
		filled = min(done*barWidth/total, barWidth)
	}
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	fmt.Fprintf(b.w, "\r[%s] %d/%d %s", bar, done, total, b.unit)
	b.drawn = true
}

// Finish ends the bar's line; nil-safe.
func (b *Progress) Finish() {
	if b != nil && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
