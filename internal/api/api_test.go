package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// fakeReplayer answers replays as a server would.
type fakeReplayer struct {
	gotBody string
	err     error
}

func (f *fakeReplayer) Replay(ctx context.Context, v *records.View, body []byte) (string, int, []byte, error) {
	f.gotBody = string(body)
	if f.err != nil {
		return "", 0, nil, f.err
	}
	if v.Kind == "background" {
		return "new-bg", http.StatusAccepted, nil, nil
	}
	return "new-sync", http.StatusOK, []byte("answered"), nil
}

type notFound struct{}

func (notFound) Error() string  { return "cannot replay GET /x: no function answers that path now" }
func (notFound) NotFound() bool { return true }

func newAPI(t *testing.T, rp Replayer) (*Handler, *records.Store) {
	t.Helper()
	st, err := records.NewStore(10, "")
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Records: st, Replayer: rp, Info: Info{Site: "/s", PID: 1, Version: "v"}}), st
}

func serveAPI(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rw
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name       string
		kind       string
		recorded   string
		body       string
		err        error
		wantStatus int
		wantBody   string // the body the replayer got
		want       ReplayResult
		wantErr    string
	}{
		{name: "background with the recorded body", kind: "background", recorded: "old", wantStatus: 202, wantBody: "old",
			want: ReplayResult{ID: "new-bg", Status: 202, Location: "/.bgfn/api/invocations/new-bg"}},
		{name: "sync with a new body", kind: "sync", recorded: "old", body: "new", wantStatus: 202, wantBody: "new",
			want: ReplayResult{ID: "new-sync", Status: 200, Location: "/.bgfn/api/invocations/new-sync", Body: "answered"}},
		{name: "no function answers it now", kind: "sync", err: notFound{}, wantStatus: 404, wantErr: "no function answers"},
		{name: "other errors are 400", kind: "sync", err: errors.New("rebuild request: bad method"), wantStatus: 400, wantErr: "bad method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := &fakeReplayer{err: tt.err}
			h, st := newAPI(t, rp)
			st.New(records.Spec{ID: "orig", Function: "f", Kind: tt.kind, MaxAttempts: 1, Body: []byte(tt.recorded)})
			rw := serveAPI(h, "POST", "/.bgfn/api/invocations/orig/replay", tt.body)
			if rw.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rw.Code, tt.wantStatus, rw.Body)
			}
			if tt.wantErr != "" {
				if !strings.Contains(rw.Body.String(), tt.wantErr) {
					t.Errorf("body %s lacks %q", rw.Body, tt.wantErr)
				}
				return
			}
			var got ReplayResult
			if err := json.Unmarshal(rw.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			tt.want.ReplayOf = "orig"
			if got != tt.want || rp.gotBody != tt.wantBody {
				t.Errorf("result %+v with body %q, want %+v with %q", got, rp.gotBody, tt.want, tt.wantBody)
			}
		})
	}
}

func TestReadEndpoints(t *testing.T) {
	h, st := newAPI(t, &fakeReplayer{})
	st.New(records.Spec{ID: "a", Function: "f", Kind: "sync", MaxAttempts: 1}).Finish(records.Succeeded)
	st.New(records.Spec{ID: "b", Function: "g", Kind: "background", MaxAttempts: 3})
	tests := []struct {
		path       string
		wantStatus int
		want       string
	}{
		{"/.bgfn/api/info", 200, `{"site":"/s","pid":1,"version":"v"}`},
		{"/.bgfn/api/invocations?function=g", 200, `"id":"b"`},
		{"/.bgfn/api/invocations?limit=x", 400, `invalid limit`},
		{"/.bgfn/api/invocations/a", 200, `"status":"succeeded"`},
		{"/.bgfn/api/invocations/zz", 404, `no invocation \"zz\"`},
		{"/.bgfn/api/invocations/a/wait?timeout=1ms", 200, `"id":"a"`},
		{"/.bgfn/api/invocations/b/wait?timeout=1ms", 202, `"status":"queued"`},
		{"/.bgfn/api/invocations/b/wait?timeout=soon", 400, `invalid timeout`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rw := serveAPI(h, "GET", tt.path, "")
			if rw.Code != tt.wantStatus || !strings.Contains(rw.Body.String(), tt.want) {
				t.Errorf("%d %s, want %d containing %s", rw.Code, rw.Body, tt.wantStatus, tt.want)
			}
		})
	}
}
