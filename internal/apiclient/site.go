package apiclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/api"
	"github.com/bgfn-dev/bgfn/internal/blobs"
	"github.com/bgfn-dev/bgfn/internal/records"
)

// Message is what the API said went wrong: the error of its JSON answer,
// else the body as it came.
func (e *StatusError) Message() string {
	var v struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(e.Body), &v) == nil && v.Error != "" {
		return v.Error
	}
	return strings.TrimSpace(e.Body)
}

// Functions lists the server's functions with their build state.
func (c *Client) Functions(ctx context.Context) ([]api.Function, error) {
	var out api.Functions
	if _, err := c.getJSON(ctx, "/.bgfn/api/functions", &out); err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	return out.Functions, nil
}

// Config returns the server's resolved configuration.
func (c *Client) Config(ctx context.Context) (api.Config, error) {
	var out api.Config
	if _, err := c.getJSON(ctx, "/.bgfn/api/config", &out); err != nil {
		return out, fmt.Errorf("get config: %w", err)
	}
	return out, nil
}

// Invocations lists records matching f, newest first.
func (c *Client) Invocations(ctx context.Context, f records.Filter) ([]*records.View, error) {
	q := url.Values{}
	if f.Function != "" {
		q.Set("function", f.Function)
	}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/.bgfn/api/invocations"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []*records.View
	if _, err := c.getJSON(ctx, path, &out); err != nil {
		return nil, fmt.Errorf("list invocations: %w", err)
	}
	return out, nil
}

// Logs returns the log lines after q's cursor (see records.Tail).
func (c *Client) Logs(ctx context.Context, q records.TailQuery) (records.Tail, error) {
	v := url.Values{}
	if q.HasSince {
		v.Set("since", strconv.FormatInt(q.Since, 10))
	}
	if q.Function != "" {
		v.Set("function", q.Function)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/.bgfn/api/logs"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out records.Tail
	if _, err := c.getJSON(ctx, path, &out); err != nil {
		return out, fmt.Errorf("tail logs: %w", err)
	}
	return out, nil
}

// ReplayResult runs a recorded invocation again (with body when it is
// not nil) and decodes what the replay started.
func (c *Client) ReplayResult(ctx context.Context, id string, body []byte) (*api.ReplayResult, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	b, err := c.Replay(ctx, id, rd)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", id, err)
	}
	res := new(api.ReplayResult)
	if err := json.Unmarshal(b, res); err != nil {
		return nil, fmt.Errorf("replay %s: decode: %w", id, err)
	}
	return res, nil
}

// Answer is what a function answered one request.
type Answer struct {
	Status int
	Header http.Header
	// Body is the start of the body, at most the limit Call was given;
	// Size is the whole body's length and Truncated says Body is short of
	// it.
	Body      []byte
	Size      int64
	Truncated bool
	// ID is the invocation's id (X-Bgfn-Invocation-Id).
	ID       string
	Duration time.Duration
}

// Call sends req (a request to one of the server's functions) and reads
// at most limit bytes of the answer's body, counting the rest.
func (c *Client) Call(req *http.Request, limit int64) (*Answer, error) {
	start := time.Now()
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	rest, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	return &Answer{
		Status: resp.StatusCode, Header: resp.Header, Body: body,
		Size: int64(len(body)) + rest, Truncated: rest > 0,
		ID: resp.Header.Get("X-Bgfn-Invocation-Id"), Duration: time.Since(start),
	}, nil
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.http().Do(c.auth(req))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return nil, &StatusError{Status: resp.StatusCode, Body: string(b)}
	}
	return resp, nil
}

func blobStorePath(store string) string {
	return blobs.APIPath + "/stores/" + url.PathEscape(store)
}

func blobKeyPath(store, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return blobStorePath(store) + "/" + strings.Join(segs, "/")
}

// BlobStores lists the site's stores (wire names: site:NAME, deploy:0...).
func (c *Client) BlobStores(ctx context.Context) ([]blobs.StoreInfo, error) {
	var out struct {
		Stores []blobs.StoreInfo `json:"stores"`
	}
	if _, err := c.getJSON(ctx, blobs.APIPath+"/stores", &out); err != nil {
		return nil, fmt.Errorf("list blob stores: %w", err)
	}
	return out.Stores, nil
}

// BlobList lists one page of a store's keys (store is a wire name).
func (c *Client) BlobList(ctx context.Context, store, prefix, cursor string, limit int) (blobs.APIPage, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := blobStorePath(store)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var p blobs.APIPage
	if _, err := c.getJSON(ctx, path, &p); err != nil {
		return p, fmt.Errorf("list %s: %w", store, err)
	}
	return p, nil
}

// Blob is a value read through the API: at most the limit asked of its
// bytes, with its description and metadata.
type Blob struct {
	blobs.Entry
	Metadata  json.RawMessage
	Data      []byte
	Truncated bool
}

// BlobGet reads a value, at most limit bytes of it.
func (c *Client) BlobGet(ctx context.Context, store, key string, limit int64) (*Blob, error) {
	resp, err := c.do(ctx, http.MethodGet, blobKeyPath(store, key), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", key, store, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", key, store, err)
	}
	rest, _ := io.Copy(io.Discard, resp.Body)
	b := &Blob{Entry: blobs.Entry{Key: key, Size: int64(len(data)) + rest, ETag: resp.Header.Get("ETag")}, Data: data, Truncated: rest > 0}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		b.LastModified = t
	}
	if m, ok := strings.CutPrefix(resp.Header.Get("X-Amz-Meta-User"), "b64;"); ok {
		if raw, err := base64.StdEncoding.DecodeString(m); err == nil && json.Valid(raw) {
			b.Metadata = raw
		}
	}
	return b, nil
}

// BlobSet stores data under key, with metadata (a JSON object) unless it
// is nil.
func (c *Client) BlobSet(ctx context.Context, store, key string, data []byte, metadata json.RawMessage) (blobs.Entry, error) {
	h := http.Header{}
	if metadata != nil {
		h.Set("X-Amz-Meta-User", blobs.EncodeMetadata(metadata))
	}
	var e blobs.Entry
	resp, err := c.do(ctx, http.MethodPut, blobKeyPath(store, key), bytes.NewReader(data), h)
	if err != nil {
		return e, fmt.Errorf("set %s in %s: %w", key, store, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		return e, fmt.Errorf("set %s in %s: decode: %w", key, store, err)
	}
	return e, nil
}

// BlobDelete deletes a value; a key with no value is a 404 StatusError.
func (c *Client) BlobDelete(ctx context.Context, store, key string) error {
	resp, err := c.do(ctx, http.MethodDelete, blobKeyPath(store, key), nil, nil)
	if err != nil {
		return fmt.Errorf("delete %s from %s: %w", key, store, err)
	}
	resp.Body.Close()
	return nil
}
