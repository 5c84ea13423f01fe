// Package smoke runs the declarative smoke tests of `bgfn smoke`: a TOML
// file of cases, each a request to one of the site's functions and what
// its answer must be, run in parallel against a bgfn server, and reported
// for people (a line per case), for CI (JUnit XML, GitHub annotations) and
// for scripts (JSON lines).
//
// A smoke file (issue 20) is a list of [[case]] tables:
//
//	[[case]]
//	name = "create an item"
//	function = "create-item"          # or path = "/api/items" (a custom route)
//	method = "POST"                   # default GET, or POST with a body
//	query = "draft=1"                 # or a table: query = { draft = "1" }
//	headers = { Authorization = "Bearer test" }
//	json = { name = "Ada" }           # or body = "text", or body = "@file.json"
//	serial = false                    # true: run alone, in file order
//	timeout = "30s"                   # the case's whole limit
//	[case.expect]
//	status = 201
//	json = { name = "Ada", "tags.0" = "new" }
//	header_present = ["Location"]
//	max_duration = "500ms"
//	[case.capture]
//	id = { json = "id" }              # or { header = "Location" }
//
//	[[case]]
//	function = "get-item"
//	query = "id=${id}"                # runs after the case that captures id
//
// Background functions take wait = true, which follows the invocation's
// record until it ends; expect then takes state, attempts, log_contains
// and log_matches too. A case without status expects a success (below
// 400); a waiting case without state expects "succeeded".
//
// Parsing keeps the line of every case and key, so that a mistake is
// reported as file:line: key: message (bgfn smoke exits 2) and a failure
// points at its case. toml's metadata keeps one position per key for all
// the elements of an array of tables, so each case is decoded from its
// own region of the file (see caseHeaders).
//
// The runner talks HTTP only, to a base URL, through the Doer interface:
// POST /.netlify/functions/NAME (or the case's path), then for waiting
// cases GET /.bgfn/api/invocations/ID/wait until the record is final, and
// for the others GET /.bgfn/api/invocations/ID for the log. What runs
// behind that URL (a bgfn dev, or a runtime started in process) is the
// caller's business.
//
// Cases run in parallel up to a limit. A case that uses or captures a
// variable runs after the case before it that did; a serial case runs
// alone. A case whose variable was not captured (its case failed) is
// skipped.
package smoke
