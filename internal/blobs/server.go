package blobs

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The protocol, as @netlify/blobs 8.x to 11.x speak it to a local server
// (the client's src/client.ts and src/store.ts; see also netlify's
// src/server.ts):
//
//	GET    /{site}?prefix=P                      list stores: {"stores":[...]}
//	GET    /{site}/{store}?prefix&directories&cursor
//	                                             list: {"blobs":[{etag,key,last_modified,size}],
//	                                                    "directories":[...], "next_cursor"?}
//	DELETE /{site}/{store}                       delete all: {"blobs_deleted":n,"has_more":false}
//	GET    /{site}/{store}/{key...}              the value; etag and x-amz-meta-user headers
//	HEAD   /{site}/{store}/{key...}              the same without the value
//	PUT    /{site}/{store}/{key...}              store the body; etag header; 412 when
//	                                             If-None-Match: * or If-Match: ETAG fails
//	DELETE /{site}/{store}/{key...}              204, whether or not there was a value
//
// A first segment region:R (deploy stores) is ignored. Every request needs
// "Authorization: Bearer TOKEN" or a signature from a signed URL (403
// otherwise). The API style /api/v1/blobs/{site}/{store}/{key...} answers
// Accept: application/json;type=signed-url with {"url": signed URL} for GET
// and PUT, and is served like the edge style for the rest.
//
// Bad input answers 400 with the reason in x-nf-error (the client puts
// that header in its error message), never 5xx: the client retries 5xx
// five times, five seconds apart.

const (
	metadataHeader         = "x-amz-meta-user"
	metadataHeaderExternal = "netlify-blobs-metadata"
	signedURLAccept        = "application/json;type=signed-url"
	// DefaultPrimaryRegion is the region netlify-cli hands functions.
	DefaultPrimaryRegion = "dev"
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// Token is the Bearer token clients must send; a random one when
	// empty.
	Token string
	// PrimaryRegion goes to functions as primaryRegion (getDeployStore
	// needs one); DefaultPrimaryRegion when empty.
	PrimaryRegion string
	// OnFirstRequest is called once, on the first request that passes the
	// token check, so the caller can say where the data is kept.
	OnFirstRequest func()
	// Logf, when set, gets one line for every request that failed on the
	// server's side (5xx).
	Logf func(format string, args ...any)
}

// Server answers the Netlify Blobs protocol from a Store.
type Server struct {
	store   *Store
	token   string
	signKey []byte
	region  string
	first   sync.Once
	onFirst func()
	logf    func(string, ...any)

	mu   sync.Mutex
	srv  *http.Server
	url  string
	wg   sync.WaitGroup
	stop chan struct{}
}

// NewServer makes a Server for st. It serves nothing until Start, or
// until it is mounted as an http.Handler.
func NewServer(st *Store, o ServerOptions) *Server {
	s := &Server{store: st, token: o.Token, region: o.PrimaryRegion, onFirst: o.OnFirstRequest, logf: o.Logf}
	if s.token == "" {
		s.token = randomHex(16)
	}
	if s.region == "" {
		s.region = DefaultPrimaryRegion
	}
	s.signKey = []byte(randomHex(32))
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Token is the Bearer token clients must send.
func (s *Server) Token() string { return s.token }

// Store is the store the server answers from.
func (s *Server) Store() *Store { return s.store }

// Start listens on a free port of 127.0.0.1 and serves until ctx ends or
// Close is called. The client resolves request paths against the origin
// of its edge URL, so the server needs an origin of its own rather than a
// path on another server.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("blobs server: listen: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	s.mu.Lock()
	s.srv, s.url, s.stop = srv, "http://"+ln.Addr().String(), make(chan struct{})
	stop := s.stop
	s.mu.Unlock()
	served := make(chan struct{})
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		defer close(served)
		srv.Serve(ln)
	}()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-stop:
		case <-served:
		}
		srv.Close()
	}()
	return nil
}

// URL is the server's origin once started, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops a started server, ending open requests, and waits for its
// goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		close(stop)
	}
	s.wg.Wait()
	return nil
}

// Context is the value of NETLIFY_BLOBS_CONTEXT for a v2 function: base64
// of the JSON the client reads (src/environment.ts). The uncached URL is
// the same server: every read here is strongly consistent.
func (s *Server) Context(siteID, deployID string) string {
	b, _ := json.Marshal(struct {
		EdgeURL         string `json:"edgeURL"`
		UncachedEdgeURL string `json:"uncachedEdgeURL"`
		Token           string `json:"token"`
		SiteID          string `json:"siteID"`
		DeployID        string `json:"deployID"`
		PrimaryRegion   string `json:"primaryRegion"`
	}{s.URL(), s.URL(), s.token, siteID, deployID, s.region})
	return base64.StdEncoding.EncodeToString(b)
}

// EventBlobs is the value of event.blobs for a v1 (and Go) function:
// base64 of the JSON connectLambda reads, with the keys in netlify-cli's
// order. connectLambda takes the site and deploy ids from the
// x-nf-site-id and x-nf-deploy-id request headers.
func (s *Server) EventBlobs() string {
	b, _ := json.Marshal(struct {
		PrimaryRegion string `json:"primary_region"`
		URL           string `json:"url"`
		URLUncached   string `json:"url_uncached"`
		Token         string `json:"token"`
	}{s.region, s.URL(), s.URL(), s.token})
	return base64.StdEncoding.EncodeToString(b)
}

// httpError is a failed request: its status and the reason.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(w http.ResponseWriter, status int, msg string) {
	msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	h := w.Header()
	h.Set("x-nf-error", msg)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// statusOf maps a Store error to a status.
func statusOf(err error) int {
	var ve *ValidationError
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.As(err, &ve):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrPrecondition):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	st := statusOf(err)
	if st >= 500 && s.logf != nil {
		s.logf("blobs: %s %s: %v", r.Method, r.URL.Path, err)
	}
	fail(w, st, err.Error())
}

// sign is the signature of a signed URL: it is good for one method and
// one path on this server.
func (s *Server) sign(method, path string) string {
	m := hmac.New(sha256.New, s.signKey)
	m.Write([]byte(method + " " + path))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) authorized(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") &&
		subtle.ConstantTimeCompare([]byte(a[7:]), []byte(s.token)) == 1 {
		return true
	}
	if sig := r.URL.Query().Get("signature"); sig != "" {
		return hmac.Equal([]byte(sig), []byte(s.sign(r.Method, r.URL.EscapedPath())))
	}
	return false
}

// ServeHTTP answers one request of the protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		fail(w, http.StatusForbidden, "missing or wrong Netlify Blobs token (this local server accepts only the token bgfn gave the function)")
		return
	}
	if s.onFirst != nil {
		s.first.Do(s.onFirst)
	}
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if len(segs) >= 3 && segs[0] == "api" && segs[1] == "v1" {
		s.serveAPIStyle(w, r, segs[2:])
		return
	}
	if strings.HasPrefix(segs[0], "region:") {
		segs = segs[1:]
	}
	s.serveEdge(w, r, segs)
}

// serveAPIStyle answers /api/v1/blobs/{site}/{store}/{key...} and the
// legacy /api/v1/sites/{site}/blobs/{key...}?context=STORE.
func (s *Server) serveAPIStyle(w http.ResponseWriter, r *http.Request, segs []string) {
	signed := r.Header.Get("Accept") == signedURLAccept
	switch {
	case segs[0] == "blobs" && len(segs) >= 2:
		segs = segs[1:]
	case segs[0] == "sites" && len(segs) >= 3 && segs[2] == "blobs":
		store := r.URL.Query().Get("context")
		if store == "" {
			store = "production"
		}
		segs = append([]string{segs[1], url.PathEscape(store)}, segs[3:]...)
		signed = true
	default:
		fail(w, http.StatusNotFound, "unknown API path "+r.URL.Path)
		return
	}
	hasKey := len(segs) >= 3 && strings.Join(segs[2:], "") != ""
	if signed && hasKey && (r.Method == http.MethodGet || r.Method == http.MethodPut) {
		path := "/" + strings.Join(segs, "/")
		u := "http://" + r.Host + path + "?signature=" + s.sign(r.Method, path)
		writeJSON(w, http.StatusOK, map[string]string{"url": u})
		return
	}
	s.serveEdge(w, r, segs)
}

// target is what an edge-style path names.
type target struct {
	site, store, key string
}

func parseTarget(segs []string) (target, error) {
	var t target
	dec := make([]string, len(segs))
	for i, sg := range segs {
		d, err := url.PathUnescape(sg)
		if err != nil {
			return t, &httpError{http.StatusBadRequest, fmt.Sprintf("bad escape in path segment %q", sg)}
		}
		dec[i] = d
	}
	if len(dec) == 0 || dec[0] == "" {
		return t, &httpError{http.StatusBadRequest, "missing site id: paths are /{siteID}/{store}/{key}"}
	}
	t.site = dec[0]
	if err := ValidateSiteID(t.site); err != nil {
		return t, err
	}
	if len(dec) >= 2 {
		t.store = dec[1]
	}
	if len(dec) >= 3 {
		t.key = strings.Join(dec[2:], "/")
		if t.key == "" && len(dec) == 3 {
			// A trailing slash after the store: the store itself.
		} else if t.store == "" {
			return t, &httpError{http.StatusBadRequest, "missing store name: paths are /{siteID}/{store}/{key}"}
		}
	}
	if t.store != "" {
		if _, err := ParseStore(t.store); err != nil {
			return t, err
		}
	}
	return t, nil
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	fail(w, http.StatusMethodNotAllowed, "method not allowed; use "+allow)
}

func (s *Server) serveEdge(w http.ResponseWriter, r *http.Request, segs []string) {
	t, err := parseTarget(segs)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	switch {
	case t.store == "":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		s.listStores(w, r, t)
	case t.key == "":
		switch r.Method {
		case http.MethodGet:
			s.list(w, r, t)
		case http.MethodDelete:
			n, err := s.store.DeleteStore(t.site, t.store)
			if err != nil {
				s.failErr(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"blobs_deleted": n, "has_more": false})
		case http.MethodPut, http.MethodHead:
			fail(w, http.StatusBadRequest, "missing key: paths are /{siteID}/{store}/{key}")
		default:
			methodNotAllowed(w, "GET, DELETE")
		}
	default:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.get(w, r, t)
		case http.MethodPut:
			s.put(w, r, t)
		case http.MethodDelete:
			if _, err := s.store.Delete(t.site, t.store, t.key); err != nil {
				s.failErr(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			methodNotAllowed(w, "GET, HEAD, PUT, DELETE")
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) listStores(w http.ResponseWriter, r *http.Request, t target) {
	all, err := s.store.Stores(t.site)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	prefix := r.URL.Query().Get("prefix")
	stores := []string{}
	for _, st := range all {
		if strings.HasPrefix(st, prefix) {
			stores = append(stores, st)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"stores": stores})
}

// wireBlob is one blob in a listing, as the client reads it.
type wireBlob struct {
	ETag         string `json:"etag"`
	Key          string `json:"key"`
	LastModified string `json:"last_modified"`
	Size         int64  `json:"size"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, t target) {
	q := r.URL.Query()
	p, err := s.store.List(t.site, t.store, ListOptions{
		Prefix:      q.Get("prefix"),
		Directories: q.Get("directories") == "true",
		Cursor:      q.Get("cursor"),
	})
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	out := struct {
		Blobs       []wireBlob `json:"blobs"`
		Directories []string   `json:"directories"`
		NextCursor  string     `json:"next_cursor,omitempty"`
	}{Blobs: make([]wireBlob, 0, len(p.Blobs)), Directories: p.Directories, NextCursor: p.NextCursor}
	for _, b := range p.Blobs {
		out.Blobs = append(out.Blobs, wireBlob{
			ETag: b.ETag, Key: b.Key, Size: b.Size,
			LastModified: jsTime(b.LastModified),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// get serves GET and HEAD of a value: streamed from its file, with Range
// and If-None-Match (304) handled by http.ServeContent.
func (s *Server) get(w http.ResponseWriter, r *http.Request, t target) {
	b, err := s.store.Get(t.site, t.store, t.key)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		s.failErr(w, r, err)
		return
	}
	defer b.Close()
	h := w.Header()
	h.Set("ETag", b.ETag)
	if b.Metadata != nil {
		h.Set(metadataHeader, EncodeMetadata(b.Metadata))
	}
	h.Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", b.LastModified, b.File)
}

// bodyReader remembers whether reading the request failed, to tell a
// client that went away (400) from a disk that failed (500).
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// putInput reads what a PUT carries besides its body: the metadata and
// the condition. It is shared with the JSON API.
func putInput(r *http.Request) ([]byte, Condition, error) {
	var c Condition
	if r.ContentLength == 0 && r.Header.Get("Content-Length") == "" && len(r.TransferEncoding) == 0 {
		return nil, c, &httpError{http.StatusLengthRequired, "missing body: send the value as the request body (with Content-Length, or chunked)"}
	}
	var meta []byte
	h := r.Header.Get(metadataHeader)
	if h == "" {
		h = r.Header.Get(metadataHeaderExternal)
	}
	if h != "" {
		if n := len(metadataHeaderExternal) + len(h); n > MaxMetadataBytes {
			return nil, c, &httpError{http.StatusBadRequest, fmt.Sprintf("metadata too large: %d bytes encoded, the limit is %d (2 KB)", n, MaxMetadataBytes)}
		}
		enc, ok := strings.CutPrefix(h, "b64;")
		if !ok {
			return nil, c, &httpError{http.StatusBadRequest, "metadata header must be b64;<base64 of JSON>"}
		}
		var err error
		if meta, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return nil, c, &httpError{http.StatusBadRequest, "metadata header is not valid base64"}
		}
	}
	inm := strings.TrimSpace(r.Header.Get("If-None-Match"))
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	switch {
	case inm != "" && im != "":
		return nil, c, &httpError{http.StatusBadRequest, "If-None-Match and If-Match cannot be used together"}
	case inm == "*":
		c.OnlyIfNew = true
	case inm != "":
		return nil, c, &httpError{http.StatusBadRequest, "a PUT supports only If-None-Match: *"}
	case im != "":
		c.OnlyIfMatch = im
	}
	return meta, c, nil
}

func (s *Server) put(w http.ResponseWriter, r *http.Request, t target) {
	meta, cond, err := putInput(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	body := &bodyReader{r: r.Body}
	e, err := s.store.Put(t.site, t.store, t.key, body, meta, cond)
	if err != nil {
		if body.err != nil {
			err = &httpError{http.StatusBadRequest, "read request body: " + body.err.Error()}
		}
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("ETag", e.ETag)
	w.WriteHeader(http.StatusOK)
}
