package runtime

import (
	"context"
	"slices"
	"sync"
	"time"
)

// NodeSpares keeps one Node process started ahead of time, with the
// bootstrap loaded but no function yet. Starting Node takes 50-150 ms, far
// more than importing a bundle; with a spare at hand a reload, a new
// function, a pool growing under load or a crashed worker's replacement
// pays only for the import. The spare is replaced as soon as it is taken.
type NodeSpares struct {
	Node      string
	Bootstrap string
	Dir       string
	Grace     time.Duration

	wg      sync.WaitGroup
	mu      sync.Mutex
	env     []string
	spare   *nodeWorker
	filling bool
	closed  bool
}

// SetEnv sets the site environment spares start with; a spare started with
// another one is dropped.
func (p *NodeSpares) SetEnv(env []string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if slices.Equal(p.env, env) {
		return
	}
	p.env = slices.Clone(env)
	if p.spare != nil {
		go p.spare.Stop(expired())
		p.spare = nil
	}
}

// Fill starts a spare unless one is there or starting.
func (p *NodeSpares) Fill() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.closed || p.filling || p.spare != nil || p.env == nil {
		p.mu.Unlock()
		return
	}
	p.filling = true
	env := p.env
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		w, err := spawnNode(p.Node, p.Bootstrap, p.Dir, append(slices.Clone(env), "BGFN_SPARE=1"), p.Grace, "a spare worker")
		p.mu.Lock()
		defer p.mu.Unlock()
		p.filling = false
		if err != nil {
			return
		}
		if p.closed || !slices.Equal(env, p.env) {
			w.Stop(expired())
			return
		}
		p.spare = w
	}()
}

// take returns the spare for a worker with cfg's environment, or nil, and
// starts the next one.
func (p *NodeSpares) take(cfg *NodeConfig) *nodeWorker {
	if p == nil || cfg.Node != p.Node || cfg.Bootstrap != p.Bootstrap || cfg.Dir != p.Dir {
		return nil
	}
	p.mu.Lock()
	w := p.spare
	ok := w != nil && slices.Equal(p.env, cfg.Env)
	if ok {
		p.spare = nil
	}
	p.mu.Unlock()
	if !ok {
		// Refill only after a spare was used: at start-up the warm-ups
		// should have the cores to themselves.
		return nil
	}
	p.Fill()
	select {
	case <-w.done:
		return nil
	default:
	}
	return w
}

// Close stops the spare and starts no more.
func (p *NodeSpares) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	w := p.spare
	p.spare = nil
	p.mu.Unlock()
	if w != nil {
		w.Stop(expired())
	}
	// A spare still starting is stopped by its goroutine, which sees
	// closed.
	p.wg.Wait()
}

func expired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
