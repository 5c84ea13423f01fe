package mcp

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxResource bounds what a resource read returns: a Go function's binary
// is tens of megabytes, and its path is what an agent needs.
const maxResource = 1 << 20

// resourceSet is the resources the server has registered: each function's
// entry file and build output, as file:// URIs of their absolute paths.
// Functions come and go with reloads, so the set is brought up to date
// from list_functions before every resources/list and resources/read.
type resourceSet struct {
	mu   sync.Mutex
	have map[string]sdk.Resource
}

func (b *bgfn) registerResources(s *sdk.Server) {
	rs := &resourceSet{have: make(map[string]sdk.Resource)}
	s.AddReceivingMiddleware(func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			if method == "resources/list" || method == "resources/read" {
				b.syncResources(ctx, s, rs)
			}
			return next(ctx, method, req)
		}
	})
}

func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

func (b *bgfn) syncResources(ctx context.Context, s *sdk.Server, rs *resourceSet) {
	c, err := b.target.Client(ctx)
	if err != nil {
		return
	}
	fns, err := c.Functions(ctx)
	if err != nil {
		return // keep what is registered; the read says what is wrong
	}
	want := make(map[string]sdk.Resource)
	for _, f := range fns {
		if f.Entry != "" {
			want[fileURI(f.Entry)] = sdk.Resource{
				URI: fileURI(f.Entry), Name: f.Name + " entry", Title: f.Name + ": " + f.Source,
				Description: fmt.Sprintf("Entry file of the %s function %s (%s): the source to edit; bgfn reloads it on save.", f.Kind, f.Name, f.Runtime),
				MIMEType:    mimeType(f.Entry),
			}
		}
		if f.Output != "" {
			want[fileURI(f.Output)] = sdk.Resource{
				URI: fileURI(f.Output), Name: f.Name + " build output", Title: f.Name + ": build output",
				Description: fmt.Sprintf("What the workers of %s run: the bundle of a JS or TS function, the binary of a Go one. Generated: edit the entry file instead.", f.Name),
				MIMEType:    mimeType(f.Output),
			}
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var gone []string
	for uri := range rs.have {
		if _, ok := want[uri]; !ok {
			gone = append(gone, uri)
			delete(rs.have, uri)
		}
	}
	if len(gone) > 0 {
		s.RemoveResources(gone...)
	}
	for uri, r := range want {
		if old, ok := rs.have[uri]; ok && old.Name == r.Name && old.Title == r.Title && old.Description == r.Description && old.MIMEType == r.MIMEType {
			continue
		}
		rs.have[uri] = r
		path := filepathOf(uri)
		s.AddResource(&r, func(context.Context, *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
			return readFile(uri, path, r.MIMEType)
		})
	}
}

func filepathOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return filepath.FromSlash(u.Path)
}

func readFile(uri, path, mime string) (*sdk.ReadResourceResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxResource+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxResource {
		return nil, fmt.Errorf("%s is larger than the %d bytes bgfn serves as a resource: open it from the file system", path, maxResource)
	}
	rc := &sdk.ResourceContents{URI: uri, MIMEType: mime}
	if utf8.Valid(b) {
		rc.Text = string(b)
	} else {
		rc.Blob = b
	}
	return &sdk.ReadResourceResult{Contents: []*sdk.ResourceContents{rc}}, nil
}

func mimeType(path string) string {
	switch filepath.Ext(path) {
	case ".js", ".mjs", ".cjs", ".jsx":
		return "text/javascript"
	case ".ts", ".mts", ".cts", ".tsx":
		return "text/typescript"
	case ".go":
		return "text/x-go"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}
