package logs_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/logs"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{250 * time.Microsecond, "0.25ms"},
		{2300 * time.Microsecond, "2.30ms"},
		{52 * time.Millisecond, "52ms"},
		{999400 * time.Microsecond, "999ms"},
		{1468 * time.Millisecond, "1.47s"},
		{2 * time.Second, "2.00s"},
		{time.Minute, "1m"},
		{90 * time.Second, "1m30s"},
		{2 * time.Minute, "2m"},
	}
	for _, tt := range tests {
		if got := logs.Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestPrinterLines checks the words of each kind of line, without colour
// (piped) and with colour (a terminal): the same text, escapes only when
// coloured.
func TestPrinterLines(t *testing.T) {
	tests := []struct {
		name  string
		print func(p *logs.Printer)
		want  string
	}{
		{"banner", func(p *logs.Printer) {
			p.Banner(logs.Banner{URL: "http://127.0.0.1:9999", Page: "http://127.0.0.1:9999/.bgfn/", FunctionsDir: "functions", Took: 206 * time.Millisecond, Functions: []logs.BannerFunction{
				{Name: "hello", Kind: "sync", Runtime: "js", Where: "http://127.0.0.1:9999/.netlify/functions/hello"},
				{Name: "tick", Kind: "scheduled", Runtime: "go", Where: "http://127.0.0.1:9999/.netlify/functions/tick", State: "building", Schedule: "@hourly"},
			}})
		}, "bgfn dev · 2 functions from functions · ready in 206ms\n" +
			"  hello  sync       js  http://127.0.0.1:9999/.netlify/functions/hello\n" +
			"  tick   scheduled  go  http://127.0.0.1:9999/.netlify/functions/tick  building…  ⏰ @hourly\n" +
			"⏰ scheduled functions run only when called; run bgfn dev --cron (or BGFN_CRON=1) to fire them on their schedule\n" +
			"⬥ Server listening on http://127.0.0.1:9999 (Ctrl-C to stop)\n" +
			"⬥ Runs page: http://127.0.0.1:9999/.bgfn/\n"},
		{"build error at a reload", func(p *logs.Printer) {
			p.BuildError("greet", "functions/greet.ts:2:5: Expected \";\"\n    2 | x y", 12*time.Millisecond, true)
		}, "✖ Failed to build function greet (12ms):\n  functions/greet.ts:2:5: Expected \";\"\n      2 | x y\n  it answers 500 until the next good save\n"},
		{"warnings", func(p *logs.Printer) { p.Warnings("lazy", []string{"a.js:5:3: x", "b.js:1:1: y"}) }, "⚠ lazy: a.js:5:3: x\n⚠ lazy: b.js:1:1: y\n"},
		{"reload lines", func(p *logs.Printer) {
			p.Reloaded("hello", 3*time.Millisecond, "changed: functions/hello.js")
			p.Restarted("greet", "environment changed")
			p.Loaded("new", 40*time.Millisecond, "sync", "http://x/.netlify/functions/new")
			p.Notice("Removed function old", "")
			p.Failure("netlify.toml:3:1: bad", "keeping the previous configuration until the file is fixed")
		}, "⬥ Reloaded function hello in 3.00ms (changed: functions/hello.js)\n" +
			"⬥ Restarted function greet (environment changed)\n" +
			"⬥ Loaded function new in 40ms · sync · http://x/.netlify/functions/new\n" +
			"⬥ Removed function old\n" +
			"✖ netlify.toml:3:1: bad (keeping the previous configuration until the file is fixed)\n"},
		{"invocation lines", func(p *logs.Printer) {
			p.SetNames([]string{"send-background"})
			p.Queued("send-background", "ab12", "POST", "/.netlify/functions/send-background")
			p.FunctionLine("send-background", "ab12/1", []byte("sending"))
			p.AttemptFailed("send-background", "ab12/1", "failed", 1, 3, 2*time.Second, "Error: boom\nsecond line", []string{"    at f (x.js:1:1)"}, time.Minute)
			p.Succeeded("send-background", "ab12/2", 2*time.Second, 2, 3)
			p.Cancelled("send-background", "cd34/1", 1500*time.Millisecond)
			p.Cancelled("send-background", "ef56", -1)
			p.Request("send-background", "cd34", "GET", "/x", 500, 1500*time.Microsecond)
		}, "send-background#ab12   ⬥ queued (202) POST /.netlify/functions/send-background\n" +
			"send-background#ab12/1 | sending\n" +
			"send-background#ab12/1 ✖ failed (attempt 1/3) after 2.00s: Error: boom — retrying in 1m\n" +
			"send-background#ab12/1 second line\n" +
			"send-background#ab12/1     at f (x.js:1:1)\n" +
			"send-background#ab12/2 ✔ succeeded in 2.00s (attempt 2/3)\n" +
			"send-background#cd34/1 ⏹ cancelled after 1.50s (its instance was stopped)\n" +
			"send-background#ef56   ⏹ cancelled\n" +
			"send-background#cd34   GET /x 500 1.50ms\n"},
		{"shutdown", func(p *logs.Printer) {
			p.ShuttingDown(time.Second, "1 running invocation: a#ab12 (running 2s)")
			p.Stopping("1 running invocation: a#ab12 (running 3s)")
		}, "⬥ shutting down: waiting up to 1s for 1 running invocation: a#ab12 (running 2s) (Ctrl-C again to stop now)\n⬥ stopping 1 running invocation: a#ab12 (running 3s)\n"},
	}
	for _, tt := range tests {
		for _, color := range []bool{false, true} {
			name := tt.name + map[bool]string{false: " piped", true: " terminal"}[color]
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				p := logs.NewPrinter(&b, color)
				tt.print(p)
				p.Flush()
				got := b.String()
				hasEscapes := ansi.MatchString(got)
				if color != hasEscapes {
					t.Errorf("colour %v, escapes %v: %q", color, hasEscapes, got)
				}
				if plain := ansi.ReplaceAllString(got, ""); plain != tt.want {
					t.Errorf("got\n%s\nwant\n%s", plain, tt.want)
				}
			})
		}
	}
}

func TestErrorLineAndTable(t *testing.T) {
	var b bytes.Buffer
	logs.ErrorLine(&b, false, "no function \"x\"", "run bgfn list")
	if b.String() != "Error: no function \"x\"\n  run bgfn list\n" {
		t.Errorf("ErrorLine = %q", b.String())
	}
	tab := logs.Table(false, []string{"NAME", "KIND"}, [][]string{{"hello", "sync"}})
	if !strings.Contains(tab, "NAME") || !strings.Contains(tab, "hello") || ansi.MatchString(tab) {
		t.Errorf("Table = %q", tab)
	}
}
