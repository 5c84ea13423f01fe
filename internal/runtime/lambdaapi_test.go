package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLambdaEnv(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{
			name: "one P by default",
			env:  []string{"A=1"},
			want: []string{"A=1", "GOMAXPROCS=1", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9", "_HANDLER=bootstrap", "AWS_EXECUTION_ENV=bgfn"},
		},
		{
			name: "the user's GOMAXPROCS wins",
			env:  []string{"GOMAXPROCS=4", "A=1"},
			want: []string{"GOMAXPROCS=4", "A=1", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9", "_HANDLER=bootstrap", "AWS_EXECUTION_ENV=bgfn"},
		},
		{
			name: "no RPC mode",
			env:  []string{"_LAMBDA_SERVER_PORT=8001", "GOMAXPROCSX=2"},
			want: []string{"GOMAXPROCSX=2", "GOMAXPROCS=1", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9", "_HANDLER=bootstrap", "AWS_EXECUTION_ENV=bgfn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lambdaEnv(tt.env, "127.0.0.1:9"); !slices.Equal(got, tt.want) {
				t.Errorf("lambdaEnv = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRapiAnswerWire checks that each answer is a complete HTTP/1.1
// response that net/http's client reads as sent, with a Content-Length.
func TestRapiAnswerWire(t *testing.T) {
	tests := []struct {
		name      string
		answer    *rapiAnswer
		head      bool
		wantLen   int64
		wantBody  string
		wantClose bool
		wantHdr   map[string]string
	}{
		{name: "accepted", answer: accepted, wantLen: 0},
		{
			name:     "json",
			answer:   jsonAnswer(200, []byte(`{"a":1}`), "Lambda-Runtime-Aws-Request-Id", "abc"),
			wantLen:  7,
			wantBody: `{"a":1}`,
			wantHdr:  map[string]string{"Content-Type": "application/json", "Lambda-Runtime-Aws-Request-Id": "abc"},
		},
		{
			name:    "newlines in a value cannot split the header",
			answer:  jsonAnswer(200, nil, "Lambda-Runtime-Client-Context", "{\"a\":\r\n\"b\"}"),
			wantHdr: map[string]string{"Lambda-Runtime-Client-Context": "{\"a\":  \"b\"}"},
		},
		{name: "head has no body", answer: jsonAnswer(405, []byte("nope")), head: true, wantLen: 4},
		{name: "close", answer: &rapiAnswer{status: 413, body: []byte("big"), close: true}, wantLen: 3, wantBody: "big", wantClose: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := tt.answer.appendTo(nil, tt.head)
			method := "GET"
			if tt.head {
				method = "HEAD"
			}
			br := bufio.NewReader(bytes.NewReader(wire))
			res, err := http.ReadResponse(br, &http.Request{Method: method})
			if err != nil {
				t.Fatalf("read %q: %v", wire, err)
			}
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.answer.status || res.ContentLength != tt.wantLen || string(body) != tt.wantBody || res.Close != tt.wantClose {
				t.Errorf("got %d len %d body %q close %v from %q", res.StatusCode, res.ContentLength, body, res.Close, wire)
			}
			for k, v := range tt.wantHdr {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if br.Buffered() != 0 {
				t.Errorf("%d bytes after the answer", br.Buffered())
			}
		})
	}
}

// TestRuntimeAPIKeepAlive plays aws-lambda-go's client on one kept-alive
// connection: /next, a chunked /response with trailers (as aws-lambda-go
// posts it), /next again, then a second invocation.
func TestRuntimeAPIKeepAlive(t *testing.T) {
	api := newRuntimeAPI(t)
	w := bareLambdaWorker()
	api.use(t, w)
	dialed := 0
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed++
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	defer client.CloseIdleConnections()
	base := "http://" + api.addr + rapiInvocationPath
	for i, id := range []string{"01a2334d2a543c9274b0", "01a2334d2a543c9274b1"} {
		inv := &lambdaInvocation{req: &Request{ID: id, Event: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)}, deadline: time.Now().Add(time.Minute), result: make(chan lambdaOutcome, 1)}
		go w.handOver(context.Background(), inv, nil)
		res, err := client.Get(base + "next")
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Lambda-Runtime-Aws-Request-Id") != id || res.ContentLength != int64(len(ev)) || string(ev) != string(inv.req.Event) {
			t.Fatalf("/next = %d %q %q (length %d)", res.StatusCode, res.Header, ev, res.ContentLength)
		}
		// An unknown-length body with trailers goes chunked, as
		// aws-lambda-go's post sends it.
		req, _ := http.NewRequest("POST", base+id+"/response", io.MultiReader(strings.NewReader(`{"statusCode":`), strings.NewReader(`200}`)))
		req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil}
		res, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("/response = %d", res.StatusCode)
		}
		if out := takeOutcome(inv); out == nil || string(out.response) != `{"statusCode":200}` {
			t.Fatalf("delivered %+v", out)
		}
	}
	if dialed != 1 {
		t.Errorf("the client dialed %d times, want one kept-alive connection", dialed)
	}
}

// TestPollWithdrawn checks that a /next whose connection hung up before
// an invocation came gets none: the invocation goes to the next /next.
func TestPollWithdrawn(t *testing.T) {
	api := newRuntimeAPI(t)
	w := bareLambdaWorker()
	api.use(t, w)
	gone, err := net.Dial("tcp", api.addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(gone, "GET "+rapiNextPath+" HTTP/1.1\r\nHost: x\r\n\r\n")
	waitPolls(t, w, 1)
	gone.Close()
	waitPolls(t, w, 0)

	inv := &lambdaInvocation{req: &Request{ID: "01a2334d2a543c9274b0", Event: json.RawMessage(`{}`)}, deadline: time.Now().Add(time.Minute), result: make(chan lambdaOutcome, 1)}
	go w.handOver(context.Background(), inv, nil)
	next := api.send(t, "GET", rapiInvocationPath+"next", nil, nil, 5*time.Second)
	if next.status != 200 || next.header.Get("Lambda-Runtime-Aws-Request-Id") != inv.req.ID {
		t.Fatalf("/next = %+v, want the invocation", next)
	}
}

// TestHandOverEnds checks each way a hand-over with no /next ends.
func TestHandOverEnds(t *testing.T) {
	expired := make(chan time.Time, 1)
	expired <- time.Now()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		timeout <-chan time.Time
		done    bool
		want    error
	}{
		{name: "worker ended", ctx: context.Background(), done: true, want: errWorkerDone},
		{name: "timed out", ctx: context.Background(), timeout: expired, want: errTimedOut},
		{name: "cancelled", ctx: cancelled, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := bareLambdaWorker()
			if tt.done {
				close(w.done)
			}
			inv := &lambdaInvocation{req: &Request{ID: "x"}, result: make(chan lambdaOutcome, 1)}
			if err := w.handOver(tt.ctx, inv, tt.timeout); !errors.Is(err, tt.want) {
				t.Errorf("handOver = %v, want %v", err, tt.want)
			}
		})
	}
}

// waitPolls waits until w has n /next requests waiting.
func waitPolls(t *testing.T, w *lambdaWorker, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		w.mu.Lock()
		got := len(w.polls)
		w.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d polls waiting, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRuntimeAPIExpectContinue checks that a client that waits for
// "100 Continue" before its body gets it, then the 202.
func TestRuntimeAPIExpectContinue(t *testing.T) {
	api := newRuntimeAPI(t)
	w := bareLambdaWorker()
	api.use(t, w)
	const id = "01a2334d2a543c9274b0"
	inv := &lambdaInvocation{req: &Request{ID: id, Event: json.RawMessage(`{}`)}, deadline: time.Now().Add(time.Minute), result: make(chan lambdaOutcome, 1)}
	go w.handOver(context.Background(), inv, nil)
	if next := api.send(t, "GET", rapiInvocationPath+"next", nil, nil, 5*time.Second); next.status != 200 {
		t.Fatalf("/next = %+v", next)
	}
	c, err := net.Dial("tcp", api.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST "+rapiInvocationPath+id+"/response HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("first line %q, %v; want 100 Continue", line, err)
	}
	br.ReadString('\n')
	io.WriteString(c, "{}")
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("answer %v, %v; want 202", res, err)
	}
	if out := takeOutcome(inv); out == nil || string(out.response) != "{}" {
		t.Fatalf("delivered %+v", out)
	}
}
