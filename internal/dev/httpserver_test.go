package dev

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPServerTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	tests := []struct {
		name      string
		got, want time.Duration
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout, 10 * time.Second},
		{"IdleTimeout", srv.IdleTimeout, 2 * time.Minute},
		// A read or write deadline would cut off /wait, the event stream
		// and 60-second invocations.
		{"ReadTimeout", srv.ReadTimeout, 0},
		{"WriteTimeout", srv.WriteTimeout, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		})
	}
}

// serveTest serves h with bgfn dev's server, its timeouts shortened, and
// returns the address.
func serveTest(t *testing.T, h http.Handler, header, idle time.Duration) string {
	t.Helper()
	srv := newHTTPServer(h)
	srv.ReadHeaderTimeout, srv.IdleTimeout = header, idle
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

// get sends one request on a new connection and returns how long the
// answer took.
func get(t *testing.T, addr string) time.Duration {
	t.Helper()
	start := time.Now()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /.netlify/functions/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "hello" {
		t.Fatalf("answer %d %q, want 200 hello", res.StatusCode, b)
	}
	return time.Since(start)
}

// TestSlowLoris holds 1,000 connections that send their request heads a
// byte at a time. Meanwhile other clients are answered at once; each slow
// connection is answered 400 and closed once the header timeout has
// passed, however steadily it sends; and the server serves on.
func TestSlowLoris(t *testing.T) {
	const (
		slow          = 1000
		headerTimeout = 2 * time.Second
	)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	addr := serveTest(t, hello, headerTimeout, time.Minute)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	defer func() { close(stop); wg.Wait() }()
	conns := make([]net.Conn, 0, slow)
	for range slow {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial slow connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	for _, c := range conns {
		wg.Go(func() {
			defer c.Close()
			// A byte every 100 ms: far slower than any real client, fast
			// enough to beat a timeout that restarted on every byte.
			head := "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 1000)
			for i := 0; i < len(head); i++ {
				if _, err := c.Write([]byte{head[i]}); err != nil {
					return // the server closed the connection
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		})
	}
	// Each slow connection is read too: the server ends it at the header
	// timeout, with Go's "400 Bad Request" or without a word.
	var readers sync.WaitGroup
	var open, badAnswer atomic.Int32
	for _, c := range conns {
		readers.Go(func() {
			c.SetReadDeadline(time.Now().Add(headerTimeout + 20*time.Second))
			b, err := io.ReadAll(c)
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				open.Add(1)
			case len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 400 Bad Request\r\n"):
				badAnswer.Add(1)
			}
		})
	}

	for i := range 20 {
		if d := get(t, addr); d > time.Second {
			t.Errorf("request %d with %d slow connections open took %v", i, slow, d)
		}
	}

	readers.Wait()
	took := time.Since(start)
	if open.Load() > 0 || badAnswer.Load() > 0 {
		t.Errorf("of %d slow connections, %d were left open and %d got an answer other than a 400", slow, open.Load(), badAnswer.Load())
	}
	if took < headerTimeout {
		t.Errorf("slow connections closed after %v, before the header timeout of %v", took, headerTimeout)
	}
	t.Logf("%d slow connections closed after %v", slow, took.Round(time.Millisecond))
	if d := get(t, addr); d > time.Second {
		t.Errorf("request after the slow connections took %v", d)
	}
}

// TestIdleTimeout: a keep-alive connection that carries no further request
// is closed after the idle timeout.
func TestIdleTimeout(t *testing.T) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	addr := serveTest(t, hello, time.Minute, 500*time.Millisecond)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	start := time.Now()
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: read %v, want EOF", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 5*time.Second {
		t.Errorf("idle connection closed after %v, want about 500ms", d)
	}
}
