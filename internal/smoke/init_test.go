package smoke

import (
	"strings"
	"testing"

	"github.com/bgfn-dev/bgfn/internal/discover"
)

// TestStarter checks that the --init file is a valid smoke file of the
// site, with one case per function it can call.
func TestStarter(t *testing.T) {
	fns := []discover.Function{
		{Name: "hello", Kind: discover.KindSync},
		{Name: "send-email-background", Kind: discover.KindBackground},
		{Name: "nightly", Kind: discover.KindScheduled},
		{Name: "item", Kind: discover.KindSync, Paths: []string{"/api/items/:id"}, Methods: []string{"PUT"}},
		{Name: "bad name", Invalid: "not a valid name"},
	}
	src := Starter(fns)
	s, err := Parse("smoke.toml", src, &Site{Functions: fns})
	if err != nil {
		t.Fatalf("the starter file does not parse: %v\n%s", err, src)
	}
	var got []string
	for _, c := range s.Cases {
		got = append(got, c.Method+" "+c.Target())
	}
	want := "GET hello|POST send-email-background|POST nightly|PUT /api/items/:id"
	if strings.Join(got, "|") != want {
		t.Errorf("cases %q, want %q", strings.Join(got, "|"), want)
	}
	if !s.Cases[1].Wait {
		t.Error("the background case does not wait")
	}
	if !strings.Contains(string(src), "# bad name is left out: not a valid name") {
		t.Errorf("the invalid function is not explained:\n%s", src)
	}
	if _, err := Parse("smoke.toml", Starter(nil), nil); err == nil || !strings.Contains(err.Error(), "no cases") {
		t.Errorf("starter of a site without functions: %v, want the no-cases error", err)
	}
}
