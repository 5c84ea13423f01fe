package apiclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// Cancel stops a background invocation for good and returns its record:
// final (cancelled) once its instance is gone, or as it stands when the
// server stopped waiting for that.
func (c *Client) Cancel(ctx context.Context, id string) (*records.View, error) {
	return c.control(ctx, id, "cancel")
}

// Retry starts the next attempt of an invocation waiting for a retry now,
// and returns its record.
func (c *Client) Retry(ctx context.Context, id string) (*records.View, error) {
	return c.control(ctx, id, "retry")
}

func (c *Client) control(ctx context.Context, id, verb string) (*records.View, error) {
	resp, err := c.do(ctx, http.MethodPost, "/.bgfn/api/invocations/"+id+"/"+verb, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", verb, id, err)
	}
	defer resp.Body.Close()
	v := new(records.View)
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return nil, fmt.Errorf("%s %s: decode: %w", verb, id, err)
	}
	return v, nil
}

// Events follows /.bgfn/api/events, calling f with each event, until ctx
// ends (nil), the server ends the stream (io.EOF) or f fails. ready, when
// set, is called once the server has subscribed the stream, so nothing
// that happens after it is missed.
func (c *Client) Events(ctx context.Context, ready func(), f func(records.Event) error) error {
	resp, err := c.do(ctx, http.MethodGet, "/.bgfn/api/events", nil, http.Header{"Accept": {"text/event-stream"}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ": bgfn events"):
			if ready != nil {
				ready()
			}
		case strings.HasPrefix(line, "data: "):
			data.WriteString(strings.TrimPrefix(line, "data: "))
		case line == "" && data.Len() > 0:
			var ev records.Event
			if err := json.Unmarshal(data.Bytes(), &ev); err == nil {
				if err := f(ev); err != nil {
					return err
				}
			}
			data.Reset()
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.EOF
}
