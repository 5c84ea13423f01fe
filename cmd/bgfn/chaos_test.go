//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/journal"
	"github.com/bgfn-dev/bgfn/internal/records"
)

// TestChaos is issue 16's chaos test: the real bgfn binary (this test
// binary, on PATH as bgfn) on testdata/sites/chaos under chaosPOSTs
// background POSTs at c50, with
//
//   - a Node host SIGKILLed during the load, twice (once per bgfn): JS
//     instances are worker threads in shared hosts, so killing a host kills
//     every instance in it, and their attempts fail as "worker stopped
//     with its node host" and are retried at once (--retry-scale 0). Two
//     kills in all, so no run can fail three times because of them;
//   - bgfn itself SIGKILLed halfway, and restarted with --resume on the
//     same port while the clients retry what was not answered 202;
//   - a process-isolated worker SIGSTOPped past its timeout: the timeout
//     kills its group, and the run is retried and succeeds.
//
// Every id answered 202 must end succeeded (lost = 0); an id that ran to
// completion twice must have a failed or interrupted attempt (the
// at-least-once case); no process is left behind; and the long-running
// bgfn (the second) holds the same file descriptors before and after its
// part of the load. It prints its figures with -v.
func TestChaos(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not on PATH")
	}
	c := newChaos(t)
	start := time.Now()
	c.startDev(false)

	l := c.newLoad(chaosPOSTs)
	l.start()
	c.waitAccepted(chaosPOSTs / 4)
	c.killHost()
	c.waitAccepted(chaosPOSTs / 2)

	// bgfn dies with its queue full and POSTs in flight: their clients
	// get errors and send them again once the gate opens (a POST bgfn
	// journaled whose 202 it did not send runs all the same).
	hosts := c.hostPids()
	c.killDev()
	l.gate.Lock()
	c.waitNoProcesses(hosts)
	c.startDev(true)
	c.checkBanner()
	c.waitFinal(c.acceptedIDs())
	fdsBefore := c.quietFDs()
	l.gate.Unlock()

	c.waitAccepted(chaosPOSTs * 3 / 4)
	c.killHost()
	l.wait()
	c.waitFinal(c.acceptedIDs())
	c.stopAndCont()
	fdsAfter := c.quietFDs()
	c.stopDev()
	c.waitNoProcesses(nil)

	f := c.figures()
	t.Logf("chaos: %d POSTs at c%d in %s: accepted %d, succeeded %d, retried %d (%d attempts failed as their worker was killed), "+
		"interrupted during an attempt by the bgfn kill %d (%d runs resumed in all), ran to completion twice %d, journaled but 202 lost with bgfn %d, lost %d",
		chaosPOSTs, chaosConcurrency, time.Since(start).Round(100*time.Millisecond), f.accepted, f.succeeded, f.retried, f.workerExited,
		f.interrupted, f.resumed, f.twice, f.unacked, f.lost)
	t.Logf("chaos: bgfn fds (less 3 per Node host) before %v, after %v; POSTs not answered 202 while bgfn was down %d; journal at the end %d bytes",
		fdsBefore, fdsAfter, l.refused.Load(), c.journalSize())
	if f.lost > 0 {
		t.Errorf("lost %d of %d accepted invocations (first: %s)", f.lost, f.accepted, f.firstLost)
	}
	if f.workerExited == 0 {
		t.Errorf("no attempt failed because its worker was killed: the host kills missed")
	}
	if f.interrupted == 0 {
		t.Errorf("no run was interrupted by the bgfn kill")
	}
	if f.badTwice != "" {
		t.Errorf("ran to completion twice without a failed or interrupted attempt: %s", f.badTwice)
	}
	if fdsAfter.norm() > fdsBefore.norm() {
		t.Errorf("bgfn holds %d more file descriptors after the load: only before %v, only after %v", fdsAfter.norm()-fdsBefore.norm(), without(fdsBefore.list, fdsAfter.list), without(fdsAfter.list, fdsBefore.list))
	}
	c.checkJournalEmpty()
}

// chaosConcurrency is the number of clients posting at once.
const chaosConcurrency = 50

// chaos is one run of the chaos test.
type chaos struct {
	t       *testing.T
	bin     string
	site    string
	out     string // $CHAOS_DIR: done.log, once-background's files
	port    int
	url     string
	client  *http.Client
	devs    int
	dev     *exec.Cmd
	devDone chan struct{}
	devErr  error
	log     string

	mu       sync.Mutex
	accepted []string
}

func newChaos(t *testing.T) *chaos {
	bin, err := exec.LookPath("bgfn")
	if err != nil {
		t.Fatalf("bgfn (this test binary) is not on PATH: %v", err)
	}
	dir := t.TempDir()
	c := &chaos{t: t, bin: bin, site: filepath.Join(dir, "site"), out: filepath.Join(dir, "out")}
	copyDir(t, filepath.Join("..", "..", "testdata", "sites", "chaos"), c.site)
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.url = "http://127.0.0.1:" + strconv.Itoa(c.port)
	c.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: chaosConcurrency}}
	t.Cleanup(func() {
		if c.dev != nil && !c.exited() {
			syscall.Kill(-c.dev.Process.Pid, syscall.SIGKILL)
			<-c.devDone
		}
	})
	return c
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// poll calls done every 10ms until it reports true, failing the test with
// what after d.
func (c *chaos) poll(d time.Duration, what string, done func() bool) {
	c.t.Helper()
	end := time.Now().Add(d)
	for !done() {
		if time.Now().After(end) {
			c.t.Fatalf("%s: not after %v; bgfn's log ends:\n%s", what, d, tail(c.log, 30))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (c *chaos) exited() bool {
	select {
	case <-c.devDone:
		return true
	default:
		return false
	}
}

// startDev starts bgfn dev on the site and the chosen port, in its own
// process group, and waits until it answers.
func (c *chaos) startDev(resume bool) {
	c.t.Helper()
	c.devs++
	c.log = filepath.Join(c.out, fmt.Sprintf("bgfn-%d.log", c.devs))
	logf, err := os.Create(c.log)
	if err != nil {
		c.t.Fatal(err)
	}
	args := []string{"dev", "--dir", c.site, "--port", strconv.Itoa(c.port), "--no-watch", "--retry-scale", "0",
		"--background-timeout", "3s", "--process-isolation", "once-background", "--idle-timeout", "1s",
		"--records", "10000", "--journal-max-size", "256000", "--color", "never"}
	if resume {
		args = append(args, "--resume")
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "CHAOS_DIR="+c.out, "NO_COLOR=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.dev, c.devDone = cmd, make(chan struct{})
	go func() {
		c.devErr = cmd.Wait()
		logf.Close()
		close(c.devDone)
	}()
	c.poll(30*time.Second, "bgfn dev answers", func() bool {
		if c.exited() {
			c.t.Fatalf("bgfn dev exited at start (%v):\n%s", c.devErr, tail(c.log, 30))
		}
		resp, err := c.client.Get(c.url + "/.bgfn/api/info")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// load is chaosConcurrency clients sending n POSTs to job-background. A
// POST that is not answered 202 (bgfn is down, or went down during it) is
// sent again once the gate lets it.
type load struct {
	c       *chaos
	n       int
	next    atomic.Int64
	refused atomic.Int64
	gate    sync.RWMutex
	wg      sync.WaitGroup
}

func (c *chaos) newLoad(n int) *load { return &load{c: c, n: n} }

func (l *load) start() {
	for range chaosConcurrency {
		l.wg.Go(l.worker)
	}
}

func (l *load) worker() {
	// 200 ms a run: while POSTs arrive in a burst a function runs one
	// attempt at a time, and the bgfn kill must find one in progress.
	body := []byte(`{"ms":200}`)
	for l.next.Add(1) <= int64(l.n) {
		end := time.Now().Add(60 * time.Second)
		for {
			l.gate.RLock()
			id, ok := l.post(body)
			l.gate.RUnlock()
			if ok {
				l.c.mu.Lock()
				l.c.accepted = append(l.c.accepted, id)
				l.c.mu.Unlock()
				break
			}
			l.refused.Add(1)
			if time.Now().After(end) {
				l.c.t.Errorf("a POST was not answered 202 for 60s")
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (l *load) post(body []byte) (string, bool) {
	req, _ := http.NewRequest(http.MethodPost, l.c.url+"/.netlify/functions/job-background", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.c.client.Do(req)
	if err != nil {
		return "", false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("X-Bgfn-Invocation-Id")
	return id, resp.StatusCode == http.StatusAccepted && id != ""
}

func (l *load) wait() { l.wg.Wait() }

func (c *chaos) acceptedIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.accepted)
}

func (c *chaos) waitAccepted(n int) {
	c.t.Helper()
	c.poll(60*time.Second, fmt.Sprintf("%d POSTs answered 202", n), func() bool { return len(c.acceptedIDs()) >= n })
}

// stats is what /.bgfn/api/stats says of the hosts and instances.
type stats struct {
	Hosts     []int `json:"hosts"`
	Instances struct {
		Live int `json:"live"`
	} `json:"instances"`
}

func (c *chaos) stats() (stats, error) {
	var st stats
	resp, err := c.client.Get(c.url + "/.bgfn/api/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (c *chaos) hostPids() []int {
	st, _ := c.stats()
	return st.Hosts
}

// killHost SIGKILLs one of bgfn's Node hosts, at random, with every
// instance it runs.
func (c *chaos) killHost() {
	c.t.Helper()
	var hosts []int
	c.poll(10*time.Second, "a Node host runs", func() bool { hosts = c.hostPids(); return len(hosts) > 0 })
	pid := hosts[rand.IntN(len(hosts))]
	c.t.Logf("SIGKILL Node host %d (of %v)", pid, hosts)
	syscall.Kill(pid, syscall.SIGKILL)
}

func (c *chaos) killDev() {
	c.t.Helper()
	c.t.Logf("SIGKILL bgfn dev %d with %d POSTs answered", c.dev.Process.Pid, len(c.acceptedIDs()))
	syscall.Kill(c.dev.Process.Pid, syscall.SIGKILL)
	<-c.devDone
}

// stopDev stops bgfn dev as Ctrl-C does and expects exit code 0.
func (c *chaos) stopDev() {
	c.t.Helper()
	syscall.Kill(c.dev.Process.Pid, syscall.SIGINT)
	select {
	case <-c.devDone:
	case <-time.After(20 * time.Second):
		c.t.Fatalf("bgfn dev still running 20s after SIGINT:\n%s", tail(c.log, 30))
	}
	if c.devErr != nil {
		c.t.Errorf("bgfn dev: %v after SIGINT, want exit 0:\n%s", c.devErr, tail(c.log, 30))
	}
}

// waitNoProcesses waits until no process of the test's site runs (a Node
// host or worker started by a bgfn that is gone), nor any of pids.
func (c *chaos) waitNoProcesses(pids []int) {
	c.t.Helper()
	var left []string
	c.poll(15*time.Second, "no process left behind", func() bool {
		left = c.siteProcesses(pids)
		return len(left) == 0
	})
}

// siteProcesses lists the live processes whose command line names the
// site's folder, and those of pids that still run.
func (c *chaos) siteProcesses(pids []int) []string {
	all, _ := allPids()
	var out []string
	for _, pid := range all {
		if pid == os.Getpid() {
			continue
		}
		state, _, ok := procStat(pid)
		if !ok || state == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte(c.site)) || slices.Contains(pids, pid) {
			out = append(out, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// checkBanner checks that the restarted bgfn listed what the killed one
// left unfinished and resumed it.
func (c *chaos) checkBanner() {
	c.t.Helper()
	c.poll(10*time.Second, "the banner lists the interrupted runs", func() bool {
		log, _ := os.ReadFile(c.log)
		return bytes.Contains(log, []byte("interrupted (bgfn stopped unexpectedly)")) && bytes.Contains(log, []byte("↻ resuming "))
	})
}

// history is the last record of each invocation in the site's
// invocations.jsonl, read as it grows.
type history struct {
	path string
	off  int64
	last map[string]*records.View
}

func (h *history) read() {
	f, err := os.Open(h.path)
	if err != nil {
		return
	}
	defer f.Close()
	f.Seek(h.off, io.SeekStart)
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			return // a partial line is read again next time
		}
		h.off += int64(len(line))
		v := new(records.View)
		if json.Unmarshal(line, v) == nil {
			h.last[v.ID] = v
		}
	}
}

func (c *chaos) history() *history {
	return &history{path: filepath.Join(c.site, ".netlify", "bgfn", "invocations.jsonl"), last: map[string]*records.View{}}
}

// waitFinal waits until each of ids has a final record in the history
// that is not interrupted (an interrupted one is resumed).
func (c *chaos) waitFinal(ids []string) {
	c.t.Helper()
	h := c.history()
	missing := 0
	c.poll(60*time.Second, "every accepted invocation has ended", func() bool {
		h.read()
		missing = 0
		for _, id := range ids {
			if v := h.last[id]; v == nil || v.Status == records.Interrupted {
				missing++
			}
		}
		return missing == 0
	})
}

// stopAndCont SIGSTOPs a process-isolated worker during its first attempt
// (1.5 s, under the 3 s timeout): the timeout fires, its process group is
// killed although it is stopped, and the run is retried and succeeds.
func (c *chaos) stopAndCont() {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url+"/.netlify/functions/once-background", strings.NewReader(`{"name":"stop","firstMs":1500}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		c.t.Fatalf("POST once-background: %v %v", resp, err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Bgfn-Invocation-Id")
	pidFile := filepath.Join(c.out, "stop.pid")
	var pid int
	c.poll(20*time.Second, "once-background wrote its pid", func() bool {
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(string(b))
		return pid > 0
	})
	stopped := time.Now()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		c.t.Fatalf("SIGSTOP worker %d: %v", pid, err)
	}
	var v *records.View
	c.poll(20*time.Second, "the stopped attempt times out", func() bool {
		v = c.record(id)
		return v != nil && len(v.Attempts) > 0 && v.Attempts[0].Status == records.TimedOut
	})
	c.poll(10*time.Second, "the stopped worker's group is killed", func() bool { return processGone(pid) && groupGone(pid) })
	// SIGCONT past the timeout finds nothing to wake.
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		c.t.Errorf("SIGCONT: %v", err)
	}
	c.poll(20*time.Second, "the timed-out run is retried and succeeds", func() bool {
		v = c.record(id)
		return v != nil && v.Status == records.Succeeded
	})
	c.t.Logf("SIGSTOP worker %d: attempt 1 %s after %v (limit 3s), attempt %d %s", pid, v.Attempts[0].Status,
		time.Duration(v.Attempts[0].DurationMs*float64(time.Millisecond)).Round(time.Millisecond), len(v.Attempts), v.Attempts[len(v.Attempts)-1].Status)
	if len(v.Attempts) != 2 || time.Since(stopped) < 1500*time.Millisecond {
		c.t.Errorf("the stopped run: %d attempts, want 2", len(v.Attempts))
	}
	if b, _ := os.ReadFile(filepath.Join(c.out, "stop.done")); string(b) != "stop\n" {
		c.t.Errorf("stop.done = %q: the stopped attempt must not have finished, the retry must have", b)
	}
}

func (c *chaos) record(id string) *records.View {
	resp, err := c.client.Get(c.url + "/.bgfn/api/invocations/" + id)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	v := new(records.View)
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(v) != nil {
		return nil
	}
	return v
}

// fds is what bgfn holds open, less the three pipes of each Node host
// (their number depends on the load).
type fds struct {
	n, hosts int
	list     []string
}

func (f fds) norm() int { return f.n - 3*f.hosts }

func (f fds) String() string { return fmt.Sprintf("%d (%d fds, %d hosts)", f.norm(), f.n, f.hosts) }

// quietFDs waits until bgfn runs no instance (--idle-timeout 1s) and holds
// no client connection, then counts its file descriptors.
func (c *chaos) quietFDs() fds {
	c.t.Helper()
	c.poll(30*time.Second, "every instance has stopped", func() bool {
		st, err := c.stats()
		return err == nil && st.Instances.Live == 0
	})
	c.client.CloseIdleConnections()
	var last fds
	same := 0
	c.poll(10*time.Second, "bgfn's file descriptors settle", func() bool {
		cur := c.countFDs()
		if cur.n == last.n && cur.hosts == last.hosts {
			same++
		} else {
			same = 0
		}
		last = cur
		return same >= 5
	})
	return last
}

func (c *chaos) countFDs() fds {
	dir := fmt.Sprintf("/proc/%d/fd", c.dev.Process.Pid)
	ents, _ := os.ReadDir(dir)
	f := fds{n: len(ents)}
	for _, e := range ents {
		target, _ := os.Readlink(filepath.Join(dir, e.Name()))
		f.list = append(f.list, target)
	}
	slices.Sort(f.list)
	// The stats request itself is a connection: closed before counting.
	st, _ := c.stats()
	c.client.CloseIdleConnections()
	f.hosts = len(st.Hosts)
	return f
}

// resumingLine is the banner's line about --resume.
var resumingLine = regexp.MustCompile(`↻ resuming (\d+) interrupted background run`)

// figures are the test's outcome.
type figures struct {
	accepted, succeeded, retried, workerExited, interrupted, resumed, twice, unacked, lost int
	firstLost, badTwice                                                                    string
}

func (c *chaos) figures() figures {
	h := c.history()
	h.read()
	done := map[string]int{}
	b, _ := os.ReadFile(filepath.Join(c.out, "done.log"))
	for _, id := range strings.Fields(string(b)) {
		done[id]++
	}
	var f figures
	if m := resumingLine.FindSubmatch([]byte(tail(filepath.Join(c.out, "bgfn-2.log"), 1<<20))); m != nil {
		f.resumed, _ = strconv.Atoi(string(m[1]))
	}
	ids := c.acceptedIDs()
	accepted := map[string]bool{}
	for _, id := range ids {
		accepted[id] = true
	}
	f.accepted = len(ids)
	for id, v := range h.last {
		if v.Function == "job-background" && !accepted[id] {
			f.unacked++ // journaled and run; its 202 died with bgfn
		}
	}
	for _, id := range ids {
		v := h.last[id]
		if v == nil || v.Status != records.Succeeded {
			f.lost++
			if f.firstLost == "" {
				f.firstLost = fmt.Sprintf("%s: %+v", id, v)
			}
			continue
		}
		f.succeeded++
		if len(v.Attempts) > 1 {
			f.retried++
		}
		troubled := false
		for _, a := range v.Attempts {
			switch {
			case a.Status == records.Interrupted:
				f.interrupted++
				troubled = true
			case a.Error != nil && strings.Contains(a.Error.Message, "node host"):
				f.workerExited++
				troubled = true
			case a.Status != records.Succeeded:
				troubled = true
			}
		}
		if done[id] > 1 {
			f.twice++
			if !troubled && f.badTwice == "" {
				f.badTwice = fmt.Sprintf("%s ran %d times: %+v", id, done[id], v.Attempts)
			}
		}
		if done[id] > len(v.Attempts) {
			f.badTwice = fmt.Sprintf("%s ran %d times in %d attempts", id, done[id], len(v.Attempts))
		}
	}
	return f
}

// journalSize is the journal's size now.
func (c *chaos) journalSize() int64 {
	fi, err := os.Stat(filepath.Join(c.site, ".netlify", "bgfn", "journal.jsonl"))
	if err != nil {
		return -1
	}
	return fi.Size()
}

// checkJournalEmpty: once everything has ended and bgfn has stopped, the
// journal holds no run, unfinished or resumable.
func (c *chaos) checkJournalEmpty() {
	c.t.Helper()
	j, rec, err := journal.Open(filepath.Join(c.site, ".netlify", "bgfn", "journal.jsonl"), journal.Options{})
	if err != nil {
		c.t.Fatalf("open the journal after the run: %v", err)
	}
	defer j.Close()
	if n, m := len(rec.Unfinished), len(j.Interrupted()); n+m > 0 || len(rec.Warnings) > 0 {
		c.t.Errorf("after the run the journal holds %d unfinished and %d interrupted runs (warnings %q)", n, m, rec.Warnings)
	}
}

// without lists what a holds and b does not.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
