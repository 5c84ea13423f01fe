package smoke

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bgfn-dev/bgfn/internal/discover"
)

// Starter returns a smoke file with one case per function, for
// `bgfn smoke --init`: each asks no more than a success, for the user to
// make into a real test.
func Starter(fns []discover.Function) []byte {
	var b strings.Builder
	b.WriteString(`# Smoke tests for this site's functions: run them with ` + "`bgfn smoke`" + `.
# One [[case]] per request. A case names a function (or a path), the request
# (method, query, headers, body or json), and in [case.expect] what the
# answer must be: status, body, body_contains, body_matches, json paths,
# headers, header_present, max_duration; for background functions with
# wait = true also state, attempts, log_contains and log_matches.
# [case.capture] keeps a value for later cases, as ${name}.
# Every key: ` + "`bgfn smoke --help`" + `.
`)
	if len(fns) == 0 {
		b.WriteString(`
# No functions were found. A case looks like this:
#
# [[case]]
# name = "hello answers"
# function = "hello"
# [case.expect]
# status = 200
`)
	}
	for _, fn := range fns {
		b.WriteString("\n")
		switch {
		case fn.Invalid != "":
			fmt.Fprintf(&b, "# %s is left out: %s\n", fn.Name, fn.Invalid)
			continue
		case fn.ConfigError != "":
			fmt.Fprintf(&b, "# %s is left out: its config has an error: %s\n", fn.Name, fn.ConfigError)
			continue
		}
		b.WriteString("[[case]]\n")
		fmt.Fprintf(&b, "name = %s\n", strconv.Quote(caseTitle(fn)))
		method := "GET"
		if len(fn.Methods) > 0 {
			method = fn.Methods[0]
		}
		if len(fn.Paths) > 0 {
			fmt.Fprintf(&b, "path = %s", strconv.Quote(fn.Paths[0]))
			if strings.ContainsAny(fn.Paths[0], ":*") {
				b.WriteString("  # fill in the parameters")
			}
			b.WriteString("\n")
		} else {
			fmt.Fprintf(&b, "function = %s\n", strconv.Quote(fn.Name))
		}
		switch fn.Kind {
		case discover.KindBackground:
			b.WriteString("method = \"POST\"\njson = {}\nwait = true\n[case.expect]\nstate = \"succeeded\"\n")
		case discover.KindScheduled:
			b.WriteString("method = \"POST\"\n[case.expect]\nstatus = 200\n")
		default:
			fmt.Fprintf(&b, "method = %s\n[case.expect]\nstatus = 200\n# body_contains = \"...\"\n# max_duration = \"1s\"\n", strconv.Quote(method))
		}
	}
	return []byte(b.String())
}

func caseTitle(fn discover.Function) string {
	switch fn.Kind {
	case discover.KindBackground:
		return fn.Name + " succeeds"
	case discover.KindScheduled:
		return fn.Name + " runs"
	}
	return fn.Name + " answers"
}
