package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// Controller cancels background invocations and starts their retries
// early (the background queue). An error with a Conflict method that
// reports true is an action that does not fit where the invocation is
// (409); the record is returned with it when there is one.
type Controller interface {
	Cancel(id string) (*records.Record, error)
	RetryNow(id string) (*records.Record, error)
}

// cancelWait bounds how long POST .../cancel waits for a running attempt's
// instance to be gone before it answers 202 with the record as it stands.
const cancelWait = 10 * time.Second

// cancel stops an invocation for good and answers its record: 200 once it
// is final (cancelled), 409 when it had ended already or is not a
// background one.
func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.record(w, r)
	if !ok {
		return
	}
	if _, err := h.opts.Control.Cancel(rec.ID()); err != nil {
		h.controlError(w, err)
		return
	}
	answerWhenDone(w, r, rec, cancelWait)
}

// retry starts the next attempt of an invocation waiting for a retry now.
func (h *Handler) retry(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.record(w, r)
	if !ok {
		return
	}
	if _, err := h.opts.Control.RetryNow(rec.ID()); err != nil {
		h.controlError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, rec.View())
}

func (h *Handler) controlError(w http.ResponseWriter, err error) {
	var c interface{ Conflict() bool }
	if errors.As(err, &c) && c.Conflict() {
		apiError(w, http.StatusConflict, err.Error())
		return
	}
	apiError(w, http.StatusNotFound, err.Error())
}

// ReplayContentType marks a replay request whose body is a ReplayEdit
// rather than the new request body itself.
const ReplayContentType = "application/vnd.bgfn.replay+json"

// ReplayEdit is a replay with an edited request: the runs page sends it.
type ReplayEdit struct {
	// Body replaces the recorded body when set (base64 with BodyBase64).
	Body       *string `json:"body,omitempty"`
	BodyBase64 bool    `json:"bodyBase64,omitempty"`
	// Headers replace the recorded headers when set (all of them: a
	// header left out is not sent).
	Headers map[string]string `json:"headers,omitempty"`
}

// replayEdit reads a ReplayEdit: it applies its headers to v and returns
// the body to send (nil: keep the recorded one).
func replayEdit(r io.Reader, v *records.View) ([]byte, error) {
	var e ReplayEdit
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, errors.New("read the replay: " + err.Error() + ` (send {"body": "...", "headers": {"name": "value"}} with Content-Type ` + ReplayContentType + ")")
	}
	if e.Headers != nil {
		hs := make(map[string]string, len(e.Headers))
		for k, val := range e.Headers {
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" || strings.ContainsAny(k, " :\r\n\t") || strings.ContainsAny(val, "\r\n") {
				return nil, errors.New("invalid replay header " + quote(k) + ": a header is a name without spaces or colons, and a one-line value")
			}
			hs[k] = val
		}
		if host := v.Request.Headers["host"]; host != "" && hs["host"] == "" {
			hs["host"] = host
		}
		v.Request.Headers = hs
	}
	if e.Body == nil {
		return nil, nil
	}
	if !e.BodyBase64 {
		return []byte(*e.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(*e.Body)
	if err != nil {
		return nil, errors.New("invalid replay body: bodyBase64 is set but the body is not base64 (" + err.Error() + ")")
	}
	return b, nil
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
