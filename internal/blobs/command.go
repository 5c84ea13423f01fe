package blobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bgfn-dev/bgfn/internal/exit"
	"github.com/bgfn-dev/bgfn/internal/ui"
)

// errBadRequest marks a 400 from a running server: a usage error.
var errBadRequest = errors.New("rejected by the server")

// commandError gives err its exit code: 2 for bad input, 1 otherwise
// (a missing key included), as `bgfn invoke` does.
func commandError(err error) error {
	var ee *exit.Error
	var ve *ValidationError
	switch {
	case err == nil || errors.As(err, &ee):
		return err
	case errors.As(err, &ve) || errors.Is(err, errBadRequest):
		return exit.With(exit.Usage, err)
	}
	return exit.With(exit.Failed, err)
}

// Backend is where `bgfn blobs` reads and writes: a running bgfn dev's
// API, or the folder on disk. Store arguments are wire names.
type Backend interface {
	Stores(ctx context.Context) ([]string, error)
	List(ctx context.Context, store, prefix string) ([]Entry, error)
	// Open returns the value (close it) or ErrNotFound.
	Open(ctx context.Context, store, key string) (io.ReadCloser, Entry, error)
	Set(ctx context.Context, store, key string, body io.Reader, metadata []byte) (Entry, error)
	// Delete returns ErrNotFound when there was no value.
	Delete(ctx context.Context, store, key string) error
}

var (
	_ Backend = (*diskBackend)(nil)
	_ Backend = (*httpBackend)(nil)
)

// Command is what every `bgfn blobs` subcommand needs.
type Command struct {
	Streams *ui.IOStreams
	// BaseDir is the site's base folder, where .netlify is.
	BaseDir string
	// Server is the URL of the site's running bgfn dev, or "" (the caller
	// finds it; commands go through it when it serves the blobs API).
	Server string
	// Deploy means the store arguments name deploy stores of the local
	// deploy ("0"); an empty name is getDeployStore() without one.
	Deploy bool
	// Backend, when set, is used instead of finding one (tests).
	Backend Backend
}

// storeID turns a store argument into its wire name.
func (c *Command) storeID(name string) (string, error) {
	if c.Deploy {
		if name != "" {
			if err := ValidateStoreName(name); err != nil {
				return "", err
			}
		}
		return DeployStore(LocalDeployID, name), nil
	}
	if err := ValidateStoreName(name); err != nil {
		return "", err
	}
	return SiteStore(name), nil
}

// backend finds a running bgfn dev for the site and uses its API, or opens
// the folder. Both take the same lock, so writing on disk while a server
// runs is safe too; going through the server only keeps one writer.
func (c *Command) backend(ctx context.Context) (Backend, func(), error) {
	if c.Backend != nil {
		return c.Backend, func() {}, nil
	}
	if c.servesBlobs(ctx) {
		return &httpBackend{base: c.Server, client: &http.Client{}}, func() {}, nil
	}
	st, err := Open(Dir(c.BaseDir))
	if err != nil {
		return nil, nil, err
	}
	return &diskBackend{st: st, site: SiteID(c.BaseDir)}, func() { st.Close() }, nil
}

// servesBlobs reports whether the site's running bgfn dev serves the
// blobs API.
func (c *Command) servesBlobs(ctx context.Context) bool {
	if c.Server == "" {
		return false
	}
	// A server that is gone refuses at once; this bounds one that hangs.
	client := &http.Client{Timeout: 3 * time.Second}
	var stores struct {
		Stores []StoreInfo `json:"stores"`
	}
	return getJSON(ctx, client, c.Server+APIPath+"/stores", &stores) == nil && stores.Stores != nil
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// ListArgs are the arguments of `bgfn blobs list`.
type ListArgs struct {
	// Store is the store to list; with HasStore false the stores are
	// listed instead.
	Store    string
	HasStore bool
	Prefix   string
	JSON     bool
}

// List runs `bgfn blobs list`.
func (c *Command) List(ctx context.Context, a ListArgs) error {
	return commandError(c.list(ctx, a))
}

func (c *Command) list(ctx context.Context, a ListArgs) error {
	if !a.HasStore {
		if a.Prefix != "" {
			return exit.With(exit.Usage, errors.New("--prefix needs a STORE: bgfn blobs list STORE --prefix P"))
		}
		return c.listStores(ctx, a.JSON)
	}
	id, err := c.storeID(a.Store)
	if err != nil {
		return err
	}
	be, done, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer done()
	entries, err := be.List(ctx, id, a.Prefix)
	if err != nil {
		return err
	}
	out := c.Streams.Out
	if a.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	if len(entries) == 0 {
		msg := "no blobs in store " + strconv.Quote(a.Store)
		if a.Prefix != "" {
			msg += " with prefix " + strconv.Quote(a.Prefix)
		}
		fmt.Fprintln(c.Streams.ErrOut, msg)
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSIZE\tLAST MODIFIED")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", e.Key, e.Size, e.LastModified.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func (c *Command) listStores(ctx context.Context, asJSON bool) error {
	be, done, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer done()
	ids, err := be.Stores(ctx)
	if err != nil {
		return err
	}
	names := []string{}
	for _, id := range ids {
		info, err := ParseStore(id)
		if err != nil {
			continue
		}
		if c.Deploy && info.Kind == "deploy" && info.DeployID == LocalDeployID || !c.Deploy && info.Kind == "site" {
			names = append(names, info.Name)
		}
	}
	if asJSON {
		enc := json.NewEncoder(c.Streams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(names)
	}
	if len(names) == 0 {
		kind := "site"
		if c.Deploy {
			kind = "deploy"
		}
		fmt.Fprintf(c.Streams.ErrOut, "no %s stores yet\n", kind)
		return nil
	}
	for _, n := range names {
		if n == "" {
			n = `(default: use "" as STORE)`
		}
		fmt.Fprintln(c.Streams.Out, n)
	}
	return nil
}

// Get runs `bgfn blobs get`: the value's bytes go to stdout, or to output
// when it is not empty.
func (c *Command) Get(ctx context.Context, store, key, output string) error {
	return commandError(c.get(ctx, store, key, output))
}

func (c *Command) get(ctx context.Context, store, key, output string) error {
	id, err := c.storeID(store)
	if err != nil {
		return err
	}
	if err := ValidateKey(key); err != nil {
		return err
	}
	be, done, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer done()
	rc, _, err := be.Open(ctx, id, key)
	if errors.Is(err, ErrNotFound) {
		return exit.With(exit.Failed, fmt.Errorf("no blob %q in store %q", key, store))
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	var w io.Writer = c.Streams.Out
	if output != "" && output != "-" {
		f, err := os.Create(output)
		if err != nil {
			return fmt.Errorf("write %s: %w", output, err)
		}
		if _, err := io.Copy(f, rc); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", output, err)
		}
		return f.Close()
	}
	_, err = io.Copy(w, rc)
	return err
}

// SetArgs are the arguments of `bgfn blobs set`.
type SetArgs struct {
	Store, Key string
	// Data is the value: text, @FILE, or - for standard input.
	Data    string
	DataSet bool
	// Metadata is a JSON object, or empty.
	Metadata string
}

// Set runs `bgfn blobs set`. Files and standard input stream through, so
// values of any size never sit in memory.
func (c *Command) Set(ctx context.Context, a SetArgs) error {
	return commandError(c.set(ctx, a))
}

func (c *Command) set(ctx context.Context, a SetArgs) error {
	id, err := c.storeID(a.Store)
	if err != nil {
		return err
	}
	if err := ValidateKey(a.Key); err != nil {
		return err
	}
	if !a.DataSet {
		return exit.With(exit.Usage, errors.New("bgfn blobs set needs the value: --data VALUE, --data @FILE or --data - (stdin)"))
	}
	var meta []byte
	if a.Metadata != "" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(a.Metadata), &obj); err != nil || obj == nil {
			return exit.With(exit.Usage, fmt.Errorf("--metadata must be a JSON object, like '{\"author\":\"ada\"}'"))
		}
		if meta, err = normalizeMetadata([]byte(a.Metadata)); err != nil {
			return err
		}
	}
	var body io.Reader
	switch {
	case a.Data == "-":
		body = c.Streams.In
	case strings.HasPrefix(a.Data, "@"):
		f, err := os.Open(a.Data[1:])
		if err != nil {
			return exit.With(exit.Usage, fmt.Errorf("read --data file %s: %w", a.Data[1:], errors.Unwrap(err)))
		}
		defer f.Close()
		body = f
	default:
		body = strings.NewReader(a.Data)
	}
	be, done, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer done()
	e, err := be.Set(ctx, id, a.Key, body, meta)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Streams.ErrOut, "set %q in store %q (%d bytes)\n", a.Key, a.Store, e.Size)
	return nil
}

// Delete runs `bgfn blobs delete`; a key that is not there exits 1.
func (c *Command) Delete(ctx context.Context, store, key string) error {
	return commandError(c.delete(ctx, store, key))
}

func (c *Command) delete(ctx context.Context, store, key string) error {
	id, err := c.storeID(store)
	if err != nil {
		return err
	}
	if err := ValidateKey(key); err != nil {
		return err
	}
	be, done, err := c.backend(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := be.Delete(ctx, id, key); err != nil {
		if errors.Is(err, ErrNotFound) {
			return exit.With(exit.Failed, fmt.Errorf("no blob %q in store %q", key, store))
		}
		return err
	}
	fmt.Fprintf(c.Streams.ErrOut, "deleted %q from store %q\n", key, store)
	return nil
}

// diskBackend works on the folder directly, under the store's lock.
type diskBackend struct {
	st   *Store
	site string
}

func (d *diskBackend) Stores(context.Context) ([]string, error) { return d.st.Stores(d.site) }

func (d *diskBackend) List(_ context.Context, store, prefix string) ([]Entry, error) {
	blobs, _, err := d.st.ListAll(d.site, store, ListOptions{Prefix: prefix})
	return blobs, err
}

func (d *diskBackend) Open(_ context.Context, store, key string) (io.ReadCloser, Entry, error) {
	b, err := d.st.Get(d.site, store, key)
	if err != nil {
		return nil, Entry{}, err
	}
	return b.File, b.Entry, nil
}

func (d *diskBackend) Set(_ context.Context, store, key string, body io.Reader, meta []byte) (Entry, error) {
	return d.st.Put(d.site, store, key, body, meta, Condition{})
}

func (d *diskBackend) Delete(_ context.Context, store, key string) error {
	ok, err := d.st.Delete(d.site, store, key)
	if err == nil && !ok {
		return ErrNotFound
	}
	return err
}

// httpBackend goes through the JSON API of a running bgfn dev.
type httpBackend struct {
	base   string
	client *http.Client
}

func (h *httpBackend) storeURL(store string) string {
	return h.base + APIPath + "/stores/" + url.PathEscape(store)
}

func (h *httpBackend) keyURL(store, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return h.storeURL(store) + "/" + strings.Join(segs, "/")
}

func (h *httpBackend) do(ctx context.Context, method, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bgfn dev at %s: %w", h.base, err)
	}
	if err := apiError(resp, h.base); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// apiError turns an API answer of 300 or more into the error it stands
// for.
func apiError(resp *http.Response, base string) error {
	if resp.StatusCode < 300 {
		return nil
	}
	var e struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(b))
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusBadRequest, http.StatusLengthRequired, http.StatusConflict:
		return fmt.Errorf("%s (%w)", e.Error, errBadRequest)
	}
	return fmt.Errorf("bgfn dev at %s: %s: %s", base, resp.Status, e.Error)
}

func (h *httpBackend) Stores(ctx context.Context) ([]string, error) {
	resp, err := h.do(ctx, http.MethodGet, h.base+APIPath+"/stores")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Stores []StoreInfo `json:"stores"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	ids := make([]string, len(out.Stores))
	for i, s := range out.Stores {
		ids[i] = s.ID
	}
	return ids, nil
}

func (h *httpBackend) List(ctx context.Context, store, prefix string) ([]Entry, error) {
	entries := []Entry{}
	cursor := ""
	for {
		q := url.Values{}
		if prefix != "" {
			q.Set("prefix", prefix)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		u := h.storeURL(store)
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		resp, err := h.do(ctx, http.MethodGet, u)
		if err != nil {
			return nil, err
		}
		var p APIPage
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", store, err)
		}
		entries = append(entries, p.Blobs...)
		if p.NextCursor == "" {
			return entries, nil
		}
		cursor = p.NextCursor
	}
}

func (h *httpBackend) Open(ctx context.Context, store, key string) (io.ReadCloser, Entry, error) {
	resp, err := h.do(ctx, http.MethodGet, h.keyURL(store, key))
	if err != nil {
		return nil, Entry{}, err
	}
	e := Entry{Key: key, Size: resp.ContentLength, ETag: resp.Header.Get("ETag")}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		e.LastModified = t
	}
	return resp.Body, e, nil
}

func (h *httpBackend) Set(ctx context.Context, store, key string, body io.Reader, meta []byte) (Entry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, h.keyURL(store, key), body)
	if err != nil {
		return Entry{}, err
	}
	// A file's size is known: send a Content-Length rather than chunks.
	// (Text arguments get one from NewRequest; stdin goes chunked.)
	if f, ok := body.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			req.ContentLength = fi.Size()
			if req.ContentLength == 0 {
				req.Body = http.NoBody
			}
		}
	}
	if meta != nil {
		req.Header.Set(metadataHeader, EncodeMetadata(meta))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return Entry{}, fmt.Errorf("bgfn dev at %s: %w", h.base, err)
	}
	defer resp.Body.Close()
	if err := apiError(resp, h.base); err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("set %s: %w", key, err)
	}
	return e, nil
}

func (h *httpBackend) Delete(ctx context.Context, store, key string) error {
	resp, err := h.do(ctx, http.MethodDelete, h.keyURL(store, key))
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
