//go:build unix

// The end-to-end tests: txtar scripts in testdata/script run the real bgfn
// binary (this test binary, installed on the scripts' PATH as "bgfn") against
// the fixture sites in testdata/sites. They drive bgfn dev with signals and
// process groups, so they run on Unix only.
//
// Besides testscript's builtins, scripts have these commands (see each
// function for details):
//
//	site NAME                          copy testdata/sites/NAME to $WORK/NAME (npm ci first if it has a lockfile)
//	bgfnexit CODE ARGS...              run bgfn, assert its exact exit code; sets $ELAPSED_MS
//	startdev NAME [K=V]... [ARGS...]   start `bgfn dev --port 0 ARGS`, wait for dev.json and warm workers, set $URL and $PORT
//	stopdev NAME [-INT|-TERM|-KILL]... signal it (each next signal once it logs "shutting down"), wait, assert exit 0 (or not, with !); sets $ELAPSED_MS
//	waitlog NAME REGEXP                wait until $WORK/NAME.log matches (with !: it does not, now)
//	http METHOD PATH [-H 'K: V']... [-d DATA | -f FILE] [-o FILE]
//	status N                           assert the last http status
//	elapsed-under MS [VAR]             assert $ELAPSED_MS (or $VAR) < MS
//	parallel N METHOD PATH             N concurrent requests, all 2xx; sets $WALL_MS
//	pidgone FILE [JSONPATH]            wait until the pid in FILE and its group are gone (with !: alive now)
//	waitfile FILE                      wait until FILE exists and is not empty
//	waitbody METHOD PATH REGEXP        send the request until its body matches (last body in $WORK/body)
//	stopped FILE                       wait until FILE stops growing (the heartbeat that writes it has stopped)
//	jsonfield FILE PATH VALUE          assert a JSON value (VALUE <absent>: no such field); PATH is a.0.b or a.K=V.b
//	jsonenv VAR FILE PATH              set $VAR to a JSON value
//	fromhex IN OUT                     decode a hex dump (whitespace ignored) into a binary file
//	genfile FILE SIZE                  write SIZE bytes (N, NK or NM) of 'x' for large request bodies
//	headerenv VAR NAME                 set $VAR to header NAME of the last http answer
//	waitjson URLPATH PATH VALUE        poll GET until its JSON has VALUE at PATH; the answer is in $WORK/body
//	jsonlen FILE [PATH] N              assert a JSON array (or object) has N elements
//	jsonmatch FILE PATH REGEXP         assert a JSON value matches REGEXP (anchored)
//	jsonline FILE PATH VALUE OUT       write the one line of a JSON-lines file with VALUE at PATH to OUT
//	pathwithout PROG                   drop the folders that hold PROG from $PATH (bgfn without node)
//
// Waiting commands poll until $DEADLINE (a Go duration, default 20s; the
// environment variable BGFN_SCRIPT_DEADLINE changes the default), never
// sleep for a fixed time.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/bgfn-dev/bgfn/internal/cli"
	"github.com/bgfn-dev/bgfn/internal/fixture"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"bgfn": func() { os.Exit(cli.Main(os.Args[1:], ui.System())) },
	})
}

func TestScript(t *testing.T) {
	sites, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sites"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		// [race]: the bgfn under test is race-built, several times slower.
		Condition: func(cond string) (bool, error) {
			if cond == "race" {
				return raceBuild, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, ".home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			if d := os.Getenv("BGFN_SCRIPT_DEADLINE"); d != "" {
				env.Setenv("DEADLINE", d)
			}
			env.Values[stateKey{}] = &scriptState{sites: sites, devs: make(map[string]*devProc)}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"site":          cmdSite,
			"bgfnexit":      cmdBgfnExit,
			"startdev":      cmdStartDev,
			"stopdev":       cmdStopDev,
			"waitlog":       cmdWaitLog,
			"http":          cmdHTTP,
			"status":        cmdStatus,
			"elapsed-under": cmdElapsedUnder,
			"parallel":      cmdParallel,
			"pidgone":       cmdPidGone,
			"waitfile":      cmdWaitFile,
			"waitbody":      cmdWaitBody,
			"stopped":       cmdStopped,
			"jsonfield":     cmdJSONField,
			"jsonenv":       cmdJSONEnv,
			"fromhex":       cmdFromHex,
			"genfile":       cmdGenFile,
			"headerenv":     cmdHeaderEnv,
			"waitjson":      cmdWaitJSON,
			"jsonlen":       cmdJSONLen,
			"jsonmatch":     cmdJSONMatch,
			"jsonline":      cmdJSONLine,
			"pathwithout":   cmdPathWithout,
			"streamget":     cmdStreamGet,
			"streamrss":     cmdStreamRSS,
			"atleast":       cmdAtLeast,
			"shortid":       cmdShortID,
			"below":         cmdBelow,
		},
	})
}

type stateKey struct{}

// scriptState is what one script's commands share.
type scriptState struct {
	sites string              // absolute testdata/sites
	devs  map[string]*devProc // running or stopped bgfn dev processes by name
}

func state(ts *testscript.TestScript) *scriptState {
	return ts.Value(stateKey{}).(*scriptState)
}

// deadline is how long waiting commands poll before they give up.
func deadline(ts *testscript.TestScript) time.Duration {
	s := ts.Getenv("DEADLINE")
	if s == "" {
		return 20 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		ts.Fatalf("invalid DEADLINE %q: want a positive Go duration such as 30s", s)
	}
	return d
}

// poll calls done every 20ms until it reports true or the deadline passes,
// and reports whether it did.
func poll(ts *testscript.TestScript, done func() bool) bool {
	end := time.Now().Add(deadline(ts))
	for {
		if done() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdSite copies the fixture site testdata/sites/NAME to $WORK/NAME, so
// scripts never touch the repository. Build output (.netlify) a developer
// may have left in the fixture is not copied. A fixture with a
// package-lock.json gets its packages from the npm registry (npm ci, once
// per lockfile, into the fixture's own node_modules, which git ignores),
// and the copy links to them.
func cmdSite(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: site NAME")
	}
	src := filepath.Join(state(ts).sites, args[0])
	dst := filepath.Join(ts.Getenv("WORK"), args[0])
	_, err := os.Stat(filepath.Join(src, "package-lock.json"))
	npm := err == nil
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && (d.Name() == ".netlify" || npm && rel == "node_modules"):
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s: only folders and regular files can be fixtures", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	ts.Check(err)
	if npm {
		ts.Check(fixture.NPMInstall(context.Background(), src))
		ts.Check(os.Symlink(filepath.Join(src, "node_modules"), filepath.Join(dst, "node_modules")))
	}
}

// cmdBgfnExit runs bgfn with args and asserts its exit code. Its stdout and
// stderr are kept for the stdout and stderr commands, as with exec. It
// sets $ELAPSED_MS to how long bgfn ran.
func cmdBgfnExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: bgfnexit CODE [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("bgfnexit: invalid exit code %q", args[0])
	}
	got := 0
	start := time.Now()
	err = ts.Exec("bgfn", args[1:]...)
	ts.Setenv("ELAPSED_MS", strconv.FormatInt(time.Since(start).Milliseconds(), 10))
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("run bgfn: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("bgfn %s exited with code %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

// devProc is a bgfn dev started by startdev.
type devProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, set before done is closed
}

func (d *devProc) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// cmdStartDev starts `bgfn dev --port 0 ARGS...` in the script's current
// folder, in its own process group, with stdout and stderr in $WORK/NAME.log.
// Leading K=V arguments are added to its environment (which otherwise is the
// script's PATH, HOME, TMPDIR and WORK only, as for exec). It returns once
// bgfn has written .netlify/bgfn/dev.json in the site folder (the current
// folder or --dir) and its workers have started (see settle), and sets $URL
// and $PORT from it.
func cmdStartDev(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: startdev NAME [K=V]... [bgfn dev args...]")
	}
	name, args := args[0], args[1:]
	st := state(ts)
	loadMu.RLock()
	defer loadMu.RUnlock()
	if _, ok := st.devs[name]; ok {
		ts.Fatalf("startdev: %s already started", name)
	}
	cwd := ts.MkAbs(".")
	env := []string{
		"PATH=" + ts.Getenv("PATH"),
		"HOME=" + ts.Getenv("HOME"),
		"TMPDIR=" + ts.Getenv("TMPDIR"),
		"WORK=" + ts.Getenv("WORK"),
		"PWD=" + cwd,
	}
	if v := ts.Getenv("GOCOVERDIR"); v != "" {
		env = append(env, "GOCOVERDIR="+v)
	}
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") && strings.Contains(args[0], "=") {
		env = append(env, args[0])
		args = args[1:]
	}
	siteDir := cwd
	for i, a := range args {
		switch {
		case a == "--dir" && i+1 < len(args):
			siteDir = ts.MkAbs(args[i+1])
		case strings.HasPrefix(a, "--dir="):
			siteDir = ts.MkAbs(strings.TrimPrefix(a, "--dir="))
		}
	}
	statePath := filepath.Join(siteDir, ".netlify", "bgfn", "dev.json")
	// A dev killed by an earlier stopdev -KILL leaves its state file.
	os.Remove(statePath)

	bin := lookPath(ts, "bgfn")
	logPath := filepath.Join(ts.Getenv("WORK"), name+".log")
	logFile, err := os.Create(logPath)
	ts.Check(err)
	cmd := exec.Command(bin, append([]string{"dev", "--port", "0"}, args...)...)
	cmd.Dir = cwd
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		ts.Fatalf("start bgfn dev: %v", err)
	}
	d := &devProc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		logFile.Close()
		close(d.done)
	}()
	st.devs[name] = d
	ts.Defer(func() { d.cleanup(ts, name) })

	var url string
	ok := poll(ts, func() bool {
		if d.exited() {
			return true
		}
		b, err := os.ReadFile(statePath)
		if err != nil {
			return false
		}
		var s struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(b, &s) != nil || s.URL == "" {
			return false
		}
		url = s.URL
		return true
	})
	switch {
	case d.exited():
		ts.Fatalf("bgfn dev %s exited before it listened (%v); its log:\n%s", name, d.err, readLog(d.log))
	case !ok:
		ts.Fatalf("bgfn dev %s wrote no %s within %v; its log:\n%s", name, statePath, deadline(ts), readLog(d.log))
	}
	ts.Setenv("URL", url)
	port := url[strings.LastIndex(url, ":")+1:]
	ts.Setenv("PORT", port)
	ts.Logf("bgfn dev %s (pid %d) listens on %s", name, cmd.Process.Pid, url)
	settle(ts, cmd.Process.Pid)
}

// loadMu keeps the CPU-heavy phases of scripts running in parallel (a dev
// starting or stopping its workers, a burst of parallel requests) apart
// from single requests, whose timings scripts assert on: on a 2-core
// machine a dev starting a dozen Node workers delays every other process
// by 100 ms and more. Heavy phases may overlap one another, so they share it (RLock);
// a single request is short and takes it alone (Lock), which also gives
// it priority over heavy phases waiting to start.
var loadMu sync.RWMutex

// settle waits until bgfn dev and its workers have used (almost) no CPU
// for eight polls in a row (about 160 ms), that is until it has warmed its
// workers: bgfn writes dev.json while they still start. Where there is no
// /proc it returns at once; when the dev does not settle by the deadline
// it goes on.
func settle(ts *testscript.TestScript, pid int) {
	start := time.Now()
	prev, ok := treeCPU(pid)
	if !ok {
		return
	}
	quiet := 0
	settled := poll(ts, func() bool {
		cur, ok := treeCPU(pid)
		if !ok {
			return true
		}
		// Clock ticks are 10 ms: at most one per 20 ms poll is idle enough.
		if cur-prev <= 1 {
			quiet++
		} else {
			quiet = 0
		}
		prev = cur
		return quiet >= 8
	})
	if !settled {
		ts.Logf("bgfn dev (pid %d) still busy after %v; going on", pid, deadline(ts))
		return
	}
	ts.Logf("bgfn dev settled in %v", time.Since(start).Round(time.Millisecond))
}

// cleanup stops a dev the script left running: SIGTERM, then after a grace
// period SIGKILL for its whole process group.
func (d *devProc) cleanup(ts *testscript.TestScript, name string) {
	if d.exited() {
		return
	}
	loadMu.RLock()
	defer loadMu.RUnlock()
	pid := d.cmd.Process.Pid
	syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-d.done:
		return
	case <-time.After(15 * time.Second):
	}
	ts.Logf("bgfn dev %s ignored SIGTERM for 15s: killing its process group", name)
	syscall.Kill(-pid, syscall.SIGKILL)
	<-d.done
}

func readLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

// lookPath finds a program on the script's PATH.
func lookPath(ts *testscript.TestScript, prog string) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	ts.Fatalf("%s not found on the script's PATH", prog)
	return ""
}

var signals = map[string]syscall.Signal{"-INT": syscall.SIGINT, "-TERM": syscall.SIGTERM, "-KILL": syscall.SIGKILL}

// cmdStopDev signals a dev (SIGINT by default, as Ctrl-C does: to bgfn only,
// not its workers' groups), waits until it exits and asserts exit code 0;
// with ! it asserts a failure instead. It sets $ELAPSED_MS to the time from
// the signal to the exit.
func cmdStopDev(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: stopdev NAME [-INT|-TERM|-KILL]...")
	}
	d := state(ts).devs[args[0]]
	if d == nil {
		ts.Fatalf("stopdev: no dev named %s", args[0])
	}
	sigs := []syscall.Signal{syscall.SIGINT}
	if len(args) > 1 {
		sigs = sigs[:0]
		for _, a := range args[1:] {
			s, ok := signals[a]
			if !ok {
				ts.Fatalf("stopdev: unknown signal %s: use -INT, -TERM or -KILL", a)
			}
			sigs = append(sigs, s)
		}
	}
	if d.exited() {
		ts.Fatalf("bgfn dev %s had already exited (%v); its log:\n%s", args[0], d.err, readLog(d.log))
	}
	loadMu.RLock()
	defer loadMu.RUnlock()
	start := time.Now()
	for i, sig := range sigs {
		if i > 0 {
			// The next signal once bgfn has heard the first: it says so.
			poll(ts, func() bool { return d.exited() || strings.Contains(readLog(d.log), "shutting down") })
			if d.exited() {
				break
			}
		}
		ts.Check(syscall.Kill(d.cmd.Process.Pid, sig))
	}
	select {
	case <-d.done:
	case <-time.After(deadline(ts)):
		ts.Fatalf("bgfn dev %s still running %v after %v; its log:\n%s", args[0], deadline(ts), sigs, readLog(d.log))
	}
	took := time.Since(start)
	ts.Setenv("ELAPSED_MS", strconv.FormatInt(took.Milliseconds(), 10))
	ts.Logf("bgfn dev %s exited in %v: %v", args[0], took.Round(time.Millisecond), d.err)
	switch {
	case neg && d.err == nil:
		ts.Fatalf("bgfn dev %s exited with code 0, want a failure", args[0])
	case !neg && d.err != nil:
		ts.Fatalf("bgfn dev %s: %v, want exit code 0; its log:\n%s", args[0], d.err, readLog(d.log))
	}
}

// cmdWaitLog waits until the log of a dev matches REGEXP (multi-line mode:
// ^ and $ match at line boundaries). With ! it asserts the log does not
// match now.
func cmdWaitLog(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: waitlog NAME REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	if err != nil {
		ts.Fatalf("waitlog: %v", err)
	}
	path := filepath.Join(ts.Getenv("WORK"), args[0]+".log")
	if d := state(ts).devs[args[0]]; d != nil {
		path = d.log
	}
	if neg {
		if log := readLog(path); re.MatchString(log) {
			ts.Fatalf("log %s matches %q, want no match; the log:\n%s", args[0], args[1], log)
		}
		return
	}
	if !poll(ts, func() bool { return re.MatchString(readLog(path)) }) {
		ts.Fatalf("log %s did not match %q within %v; the log:\n%s", args[0], args[1], deadline(ts), readLog(path))
	}
}

// cmdPathWithout removes from $PATH every folder that holds an executable
// named PROG, so a script can run bgfn (in the harness's own folder)
// where, say, node cannot be found.
func cmdPathWithout(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pathwithout PROG")
	}
	var keep []string
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if fi, err := os.Stat(filepath.Join(dir, args[0])); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			continue
		}
		keep = append(keep, dir)
	}
	ts.Setenv("PATH", strings.Join(keep, string(filepath.ListSeparator)))
}
