package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/records"
)

func TestLogs(t *testing.T) {
	h, st := newAPI(t, nil)
	for _, fn := range []string{"a", "b", "a"} {
		r := st.New(records.Spec{ID: "id-" + fn, Function: fn, Kind: "sync", MaxAttempts: 1})
		r.Log(r.StartAttempt(), false, []byte("from "+fn))
	}
	tests := []struct {
		query  string
		status int
		seqs   string
		next   int64
		more   bool
		errSub string
	}{
		{query: "", status: 200, seqs: "1,2,3", next: 3},
		{query: "?since=1", status: 200, seqs: "2,3", next: 3},
		{query: "?since=0&function=a", status: 200, seqs: "1,3", next: 3},
		{query: "?since=0&limit=2", status: 200, seqs: "1,2", next: 2, more: true},
		{query: "?since=3", status: 200, seqs: "", next: 3},
		{query: "?since=x", status: 400, errSub: "invalid since"},
		{query: "?since=-1", status: 400, errSub: "invalid since"},
		{query: "?limit=0", status: 400, errSub: "from 1 to 10000"},
		{query: "?limit=10001", status: 400, errSub: "from 1 to 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rw := serveAPI(h, "GET", "/.bgfn/api/logs"+tt.query, "")
			if rw.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rw.Code, tt.status, rw.Body)
			}
			if tt.errSub != "" {
				if !strings.Contains(rw.Body.String(), tt.errSub) {
					t.Fatalf("body %s, want %q", rw.Body, tt.errSub)
				}
				return
			}
			var tail records.Tail
			if err := json.Unmarshal(rw.Body.Bytes(), &tail); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range tail.Lines {
				got = append(got, fmt.Sprint(l.Seq))
				if l.Line != "from "+l.Function || l.ID != "id-"+l.Function {
					t.Errorf("line %+v", l)
				}
			}
			if s := strings.Join(got, ","); s != tt.seqs || tail.Next != tt.next || tail.More != tt.more {
				t.Errorf("seqs %q next %d more %v, want %q %d %v", s, tail.Next, tail.More, tt.seqs, tt.next, tt.more)
			}
		})
	}
}

func TestFunctionsAndConfig(t *testing.T) {
	st, _ := records.NewStore(10, "")
	bare := New(Options{Records: st})
	for _, p := range []string{"/.bgfn/api/functions", "/.bgfn/api/config"} {
		if rw := serveAPI(bare, "GET", p, ""); rw.Code != http.StatusNotFound {
			t.Errorf("%s without a provider: %d, want 404", p, rw.Code)
		}
	}
	h := New(Options{
		Records:   st,
		Functions: func() []Function { return nil },
		Config: func() Config {
			return Config{FunctionsDir: "/s/fns", Env: []EnvVar{{Key: "TOKEN", Source: ".env"}}}
		},
	})
	rw := serveAPI(h, "GET", "/.bgfn/api/functions", "")
	if rw.Code != 200 || rw.Body.String() != `{"functions":[]}` {
		t.Errorf("functions: %d %s", rw.Code, rw.Body)
	}
	rw = serveAPI(h, "GET", "/.bgfn/api/config", "")
	var c Config
	if err := json.Unmarshal(rw.Body.Bytes(), &c); err != nil || c.FunctionsDir != "/s/fns" || c.Env[0].Key != "TOKEN" {
		t.Errorf("config: %d %s (%v)", rw.Code, rw.Body, err)
	}
}

// The Blobs API and the MCP endpoint are mounted under the one handler.
func TestMounts(t *testing.T) {
	st, _ := records.NewStore(10, "")
	tag := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(name + " " + r.URL.Path)) })
	}
	h := New(Options{Records: st, Blobs: tag("blobs"), MCP: tag("mcp")})
	for path, want := range map[string]string{
		"/.bgfn/api/blobs/stores": "blobs /.bgfn/api/blobs/stores",
		"/.bgfn/mcp":              "mcp /.bgfn/mcp",
	} {
		if rw := serveAPI(h, "POST", path, ""); rw.Body.String() != want {
			t.Errorf("%s: %q, want %q", path, rw.Body, want)
		}
	}
}
