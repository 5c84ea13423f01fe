//go:build unix

package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// requestURL resolves a script's URLPATH against $URL, the address of the
// last dev started; a full URL is used as it is.
func requestURL(ts *testscript.TestScript, p string) string {
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		return p
	}
	base := ts.Getenv("URL")
	if base == "" {
		ts.Fatalf("$URL is not set: run startdev first, or give a full URL")
	}
	if !strings.HasPrefix(p, "/") {
		ts.Fatalf("URL path %q must start with /", p)
	}
	return base + p
}

func newClient(ts *testscript.TestScript, conns int) *http.Client {
	return &http.Client{
		Timeout: deadline(ts),
		Transport: &http.Transport{
			MaxIdleConnsPerHost: conns,
			DisableCompression:  true,
		},
		// Scripts see exactly what bgfn answered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// cmdHTTP sends one request to $URL+PATH and stores the status in $STATUS,
// the time to the end of the body in $ELAPSED_MS, the status line and
// headers (sorted, one "Key: value" a line) in $WORK/headers, and the body
// in $WORK/body or the -o file. It prints the status code. -H may repeat;
// -d sends DATA and -f a file's content as the body. No Content-Type is
// added: set one with -H.
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: http METHOD URLPATH [-H 'K: V']... [-d DATA | -f FILE] [-o FILE]")
	}
	method, target := args[0], requestURL(ts, args[1])
	out := filepath.Join(ts.Getenv("WORK"), "body")
	var body io.Reader
	header := http.Header{}
	for rest := args[2:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 {
			ts.Fatalf("http: %s needs a value", rest[0])
		}
		switch v := rest[1]; rest[0] {
		case "-H":
			k, val, ok := strings.Cut(v, ":")
			if !ok {
				ts.Fatalf("http: header %q is not 'Key: value'", v)
			}
			header.Add(strings.TrimSpace(k), strings.TrimSpace(val))
		case "-d":
			body = strings.NewReader(v)
		case "-f":
			b, err := os.ReadFile(ts.MkAbs(v))
			ts.Check(err)
			body = bytes.NewReader(b)
		case "-o":
			out = ts.MkAbs(v)
		default:
			ts.Fatalf("http: unknown option %s", rest[0])
		}
	}
	req, err := http.NewRequest(method, target, body)
	ts.Check(err)
	for k, vs := range header {
		if strings.EqualFold(k, "Host") {
			req.Host = vs[0]
			continue
		}
		req.Header[k] = vs
	}
	c := newClient(ts, 1)
	defer c.CloseIdleConnections()
	loadMu.Lock()
	defer loadMu.Unlock()
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		ts.Fatalf("%s %s: %v", method, target, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		ts.Fatalf("%s %s: read body: %v", method, target, err)
	}
	ts.Check(os.WriteFile(out, data, 0o644))
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "headers"), formatHeaders(resp), 0o644))
	ts.Setenv("STATUS", strconv.Itoa(resp.StatusCode))
	ts.Setenv("ELAPSED_MS", strconv.FormatInt(elapsed.Milliseconds(), 10))
	ts.Logf("%s %s: %s in %v, %d bytes", method, shortTarget(target), resp.Status, elapsed.Round(100*time.Microsecond), len(data))
	fmt.Fprintln(ts.Stdout(), resp.StatusCode)
}

// shortTarget cuts a URL for the script's log: a query of 100,000
// parameters is a megabyte.
func shortTarget(u string) string {
	if len(u) <= 300 {
		return u
	}
	return fmt.Sprintf("%s…(%d bytes)", u[:300], len(u))
}

func formatHeaders(resp *http.Response) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", resp.Proto, resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.Bytes()
}

// cmdStatus asserts the status of the last http request.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: status N")
	}
	got := ts.Getenv("STATUS")
	if got == "" {
		ts.Fatalf("status: no http request was made")
	}
	if (got == args[0]) == neg {
		body, _ := os.ReadFile(filepath.Join(ts.Getenv("WORK"), "body"))
		if neg {
			ts.Fatalf("status is %s, want anything else; body:\n%s", got, body)
		}
		ts.Fatalf("status is %s, want %s; body:\n%s", got, args[0], body)
	}
}

// cmdElapsedUnder asserts $ELAPSED_MS (or the named variable) < MS. The
// environment variable BGFN_TIMING_SCALE (a factor, default 1) stretches
// every limit for machines too loaded to keep them.
func cmdElapsedUnder(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: elapsed-under MS [VAR]")
	}
	limit, err := strconv.ParseFloat(args[0], 64)
	if err != nil || limit <= 0 {
		ts.Fatalf("elapsed-under: invalid limit %q", args[0])
	}
	if f := os.Getenv("BGFN_TIMING_SCALE"); f != "" {
		scale, err := strconv.ParseFloat(f, 64)
		if err != nil || scale <= 0 {
			ts.Fatalf("invalid BGFN_TIMING_SCALE %q: want a positive factor such as 3", f)
		}
		limit *= scale
	}
	v := "ELAPSED_MS"
	if len(args) == 2 {
		v = args[1]
	}
	got, err := strconv.ParseInt(ts.Getenv(v), 10, 64)
	if err != nil {
		ts.Fatalf("elapsed-under: $%s is %q, not a number of milliseconds", v, ts.Getenv(v))
	}
	if float64(got) >= limit {
		ts.Fatalf("$%s is %d ms, want under %g ms", v, got, limit)
	}
}

// cmdParallel sends N requests at once and asserts every one answers 2xx.
// It sets $WALL_MS (and $ELAPSED_MS) to the time until the last answer and
// prints the count of each status and how many distinct bodies there were
// ("distinct bodies: K"), which for a function answering its pid is the
// number of workers that served.
func cmdParallel(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: parallel N METHOD URLPATH")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		ts.Fatalf("parallel: invalid count %q", args[0])
	}
	method, target := args[1], requestURL(ts, args[2])
	c := newClient(ts, n)
	defer c.CloseIdleConnections()
	loadMu.RLock()
	defer loadMu.RUnlock()
	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequest(method, target, nil)
			if err != nil {
				answers[i].err = err
				return
			}
			resp, err := c.Do(req)
			if err != nil {
				answers[i].err = err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers[i] = answer{status: resp.StatusCode, body: string(b), err: err}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	ts.Setenv("WALL_MS", strconv.FormatInt(wall.Milliseconds(), 10))
	ts.Setenv("ELAPSED_MS", strconv.FormatInt(wall.Milliseconds(), 10))
	counts := map[int]int{}
	bodies := map[string]bool{}
	var failures []string
	for i, a := range answers {
		switch {
		case a.err != nil:
			failures = append(failures, fmt.Sprintf("request %d: %v", i, a.err))
		case a.status < 200 || a.status > 299:
			failures = append(failures, fmt.Sprintf("request %d: status %d: %s", i, a.status, a.body))
		}
		if a.err == nil {
			counts[a.status]++
			bodies[a.body] = true
		}
	}
	statuses := make([]int, 0, len(counts))
	for s := range counts {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	for _, s := range statuses {
		fmt.Fprintf(ts.Stdout(), "%d: %d\n", s, counts[s])
	}
	fmt.Fprintf(ts.Stdout(), "distinct bodies: %d\n", len(bodies))
	ts.Logf("%d × %s %s in %v", n, method, target, wall.Round(time.Millisecond))
	if len(failures) > 0 {
		if len(failures) > 5 {
			failures = append(failures[:5], fmt.Sprintf("and %d more", len(failures)-5))
		}
		ts.Fatalf("%d of %d requests failed:\n%s", len(failures), n, strings.Join(failures, "\n"))
	}
}

// cmdPidGone reads a pid from FILE (decimal text, or the number at JSONPATH
// in a JSON file) and waits until neither that process nor any process of
// its group is left. Zombies count as gone: they run nothing and hold no
// port. With ! it asserts that the process is alive now, so that a script
// can show the pid it later expects gone was real.
func cmdPidGone(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: pidgone FILE [JSONPATH]")
	}
	text := strings.TrimSpace(ts.ReadFile(args[0]))
	if len(args) == 2 {
		text = jsonString(ts, args[0], args[1])
	}
	pid, err := strconv.Atoi(text)
	if err != nil || pid <= 1 {
		ts.Fatalf("pidgone: %s holds %q, not a pid", args[0], text)
	}
	if neg {
		if processGone(pid) {
			ts.Fatalf("process %d is not running, want it alive", pid)
		}
		return
	}
	if !poll(ts, func() bool { return processGone(pid) && groupGone(pid) }) {
		ts.Fatalf("process %d or a process of its group is still running after %v: %s", pid, deadline(ts), describeGroup(pid))
	}
}

// processGone reports whether pid no longer runs.
func processGone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	state, _, ok := procStat(pid)
	return ok && state == "Z"
}

// groupGone reports whether no process of the group pgid runs.
func groupGone(pgid int) bool {
	if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
		return true
	}
	live, ok := groupMembers(pgid)
	return ok && len(live) == 0
}

// procFields returns the fields of /proc/PID/stat after the command name
// (Linux): [0] state, [1] ppid, [2] pgrp, [11] utime, [12] stime.
func procFields(pid int) ([]string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, false
	}
	// "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(string(b[i+1:]))
	return f, len(f) > 12
}

// procStat reads the state and process group of pid from /proc (Linux).
func procStat(pid int) (state string, pgrp int, ok bool) {
	f, ok := procFields(pid)
	if !ok {
		return "", 0, false
	}
	pgrp, err := strconv.Atoi(f[2])
	return f[0], pgrp, err == nil
}

// allPids lists the processes in /proc; ok is false where there is none.
func allPids() (pids []int, ok bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, true
}

// groupMembers lists the live (not zombie) processes of group pgid; ok is
// false where /proc cannot tell.
func groupMembers(pgid int) (live []int, ok bool) {
	pids, ok := allPids()
	if !ok {
		return nil, false
	}
	for _, pid := range pids {
		if state, pgrp, ok := procStat(pid); ok && pgrp == pgid && state != "Z" {
			live = append(live, pid)
		}
	}
	return live, true
}

// treeCPU is the CPU time, in clock ticks, that pid and its descendants
// (bgfn dev and its workers) have used; ok is false without /proc.
func treeCPU(root int) (ticks int64, ok bool) {
	pids, ok := allPids()
	if !ok {
		return 0, false
	}
	parent := map[int]int{}
	cpu := map[int]int64{}
	for _, pid := range pids {
		f, ok := procFields(pid)
		if !ok {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		cpu[pid] = u + s
	}
	for pid, t := range cpu {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				ticks += t
				break
			}
		}
	}
	return ticks, true
}

func describeGroup(pgid int) string {
	live, ok := groupMembers(pgid)
	if !ok {
		return "(no /proc to tell which)"
	}
	var parts []string
	for _, pid := range live {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		parts = append(parts, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")))
	}
	return "live: " + strings.Join(parts, "; ")
}

// absent is the VALUE jsonfield takes for "no such field".
const absent = "<absent>"

// jsonLookup decodes FILE ("stdout" and "stderr" work too) and returns the
// value at a dotted path (see lookupPath).
func jsonLookup(ts *testscript.TestScript, file, path string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile(file)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("%s is not JSON: %v", file, err)
	}
	return lookupPath(v, path)
}

// jsonText renders a JSON value for comparison: a string as its text, a
// number as written, true/false/null, and objects and arrays as compact
// JSON.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonString(ts *testscript.TestScript, file, path string) string {
	v, ok := jsonLookup(ts, file, path)
	if !ok {
		ts.Fatalf("%s has no field %s", file, path)
	}
	return jsonText(v)
}

// cmdJSONField asserts that the value at PATH in FILE is VALUE (<absent>:
// that there is none). With ! it asserts it is something else.
func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: jsonfield FILE PATH VALUE")
	}
	file, path, want := args[0], args[1], args[2]
	v, ok := jsonLookup(ts, file, path)
	got := absent
	if ok {
		got = jsonText(v)
	}
	if (got == want) == neg {
		if neg {
			ts.Fatalf("%s: %s is %q, want anything else", file, path, got)
		}
		ts.Fatalf("%s: %s is %q, want %q", file, path, got, want)
	}
}

// cmdJSONEnv sets the variable VAR to the value at PATH in FILE.
func cmdJSONEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonenv VAR FILE PATH")
	}
	ts.Setenv(args[0], jsonString(ts, args[1], args[2]))
}

// cmdFromHex decodes a hex dump (whitespace ignored) into a binary file: a
// txtar file cannot hold bytes without a final newline, nor be trusted to
// keep control bytes through editors and git.
func cmdFromHex(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: fromhex IN OUT")
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(ts.ReadFile(args[0])), ""))
	if err != nil {
		ts.Fatalf("fromhex %s: %v", args[0], err)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
}

// cmdGenFile writes a file of SIZE bytes ('x' repeated, ending in a
// newline): a plain number, or one ending in K (KiB) or M (MiB), for
// request bodies too large to keep in a txtar archive.
func cmdGenFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: genfile FILE SIZE")
	}
	s, unit := args[1], int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		s, unit = strings.TrimSuffix(s, "K"), 1<<10
	case strings.HasSuffix(s, "M"):
		s, unit = strings.TrimSuffix(s, "M"), 1<<20
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		ts.Fatalf("genfile: invalid size %q: use a number of bytes, or one ending in K or M", args[1])
	}
	b := bytes.Repeat([]byte{'x'}, int(n*unit))
	b[len(b)-1] = '\n'
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// cmdHeaderEnv sets VAR to the value of header NAME in the last http
// answer, failing when it has none.
func cmdHeaderEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: headerenv VAR NAME")
	}
	for _, line := range strings.Split(ts.ReadFile("headers"), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok && strings.EqualFold(k, args[1]) {
			ts.Setenv(args[0], v)
			return
		}
	}
	ts.Fatalf("the last http answer has no %s header:\n%s", args[1], ts.ReadFile("headers"))
}

// cmdWaitJSON polls GET URLPATH (every 100 ms, slower than the waiting
// commands' 20 ms: its answers can be large) until it answers 200 with
// VALUE at PATH in its JSON, as jsonfield compares them (~REGEXP: a value
// that matches). The last answer
// is left in $WORK/body.
func cmdWaitJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitjson URLPATH PATH VALUE")
	}
	target, path, want := requestURL(ts, args[0]), args[1], args[2]
	out := filepath.Join(ts.Getenv("WORK"), "body")
	c := newClient(ts, 1)
	defer c.CloseIdleConnections()
	got := "(no answer yet)"
	get := func() {
		loadMu.RLock()
		defer loadMu.RUnlock()
		resp, err := c.Get(target)
		if err != nil {
			got = err.Error()
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			got = err.Error()
			return
		}
		ts.Check(os.WriteFile(out, b, 0o644))
		if resp.StatusCode != http.StatusOK {
			got = resp.Status
			return
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			got = "not JSON: " + err.Error()
			return
		}
		got = absent
		if x, ok := lookupPath(v, path); ok {
			got = jsonText(x)
		}
	}
	match := func() bool { return got == want }
	if re, ok := strings.CutPrefix(want, "~"); ok {
		// ~REGEXP: the value (as jsonfield prints it) must match.
		rx := regexp.MustCompile(re)
		match = func() bool { return rx.MatchString(got) }
	}
	end := time.Now().Add(deadline(ts))
	for {
		get()
		if match() {
			return
		}
		if time.Now().After(end) {
			ts.Fatalf("GET %s: %s is %q after %v, want %q; the last answer is in $WORK/body", target, path, got, deadline(ts), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lookupPath returns the value at a dotted path in a decoded JSON value:
// object keys, array indexes from 0, or K=V for the first element of an
// array whose field K is V (name=hello), so that a script need not depend
// on a list's order. The empty path is the value.
func lookupPath(v any, path string) (any, bool) {
	if path == "" || path == "." {
		return v, true
	}
	for _, key := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				return nil, false
			}
		case []any:
			if k, want, ok := strings.Cut(key, "="); ok {
				if v, ok = findElem(x, k, want); !ok {
					return nil, false
				}
				continue
			}
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// findElem returns the first element of list that is an object whose
// field k renders as want.
func findElem(list []any, k, want string) (any, bool) {
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if f, ok := m[k]; ok && jsonText(f) == want {
				return e, true
			}
		}
	}
	return nil, false
}

// cmdJSONLen asserts that the array (or object) at PATH in FILE, or the
// whole document, has N elements.
func cmdJSONLen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: jsonlen FILE [PATH] N")
	}
	file, path, n := args[0], "", args[len(args)-1]
	if len(args) == 3 {
		path = args[1]
	}
	want, err := strconv.Atoi(n)
	if err != nil || want < 0 {
		ts.Fatalf("jsonlen: invalid count %q", n)
	}
	v, ok := jsonLookup(ts, file, path)
	if !ok {
		ts.Fatalf("%s has no field %s", file, path)
	}
	got := -1
	switch x := v.(type) {
	case []any:
		got = len(x)
	case map[string]any:
		got = len(x)
	default:
		ts.Fatalf("%s: %q is %s, not an array or object", file, path, jsonText(v))
	}
	if got != want {
		ts.Fatalf("%s: %q has %d elements, want %d", file, path, got, want)
	}
}

// cmdJSONMatch asserts that the value at PATH in FILE, as jsonfield
// renders it, matches REGEXP (anchored at both ends).
func cmdJSONMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonmatch FILE PATH REGEXP")
	}
	re, err := regexp.Compile(`\A(?:` + args[2] + `)\z`)
	if err != nil {
		ts.Fatalf("jsonmatch: %v", err)
	}
	got := jsonString(ts, args[0], args[1])
	if !re.MatchString(got) {
		ts.Fatalf("%s: %s is %q, want a match for %q", args[0], args[1], got, args[2])
	}
}

// cmdJSONLine writes to OUT the one line of the JSON-lines FILE whose
// value at PATH is VALUE, failing when no line or several have it.
func cmdJSONLine(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: jsonline FILE PATH VALUE OUT")
	}
	file, path, want, out := args[0], args[1], args[2], args[3]
	var found []string
	for i, line := range strings.Split(ts.ReadFile(file), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			ts.Fatalf("%s:%d is not JSON: %v", file, i+1, err)
		}
		if x, ok := lookupPath(v, path); ok && jsonText(x) == want {
			found = append(found, line)
		}
	}
	if len(found) != 1 {
		ts.Fatalf("%s has %d lines with %s %q, want 1:\n%s", file, len(found), path, want, ts.ReadFile(file))
	}
	ts.Check(os.WriteFile(ts.MkAbs(out), []byte(found[0]+"\n"), 0o644))
}

// cmdWaitFile waits until FILE exists and is not empty (a worker wrote its
// pid, say).
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	p := ts.MkAbs(args[0])
	if !poll(ts, func() bool {
		fi, err := os.Stat(p)
		return err == nil && fi.Size() > 0
	}) {
		ts.Fatalf("%s did not appear within %v", args[0], deadline(ts))
	}
}

// cmdWaitBody sends METHOD PATH again every 50 ms until its body matches
// REGEXP (multi-line) or the deadline passes; the last body is left in
// $WORK/body, as the http command leaves it. Reload scripts use it to wait
// for an edit to be served.
func cmdWaitBody(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitbody METHOD PATH REGEXP")
	}
	method, target := args[0], requestURL(ts, args[1])
	re, err := regexp.Compile("(?m)" + args[2])
	if err != nil {
		ts.Fatalf("waitbody: %v", err)
	}
	c := newClient(ts, 1)
	defer c.CloseIdleConnections()
	out := filepath.Join(ts.Getenv("WORK"), "body")
	last := "(no answer)"
	end := time.Now().Add(deadline(ts))
	for {
		req, err := http.NewRequest(method, target, nil)
		ts.Check(err)
		if resp, err := c.Do(req); err == nil {
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ts.Check(os.WriteFile(out, data, 0o644))
			if re.Match(data) {
				return
			}
			last = resp.Status + " " + string(data)
		} else {
			last = err.Error()
		}
		if time.Now().After(end) {
			ts.Fatalf("waitbody: %s %s never matched %q within %v; last answer: %s", method, args[1], args[2], deadline(ts), last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdStopped waits until FILE stops growing: the code that appends to it
// (a heartbeat) no longer runs. "Stopped" means unchanged for 300 ms.
func cmdStopped(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stopped FILE")
	}
	p := ts.MkAbs(args[0])
	size := func() int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return -1
		}
		return fi.Size()
	}
	last, since := size(), time.Now()
	if !poll(ts, func() bool {
		if s := size(); s != last {
			last, since = s, time.Now()
		}
		return last >= 0 && time.Since(since) >= 300*time.Millisecond
	}) {
		ts.Fatalf("%s still grows after %v: the code that writes it still runs", args[0], deadline(ts))
	}
}
