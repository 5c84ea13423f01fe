package dev

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bgfn-dev/bgfn/internal/discover"
	"github.com/bgfn-dev/bgfn/internal/runtime"
	"github.com/bgfn-dev/bgfn/internal/server"
)

// namedWorker answers every invocation with its build's name.
type namedWorker struct {
	name string
	done chan struct{}
	once sync.Once
}

func (w *namedWorker) Invoke(context.Context, *runtime.Request) (*runtime.Result, error) {
	b, _ := json.Marshal(w.name)
	return &runtime.Result{Response: b}, nil
}
func (w *namedWorker) Stop(context.Context) error {
	w.once.Do(func() { close(w.done) })
	return nil
}
func (w *namedWorker) Pid() int              { return 1 }
func (w *namedWorker) Done() <-chan struct{} { return w.done }

type namedStarter string

func (s namedStarter) Start(context.Context) (runtime.Worker, error) {
	return &namedWorker{name: string(s), done: make(chan struct{})}, nil
}

// TestHold: a request for a JS function whose rebuild is under way waits
// for it and runs on the new build; when the reload swaps nothing, or the
// hold's limit passes, the build in use answers; a Go function is never
// held.
func TestHold(t *testing.T) {
	tests := []struct {
		name    string
		runtime discover.Runtime
		// then is what happens once the request waits (or has answered).
		then func(i *Instance, hs []held, cancel context.CancelFunc)
		want string // the build that answers, or "" for ctx.Err
		held bool   // the request waited for then
	}{
		{"swap releases it to the new build", discover.RuntimeJS, func(i *Instance, hs []held, _ context.CancelFunc) {
			p := runtime.NewPool(namedStarter("new"), 1, nil)
			i.pools["new"] = p
			i.reg.set("f", &entry{fn: hs[0].orig.fn, pool: p})
			hs[0].holding.hold.release()
			i.releaseHolds(hs)
		}, "new", true},
		{"a reload that swaps nothing lets it go to the build in use", discover.RuntimeTS, func(i *Instance, hs []held, _ context.CancelFunc) {
			i.releaseHolds(hs)
		}, "old", true},
		{"past the limit the build in use answers", discover.RuntimeJS, func(i *Instance, hs []held, _ context.CancelFunc) {
			time.Sleep(holdLimit)
		}, "old", true},
		{"a cancelled request stops waiting", discover.RuntimeJS, func(i *Instance, hs []held, cancel context.CancelFunc) {
			cancel()
		}, "", true},
		{"a Go function is not held", discover.RuntimeGo, func(i *Instance, hs []held, _ context.CancelFunc) {}, "old", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				i := &Instance{reg: newRegistry(), pools: map[string]*runtime.Pool{"old": runtime.NewPool(namedStarter("old"), 1, nil)}}
				defer func() {
					for _, p := range i.pools {
						p.Close(context.Background())
					}
				}()
				old := &entry{fn: &server.Function{Name: "f"}, pool: i.pools["old"]}
				i.reg.set("f", old)
				hs := i.holdRebuilds([]step{{kind: stepRebuild, fn: discover.Function{Name: "f", Runtime: tt.runtime}}})
				if got := len(hs) > 0; got != tt.held {
					t.Fatalf("held = %v, want %v", got, tt.held)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				type answer struct {
					res *runtime.Result
					err error
				}
				answered := make(chan answer, 1)
				go func() {
					res, err := (&fnInvoker{reg: i.reg, name: "f"}).Invoke(ctx, &runtime.Request{ID: "r"})
					answered <- answer{res, err}
				}()
				synctest.Wait()
				select {
				case a := <-answered:
					if tt.held {
						t.Fatalf("answered during the rebuild: %v %v", a.res, a.err)
					}
					answered <- a
				default:
					if !tt.held {
						t.Fatal("waits, but nothing holds it")
					}
				}
				tt.then(i, hs, cancel)
				a := <-answered
				if tt.want == "" {
					if !errors.Is(a.err, context.Canceled) {
						t.Fatalf("err = %v, want context.Canceled", a.err)
					}
					return
				}
				if a.err != nil || string(a.res.Response) != `"`+tt.want+`"` {
					t.Fatalf("answered %v %v, want build %s", a.res, a.err, tt.want)
				}
				if e, _ := i.reg.get("f"); tt.want == "old" && e != old && e.hold == nil {
					t.Errorf("the registry holds %+v, want the entry in use back", e)
				}
			})
		})
	}
}
