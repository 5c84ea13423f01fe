//go:build unix

package dev

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bgfn-dev/bgfn/internal/config"
	"github.com/bgfn-dev/bgfn/internal/fixture"
	"github.com/bgfn-dev/bgfn/internal/logs"
)

// TestStreamSSEBrowser opens, in a real Chromium, a page served by a
// function that listens with EventSource to another function streaming
// five Server-Sent Events 200 ms apart (issue 15): the events must arrive
// one by one, as they are written, not together when the stream ends.
func TestStreamSSEBrowser(t *testing.T) {
	browser := chromium(t)
	src, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sites", "surface-stream"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.NPMInstall(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	dir := copyFixture(t, "surface-stream")
	os.RemoveAll(filepath.Join(dir, "node_modules"))
	if err := os.Symlink(filepath.Join(src, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "dev.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	printer := logs.NewPrinter(logFile, false)
	inst, err := Start(t.Context(), Options{Config: config.Options{Dir: dir}, Printer: printer, ShutdownTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		inst.Shutdown()
		printer.Flush()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("bgfn dev's output:\n%s", b)
		}
	})

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-extensions", true))
	defer cancelAlloc()
	bctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(bctx, limit(30*time.Second))
	defer cancel()

	err = chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/.netlify/functions/sse-page"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
	if err != nil {
		t.Fatal(err)
	}
	type event struct {
		N      int     `json:"n"`
		SentAt float64 `json:"sentAt"`
		At     float64 `json:"at"`
		Wall   float64 `json:"wall"`
	}
	var events []event
	deadline := time.Now().Add(limit(10 * time.Second))
	for {
		events, err = chromedp.Run(ctx, chromedp.Evaluate[[]event](`window.events`))
		if err == nil && len(events) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page saw %d of 5 events within 10s (last error %v)", len(events), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, e := range events {
		t.Logf("event %d: arrived at %.0f ms, %.0f ms after the function wrote it", e.N, e.At, e.Wall-e.SentAt)
		if e.N != i+1 {
			t.Fatalf("event %d arrived as number %d", e.N, i+1)
		}
		// Each event reaches the page soon after it was written (buffered,
		// the first would wait 800 ms for the last)...
		if lag := e.Wall - e.SentAt; lag > float64(limit(400*time.Millisecond).Milliseconds()) {
			t.Errorf("event %d reached the page %.0f ms after the function wrote it, want under %v", e.N, lag, limit(400*time.Millisecond))
		}
		// ...and so apart from the one before: buffered, they would
		// arrive together when the stream ended.
		if i > 0 {
			if gap := e.At - events[i-1].At; gap < 100 {
				t.Errorf("event %d arrived %.0f ms after event %d, want about 200 ms (one by one)", e.N, gap, events[i-1].N)
			}
		}
	}
}
