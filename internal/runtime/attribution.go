package runtime

import "sync/atomic"

// logTarget routes a worker's output lines: to the running invocation's
// Log, or to the worker's idle log between invocations. One invocation
// runs per worker at a time, so every line has exactly one owner.
type logTarget struct {
	cur  atomic.Pointer[Request]
	idle atomic.Pointer[LogFunc]
}

func newLogTarget(idle LogFunc) *logTarget {
	t := &logTarget{}
	t.setIdle(idle)
	return t
}

func (t *logTarget) set(req *Request) { t.cur.Store(req) }

// setIdle changes where lines between invocations go (a spare worker
// learns its function late).
func (t *logTarget) setIdle(f LogFunc) {
	if f != nil {
		t.idle.Store(&f)
	}
}

func (t *logTarget) emit(s Stream, line []byte) {
	if req := t.cur.Load(); req != nil {
		if req.Log != nil {
			req.Log(s, line)
		}
		return
	}
	if f := t.idle.Load(); f != nil {
		(*f)(s, line)
	}
}
