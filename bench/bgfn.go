package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// startTimeout bounds how long bgfn may take to write dev.json, and then to
// answer its first 200.
const startTimeout = 60 * time.Second

// pollEvery is the launch probe's interval.
const pollEvery = 2 * time.Millisecond

// bgfnInstance is one `bgfn dev` the bench started.
type bgfnInstance struct {
	proc *process
	site string
	log  string
	url  string // http://127.0.0.1:PORT, from dev.json
	// ready is how long the process took from start to dev.json.
	ready time.Duration
	// started is when the process was started.
	started time.Time
}

// startBgfn starts `bgfn dev --port 0 --dir site` with its output in
// logPath and waits until it wrote .netlify/bgfn/dev.json.
func startBgfn(ctx context.Context, bin, site, logPath string, extra ...string) (*bgfnInstance, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start bgfn: %w", err)
	}
	// The child holds its own descriptor; ours is not needed after Start.
	defer logf.Close()
	p := newProcess(ctx, "bgfn", append([]string{bin, "dev", "--port", "0", "--dir", site, "--color", "never"}, extra...)...)
	p.cmd.Stdout = logf
	p.cmd.Stderr = logf
	p.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	b := &bgfnInstance{proc: p, site: site, log: logPath}
	b.started = time.Now()
	if err := p.start(); err != nil {
		return nil, err
	}
	state := filepath.Join(site, ".netlify", "bgfn", "dev.json")
	deadline := b.started.Add(startTimeout)
	for {
		if data, err := os.ReadFile(state); err == nil {
			var st struct {
				URL string `json:"url"`
				PID int    `json:"pid"`
			}
			if err := json.Unmarshal(data, &st); err == nil && st.URL != "" {
				b.ready = time.Since(b.started)
				b.url = strings.TrimSuffix(st.URL, "/")
				if err := checkLocal(b.url); err != nil {
					b.proc.stop()
					return nil, err
				}
				return b, nil
			}
		}
		if p.exited() {
			p.stop() // its workers, if any outlived it
			return nil, fmt.Errorf("bgfn exited before writing dev.json (%v); its log ends:\n%s", p.err, tail(logPath, 15))
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("bgfn wrote no %s within %s; its log ends:\n%s", state, startTimeout, tail(logPath, 15))
		}
		if err := sleepCtx(ctx, pollEvery); err != nil {
			p.stop()
			return nil, err
		}
	}
}

// check fails when bgfn has exited: nothing measured after that would mean
// anything.
func (b *bgfnInstance) check() error {
	if !b.proc.exited() {
		return nil
	}
	return fmt.Errorf("bgfn dev exited during the run (%v); its log ends:\n%s", b.proc.err, tail(b.log, 15))
}

// fn is the URL of a function.
func (b *bgfnInstance) fn(name string) string { return b.url + "/.netlify/functions/" + name }

// waitFor polls url every interval until it answers status, and returns
// when it did (measured from since).
func waitFor(ctx context.Context, url string, status int, since time.Time, interval, limit time.Duration) (time.Duration, error) {
	if err := checkLocal(url); err != nil {
		return 0, err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	last := "no answer"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == status {
				return time.Since(since), nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s did not answer %d within %s (last: %s)", url, status, limit, last)
		}
		if err := sleepCtx(ctx, interval); err != nil {
			return 0, err
		}
	}
}

// get fetches url once with the default client.
func get(ctx context.Context, url string) (int, []byte, error) {
	return getWith(ctx, http.DefaultClient, url)
}

// sleepCtx waits d or until ctx ends. It paces polls; it never stands in
// for waiting on a condition.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tail returns the last n lines of a file, indented, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// logScanner reads a growing log from where it stopped last time and
// counts lines that hold given substrings.
type logScanner struct {
	path    string
	off     int64
	partial []byte
	buf     []byte // kept: the reload figures scan every 2 ms
}

// scan reads what was appended since the last call and calls fn on each
// whole line.
func (s *logScanner) scan(fn func(line string)) error {
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(s.off, io.SeekStart); err != nil {
		return err
	}
	if s.buf == nil {
		s.buf = make([]byte, 1<<16)
	}
	for {
		n, err := f.Read(s.buf)
		s.off += int64(n)
		data := append(s.partial, s.buf[:n]...)
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			fn(string(data[:i]))
			data = data[i+1:]
		}
		s.partial = append(s.partial[:0:0], data...)
		if errors.Is(err, io.EOF) || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
