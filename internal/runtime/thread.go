package runtime

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/bgfn-dev/bgfn/internal/logs"
)

// threadInstance is one instance of a function: a worker thread in a Node
// host, running one invocation at a time.
type threadInstance struct {
	host *nodeHost
	id   int
	cfg  *NodeConfig

	// msgs carries the instance's messages but logs and its end, in order.
	msgs chan hostMessage
	logs *logTarget
	// lines assemble log chunks per stream; only the host's reader uses
	// them.
	lines [2]logs.LineBuffer

	endOnce  sync.Once
	done     chan struct{}
	exitText string
	exitErr  *FunctionError
	// hostGone is set, before done closes, when the instance ended with
	// its host rather than by itself.
	hostGone bool
	// exitCall is what the instance said before process.exit ended it
	// (set by the reader, before done closes).
	exitCall *exitCall
	// stream is the body being streamed; only the reader uses it.
	stream *BodyStream

	buf []byte
}

var _ Worker = (*threadInstance)(nil)

func newThreadInstance(x *nodeHost, id int, cfg *NodeConfig) *threadInstance {
	t := &threadInstance{host: x, id: id, cfg: cfg, msgs: make(chan hostMessage, 8), done: make(chan struct{}), logs: newLogTarget(cfg.IdleLog)}
	t.lines[0].Fn = func(line []byte) { t.logs.emit(Stdout, line) }
	t.lines[1].Fn = func(line []byte) { t.logs.emit(Stderr, line) }
	return t
}

func (t *threadInstance) Pid() int              { return t.host.pid }
func (t *threadInstance) Done() <-chan struct{} { return t.done }

// log takes a chunk of what the instance printed (called by the reader).
func (t *threadInstance) log(stream int, text string) {
	if stream == 2 {
		t.lines[1].Write([]byte(text))
	} else {
		t.lines[0].Write([]byte(text))
	}
}

// flushLogs passes on a last line without its newline, before the message
// that ends an invocation (called by the reader).
func (t *threadInstance) flushLogs() {
	t.lines[0].Flush()
	t.lines[1].Flush()
}

// deliver hands a message to the running invocation (called by the
// reader, after the logs that came before it).
func (t *threadInstance) deliver(m hostMessage) {
	t.flushLogs()
	select {
	case t.msgs <- m:
	case <-t.done:
	}
}

// ended marks the instance gone: its thread exited, or its host did.
func (t *threadInstance) ended(m hostMessage) {
	t.endOnce.Do(func() {
		t.flushLogs()
		t.exitText = "exited with code " + strconv.Itoa(m.Code)
		if m.Code < 0 {
			t.exitText = "stopped with its node host (it " + m.D + ")"
			t.hostGone = true
		}
		t.exitErr = m.Error
		close(t.done)
	})
}

// openStream starts the body of a head message (called by the reader, so
// that the chunks that follow find it).
func (t *threadInstance) openStream(m *hostMessage) {
	t.stream = newStream(m.ID, `{"inst":`+strconv.Itoa(t.id)+",", t.host.send)
	m.stream = t.stream
}

// chunk passes a streamed body's bytes on (called by the reader).
func (t *threadInstance) chunk(data []byte) {
	if t.stream != nil {
		t.stream.push(data)
	}
}

// endStream ends the streamed body with the end message's outcome
// (called by the reader, before the message is delivered).
func (t *threadInstance) endStream(m hostMessage) {
	if t.stream == nil {
		return
	}
	var err error
	if m.Error != nil {
		err = m.Error
	}
	t.stream.end(err, m.Pending)
	t.stream = nil
}

// kill terminates the thread; Done closes when it is gone.
func (t *threadInstance) kill() {
	if t.host.send([]byte(`{"inst":`+strconv.Itoa(t.id)+`,"type":"stop"}`+"\n")) != nil {
		// The host is gone, and the instance with it.
		t.ended(hostExited(t.host.exitDesc()))
	}
}

// awaitReady waits until the instance has loaded its function. The init
// limit runs from the moment the host begins booting its thread (it says
// "booting"): a spawn the host queued behind other boots, which in a burst
// of a heavy function on two cores can take longer than the limit, is not
// charged for the wait. ctx ends the wait at any time (the pool closing).
func (t *threadInstance) awaitReady(ctx context.Context) error {
	limit := ctx // until the host says it is booting
	for {
		select {
		case m := <-t.msgs:
			switch {
			case m.Type == "booting":
				if limit == ctx {
					var cancel context.CancelFunc
					limit, cancel = withInitTimeout(ctx, t.cfg.InitTimeout)
					defer cancel()
				}
				continue
			case m.Type == "ready":
				return nil
			case m.Type == "init_error" && m.Error != nil:
				t.kill()
				<-t.done
				return &InitError{Err: m.Error}
			}
			t.kill()
			<-t.done
			return &InitError{Err: &FunctionError{Type: "Runtime.ExitError", Message: "instance sent " + m.Type + " before it was ready"}}
		case <-t.done:
			if t.exitErr != nil {
				return &InitError{Err: t.exitErr}
			}
			if t.hostGone {
				return &hostGoneError{exit: t.exitText}
			}
			return &InitError{Err: &FunctionError{Type: "Runtime.ExitError", Message: "worker " + t.exitText + " before it was ready"}}
		case <-limit.Done():
			t.kill()
			<-t.done
			return startCancelled(limit, t.cfg.Name, "its module is still loading (a top-level await that never settles, or slow code at import time)")
		}
	}
}

// Invoke implements Worker.
func (t *threadInstance) Invoke(ctx context.Context, req *Request) (*Result, error) {
	select {
	case <-t.done:
		return nil, &NotDeliveredError{Exit: t.exitText}
	default:
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	t.logs.set(req)
	t.buf = encodeInvoke(append(t.buf[:0], `{"inst":`+strconv.Itoa(t.id)+`,"type":"invoke","id":`...), req, deadline)
	if err := t.host.send(t.buf); err != nil {
		t.logs.set(nil)
		t.ended(hostExited(t.host.exitDesc()))
		return nil, &NotDeliveredError{Exit: t.exitText}
	}
	timer := time.NewTimer(timeout)
	m, err := t.await(ctx, timer, timeout)
	if err != nil {
		timer.Stop()
		t.logs.set(nil)
		return nil, err
	}
	res := &Result{Pid: t.host.pid}
	switch m.Type {
	case "error":
		res.Error = m.Error
	case "result":
		res.Response, res.Undefined = m.Response, m.Undefined || len(m.Response) == 0
	case "head":
		res.Response, res.Stream = m.Response, m.stream
	}
	if !m.Pending && res.Stream == nil {
		timer.Stop()
		t.logs.set(nil)
		return res, nil
	}
	// A streamed body, or v2 waitUntil work, keeps the instance busy
	// after the response, under the same deadline and context (a
	// background cancel stops it).
	pending := make(chan struct{})
	res.pending = pending
	go t.follow(ctx, req.ID, res, timer, timeout, pending)
	return res, nil
}

// follow waits for the rest of an invocation after its response: the end
// of its streamed body, then its waitUntil work. An exit with code 0 that
// the invocation made itself ends it normally.
func (t *threadInstance) follow(ctx context.Context, id string, res *Result, timer *time.Timer, limit time.Duration, pending chan struct{}) {
	defer close(pending)
	defer t.logs.set(nil)
	defer timer.Stop()
	if s := res.Stream; s != nil {
		m, err := t.await(ctx, timer, limit)
		if err != nil {
			err = afterResponse(t.exitCall, id, err)
			s.finish(err)
			res.after = err
			return
		}
		if !m.Pending {
			return
		}
	}
	res.deferred = true
	if _, err := t.await(ctx, timer, limit); err != nil {
		res.after = afterResponse(t.exitCall, id, err)
	}
}

// await waits for the invocation's next message; past the deadline or
// when ctx ends the thread is terminated.
func (t *threadInstance) await(ctx context.Context, timer *time.Timer, limit time.Duration) (hostMessage, error) {
	for {
		select {
		case m := <-t.msgs:
			switch m.Type {
			case "result", "error", "idle", "head", "end":
				return m, nil
			}
		case <-t.done:
			return hostMessage{}, t.exitError()
		case <-timer.C:
			t.kill()
			<-t.done
			return hostMessage{}, &TimeoutError{Limit: limit, Pid: t.host.pid}
		case <-ctx.Done():
			t.kill()
			<-t.done
			return hostMessage{}, ctx.Err()
		}
	}
}

func (t *threadInstance) exitError() error {
	if c := t.exitCall; c != nil && c.id == "" {
		// process.exit while no invocation ran (a timer an earlier one
		// left): the invocation sent meanwhile never started.
		return &NotDeliveredError{Exit: t.exitText}
	}
	if t.exitErr != nil {
		// The thread threw outside the handler's promise chain.
		return t.exitErr
	}
	return &ExitError{Exit: t.exitText, Pid: t.host.pid}
}

// Stop implements Worker: the thread is terminated (it runs no more JS)
// and Stop returns once the host says it is gone.
func (t *threadInstance) Stop(ctx context.Context) error {
	select {
	case <-t.done:
		return nil
	default:
	}
	t.kill()
	select {
	case <-t.done:
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
	return nil
}

// hostGoneError is a start that failed because the instance's host ended
// (it was killed, or crashed because of another instance): the function
// itself may load fine, so the start is tried again on another host
// rather than failing every invocation waiting for it (issue 16's chaos
// test found that killing a host under load failed hundreds of queued
// background runs that way).
type hostGoneError struct{ exit string }

func (e *hostGoneError) Error() string { return "worker " + e.exit + " before it was ready" }

// initError is the InitError a start reports when its hosts kept ending.
func (e *hostGoneError) initError() error {
	return &InitError{Err: &FunctionError{Type: "Runtime.ExitError", Message: e.Error()}}
}
