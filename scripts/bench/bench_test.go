package main

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wriveted/huey-api/schema/benchdata"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	var xs []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}, {1, time.Millisecond}} {
		if got := percentile(xs, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if xs[0] != 100*time.Millisecond {
		t.Error("percentile sorted its input in place")
	}
	if percentile(nil, 99) != 0 {
		t.Error("percentile of nothing should be 0")
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("one sample: %v", got)
	}
}

func TestParseLatencyLogAndSteadyState(t *testing.T) {
	t.Parallel()
	// client_id transaction_no time(µs) script_no time_epoch time_us
	log := strings.Join([]string{
		"0 0 900000 0 1700000000 900000", // the first transaction: preparation, ends 0.9 s in
		"0 1 1000 0 1700000001 100000",   // 1.1 s after the start
		"1 0 2000 0 1700000001 500000",
		"1 1 failed 0 1700000001 600000", // a failed transaction has no latency
		"0 2 3000 0 1700000003 100000",   // 3.1 s after the start
	}, "\n")
	recs, err := parseLatencyLog(bufio.NewScanner(strings.NewReader(log)))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	tps, lat := steadyState(recs, time.Second)
	if len(lat) != 3 || lat[0] != time.Millisecond {
		t.Fatalf("steady-state latencies %v, want the 3 after the first second", lat)
	}
	// window: from 1.0 s to 3.1 s after the start = 2.1 s, 3 transactions
	if want := 3 / 2.1; tps < want-0.001 || tps > want+0.001 {
		t.Fatalf("tps %v, want %v", tps, want)
	}
	if _, err := parseLatencyLog(bufio.NewScanner(strings.NewReader("0 1 2"))); err == nil {
		t.Fatal("a short line must be an error")
	}
}

func TestParsePgbenchSummary(t *testing.T) {
	t.Parallel()
	out := `transaction type: x.pgbench
number of transactions actually processed: 53021
number of failed transactions: 2 (0.004%)
latency average = 1.506 ms
initial connection time = 21.313 ms
tps = 5311.287458 (without initial connection time)
`
	s, err := parsePgbenchSummary(out)
	if err != nil || s.tps != 5311.287458 || s.failed != 2 {
		t.Fatalf("%+v, %v", s, err)
	}
	if _, err := parsePgbenchSummary("pgbench: error: Run was aborted"); err == nil {
		t.Fatal("no tps line must be an error")
	}
}

func TestParseProcStatus(t *testing.T) {
	t.Parallel()
	rss, hwm, err := parseProcStatus(strings.NewReader("Name:\tserver\nVmHWM:\t   81234 kB\nVmRSS:\t   70000 kB\nThreads:\t9\n"))
	if err != nil || rss != 70000 || hwm != 81234 {
		t.Fatalf("rss %d hwm %d err %v", rss, hwm, err)
	}
}

// The claims template, filled as Postgres' format() fills it, is the API's
// encoding of every school admin's claims.
func TestClaimsFormat(t *testing.T) {
	t.Parallel()
	tmpl := claimsFormat()
	if strings.Contains(tmpl, "987654321") {
		t.Fatalf("probe left in the template: %s", tmpl)
	}
	for _, n := range []int{1, 9, 10, 99, 100, 999, 1000, 1002} {
		got := strings.NewReplacer("%1$s", strconv.Itoa(n), "%2$s", benchdata.UserID(n, 1)).Replace(tmpl)
		if want := claimsJSON(schoolAdminClaims(n)); got != want {
			t.Fatalf("school %d:\n got %s\nwant %s", n, got, want)
		}
	}
	want := `{"sub":"Wriveted:User-Account:` + benchdata.UserID(7, 1) + `","kind":"user","user_type":"school_admin","id":"` +
		benchdata.UserID(7, 1) + `","principals":["educator:7","role:educator","schooladmin:7","system:authenticated","system:everyone","user:` +
		benchdata.UserID(7, 1) + `"],"school_ids":[7],"child_ids":[],"is_admin":false}`
	if got := claimsJSON(schoolAdminClaims(7)); got != want {
		t.Fatalf("claims of school 7's admin:\n got %s\nwant %s", got, want)
	}
}

// The scripts are generated from the handlers' SQL: every bind parameter
// is replaced, statements end with a semicolon inside one pipeline.
func TestScripts(t *testing.T) {
	t.Parallel()
	z := benchdata.Size{Schools: 10, Members: 6, Editions: 100, Items: 5, BigItems: 5, LMSItems: 5}
	for name, w := range map[string]struct {
		stmts []stmt
		isbn  bool
		n     int
	}{
		"a own": {ownEdition(), true, 2}, "a ideal": {idealEdition(), true, 2},
		"b own": {ownItems(), false, 5}, "b ideal": {idealItems(), false, 3},
	} {
		s, err := script(z, w.stmts, w.isbn, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if regexp.MustCompile(`\$[0-9]`).MatchString(s) {
			t.Errorf("%s: a bind parameter is left:\n%s", name, s)
		}
		body := s[strings.Index(s, "\\startpipeline\n")+len("\\startpipeline\n") : strings.Index(s, "\\endpipeline")]
		if got := strings.Count(body, ";\n"); got != w.n {
			t.Errorf("%s: %d statements in the pipeline, want %d", name, got, w.n)
		}
		if !strings.HasPrefix(body, "SELECT set_config('role', :role, true), set_config('request.jwt.claims', format(") {
			t.Errorf("%s: the pipeline does not start with the claims prelude:\n%s", name, body)
		}
		if w.isbn && !strings.Contains(s, "\\set isbn ") {
			t.Errorf("%s: no isbn variable", name)
		}
	}
}

func TestPgbenchSafe(t *testing.T) {
	t.Parallel()
	got, err := bind(stmt{`SELECT to_char(x, 'HH24:MI:SS')::text FROM t WHERE id = $1`, []string{":id"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `SELECT to_char(x, 'HH24' || ':' || 'MI' || ':' || 'SS')::text FROM t WHERE id = :id`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := bind(stmt{`SELECT a[1:n] FROM t`, nil}); err == nil {
		t.Fatal("a :name outside a literal must be refused")
	}
	if _, err := bind(stmt{`SELECT $2`, []string{":a"}}); err == nil {
		t.Fatal("an unbound parameter must be refused")
	}
}

// The ISBN arithmetic of the pgbench script is benchdata.ISBN.
func TestISBNArithmetic(t *testing.T) {
	t.Parallel()
	for _, i := range []int{1, 2, 9, 10, 12345, 199_999, 200_000} {
		p := int64(978000000000 + i)
		sum := int64(0)
		for k := 0; k < 12; k++ {
			w := int64(1)
			if k%2 == 1 {
				w = 3
			}
			sum += w * ((p / pow10(11-k)) % 10)
		}
		got := strconv.FormatInt(p*10+(10-sum%10)%10, 10)
		if want := benchdata.ISBN(i); got != want {
			t.Fatalf("edition %d: %s, want %s", i, got, want)
		}
	}
	if !strings.Contains(isbnVars(100), "3 * ((:p / 10000000000) % 10)") {
		t.Fatalf("isbnVars does not render the arithmetic tested here:\n%s", isbnVars(100))
	}
}
