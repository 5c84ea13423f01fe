package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lambdaProgram is a function written against the bare Runtime API, with no
// dependency on aws-lambda-go, so the test builds offline. The event's
// "action" picks what it does; its response echoes what it was told.
const lambdaProgram = `package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	switch os.Getenv("MODE") {
	case "quiet":
	case "chatty":
		for i := range 2000 {
			fmt.Println("init", i)
		}
	default:
		fmt.Println("starting", os.Getenv("MODE"))
	}
	switch os.Getenv("MODE") {
	case "exit-before-next":
		fmt.Fprintln(os.Stderr, "cannot start")
		os.Exit(4)
	case "init-error":
		post(api+"/init/error", ` + "`" + `{"errorMessage":"missing DATABASE_URL","errorType":"ConfigError"}` + "`" + `)
		os.Exit(1)
	}
	prev := 0
	for {
		resp, err := http.Get(api + "/invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(5)
		}
		event, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fmt.Fprintln(os.Stderr, "next: status", resp.StatusCode)
			os.Exit(5)
		}
		h := resp.Header
		id := h.Get("Lambda-Runtime-Aws-Request-Id")
		var ev struct {
			Action string ` + "`json:\"action\"`" + `
			Lines  int    ` + "`json:\"lines\"`" + `
		}
		json.Unmarshal(event, &ev)
		for i := range ev.Lines {
			fmt.Printf("line %d of %s\n", i, id)
		}
		switch ev.Action {
		case "error":
			prev = post(api+"/invocation/"+id+"/error", ` + "`" + `{"errorMessage":"it broke","errorType":"BrokeError","stackTrace":[{"path":"main.go","line":12,"label":"main.handle"}]}` + "`" + `)
			continue
		case "exit":
			os.Exit(6)
		case "hang":
			select {}
		case "partial":
			fmt.Print("partial without newline")
		}
		out, _ := json.Marshal(map[string]any{
			"event":       json.RawMessage(event),
			"requestId":   id,
			"deadlineMs":  h.Get("Lambda-Runtime-Deadline-Ms"),
			"arn":         h.Get("Lambda-Runtime-Invoked-Function-Arn"),
			"contentType": h.Get("Content-Type"),
			"prevStatus":  prev,
		})
		prev = post(api+"/invocation/"+id+"/response", string(out))
	}
}

func post(url, body string) int {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, "post:", err)
		os.Exit(7)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
`

// buildLambdaProgram builds lambdaProgram in a temporary module.
func buildLambdaProgram(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/lambdatest\n\ngo 1.22\n",
		"main.go": lambdaProgram,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(t.Context(), goCmd, "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func lambdaStarter(bin, mode string) *LambdaStarter {
	return &LambdaStarter{Config: LambdaConfig{
		Binary: bin,
		Name:   "go-fn",
		Dir:    filepath.Dir(bin),
		Env:    []string{"MODE=" + mode},
		Grace:  time.Second,
		Region: "eu-west-1",
	}}
}

// lambdaEcho is what the program answers.
type lambdaEcho struct {
	Event       json.RawMessage `json:"event"`
	RequestID   string          `json:"requestId"`
	DeadlineMs  string          `json:"deadlineMs"`
	ARN         string          `json:"arn"`
	ContentType string          `json:"contentType"`
	PrevStatus  int             `json:"prevStatus"`
}

func TestLambdaWorker(t *testing.T) {
	bin := buildLambdaProgram(t)

	t.Run("invocations", func(t *testing.T) {
		t.Parallel()
		var idle logRecorder
		s := lambdaStarter(bin, "serve")
		s.Config.IdleLog = idle.log
		w := start(t, s)
		// In sequence on one worker: prevStatus reports how the program's
		// previous POST was answered.
		steps := []struct {
			id, event string
			prev      int
			fnErr     *FunctionError
		}{
			{"req-00000001", `{"action":"ok","n":1}`, 0, nil},
			{"req-00000002", `{"action":"error"}`, 0, &FunctionError{Type: "BrokeError", Message: "it broke", Stack: []string{"    at main.handle (main.go:12)"}}},
			{"req-00000003", `{"action":"ok","n":3}`, 202, nil},
			{"req-00000004", `{"action":"ok","n":4,"nested":{"a":[1,2,"três"]}}`, 202, nil},
		}
		for _, st := range steps {
			before := time.Now()
			res, err := w.Invoke(t.Context(), invokeReq(st.id, st.event, 10*time.Second, nil))
			if err != nil {
				t.Fatalf("Invoke %s: %v", st.id, err)
			}
			if res.Pid != w.Pid() {
				t.Errorf("%s: Pid = %d, want %d", st.id, res.Pid, w.Pid())
			}
			if st.fnErr != nil {
				if res.Error == nil || res.Error.Type != st.fnErr.Type || res.Error.Message != st.fnErr.Message ||
					strings.Join(res.Error.Stack, "\n") != strings.Join(st.fnErr.Stack, "\n") {
					t.Errorf("%s: Error = %+v, want %+v", st.id, res.Error, st.fnErr)
				}
				continue
			}
			if res.Error != nil {
				t.Fatalf("%s: Error = %v", st.id, res.Error)
			}
			var got lambdaEcho
			if err := json.Unmarshal(res.Response, &got); err != nil {
				t.Fatalf("%s: response %s: %v", st.id, res.Response, err)
			}
			if string(got.Event) != st.event {
				t.Errorf("%s: event round-tripped as %s, want %s", st.id, got.Event, st.event)
			}
			if got.RequestID != st.id {
				t.Errorf("Lambda-Runtime-Aws-Request-Id = %q, want %q", got.RequestID, st.id)
			}
			ms, err := strconv.ParseInt(got.DeadlineMs, 10, 64)
			if err != nil {
				t.Errorf("Lambda-Runtime-Deadline-Ms = %q: %v", got.DeadlineMs, err)
			} else if d := time.UnixMilli(ms); d.Before(before.Add(10*time.Second-time.Millisecond)) || d.After(time.Now().Add(10*time.Second)) {
				t.Errorf("Lambda-Runtime-Deadline-Ms = %v, want 10s after the invocation began (%v)", d, before)
			}
			if want := "arn:aws:lambda:eu-west-1:000000000000:function:go-fn"; got.ARN != want {
				t.Errorf("Lambda-Runtime-Invoked-Function-Arn = %q, want %q", got.ARN, want)
			}
			if got.ContentType != "application/json" {
				t.Errorf("Content-Type of /next = %q", got.ContentType)
			}
			if got.PrevStatus != st.prev {
				t.Errorf("the program's previous POST was answered %d, want %d", got.PrevStatus, st.prev)
			}
		}
		// Printed at start-up, before any invocation.
		deadline := time.Now().Add(5 * time.Second)
		for !containsLine(idle.get(), logLine{Stdout, "starting serve"}) {
			if time.Now().After(deadline) {
				t.Fatalf("IdleLog got %v, want the start-up line", idle.get())
			}
			time.Sleep(5 * time.Millisecond)
		}
	})

	t.Run("logs reach the invocation", func(t *testing.T) {
		t.Parallel()
		w := start(t, lambdaStarter(bin, "quiet"))
		const lines = 20
		for i := range 10 {
			id := fmt.Sprintf("logs-%08d", i)
			var rec logRecorder
			_, err := w.Invoke(t.Context(), invokeReq(id, fmt.Sprintf(`{"lines":%d}`, lines), 10*time.Second, rec.log))
			got := onStream(rec.get(), Stdout)
			if err != nil {
				t.Fatalf("Invoke %s: %v", id, err)
			}
			var want []string
			for n := range lines {
				want = append(want, fmt.Sprintf("line %d of %s", n, id))
			}
			if !slices.Equal(got, want) {
				t.Errorf("Invoke %s: Request.Log got %d lines before Invoke returned, want exactly the %d it printed: %q", id, len(got), lines, got)
			}
		}
	})

	t.Run("start-up output goes to IdleLog", func(t *testing.T) {
		t.Parallel()
		var idle logRecorder
		s := lambdaStarter(bin, "chatty")
		s.Config.IdleLog = idle.log
		w := start(t, s)
		var rec logRecorder
		if _, err := w.Invoke(t.Context(), invokeReq("first-000001", `{}`, 10*time.Second, rec.log)); err != nil {
			t.Fatal(err)
		}
		if got := rec.get(); len(got) != 0 {
			t.Errorf("the first invocation's Log got %d lines printed before it began (%v ... %v), want none", len(got), got[0], got[len(got)-1])
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(idle.get())+len(rec.get()) < 2000 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := len(idle.get()); got != 2000 {
			t.Errorf("IdleLog got %d of the 2000 start-up lines", got)
		}
	})

	t.Run("partial line stays with its invocation", func(t *testing.T) {
		t.Parallel()
		w := start(t, lambdaStarter(bin, "quiet"))
		steps := []struct {
			id, event string
			want      []string
		}{
			{"part-0000001", `{"action":"partial"}`, []string{"partial without newline"}},
			{"part-0000002", `{"lines":1}`, []string{"line 0 of part-0000002"}},
		}
		for _, st := range steps {
			var rec logRecorder
			_, err := w.Invoke(t.Context(), invokeReq(st.id, st.event, 10*time.Second, rec.log))
			got := onStream(rec.get(), Stdout)
			if err != nil {
				t.Fatalf("Invoke %s: %v", st.id, err)
			}
			if !slices.Equal(got, st.want) {
				t.Errorf("Invoke %s: Request.Log got %q, want %q", st.id, got, st.want)
			}
		}
	})

	t.Run("exit during invocation", func(t *testing.T) {
		t.Parallel()
		w := start(t, lambdaStarter(bin, "serve"))
		_, err := w.Invoke(t.Context(), invokeReq("exit-0000001", `{"action":"exit"}`, 10*time.Second, nil))
		var ee *ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("err = %T %v, want *ExitError", err, err)
		}
		if got, want := err.Error(), "worker exited with code 6 during invocation"; got != want {
			t.Errorf("err = %q, want %q", got, want)
		}
		waitGroupGone(t, w.Pid())
		// The next invocation was never taken.
		_, err = w.Invoke(t.Context(), invokeReq("exit-0000002", `{}`, 10*time.Second, nil))
		var nd *NotDeliveredError
		if !errors.As(err, &nd) {
			t.Errorf("Invoke on the dead worker: %T %v, want *NotDeliveredError", err, err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		w := start(t, lambdaStarter(bin, "serve"))
		_, err := w.Invoke(t.Context(), invokeReq("hang-0000001", `{"action":"hang"}`, 300*time.Millisecond, nil))
		var te *TimeoutError
		if !errors.As(err, &te) || te.Limit != 300*time.Millisecond {
			t.Fatalf("err = %T %v, want *TimeoutError after 300ms", err, err)
		}
		waitGroupGone(t, w.Pid())
	})

	initErrors := []struct {
		mode     string
		wantType string
		wantMsg  string
	}{
		{"exit-before-next", "Runtime.ExitError", "worker exited with code 4 before it asked for an invocation"},
		{"init-error", "ConfigError", "missing DATABASE_URL"},
	}
	for _, tt := range initErrors {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			w, err := lambdaStarter(bin, tt.mode).Start(ctx)
			if err == nil {
				w.Stop(ctx)
				t.Fatal("Start succeeded")
			}
			var ie *InitError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %T %v, want *InitError", err, err)
			}
			if ie.Err.Type != tt.wantType || !strings.Contains(ie.Err.Message, tt.wantMsg) {
				t.Errorf("InitError = %s: %s, want %s containing %q", ie.Err.Type, ie.Err.Message, tt.wantType, tt.wantMsg)
			}
		})
	}

	t.Run("stop", func(t *testing.T) {
		t.Parallel()
		w := start(t, lambdaStarter(bin, "serve"))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		select {
		case <-w.Done():
		default:
			t.Error("Stop returned before Done was closed")
		}
		waitGroupGone(t, w.Pid())
	})
}

func containsLine(lines []logLine, l logLine) bool {
	for _, x := range lines {
		if x == l {
			return true
		}
	}
	return false
}

func TestLambdaStarterInitTimeout(t *testing.T) {
	// A program that starts and never asks for an invocation, as one built
	// with aws-lambda-go before v1.18 does (it serves the go1.x RPC
	// protocol instead).
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	bin := filepath.Join(dir, "old-go")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho $$ > "+pidFile+"\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &LambdaStarter{Config: LambdaConfig{Binary: bin, Name: "go-rpc", Dir: dir, Env: []string{"PATH=" + os.Getenv("PATH")}, Grace: time.Second, InitTimeout: 500 * time.Millisecond}}
	begin := time.Now()
	w, err := s.Start(t.Context())
	if err == nil {
		w.Stop(t.Context())
		t.Fatal("Start succeeded")
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("Start took %v with a 500ms init limit", took)
	}
	var ie *InitError
	if !errors.As(err, &ie) || !strings.Contains(ie.Err.Message, `worker for "go-rpc" did not become ready within 500ms`) ||
		!strings.Contains(ie.Err.Message, "aws-lambda-go older than v1.18") {
		t.Fatalf("err = %v, want an init timeout that explains old aws-lambda-go", err)
	}
	assertGone(t, pidFile)

	// Cancelled (the pool is closing): not an init error.
	os.Remove(pidFile)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := s.Start(ctx); done <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for _, err := os.Stat(pidFile); err != nil; _, err = os.Stat(pidFile) {
		if time.Now().After(deadline) {
			t.Fatal("second start never ran the program")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	err = <-done
	if errors.As(err, &ie) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled start: %v, want context.Canceled", err)
	}
	assertGone(t, pidFile)
}
