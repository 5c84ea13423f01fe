package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/proc"
)

// stopGrace is how long a child gets between SIGTERM and SIGKILL. bgfn
// stops idle workers at once, so a healthy one exits well within it.
const stopGrace = 5 * time.Second

// clockTick is Linux's USER_HZ, the unit of utime and stime in
// /proc/PID/stat (100 on every Linux the bench will meet).
const clockTick = 10 * time.Millisecond

// process is a child the bench started in a process group of its own. Its
// descendants (bgfn's Node workers) are in groups of their own too, so the
// process remembers every descendant it has seen, to kill any that outlive
// it.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // from Wait; read after done is closed

	mu    sync.Mutex
	known map[int]procStat // descendants seen, by pid
}

// newProcess prepares argv as a child in its own process group; cancelling
// ctx sends SIGTERM to the group (Ctrl-C on the bench).
func newProcess(ctx context.Context, name string, argv ...string) *process {
	p := &process{name: name, done: make(chan struct{}), known: map[int]procStat{}}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	proc.Setup(cmd, stopGrace)
	terminate := cmd.Cancel
	cmd.Cancel = func() error {
		p.remember()
		return terminate()
	}
	p.cmd = cmd
	return p
}

func (p *process) start() error {
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	// Workers run in process groups of their own and are reparented if
	// the process dies: look for them now and then, so stop can find them.
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.remember()
			}
		}
	}()
	return nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// remember records the current descendants, so stop can find them after
// they were reparented.
func (p *process) remember() {
	if p.cmd.Process == nil || p.exited() {
		return
	}
	ds, err := descendants(p.pid())
	if err != nil {
		return
	}
	p.mu.Lock()
	for _, d := range ds {
		p.known[d.pid] = d
	}
	p.mu.Unlock()
}

// stop ends the process: SIGTERM to its group, SIGKILL after stopGrace,
// then SIGKILL to every remembered descendant still alive one second after
// the process exited. It returns how many such orphans it had to kill, and
// how long the process took to exit after SIGTERM.
func (p *process) stop() (orphans int, took time.Duration) {
	if p.cmd.Process == nil {
		return 0, 0
	}
	p.remember()
	start := time.Now()
	if !p.exited() {
		proc.Terminate(p.pid())
		t := time.NewTimer(stopGrace)
		select {
		case <-p.done:
		case <-t.C:
			proc.Kill(p.pid())
			<-p.done
		}
		t.Stop()
	}
	took = time.Since(start)
	// A worker that is exiting on its own gets a moment before it counts
	// as left behind.
	deadline := time.Now().Add(time.Second)
	for {
		alive := p.aliveOrphans()
		if len(alive) == 0 {
			return 0, took
		}
		if time.Now().After(deadline) {
			for _, s := range alive {
				if s.pgid == s.pid {
					proc.Kill(s.pid)
				}
				proc.KillOne(s.pid)
			}
			return len(alive), took
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// aliveOrphans lists remembered descendants that still run: same pid and
// same start time, so a recycled pid is never killed.
func (p *process) aliveOrphans() []procStat {
	p.mu.Lock()
	defer p.mu.Unlock()
	var alive []procStat
	for pid, was := range p.known {
		now, err := readStat(pid)
		if err != nil || now.start != was.start || now.state == "Z" {
			continue
		}
		alive = append(alive, now)
	}
	return alive
}

// procStat is what the bench reads from /proc/PID/stat.
type procStat struct {
	pid, ppid, pgid int
	state           string
	utime, stime    uint64 // clock ticks
	cutime, cstime  uint64 // of waited-for children
	start           uint64 // clock ticks after boot
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(pid, string(b))
}

// parseStat reads the fields after the command name, which is in
// parentheses and may itself hold spaces and parentheses.
func parseStat(pid int, s string) (procStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	n := func(k int) uint64 { v, _ := strconv.ParseUint(f[k], 10, 64); return v }
	// f[0] is field 3 (state) of proc(5).
	return procStat{
		pid: pid, state: f[0], ppid: int(n(1)), pgid: int(n(2)),
		utime: n(11), stime: n(12), cutime: n(13), cstime: n(14), start: n(19),
	}, nil
}

// descendants walks /proc for every process below root.
func descendants(root int) ([]procStat, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // gone meanwhile
		}
		children[st.ppid] = append(children[st.ppid], st)
	}
	var out []procStat
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out, nil
}

// rssKB reads VmRSS from /proc/PID/status.
func rssKB(pid int) (int, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS of %d: %w", pid, err)
			}
			return kb, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	// Zombies and kernel threads have no VmRSS.
	return 0, nil
}

// treeUsage is the memory and CPU of a process and its descendants.
type treeUsage struct {
	Procs     int           // the process and its descendants
	RSSKB     int           // all of them
	MainRSSKB int           // the process alone
	MainCPU   time.Duration // the process alone (user + system)
	ChildCPU  time.Duration // descendants alive now, plus those already reaped
}

// measureTree sums RSS and CPU over root and its descendants.
func measureTree(root int) (treeUsage, error) {
	main, err := readStat(root)
	if err != nil {
		return treeUsage{}, fmt.Errorf("measure process %d: %w", root, err)
	}
	mainRSS, err := rssKB(root)
	if err != nil {
		return treeUsage{}, fmt.Errorf("measure process %d: %w", root, err)
	}
	ds, err := descendants(root)
	if err != nil {
		return treeUsage{}, fmt.Errorf("measure process %d: %w", root, err)
	}
	u := treeUsage{
		Procs:     1,
		RSSKB:     mainRSS,
		MainRSSKB: mainRSS,
		MainCPU:   time.Duration(main.utime+main.stime) * clockTick,
		ChildCPU:  time.Duration(main.cutime+main.cstime) * clockTick,
	}
	for _, d := range ds {
		kb, err := rssKB(d.pid)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		u.Procs++
		u.RSSKB += kb
		u.ChildCPU += time.Duration(d.utime+d.stime) * clockTick
	}
	return u, nil
}
