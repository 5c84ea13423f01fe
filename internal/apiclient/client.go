package apiclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/records"
	"github.com/bgfn-dev/bgfn/internal/site"
)

// DefaultPort is where `bgfn dev` listens unless told otherwise.
const DefaultPort = 9999

// Client talks to one running bgfn.
type Client struct {
	// Base is the server's URL, e.g. http://127.0.0.1:9999.
	Base string
	// HTTP is the client used; nil means http.DefaultClient.
	HTTP *http.Client
	// Token is sent to /.bgfn/ as Authorization: Bearer, for a bgfn dev
	// that listens beyond loopback (its dev.json holds it). Requests to
	// functions (Call) never carry it.
	Token string
}

// ForState returns a client of the server a site's dev.json describes.
func ForState(st site.State) *Client { return &Client{Base: st.URL, Token: st.Token} }

// auth adds the token to a request for /.bgfn/.
func (c *Client) auth(req *http.Request) *http.Request {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Find returns the URL of a running `bgfn dev` for the site: the one its
// state file names, else one on port (0: netlify.toml's port, else 9999)
// that says it serves this site. Servers of other sites are not used.
func Find(ctx context.Context, s *site.Site, port int) (string, bool) {
	var candidates []string
	if st, err := site.ReadState(s.Config.BaseDir); err == nil && st.URL != "" {
		candidates = append(candidates, st.URL)
	}
	if port == 0 {
		port = s.Config.Port
	}
	if port == 0 {
		port = DefaultPort
	}
	candidates = append(candidates, "http://127.0.0.1:"+strconv.Itoa(port))
	probe := &Client{HTTP: &http.Client{Timeout: 500 * time.Millisecond}}
	for _, u := range candidates {
		probe.Base = u
		if info, err := probe.Info(ctx); err == nil && sameDir(info.Site, s.Config.SiteDir) {
			return u, true
		}
	}
	return "", false
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return ra == rb
}

// Info asks the server which site it serves.
func (c *Client) Info(ctx context.Context) (api.Info, error) {
	var info api.Info
	_, err := c.getJSON(ctx, "/.bgfn/api/info", &info)
	return info, err
}

// Invocation returns the record with id.
func (c *Client) Invocation(ctx context.Context, id string) (*records.View, error) {
	v := new(records.View)
	if _, err := c.getJSON(ctx, "/.bgfn/api/invocations/"+id, v); err != nil {
		return nil, fmt.Errorf("get invocation %s: %w", id, err)
	}
	return v, nil
}

// Wait waits up to timeout for the invocation to end and returns its
// record as it stands then (final or not).
func (c *Client) Wait(ctx context.Context, id string, timeout time.Duration) (*records.View, error) {
	v := new(records.View)
	if _, err := c.getJSON(ctx, "/.bgfn/api/invocations/"+id+"/wait?timeout="+timeout.String(), v); err != nil {
		return nil, fmt.Errorf("wait for invocation %s: %w", id, err)
	}
	return v, nil
}

// StatusError is an answer other than the one expected.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), strings.TrimSpace(e.Body))
}

// Replay runs a recorded invocation again, with body when it is not nil.
// It returns the API's answer as it came.
func (c *Client) Replay(ctx context.Context, id string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+"/.bgfn/api/invocations/"+id+"/replay", body)
	if err != nil {
		return nil, err
	}
	resp, err := c.http().Do(c.auth(req))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		return out, &StatusError{Status: resp.StatusCode, Body: string(out)}
	}
	return out, nil
}

// ResumeInterrupted runs the server's interrupted background runs again,
// keeping their ids, and returns the API's answer as it came (an
// api.ResumeResult).
func (c *Client) ResumeInterrupted(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+"/.bgfn/api/invocations/interrupted/resume", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		return out, &StatusError{Status: resp.StatusCode, Body: string(out)}
	}
	return out, nil
}

func (c *Client) getJSON(ctx context.Context, path string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http().Do(c.auth(req))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return resp.StatusCode, &StatusError{Status: resp.StatusCode, Body: string(b)}
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return resp.StatusCode, fmt.Errorf("decode %s: %w", path, err)
	}
	return resp.StatusCode, nil
}
