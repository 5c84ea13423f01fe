package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// Build states of a function.
const (
	BuildOK       = "ok"
	BuildBuilding = "building"
	BuildFailed   = "failed"
)

// Function is one function as GET /.bgfn/api/functions lists it: what it
// is, where it answers, where its files are, and how its build went.
type Function struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Runtime string `json:"runtime"`
	// Routes are the v2 config.path routes; without them the function
	// answers at /.netlify/functions/NAME.
	Routes         []string `json:"routes,omitempty"`
	ExcludedRoutes []string `json:"excludedRoutes,omitempty"`
	// Methods limit the routes (config.method); empty means any.
	Methods []string `json:"methods,omitempty"`
	// Schedule is a scheduled function's cron expression, NextRun its next
	// time (UTC).
	Schedule string     `json:"schedule,omitempty"`
	NextRun  *time.Time `json:"nextRun,omitempty"`
	// Events names the Netlify platform events the function handles: the
	// one it is named after (deploy-succeeded, submission-created,
	// identity-signup...) and those whose method its v2 default export
	// object declares (deploySucceeded → deploy-succeeded).
	Events []string `json:"events,omitempty"`
	// Entry is the absolute path of the entry file; Source is the same
	// path relative to the site folder.
	Entry  string `json:"entry"`
	Source string `json:"source"`
	// Output is the absolute path of what the workers run (the bundle of a
	// JS or TS function, the binary of a Go one); empty until built.
	Output string `json:"output,omitempty"`
	Build  Build  `json:"build"`
	// Invalid and ConfigError say why a function cannot run: a name Netlify
	// refuses, or a broken configuration.
	Invalid     string `json:"invalid,omitempty"`
	ConfigError string `json:"configError,omitempty"`
}

// Build is how a function's current build went.
type Build struct {
	// State is ok, building or failed.
	State string `json:"state"`
	// Error is the formatted build error (file:line:col: message lines).
	Error      string   `json:"error,omitempty"`
	DurationMs float64  `json:"durationMs,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
}

// Config is the resolved configuration, as GET /.bgfn/api/config shows
// it. It names environment variables and where they come from, never
// their values: they may be secrets.
type Config struct {
	Site               string `json:"site"`
	BaseDir            string `json:"baseDir"`
	ConfigFile         string `json:"configFile,omitempty"`
	FunctionsDir       string `json:"functionsDir"`
	FunctionsDirSource string `json:"functionsDirSource"`
	// Env lists the site's variables (netlify.toml, .env files, or the
	// shell when it overrides one of them), sorted by key.
	Env []EnvVar `json:"env"`
	// EnvFiles are the .env files read, lowest precedence first.
	EnvFiles []string `json:"envFiles,omitempty"`
	// BgfnEnv are the variables bgfn itself gives every function.
	BgfnEnv  []string `json:"bgfnEnv"`
	Limits   Limits   `json:"limits"`
	Flags    Flags    `json:"flags"`
	Warnings []string `json:"warnings,omitempty"`
}

// EnvVar is one variable's key and the source of its value.
type EnvVar struct {
	Key    string `json:"key"`
	Source string `json:"source"`
}

// Limits are the limits in force, as Go durations ("60s") and bytes.
type Limits struct {
	SyncTimeout         string   `json:"syncTimeout"`
	BackgroundTimeout   string   `json:"backgroundTimeout"`
	ScheduledTimeout    string   `json:"scheduledTimeout"`
	InitTimeout         string   `json:"initTimeout"`
	SyncBodyBytes       int64    `json:"syncBodyBytes"`
	BackgroundBodyBytes int64    `json:"backgroundBodyBytes"`
	MaxConcurrency      int      `json:"maxConcurrency"`
	MaxInstances        int      `json:"maxInstances"`
	IdleTimeout         string   `json:"idleTimeout"`
	Retries             int      `json:"retries"`
	RetryDelays         []string `json:"retryDelays"`
	ShutdownTimeout     string   `json:"shutdownTimeout"`
	Records             int      `json:"records"`
	LogRing             int      `json:"logRing"`
}

// Flags are the switches the server runs with.
type Flags struct {
	URL        string  `json:"url"`
	Standalone bool    `json:"standalone"`
	Only       string  `json:"only,omitempty"`
	Watch      bool    `json:"watch"`
	Poll       bool    `json:"poll"`
	Cron       bool    `json:"cron"`
	NoLimits   bool    `json:"noLimits"`
	RetryScale float64 `json:"retryScale"`
}

// Functions is what GET /.bgfn/api/functions answers.
type Functions struct {
	Functions []Function `json:"functions"`
}

// MaxTailLimit bounds the lines one GET /.bgfn/api/logs returns;
// DefaultTailLimit is what it returns without a limit.
const (
	MaxTailLimit     = 10000
	DefaultTailLimit = 500
)

func (h *Handler) functions(w http.ResponseWriter, r *http.Request) {
	if h.opts.Functions == nil {
		apiError(w, http.StatusNotFound, "this server does not list its functions")
		return
	}
	fns := h.opts.Functions()
	if fns == nil {
		fns = []Function{}
	}
	writeJSON(w, http.StatusOK, Functions{Functions: fns})
}

func (h *Handler) config(w http.ResponseWriter, r *http.Request) {
	if h.opts.Config == nil {
		apiError(w, http.StatusNotFound, "this server does not show its configuration")
		return
	}
	writeJSON(w, http.StatusOK, h.opts.Config())
}

// logs answers a tail of the log ring: ?since=N (the cursor a previous
// answer gave as next; without it, from the oldest line held),
// &function=NAME, &limit=K (default 500, at most 10,000).
func (h *Handler) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tq := records.TailQuery{Function: q.Get("function"), Limit: DefaultTailLimit}
	if s := q.Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "invalid since "+strconv.Quote(s)+": use the next cursor of the previous answer (a whole number, 0 for the start)")
			return
		}
		tq.Since, tq.HasSince = n, true
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxTailLimit {
			apiError(w, http.StatusBadRequest, "invalid limit "+strconv.Quote(l)+": use a whole number from 1 to "+strconv.Itoa(MaxTailLimit))
			return
		}
		tq.Limit = n
	}
	writeJSON(w, http.StatusOK, h.opts.Records.Tail(tq))
}
