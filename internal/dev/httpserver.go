package dev

import (
	"net/http"
	"time"
)

// Timeouts of bgfn dev's HTTP server, so that clients that hold
// connections without using them (a slow-loris attack, or a forgotten
// keep-alive pool) cannot pile up.
const (
	// readHeaderTimeout bounds the time a client has to send a request's
	// line and headers, counted from its first byte: a client that sends
	// its head a byte at a time is cut off here, however steadily it
	// sends. A client on a real network sends a head in milliseconds.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection that has carried no
	// request for this long.
	idleTimeout = 2 * time.Minute
)

// newHTTPServer returns the server bgfn dev serves h with. It sets no
// overall read or write timeout: a synchronous invocation may run for 60 s
// before it answers, /wait and the event stream hold their answer open,
// and a read deadline left running would cancel those requests' contexts.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout}
}
