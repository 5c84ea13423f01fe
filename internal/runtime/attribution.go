package runtime

import "sync/atomic"

// logTarget routes a worker's output lines: to the running invocation's
// Log, or to the worker's idle log between invocations. One invocation
// runs per worker at a time, so every line has exactly one owner.
type logTarget struct {
	cur  atomic.Pointer[Request]
	idle LogFunc
}

func (t *logTarget) set(req *Request) { t.cur.Store(req) }

func (t *logTarget) emit(s Stream, line []byte) {
	if req := t.cur.Load(); req != nil {
		if req.Log != nil {
			req.Log(s, line)
		}
		return
	}
	if t.idle != nil {
		t.idle(s, line)
	}
}
