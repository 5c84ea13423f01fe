package logs

import (
	"fmt"
	"time"

	"github.com/bgfn-dev/bgfn/internal/ui"
)

// RequestDeferred prints the end of a synchronous invocation that went on
// after its answer: "name#id GET /p 200 3.1ms · waitUntil +502ms", with
// "streamed 1.2 MB in 1.00s (first byte 2ms)" for a streamed body. extra,
// when set, follows in the warning colour (a limit that cut the stream).
func (p *Printer) RequestDeferred(name, id, method, uri string, status int, t Timing, extra string) {
	st := p.st
	code := statusText(st, status)
	line := p.prefix(name, id) + " " + method + " " + shortURI(uri) + " " + code + " "
	if t.Streamed {
		line += st.Render(st.Dim, "streamed "+byteSize(t.Bytes)+" in "+Duration(t.Response)+" (first byte "+Duration(t.FirstByte)+")")
	} else {
		line += st.Render(st.Dim, Duration(t.Response))
	}
	if t.Deferred > 0 {
		line += st.Render(st.Dim, " · waitUntil +"+Duration(t.Deferred))
	}
	if extra != "" {
		line += " " + st.Render(st.Warning, extra)
	}
	p.sink.Line(line)
}

// Timing is how a synchronous invocation that went on after its answer
// spent its time.
type Timing struct {
	// Response is the time to the answer's last byte; FirstByte to its
	// first (streamed answers).
	Response, FirstByte time.Duration
	// Deferred is how much longer the invocation ran (waitUntil work).
	Deferred time.Duration
	// Streamed marks a streamed body of Bytes bytes.
	Streamed bool
	Bytes    int64
}

// statusText is an HTTP status in its colour.
func statusText(st *ui.Styles, status int) string {
	code := fmt.Sprint(status)
	switch {
	case status >= 500:
		return st.Render(st.Failure, code)
	case status >= 400:
		return st.Render(st.Warning, code)
	}
	return st.Render(st.Success, code)
}

// byteSize formats a count of bytes: 512 bytes, 12.3 KB, 30.0 MB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	case n == 1:
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}
