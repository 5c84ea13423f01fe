package api

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// The runs page (issue 17): four server-rendered views of what the API
// serves, html/template over the same records and functions, and one
// small script (page/app.js) that follows /.bgfn/api/events and swaps in
// the part of a view that changed (?partial=1 renders only that part).
// Everything is embedded: no CDN, no fonts, no build step.

//go:embed page
var pageFS embed.FS

// PageAssets are the page's files, for the size test and the asset handler.
var PageAssets = []string{"page/layout.html", "page/app.js", "page/app.css"}

var pageTmpl = template.Must(template.New("layout.html").Funcs(template.FuncMap{
	"since":    sinceText,
	"ms":       msText,
	"clock":    clockText,
	"rfc3339":  rfc3339,
	"state":    stateText,
	"query":    func(v url.Values) string { return v.Encode() },
	"join":     strings.Join,
	"lines":    func(s []string) string { return strings.Join(s, "\n") },
	"shortid":  records.ShortID,
	"thousand": thousands,
}).ParseFS(pageFS, "page/layout.html"))

// Page bounds.
const (
	// DefaultRunsShown is how many runs the runs view lists at first; the
	// page asks for more 100 at a time, up to MaxRunsShown. A list that
	// long stays fast to render and to refresh.
	DefaultRunsShown = 100
	MaxRunsShown     = 1000
	// maxShownBody bounds the request, response and blob bodies a view
	// shows; binary ones show as a hex dump of at most maxHex bytes.
	maxShownBody = 256 << 10
	maxHex       = 4 << 10
)

func (h *Handler) mountPage() {
	h.mux.HandleFunc("GET /.bgfn/{$}", h.runsPage)
	h.mux.HandleFunc("GET /.bgfn/runs/{id}", h.runPage)
	h.mux.HandleFunc("GET /.bgfn/functions", h.functionsPage)
	h.mux.HandleFunc("GET /.bgfn/blobs", h.blobsPage)
	h.mux.HandleFunc("GET /.bgfn/assets/{name}", h.asset)
}

// pageData is what every view's template gets.
type pageData struct {
	View    string // runs, run, functions, blobs
	Title   string
	Site    string
	Partial bool
	// Watch is what the script follows: "runs", "run:ID", "functions".
	Watch string
	Body  any
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, d pageData) {
	d.Site = h.opts.Info.Site
	d.Partial = r.URL.Query().Get("partial") == "1"
	name := "layout.html"
	if d.Partial {
		name = d.View
	}
	var b bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&b, name, d); err != nil {
		http.Error(w, "render "+d.View+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Write(b.Bytes())
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ctype := map[string]string{"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}[name]
	if ctype == "" {
		http.NotFound(w, r)
		return
	}
	b, _ := pageFS.ReadFile("page/" + name)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// --- runs view

// RunsFilter is the runs view's filter, held in the page's URL.
type RunsFilter struct {
	Function, Status, Kind, Search string
	Limit                          int
}

func runsFilter(q url.Values) RunsFilter {
	f := RunsFilter{Function: q.Get("function"), Status: q.Get("status"), Kind: q.Get("kind"), Search: strings.TrimSpace(q.Get("q")), Limit: DefaultRunsShown}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		f.Limit = min(n, MaxRunsShown)
	}
	return f
}

// URL is the runs view's address with the filter, and more rows when
// more is set.
func (f RunsFilter) query(limit int) url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"function": f.Function, "status": f.Status, "kind": f.Kind, "q": f.Search} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if limit != DefaultRunsShown {
		v.Set("limit", strconv.Itoa(limit))
	}
	return v
}

type runsBody struct {
	Filter    RunsFilter
	Functions []string
	Statuses  []records.Status
	Kinds     []string
	Runs      []runRow
	Total     int
	More      url.Values
	Now       time.Time
}

// runRow is one line of the runs view.
type runRow struct {
	*records.View
	Attempt int
	Code    string
}

func rowOf(v *records.View) runRow {
	row := runRow{View: v, Attempt: len(v.Attempts)}
	switch {
	case v.StatusCode != 0:
		row.Code = strconv.Itoa(v.StatusCode)
	case v.Kind == "background":
		row.Code = "202"
	}
	return row
}

func (h *Handler) runsPage(w http.ResponseWriter, r *http.Request) {
	f := runsFilter(r.URL.Query())
	views, total := h.opts.Records.Page(records.Filter{Function: f.Function, Status: records.Status(f.Status), Kind: f.Kind, IDContains: strings.ToLower(f.Search), Limit: f.Limit})
	body := runsBody{Filter: f, Statuses: records.Statuses, Kinds: []string{"sync", "background", "scheduled"}, Now: time.Now(), Total: total}
	for _, v := range views {
		body.Runs = append(body.Runs, rowOf(v))
	}
	if body.Total > len(body.Runs) && f.Limit < MaxRunsShown {
		body.More = f.query(min(f.Limit+DefaultRunsShown, MaxRunsShown))
	}
	body.Functions = h.functionNames(views)
	h.render(w, r, pageData{View: "runs", Title: "Runs", Watch: "runs", Body: body})
}

// functionNames are the names for the function filter: the site's
// functions, and any that only old records name.
func (h *Handler) functionNames(vs []*records.View) []string {
	set := map[string]bool{}
	if h.opts.Functions != nil {
		for _, f := range h.opts.Functions() {
			set[f.Name] = true
		}
	}
	for _, v := range vs {
		set[v.Function] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// --- run view

type runBody struct {
	*records.View
	Attempt     int
	Cancellable bool
	Retryable   bool
	Body        shownBody
	HeaderNames []string
	Response    *shownResponse
	Curl        string
	Invoke      string
	// EditBody and EditHeaders fill the replay editor.
	EditBody    string
	EditHeaders string
	Now         time.Time
}

type shownResponse struct {
	*records.Response
	HeaderNames []string
	Body        shownBody
}

// shownBody is a body as a view shows it: text (JSON pretty-printed), or
// the size and a hex dump of binary bytes.
type shownBody struct {
	Empty     bool
	Text      string
	JSON      bool
	Binary    bool
	Hex       string
	Size      int
	Truncated bool
}

func showBody(raw []byte, truncated bool) shownBody {
	sb := shownBody{Size: len(raw), Truncated: truncated, Empty: len(raw) == 0}
	switch {
	case sb.Empty:
	case !utf8.Valid(raw):
		sb.Binary = true
		sb.Hex = hex.Dump(raw[:min(len(raw), maxHex)])
	default:
		var pretty bytes.Buffer
		if json.Valid(raw) && json.Indent(&pretty, raw, "", "  ") == nil && len(raw) < maxShownBody {
			sb.Text, sb.JSON = pretty.String(), true
		} else {
			sb.Text = string(raw[:min(len(raw), maxShownBody)])
			sb.Truncated = sb.Truncated || len(raw) > maxShownBody
		}
	}
	return sb
}

func decodeBody(s string, b64 bool) []byte {
	if !b64 {
		return []byte(s)
	}
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

func (h *Handler) runPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, ok := h.opts.Records.Get(id)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		h.render(w, r, pageData{View: "missing", Title: "No run " + id, Body: id})
		return
	}
	v := rec.View()
	body := rec.Body()
	if body == nil {
		body = decodeBody(v.Request.Body, v.Request.BodyBase64)
	}
	b := runBody{
		View: v, Attempt: len(v.Attempts), Now: time.Now(),
		Body:        showBody(body, v.Request.BodyTruncated),
		HeaderNames: sortedKeys(v.Request.Headers),
		Curl:        curlCommand("http://"+r.Host, v, body),
		Invoke:      invokeCommand(v, body),
		EditHeaders: editableHeaders(v.Request.Headers),
	}
	if utf8.Valid(body) {
		b.EditBody = string(body)
	}
	b.Cancellable = h.opts.Control != nil && v.Kind == "background" && !v.Status.Final()
	b.Retryable = h.opts.Control != nil && v.Status == records.Retrying
	if resp := v.Response; resp != nil {
		b.Response = &shownResponse{Response: resp, HeaderNames: sortedKeys(resp.Headers), Body: showBody(decodeBody(resp.Body, resp.BodyBase64), resp.BodyTruncated)}
		b.Response.Body.Size = max(resp.BodySize, b.Response.Body.Size)
	}
	h.render(w, r, pageData{View: "run", Title: v.Function + " " + records.ShortID(v.ID), Watch: "run:" + v.ID, Body: b})
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// addedHeader reports whether bgfn (or the HTTP client) set header k, so
// a copied command leaves it out: the server sets it again.
func addedHeader(k string) bool {
	switch k {
	case "host", "content-length", "connection", "accept-encoding", "client-ip", "user-agent", "accept":
		return true
	}
	return strings.HasPrefix(k, "x-nf-") || strings.HasPrefix(k, "x-forwarded-") || strings.HasPrefix(k, "x-bgfn-") || strings.HasPrefix(k, "x-netlify-")
}

func editableHeaders(hs map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(hs) {
		if k == "host" || k == "content-length" {
			continue
		}
		b.WriteString(k + ": " + hs[k] + "\n")
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func target(v *records.View) string {
	t := v.Request.Path
	if v.Request.Query != "" {
		t += "?" + v.Request.Query
	}
	return t
}

// curlCommand is the recorded request as a curl command line.
func curlCommand(base string, v *records.View, body []byte) string {
	parts := []string{"curl", "-i"}
	if v.Request.Method != http.MethodGet || len(body) > 0 {
		parts = append(parts, "-X", v.Request.Method)
	}
	for _, k := range sortedKeys(v.Request.Headers) {
		if !addedHeader(k) {
			parts = append(parts, "-H", shellQuote(k+": "+v.Request.Headers[k]))
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			parts = append(parts, "--data-binary", shellQuote(string(body)))
		} else {
			parts = append(parts, "--data-binary", "@body.bin")
		}
	}
	parts = append(parts, shellQuote(base+target(v)))
	return strings.Join(parts, " ")
}

// invokeCommand is the recorded request as a bgfn invoke command line.
func invokeCommand(v *records.View, body []byte) string {
	parts := []string{"bgfn", "invoke", shellQuote(v.Function)}
	if v.Request.Method != http.MethodPost {
		parts = append(parts, "-X", v.Request.Method)
	}
	if v.Request.Path != "/.netlify/functions/"+v.Function {
		parts = append(parts, "--path", shellQuote(target(v)))
	} else if v.Request.Query != "" {
		parts = append(parts, "-q", shellQuote(v.Request.Query))
	}
	for _, k := range sortedKeys(v.Request.Headers) {
		if !addedHeader(k) && k != "content-type" {
			parts = append(parts, "-H", shellQuote(k+": "+v.Request.Headers[k]))
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			parts = append(parts, "--data", shellQuote(string(body)))
		} else {
			parts = append(parts, "--data", "@body.bin")
		}
	}
	if v.Kind == "background" {
		parts = append(parts, "--wait")
	}
	return strings.Join(parts, " ")
}

// --- functions view

type functionsBody struct {
	Functions []functionRow
	Now       time.Time
}

type functionRow struct {
	Function
	Where   []string
	Invoke  string // the path Invoke posts to
	Workers *PoolInfo
	Runs    []runRow
}

// PoolInfo is one function's instances, as /.bgfn/api/stats shows them.
type PoolInfo struct {
	Instances int `json:"instances"`
	Idle      int `json:"idle"`
	Busy      int `json:"busy"`
	Queued    int `json:"queued"`
}

// pools reads each function's pool from Stats (whatever its type, by its
// JSON: api does not know the runtime's types).
func (h *Handler) pools() map[string]PoolInfo {
	if h.opts.Stats == nil {
		return nil
	}
	b, err := json.Marshal(h.opts.Stats())
	if err != nil {
		return nil
	}
	var st struct {
		Functions map[string]PoolInfo `json:"functions"`
	}
	json.Unmarshal(b, &st)
	return st.Functions
}

func (h *Handler) functionsPage(w http.ResponseWriter, r *http.Request) {
	var fns []Function
	if h.opts.Functions != nil {
		fns = h.opts.Functions()
	}
	pools := h.pools()
	body := functionsBody{Now: time.Now()}
	for _, f := range fns {
		row := functionRow{Function: f, Where: f.Routes, Invoke: "/.netlify/functions/" + f.Name}
		if len(f.Routes) > 0 {
			row.Invoke = f.Routes[0]
		} else {
			row.Where = []string{row.Invoke}
		}
		if p, ok := pools[f.Name]; ok {
			row.Workers = &p
		}
		for _, v := range h.opts.Records.List(records.Filter{Function: f.Name, Limit: 5}) {
			row.Runs = append(row.Runs, rowOf(v))
		}
		body.Functions = append(body.Functions, row)
	}
	h.render(w, r, pageData{View: "functions", Title: "Functions", Watch: "functions", Body: body})
}

// --- blobs view

type blobsBody struct {
	Available bool
	Error     string
	Stores    []blobStore
	Store     string
	Prefix    string
	Keys      []blobKey
	Next      string
	Key       string
	Value     *blobValue
}

type blobStore struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type blobKey struct {
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"lastModified"`
	ETag         string    `json:"etag"`
}

type blobValue struct {
	blobKey
	Metadata string
	Body     shownBody
	Path     string
}

// blobsGet asks the Blobs JSON API (mounted here) for path, in process.
func (h *Handler) blobsGet(path string, v any) (int, []byte, http.Header) {
	rw := httptest.NewRecorder()
	h.opts.Blobs.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, path, nil))
	b := rw.Body.Bytes()
	if v != nil && rw.Code == http.StatusOK {
		json.Unmarshal(b, v)
	}
	return rw.Code, b, rw.Header()
}

func apiErrorOf(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(b))
}

// BlobKeyPath is the Blobs API path of a store's key.
func BlobKeyPath(store, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/.bgfn/api/blobs/stores/" + url.PathEscape(store) + "/" + strings.Join(segs, "/")
}

func (h *Handler) blobsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	b := blobsBody{Available: h.opts.Blobs != nil, Store: q.Get("store"), Prefix: q.Get("prefix"), Key: q.Get("key")}
	if b.Available {
		var st struct {
			Stores []blobStore `json:"stores"`
		}
		if code, raw, _ := h.blobsGet("/.bgfn/api/blobs/stores", &st); code != http.StatusOK {
			b.Error = apiErrorOf(raw)
		}
		b.Stores = st.Stores
	}
	if b.Available && b.Store != "" && b.Error == "" {
		lq := url.Values{}
		if b.Prefix != "" {
			lq.Set("prefix", b.Prefix)
		}
		if c := q.Get("cursor"); c != "" {
			lq.Set("cursor", c)
		}
		var page struct {
			Blobs      []blobKey `json:"blobs"`
			NextCursor string    `json:"nextCursor"`
		}
		if code, raw, _ := h.blobsGet("/.bgfn/api/blobs/stores/"+url.PathEscape(b.Store)+"?"+lq.Encode(), &page); code != http.StatusOK {
			b.Error = apiErrorOf(raw)
		}
		b.Keys, b.Next = page.Blobs, page.NextCursor
	}
	if b.Available && b.Store != "" && b.Key != "" && b.Error == "" {
		path := BlobKeyPath(b.Store, b.Key)
		var meta struct {
			blobKey
			Metadata json.RawMessage `json:"metadata"`
		}
		code, raw, _ := h.blobsGet(path+"?meta=1", &meta)
		if code != http.StatusOK {
			b.Error = apiErrorOf(raw)
		} else {
			_, data, _ := h.blobsGet(path, nil)
			val := &blobValue{blobKey: meta.blobKey, Path: path, Body: showBody(data, false)}
			if len(meta.Metadata) > 0 && string(meta.Metadata) != "null" {
				var pretty bytes.Buffer
				json.Indent(&pretty, meta.Metadata, "", "  ")
				val.Metadata = pretty.String()
			}
			b.Value = val
		}
	}
	h.render(w, r, pageData{View: "blobs", Title: "Blobs", Body: b})
}

// --- template helpers

func stateText(s records.Status) string { return strings.ReplaceAll(string(s), "_", " ") }

func msText(v float64) string {
	switch {
	case v <= 0:
		return "–"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	case v < 60000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	}
	return (time.Duration(v) * time.Millisecond).Round(time.Second).String()
}

func sinceText(now, t time.Time) string { return msText(float64(now.Sub(t).Microseconds()) / 1000) }

func clockText(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Local().Format("15:04:05.000")
}

func rfc3339(t any) string {
	switch t := t.(type) {
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	case *time.Time:
		if t != nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
	}
	return ""
}

// thousands writes a whole number with thousands separators.
func thousands(n any) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
