package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wriveted/huey-api/schema/benchdata"
	"github.com/wriveted/huey-api/schema/catalog"
	"github.com/wriveted/huey-api/schema/collection"
	"github.com/wriveted/huey-api/schema/db"
)

// A pgbench script is one pipeline (\startpipeline … \endpipeline): the
// claims prelude and the queries, sent with one Sync, so one round trip and
// one implicit transaction — what db.Read does with a pgx batch. The SQL
// comes from the Go constants the handlers queue; each bind parameter $k is
// replaced by a pgbench variable or an expression over one:
//
//	:n       a random school (1..Schools); its school admin is the caller
//	:isbn    a random fixture edition's ISBN, computed by pgbench arithmetic
//	:role    huey_app (own SQL) or huey_bench_ideal (ideal SQL)
//	claims   format(:claimsfmt, :n, md5('user-' || :n || '-1')::uuid) (with casts): the
//	         school admin's claims, built in SQL from n (equal cost for own and ideal)
//	cid      (SELECT md5('collection-' || :n)::uuid): school n's collection,
//	         an init-plan evaluated once per statement, like a bound uuid
type stmt struct {
	sql    string
	params []string // replacement of $1, $2, … in order
}

const (
	claimsExpr = `format(:claimsfmt::text, :n::int, md5('user-' || :n::int || '-1')::uuid)`
	cidExpr    = `(SELECT md5('collection-' || :n::int)::uuid)`
)

// prelude is db.Read's first statement with this bench's parameters.
func prelude() stmt { return stmt{db.SetClaimsSQL, []string{":role", claimsExpr}} }

// The four workloads: (a) and (b), own and ideal.
func ownEdition() []stmt {
	return []stmt{prelude(), {catalog.EditionDetailSQL, []string{":isbn"}}}
}

func idealEdition() []stmt {
	return []stmt{prelude(), {idealEditionSQL, []string{":isbn"}}}
}

// ownItems is what getCollectionItems queues for ?limit=20 (no filters):
// queueCollectionAttrs' two statements, the total and the page.
func ownItems() []stmt {
	f := collection.ItemsFilter{Skip: 0, Limit: 20}
	total, targs := collection.ItemsTotalSQL(f)
	page, pargs := collection.ItemsPageSQL(f)
	if len(targs) != 1 || len(pargs) != 3 {
		panic(fmt.Sprintf("bench: the items SQL's parameters changed (%d, %d): update ownItems", len(targs), len(pargs)))
	}
	return []stmt{prelude(), {collection.JITOffSQL, nil}, {collection.AttrsSQL, []string{cidExpr}},
		{total, []string{cidExpr}}, {page, []string{cidExpr, ":skip", ":limit"}}}
}

func idealItems() []stmt {
	return []stmt{prelude(), {idealItemsTotalSQL, []string{cidExpr}},
		{idealItemsPageSQL, []string{cidExpr, ":skip", ":limit"}}}
}

var paramRE = regexp.MustCompile(`\$([0-9]+)`)

// bind replaces $k by params[k-1] and makes the text safe for pgbench.
func bind(s stmt) (string, error) {
	var bad error
	out := paramRE.ReplaceAllStringFunc(s.sql, func(m string) string {
		k, _ := strconv.Atoi(m[1:])
		if k < 1 || k > len(s.params) {
			bad = fmt.Errorf("statement uses %s but the bench binds %d parameters: %.80s…", m, len(s.params), s.sql)
			return m
		}
		return s.params[k-1]
	})
	if bad != nil {
		return "", bad
	}
	// The bench's own expressions use :vars; escape the SQL's own colons first.
	return pgbenchSafe(s.sql, out)
}

// pgbenchSafe guards against pgbench reading `:name` inside the SQL (for
// example 'HH24:MI:SS' in a string literal) as a variable: inside a
// single-quoted literal such a colon becomes ' || ':' || ' (folded back to
// the same constant by the planner). orig is checked for colons outside
// literals, which would be ambiguous.
func pgbenchSafe(orig, bound string) (string, error) {
	if loc := colonVarOutsideLiterals(orig); loc >= 0 {
		return "", fmt.Errorf("the SQL has a `:name` outside a string literal that pgbench would take for a variable: %q", orig[max(0, loc-20):min(len(orig), loc+20)])
	}
	var b strings.Builder
	inLit := false
	for i := 0; i < len(bound); i++ {
		c := bound[i]
		if c == '\'' {
			inLit = !inLit
		}
		if inLit && c == ':' && i+1 < len(bound) && isIdent(bound[i+1]) {
			b.WriteString(`' || ':' || '`)
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// colonVarOutsideLiterals returns the offset of a `:name` outside string
// literals (`::type` casts excepted), or -1.
func colonVarOutsideLiterals(s string) int {
	inLit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			inLit = !inLit
		case !inLit && c == ':':
			if i+1 < len(s) && s[i+1] == ':' {
				i++
				continue
			}
			if i+1 < len(s) && isIdent(s[i+1]) {
				return i
			}
		}
	}
	return -1
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}

// isbnVars sets :isbn to a random fixture edition's ISBN-13 (benchdata.ISBN):
// 978 and the 9-digit ordinal, then the check digit, all in pgbench
// arithmetic so it costs the server nothing.
func isbnVars(editions int) string {
	var terms []string
	for k := 0; k < 12; k++ {
		w := 1
		if k%2 == 1 {
			w = 3
		}
		terms = append(terms, fmt.Sprintf("%d * ((:p / %d) %% 10)", w, pow10(11-k)))
	}
	return fmt.Sprintf("\\set i random(1, %d)\n\\set p 978000000000 + :i\n\\set isbn :p * 10 + (10 - (%s) %% 10) %% 10\n",
		editions, strings.Join(terms, " + "))
}

func pow10(n int) int64 {
	v := int64(1)
	for range n {
		v *= 10
	}
	return v
}

// script renders a pipelined pgbench script.
func script(z benchdata.Size, stmts []stmt, withISBN bool, school int) (string, error) {
	var b strings.Builder
	if school > 0 { // one school's collection, e.g. the 20,000-item one
		fmt.Fprintf(&b, "\\set n %d\n", school)
	} else {
		fmt.Fprintf(&b, "\\set n random(1, %d)\n", z.Schools)
	}
	if withISBN {
		b.WriteString(isbnVars(z.Editions))
	}
	b.WriteString("\\startpipeline\n")
	for _, s := range stmts {
		q, err := bind(s)
		if err != nil {
			return "", err
		}
		if strings.Contains(q, ";") {
			return "", fmt.Errorf("statement contains a semicolon, which would split it in pgbench: %.80s…", q)
		}
		b.WriteString(strings.TrimSpace(q))
		b.WriteString(";\n")
	}
	b.WriteString("\\endpipeline\n")
	return b.String(), nil
}

// claimsFormat is the school admin's claims JSON with n as %1$s and the
// user id as %2$s, for format() in SQL; checkClaimsFormat proves it equals
// claimsJSON(schoolAdminClaims(n)).
func claimsFormat() string {
	const probe = 987654321
	enc := claimsJSON(schoolAdminClaims(probe))
	return strings.NewReplacer(benchdata.UserID(probe, 1), "%2$s", strconv.Itoa(probe), "%1$s").Replace(enc)
}

// pgbenchWarmUp is run before each measurement and left out of it (pgbench
// runs for the duration plus this; steadyState drops it from the log).
const pgbenchWarmUp = time.Second

// pgbenchResult is one pgbench run.
type pgbenchResult struct {
	TPS      float64
	Txns     int
	P50, P99 time.Duration
	Failed   int
}

// runOne runs one pgbench measurement and reads its latency log.
func runOne(ctx context.Context, t *target, login, dir, name, scriptText string, clients int, d time.Duration) (pgbenchResult, error) {
	var res pgbenchResult
	path := filepath.Join(dir, name+".pgbench")
	if err := os.WriteFile(path, []byte(scriptText), 0o644); err != nil { // #nosec G306 -- a script
		return res, err
	}
	logDir := filepath.Join(dir, name+".log")
	_ = os.RemoveAll(logDir)
	if err := os.MkdirAll(logDir, 0o755); err != nil { // #nosec G301
		return res, err
	}
	u := t.superURL
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	threads := min(clients, 2)
	args := []string{"-h", u.Hostname(), "-p", port, "-U", login, "-n", "-M", "prepared",
		"-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads), "-T", strconv.Itoa(int((d + pgbenchWarmUp).Seconds())),
		"-l", "--log-prefix", filepath.Join(logDir, "tx"), "-f", path,
		"-D", "role=" + map[bool]string{true: db.AppRole, false: roleIdeal}[login == roleAPI],
		"-D", "claimsfmt=" + claimsFormat(), "-D", "skip=0", "-D", "limit=20", t.dbName()}
	cmd := exec.CommandContext(ctx, "pgbench", args...) // #nosec G204 -- our arguments
	cmd.Env = append(os.Environ(), "PGPASSWORD="+t.rolePassword, "PGSSLMODE=disable", "PGAPPNAME=huey-bench")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(dir, name+".out"), out, 0o644) // #nosec G306
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if err != nil || strings.Contains(string(out), "aborted") {
		return res, fmt.Errorf("pgbench %s: %v\n%s", name, err, tail(string(out), 12))
	}
	st, err := parsePgbenchSummary(string(out))
	if err != nil {
		return res, fmt.Errorf("pgbench %s: %w\n%s", name, err, tail(string(out), 12))
	}
	res.Failed = st.failed
	recs, err := readLatencyLogs(logDir)
	if err != nil {
		return res, err
	}
	var lat []time.Duration
	res.TPS, lat = steadyState(recs, pgbenchWarmUp)
	res.Txns = len(lat)
	res.P50, res.P99 = percentile(lat, 50), percentile(lat, 99)
	return res, nil
}

type pgbenchSummary struct {
	tps    float64
	failed int
}

var (
	tpsRE    = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
	failedRE = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
)

// parsePgbenchSummary reads tps and failures from pgbench's report.
func parsePgbenchSummary(out string) (pgbenchSummary, error) {
	var s pgbenchSummary
	m := tpsRE.FindStringSubmatch(out)
	if m == nil {
		return s, errors.New("no tps line in pgbench's output")
	}
	s.tps, _ = strconv.ParseFloat(m[1], 64)
	if m := failedRE.FindStringSubmatch(out); m != nil {
		s.failed, _ = strconv.Atoi(m[1])
	}
	return s, nil
}

// txRecord is one transaction of a pgbench latency log.
type txRecord struct {
	latency time.Duration
	end     int64 // microseconds since the epoch
}

// readLatencyLogs reads every per-transaction log file in dir (one per
// pgbench thread).
func readLatencyLogs(dir string) ([]txRecord, error) {
	files, err := filepath.Glob(filepath.Join(dir, "tx.*"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pgbench latency log in %s", dir)
	}
	var all []txRecord
	for _, f := range files {
		fh, err := os.Open(f) // #nosec G304 -- our own log
		if err != nil {
			return nil, err
		}
		recs, err := parseLatencyLog(bufio.NewScanner(fh))
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		all = append(all, recs...)
	}
	return all, nil
}

// parseLatencyLog reads pgbench -l lines (without -R):
// `client_id transaction_no time script_no time_epoch time_us`, time being
// the latency in microseconds and time_epoch.time_us the transaction's end.
// Failed or skipped transactions (no numeric latency) are left out.
func parseLatencyLog(sc *bufio.Scanner) ([]txRecord, error) {
	var out []txRecord
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) < 6 {
			return nil, fmt.Errorf("line %d: want 6 fields, got %q", line, sc.Text())
		}
		us, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			continue
		}
		sec, err1 := strconv.ParseInt(f[4], 10, 64)
		frac, err2 := strconv.ParseInt(f[5], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("line %d: bad timestamp in %q", line, sc.Text())
		}
		out = append(out, txRecord{latency: time.Duration(us) * time.Microsecond, end: sec*1_000_000 + frac})
	}
	return out, sc.Err()
}

// steadyState drops the transactions that ended in the first warm of the
// run (connections, statement preparation, cold caches) and returns the
// rest's rate and latencies.
func steadyState(recs []txRecord, warm time.Duration) (tps float64, lat []time.Duration) {
	if len(recs) == 0 {
		return 0, nil
	}
	start, last := int64(math.MaxInt64), int64(0)
	for _, r := range recs {
		start = min(start, r.end-r.latency.Microseconds())
		last = max(last, r.end)
	}
	from := start + warm.Microseconds()
	for _, r := range recs {
		if r.end >= from {
			lat = append(lat, r.latency)
		}
	}
	if last <= from {
		return 0, lat
	}
	return float64(len(lat)) / (float64(last-from) / 1e6), lat
}

// percentile is the nearest-rank p-th percentile (0 for no samples).
func percentile(xs []time.Duration, p float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s)) + 0.999999999)
	rank = max(1, min(rank, len(s)))
	return s[rank-1]
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runPgbench runs own and ideal SQL for (a) and (b) at every concurrency.
func runPgbench(ctx context.Context, t *target, o options, dir string, r *report) error {
	type work struct {
		row, kind string
		stmts     []stmt
		isbn      bool
		login     string
		school    int // 0: a random school per transaction
	}
	works := []work{
		{"a", "own", ownEdition(), true, roleAPI, 0}, {"a", "ideal", idealEdition(), true, roleIdeal, 0},
		{"b", "own", ownItems(), false, roleAPI, 0}, {"b", "ideal", idealItems(), false, roleIdeal, 0},
		// (b) on the "big" school's collection (BigItems items): the page must
		// cost about what it costs at Items items (issue 11 item 2)
		{"b-big", "own", ownItems(), false, roleAPI, o.size.Schools + 1},
	}
	for k, c := range o.conc {
		for _, w := range works {
			if w.row == "b-big" && k > 0 {
				continue // one concurrency is enough for the size ratio
			}
			text, err := script(o.size, w.stmts, w.isbn, w.school)
			if err != nil {
				return fmt.Errorf("(%s) %s SQL: %w", w.row, w.kind, err)
			}
			name := fmt.Sprintf("%s-%s-c%d", w.row, w.kind, c)
			say("pgbench %s: (%s) %s SQL, %d clients, %s", name, w.row, w.kind, c, o.duration)
			res, err := runOne(ctx, t, w.login, dir, name, text, c, o.duration)
			if err != nil {
				return err
			}
			r.setPgbench(w.row, w.kind, c, res)
		}
	}
	return nil
}
