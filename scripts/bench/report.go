package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/wriveted/huey-api/schema/benchdata"
)

// report collects one sitting's measurements and prints them.
type report struct {
	size     string
	z        benchdata.Size
	duration time.Duration
	conc     []int
	elapsed  time.Duration

	answerMismatch []string
	pg             map[string]pgbenchResult // key row/kind/c
	http           map[string]httpResult    // key row/c
	txPerReq       map[string]float64       // key row/c
	patch          *patchResult
	rssKB, hwmKB   int64
	httpErrors     []string
}

func key(parts ...any) string { return fmt.Sprint(parts...) }

func (r *report) setPgbench(row, kind string, c int, res pgbenchResult) {
	if r.pg == nil {
		r.pg = map[string]pgbenchResult{}
	}
	r.pg[key(row, "/", kind, "/", c)] = res
}

func (r *report) setHTTP(row string, c int, res httpResult, txPerReq float64) {
	if r.http == nil {
		r.http, r.txPerReq = map[string]httpResult{}, map[string]float64{}
	}
	r.http[key(row, "/", c)] = res
	r.txPerReq[key(row, "/", c)] = txPerReq
}

var rowNames = map[string]string{
	"a": "(a) GET /v1/edition/{isbn}",
	"b": "(b) GET /v1/collection/{id}/items?limit=20",
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

func rate(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", x)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nmake bench — fixture %s (%d schools × %d accounts, %d editions, %d items per school; %d-item LMS collection); %s per measurement; %s in all\n",
		r.size, r.z.Schools, r.z.Members, r.z.Editions, r.z.Items, r.z.LMSItems, r.duration, r.elapsed.Round(time.Second))
	fmt.Fprintln(w, "rates: requests or transactions per second; latencies in ms; own = the API's SQL, ideal = cheapest SQL for the same JSON, both pgbench-pipelined (1 round trip)")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "row\tc\tHTTP rps\tp50\tp99\terrors\town tps\tp50\tp99\tideal tps\tp50\tp99\tHTTP/own\town/ideal\tHTTP/ideal\ttx/req\t")
	for _, row := range []string{"a", "b"} {
		for _, c := range r.conc {
			h := r.http[key(row, "/", c)]
			o := r.pg[key(row, "/own/", c)]
			i := r.pg[key(row, "/ideal/", c)]
			errs := "-"
			if h.Requests > 0 {
				errs = fmt.Sprint(h.Errors)
			}
			tx := "-"
			if v, ok := r.txPerReq[key(row, "/", c)]; ok {
				tx = fmt.Sprintf("%.2f", v)
			}
			fmt.Fprintf(tw, "(%s)\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", row, c,
				rate(h.RPS), ms(h.P50), ms(h.P99), errs,
				rate(o.TPS), ms(o.P50), ms(o.P99), rate(i.TPS), ms(i.P50), ms(i.P99),
				ratio(h.RPS, o.TPS), ratio(o.TPS, i.TPS), ratio(h.RPS, i.TPS), tx)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, row := range []string{"a", "b"} {
		fmt.Fprintf(w, "  %s\n", rowNames[row])
	}
	if big := r.pg[key("b-big", "/own/", r.conc[0])]; big.TPS > 0 {
		fmt.Fprintf(w, "  (b) on the %d-item collection, own SQL, c=%d: %s tps, p50 %s ms, p99 %s ms\n",
			r.z.BigItems, r.conc[0], rate(big.TPS), ms(big.P50), ms(big.P99))
	}
	if r.patch != nil {
		p := r.patch
		fmt.Fprintf(w, "\nLMS PATCH /v1/collection/{id}: %d items (%d add, %d update, %d remove) on a %d-item collection: %s (HTTP %d; collection_size %d; restored in %s)\n",
			p.Adds+p.Updates+p.Removes, p.Adds, p.Updates, p.Removes, p.Before, p.Took.Round(time.Millisecond), p.Status, p.After, p.Restore.Round(time.Millisecond))
	}
	if r.hwmKB > 0 {
		fmt.Fprintf(w, "API process memory after the load: VmRSS %.1f MB, VmHWM (peak) %.1f MB\n", float64(r.rssKB)/1024, float64(r.hwmKB)/1024)
	}
	if len(r.answerMismatch) > 0 {
		fmt.Fprintf(w, "\nWARNING: the ideal SQL's answers differ from the API's in %d samples; own/ideal is not a like-for-like ratio (scripts/bench/ideal.go)\n", len(r.answerMismatch))
	}
	for _, e := range r.httpErrors {
		fmt.Fprintln(w, "HTTP error:", e)
	}
	r.printTargets(w)
}

// printTargets compares with issue 11 item 4.
func (r *report) printTargets(w io.Writer) {
	fmt.Fprintln(w, "\nTargets (issue 11 item 4; ratios from this sitting):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tmeasured\tverdict")
	verdict := func(ok, known bool) string {
		switch {
		case !known:
			return "not measured"
		case ok:
			return "met"
		default:
			return "NOT MET"
		}
	}
	for _, c := range r.conc {
		for _, t := range []struct {
			row  string
			need float64
		}{{"a", 0.50}, {"b", 0.85}} {
			h, i := r.http[key(t.row, "/", c)], r.pg[key(t.row, "/ideal/", c)]
			known := h.RPS > 0 && i.TPS > 0
			fmt.Fprintf(tw, "(%s) c=%d HTTP ≥ %.0f %% of the ideal pipelined ceiling\t%s\t%s\n", t.row, c, t.need*100,
				pct(h.RPS, i.TPS), verdict(known && h.RPS >= t.need*i.TPS, known))
		}
	}
	if h := r.http[key("b", "/", 8)]; true {
		fmt.Fprintf(tw, "(b) c=8 ≥ 3× PostGraphile (≥ 1,839 rps: 3 × 613 rps, issue 11's one measurement)\t%s rps\t%s\n",
			rate(h.RPS), verdict(h.RPS >= 1839, h.RPS > 0))
	}
	for _, row := range []string{"a", "b"} {
		for _, c := range r.conc {
			h, o := r.http[key(row, "/", c)], r.pg[key(row, "/own/", c)]
			known := h.P99 > 0 && o.P99 > 0
			fmt.Fprintf(tw, "(%s) c=%d HTTP p99 ≤ 2× own-SQL pgbench p99\t%s ms vs %s ms\t%s\n", row, c, ms(h.P99), ms(2*o.P99),
				verdict(known && h.P99 <= 2*o.P99, known))
		}
	}
	if len(r.conc) > 0 {
		c := r.conc[0]
		small, big := r.pg[key("b", "/own/", c)], r.pg[key("b-big", "/own/", c)]
		known := small.TPS > 0 && big.TPS > 0
		fmt.Fprintf(tw, "(b) a page of the %d-item collection within 2× the cost of a %d-item one (own SQL, c=%d)\t%s tps vs %s tps: %s×\t%s\n",
			r.z.BigItems, r.z.Items, c, rate(big.TPS), rate(small.TPS), ratio(small.TPS, big.TPS),
			verdict(known && small.TPS <= 2*big.TPS, known))
	}
	worst, known := 0.0, false
	for _, v := range r.txPerReq {
		worst, known = max(worst, v), true
	}
	fmt.Fprintf(tw, "≤ 1.1 transactions per request (1,000-account load; worst row)\t%s\t%s\n", fmtF(worst, known), verdict(worst <= 1.1, known))
	fmt.Fprintf(tw, "one round trip per read\tnot timed here (server/internal/api/roundtrip_test.go)\t-\n")
	fmt.Fprintf(tw, "RSS < 150 MB (peak, VmHWM)\t%s\t%s\n", fmtMB(r.hwmKB), verdict(r.hwmKB < 150*1024, r.hwmKB > 0))
	if p := r.patch; p != nil {
		fmt.Fprintf(tw, "10k-item LMS PATCH on a 50k collection < 2 s\t%s (%d items on %d)\t%s\n", p.Took.Round(time.Millisecond),
			p.Adds+p.Updates+p.Removes, p.Before, verdict(p.Took < 2*time.Second && p.Status == 200, true))
	} else {
		fmt.Fprintf(tw, "10k-item LMS PATCH on a 50k collection < 2 s\t-\tnot measured\n")
	}
	tw.Flush()
	if r.size != "full" {
		fmt.Fprintln(w, "(a -small run: the targets are stated for the full fixture)")
	}
}

func pct(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f %%", 100*a/b)
}

func fmtF(v float64, known bool) string {
	if !known {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtMB(kb int64) string {
	if kb == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MB", float64(kb)/1024)
}
