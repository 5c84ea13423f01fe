package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgfn-dev/bgfn/internal/apiclient"
)

// Path is where bgfn dev serves the Streamable HTTP endpoint.
const Path = "/.bgfn/mcp"

// Target gives the tools the bgfn server to talk to, once per call: a
// fixed URL inside bgfn dev, or whatever `bgfn mcp` found or started.
type Target interface {
	Client(ctx context.Context) (*apiclient.Client, error)
}

// URL is a Target that is always the server at that base URL.
type URL string

// Client implements Target.
func (u URL) Client(context.Context) (*apiclient.Client, error) {
	return &apiclient.Client{Base: string(u)}, nil
}

// Remote is a Target that is always the server at URL, with the token
// its /.bgfn/ asks for (empty when it asks for none).
type Remote struct {
	URL, Token string
}

// Client implements Target.
func (r Remote) Client(context.Context) (*apiclient.Client, error) {
	return &apiclient.Client{Base: r.URL, Token: r.Token}, nil
}

// Options configure the MCP server.
type Options struct {
	Target  Target
	Version string
}

// instructions tell the model what the server is for.
const instructions = `bgfn runs this site's Netlify Functions locally. Call list_functions first to see the functions, their routes and whether they built. invoke_function calls one (set wait for a background function to get its outcome and logs); every call leaves an invocation record with its attempts, errors and logs (list_invocations, get_invocation, wait_invocation, replay_invocation); cancel_invocation stops a background run. tail_logs follows every function's output with a cursor. blobs_* read and write the site's local Netlify Blobs. get_config shows the resolved configuration (environment variable names, never values).`

// NewServer returns the MCP server with every tool and the resources.
func NewServer(opts Options) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "bgfn", Title: "bgfn: Netlify Functions, locally", Version: opts.Version},
		&sdk.ServerOptions{
			Instructions: instructions,
			// Resources are registered as list_functions finds them, so the
			// capability is declared up front.
			Capabilities: &sdk.ServerCapabilities{
				Tools:     &sdk.ToolCapabilities{ListChanged: true},
				Resources: &sdk.ResourceCapabilities{ListChanged: true},
			},
		})
	b := &bgfn{target: opts.Target, server: s}
	b.register(s)
	b.registerResources(s)
	return s
}

// NewHTTPHandler returns the Streamable HTTP endpoint. Sessions are kept
// (not stateless) so a client's notifications/cancelled reaches the call
// it cancels, whichever protocol version it speaks; closing done (bgfn is
// stopping) closes every session, so no stream holds up the shutdown.
//
// It refuses a request that arrives on a loopback address with a Host
// that is not a loopback name (DNS rebinding; the SDK's check), and one
// that a browser marks as cross-origin (Sec-Fetch-Site, or an Origin
// that is not the Host): agents send neither. Issue 17's guard of all of
// /.bgfn/ will cover this endpoint too, as it is mounted there.
func NewHTTPHandler(opts Options, done <-chan struct{}) http.Handler {
	s := NewServer(opts)
	h := http.NewCrossOriginProtection().Handler(
		sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil))
	if done != nil {
		go func() {
			<-done
			for ss := range s.Sessions() {
				ss.Close()
			}
		}()
	}
	return h
}

// ServeStdio serves one client over in and out (newline-delimited JSON)
// until in ends or ctx is cancelled.
func ServeStdio(ctx context.Context, opts Options, in io.Reader, out io.Writer) error {
	t := &sdk.IOTransport{Reader: io.NopCloser(in), Writer: nopWriteCloser{out}}
	err := NewServer(opts).Run(ctx, t)
	if err == nil || errors.Is(err, io.EOF) || ctx.Err() != nil {
		return nil
	}
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// bgfn holds what every tool needs.
type bgfn struct {
	target Target
	server *sdk.Server
}

// argError is a bad argument: the tool error names it and says why.
type argError struct {
	arg, why string
}

func (e *argError) Error() string { return "invalid argument " + e.arg + ": " + e.why }

func badArg(arg, format string, a ...any) error {
	return &argError{arg: arg, why: fmt.Sprintf(format, a...)}
}

// handler is a tool's logic: it gets a client of the bgfn server and the
// decoded arguments, and returns the structured result with a short text
// summary for the model.
type handler[In, Out any] func(ctx context.Context, c *apiclient.Client, in In) (Out, string, error)

// spec is one row of the tool table.
type spec struct {
	name, title, desc string
	// readOnly tools change nothing; destructive ones may delete data.
	readOnly, destructive, idempotent bool
}

// add registers a tool. A handler that fails, or panics, answers a tool
// error; the session goes on.
func add[In, Out any](s *sdk.Server, b *bgfn, sp spec, h handler[In, Out]) {
	no := false
	ann := &sdk.ToolAnnotations{Title: sp.title, ReadOnlyHint: sp.readOnly, IdempotentHint: sp.idempotent || sp.readOnly, OpenWorldHint: &no}
	if !sp.readOnly {
		d := sp.destructive
		ann.DestructiveHint = &d
	}
	sdk.AddTool(s, &sdk.Tool{Name: sp.name, Title: sp.title, Description: sp.desc, Annotations: ann},
		func(ctx context.Context, req *sdk.CallToolRequest, in In) (res *sdk.CallToolResult, out Out, err error) {
			defer func() {
				if p := recover(); p != nil {
					var zero Out
					res, out, err = nil, zero, fmt.Errorf("bgfn: tool %s failed: %v (this is a bug in bgfn; the server goes on)\n%s", sp.name, p, firstLines(string(debug.Stack()), 12))
				}
			}()
			c, err := b.target.Client(ctx)
			if err != nil {
				return nil, out, err
			}
			out, text, err := h(ctx, c, in)
			if err != nil {
				return nil, out, explain(err, c.Base)
			}
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}, out, nil
		})
}

// explain turns what went wrong talking to the server into a message a
// model can act on.
func explain(err error, base string) error {
	var ae *argError
	var se *apiclient.StatusError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("cancelled: %w", err)
	case errors.As(err, &se):
		return fmt.Errorf("bgfn answered %d: %s", se.Status, se.Message())
	case errors.As(err, &oe), errors.As(err, &ne):
		return fmt.Errorf("the bgfn server at %s did not answer (%v): is bgfn dev still running?", base, err)
	}
	return err
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
