package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/logs"
	"github.com/bgfn-dev/bgfn/internal/proc"
)

// NodeHosts runs function instances as worker threads inside a few shared
// Node processes (hosts). A thread is a V8 isolate of its own, with its
// own module state and process.env, stopped at once by terminating it; a
// host costs one Node start-up for any number of instances of any
// function, and keeps spare threads ready so a new instance pays only for
// importing its bundle. See nodeboot/PROTOCOL.md for the host protocol.
type NodeHosts struct {
	Node      string
	Bootstrap string
	// Dir is the hosts' working folder (the site's base folder).
	Dir string
	// Spares is how many started threads each host keeps ready.
	Spares int
	// PerHost caps the instances of one host; past it another host starts.
	PerHost int
	// Grace is how long a host gets to exit after its pipe closes.
	Grace time.Duration
	// Log receives what a host prints outside any instance (a thread that
	// wrote to fd 1 directly). Nil drops it.
	Log LogFunc

	mu     sync.Mutex
	env    []string
	hosts  []*nodeHost
	next   int
	closed bool
}

// SetEnv sets the environment hosts start with (instances get their
// function's whole environment in their spawn message).
func (h *NodeHosts) SetEnv(env []string) {
	h.mu.Lock()
	h.env = slices.Clone(env)
	h.mu.Unlock()
}

// Prestart starts the first host, with its spare threads, so the first
// request does not pay for starting Node.
func (h *NodeHosts) Prestart() error {
	_, err := h.pick()
	return err
}

// Pids lists the hosts' process ids.
func (h *NodeHosts) Pids() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for _, x := range h.hosts {
		out = append(out, x.pid)
	}
	return out
}

// pick returns the host with the fewest instances that has room, starting
// one when none has.
func (h *NodeHosts) pick() (*nodeHost, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrPoolClosed
	}
	per := h.PerHost
	if per <= 0 {
		per = 64
	}
	var best *nodeHost
	live := h.hosts[:0]
	for _, x := range h.hosts {
		if x.exited() {
			continue
		}
		live = append(live, x)
		if n := x.load(); n < per && (best == nil || n < best.load()) {
			best = x
		}
	}
	h.hosts = live
	if best != nil {
		return best, nil
	}
	x, err := startHost(h)
	if err != nil {
		return nil, err
	}
	h.hosts = append(h.hosts, x)
	return x, nil
}

// Close stops every host and waits until they are gone.
func (h *NodeHosts) Close() {
	h.mu.Lock()
	h.closed = true
	hosts := h.hosts
	h.hosts = nil
	h.mu.Unlock()
	for _, x := range hosts {
		x.stop()
	}
}

// nodeHost is one Node process running instances in worker threads.
type nodeHost struct {
	parent *NodeHosts
	cmd    *exec.Cmd
	pid    int

	wmu  sync.Mutex // serialises writes to fd 3
	reqW *os.File

	mu    sync.Mutex
	insts map[int]*threadInstance
	next  int

	readers  sync.WaitGroup
	done     chan struct{}
	exitText string
}

func startHost(h *NodeHosts) (*nodeHost, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start node host: %w", err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, fmt.Errorf("start node host: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		for _, f := range []*os.File{reqR, reqW, resR, resW} {
			f.Close()
		}
		return nil, fmt.Errorf("start node host: %w", err)
	}
	args := []string{"--enable-source-maps"}
	if extra := os.Getenv("BGFN_NODE_FLAGS"); extra != "" {
		args = append(args, strings.Fields(extra)...)
	}
	cmd := exec.Command(h.Node, append(args, h.Bootstrap)...)
	cmd.Dir = h.Dir
	spares := h.Spares
	cmd.Env = append(slices.Clone(h.env), "BGFN_PROTOCOL=1", "BGFN_HOST=1", "BGFN_SPARES="+strconv.Itoa(spares))
	cmd.Stdout = outW
	cmd.Stderr = outW
	cmd.ExtraFiles = []*os.File{reqR, resW}
	proc.Setup(cmd, h.Grace)
	err = proc.Start(cmd)
	reqR.Close()
	resW.Close()
	outW.Close()
	if err != nil {
		reqW.Close()
		resR.Close()
		outR.Close()
		return nil, fmt.Errorf("start node host: %w", err)
	}
	x := &nodeHost{parent: h, cmd: cmd, pid: cmd.Process.Pid, reqW: reqW, insts: make(map[int]*threadInstance), done: make(chan struct{})}
	x.readers.Add(2)
	go x.readMessages(resR)
	go x.readOutput(outR)
	go x.wait()
	return x, nil
}

func (x *nodeHost) exited() bool {
	select {
	case <-x.done:
		return true
	default:
		return false
	}
}

// load is how many instances the host runs.
func (x *nodeHost) load() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.insts)
}

// send writes one line to the host.
func (x *nodeHost) send(line []byte) error {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	_, err := x.reqW.Write(line)
	return err
}

func (x *nodeHost) wait() {
	err := x.cmd.Wait()
	x.exitText = proc.ExitOf(x.cmd.ProcessState, err).String()
	proc.Kill(x.pid)
	readersDone := make(chan struct{})
	go func() { x.readers.Wait(); close(readersDone) }()
	select {
	case <-readersDone:
	case <-time.After(500 * time.Millisecond):
	}
	x.wmu.Lock()
	x.reqW.Close()
	x.wmu.Unlock()
	close(x.done)
	// Every instance of the host is gone with it.
	x.mu.Lock()
	insts := x.insts
	x.insts = map[int]*threadInstance{}
	x.mu.Unlock()
	for _, t := range insts {
		t.ended(hostExited(x.exitText))
	}
}

// exitDesc says how the host ended, once wait has seen it (a write to a
// dead host can fail before then; done orders the read after wait's).
func (x *nodeHost) exitDesc() string {
	<-x.done
	return x.exitText
}

// hostExited is how an instance ends when its host does; D carries how
// the host ended.
func hostExited(exit string) hostMessage {
	return hostMessage{Type: "exit", Code: -1, D: exit}
}

// stop closes the host's pipe (it exits), then kills it after the grace.
func (x *nodeHost) stop() {
	x.wmu.Lock()
	x.reqW.Close()
	x.wmu.Unlock()
	grace := x.parent.Grace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	select {
	case <-x.done:
		return
	case <-time.After(grace):
	}
	proc.Kill(x.pid)
	<-x.done
}

// hostMessage is a line from the host, without its instance number.
type hostMessage struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	API       string          `json:"api"`
	Response  json.RawMessage `json:"response"`
	Undefined bool            `json:"undefined"`
	Error     *FunctionError  `json:"error"`
	Pending   bool            `json:"pending"`
	Code      int             `json:"code"`
	// S and D are a log chunk: its stream and its text.
	S int    `json:"s"`
	D string `json:"d"`
	// Aborted marks the end of a stream that bgfn aborted.
	Aborted bool `json:"aborted"`

	// stream is the body a head message opened (set by the reader).
	stream *BodyStream
}

var instPrefix = []byte(`{"inst":`)

// readMessages reads fd 4 and hands each line to its instance. Log chunks
// are assembled into lines here, in the order the instance wrote them and
// before the result that followed them, so an answer never overtakes its
// logs.
func (x *nodeHost) readMessages(r *os.File) {
	defer x.readers.Done()
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if err != nil {
			return
		}
		if id, data, ok := decodeChunkLine(line); ok {
			// A streamed body's bytes: straight to its Stream, never
			// blocking the reader every instance of the host shares.
			x.mu.Lock()
			t := x.insts[id]
			x.mu.Unlock()
			if t != nil {
				t.chunk(data)
			}
			continue
		}
		id, m, ok := decodeHostLine(line)
		if !ok {
			continue
		}
		x.mu.Lock()
		t := x.insts[id]
		x.mu.Unlock()
		if t == nil {
			continue
		}
		switch m.Type {
		case "head":
			t.openStream(&m)
		case "end":
			t.endStream(m)
		case "exit_call":
			t.exitCall = &exitCall{id: m.ID, code: m.Code}
			continue
		}
		if m.Type == "log" {
			t.log(m.S, m.D)
			continue
		}
		if m.Type == "exit" {
			x.mu.Lock()
			delete(x.insts, id)
			x.mu.Unlock()
			t.ended(m)
			continue
		}
		t.deliver(m)
	}
}

// decodeHostLine decodes one line of fd 4, {"inst":ID,"type":...}, into the
// instance it is for and its message. A line of any other shape, which a
// host never writes, is ignored (ok false): the host shares the pipe with
// no one, so garbage there is a bug to survive, not to act on.
func decodeHostLine(line []byte) (id int, m hostMessage, ok bool) {
	rest, ok := bytes.CutPrefix(line, instPrefix)
	if !ok {
		return 0, m, false
	}
	comma := bytes.IndexByte(rest, ',')
	if comma < 0 {
		return 0, m, false
	}
	id, err := strconv.Atoi(string(rest[:comma]))
	if err != nil {
		return 0, m, false
	}
	// Put the line back in its own shape: {"type":...}.
	msgLine := append([]byte{'{'}, rest[comma+1:]...)
	if r, ok := parseResult(msgLine); ok {
		return id, hostMessage{Type: r.Type, ID: r.ID, Response: r.Response, Pending: r.Pending}, true
	}
	if json.Unmarshal(msgLine, &m) != nil {
		return 0, hostMessage{}, false
	}
	return id, m, true
}

// decodeChunkLine decodes a chunk line of fd 4,
// {"inst":ID,"type":"chunk","id":"…","d":"BASE64"}, into its instance and
// bytes.
func decodeChunkLine(line []byte) (inst int, data []byte, ok bool) {
	rest, ok := bytes.CutPrefix(line, instPrefix)
	if !ok {
		return 0, nil, false
	}
	comma := bytes.IndexByte(rest, ',')
	if comma < 0 || !bytes.HasPrefix(rest[comma+1:], chunkPrefix) {
		return 0, nil, false
	}
	inst, err := strconv.Atoi(string(rest[:comma]))
	if err != nil {
		return 0, nil, false
	}
	_, data, ok = parseChunk(rest[comma+1:])
	return inst, data, ok
}

// readLine reads one line of any length, without its newline. The line is
// valid only until the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		big := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			big = append(big, line...)
		}
		line = big
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\n"), nil
}

// readOutput passes on what the host process itself printed.
func (x *nodeHost) readOutput(r *os.File) {
	defer x.readers.Done()
	defer r.Close()
	logs.SplitLines(r, func(line []byte) {
		if f := x.parent.Log; f != nil {
			f(Stderr, line)
		}
	})
}

// spawn starts an instance of cfg's function in the host and waits until
// it has loaded it, at most until ctx ends.
func (x *nodeHost) spawn(ctx context.Context, cfg *NodeConfig, env []string) (*threadInstance, error) {
	x.mu.Lock()
	x.next++
	t := newThreadInstance(x, x.next, cfg)
	x.insts[t.id] = t
	x.mu.Unlock()
	envMap := make(map[string]string, len(env)+len(cfg.FuncEnv)+2)
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			envMap[k] = v
		}
	}
	for k, v := range cfg.FuncEnv {
		envMap[k] = v
	}
	envMap["BGFN_FUNCTION_NAME"] = cfg.Name
	body, err := json.Marshal(map[string]any{"entry": cfg.Entry, "env": envMap})
	if err != nil {
		return nil, err
	}
	line := append([]byte(`{"inst":`+strconv.Itoa(t.id)+`,"type":"spawn",`), body[1:]...)
	if err := x.send(append(line, '\n')); err != nil {
		t.ended(hostExited(x.exitDesc()))
		return nil, &hostGoneError{exit: "found its node host gone (" + err.Error() + ")"}
	}
	return t, t.awaitReady(ctx)
}
