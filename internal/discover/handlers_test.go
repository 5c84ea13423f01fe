package discover

import (
	"slices"
	"testing"
)

func TestReadInSourceHandlers(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"function default", `export default async (req) => new Response("hi")`, nil},
		{"methods", "export default {\n  async deploySucceeded(event) { console.log(event) },\n  formSubmitted(e) {},\n  fetch(req) { return new Response('x') },\n}\n",
			[]string{"deploySucceeded", "formSubmitted", "fetch"}},
		{"properties and arrows", `export default { userSignup: async (e) => e.deny(), "userLogin": function (e) {}, fetch }`,
			[]string{"userSignup", "userLogin", "fetch"}},
		{"nested objects are not members", `export default { deploySucceeded(e) { const x = { userLogin: 1 }; return x }, fetch: (r) => ({ formSubmitted: 2 }) }`,
			[]string{"deploySucceeded", "fetch"}},
		{"spread and computed keys skipped", `const more = {}; export default { ...more, ["userLogin"]: () => {}, deployFailed() {} }`,
			[]string{"deployFailed"}},
		{"generator and getter modifiers", `export default { *gen() {}, async *agen() {}, get deployLocked() { return () => {} } }`,
			[]string{"gen", "agen", "deployLocked"}},
		{"constant exported as default", "const handlers = {\n  deployBuilding() {},\n  userDeleted(e) {},\n}\nexport default handlers\n",
			[]string{"deployBuilding", "userDeleted"}},
		{"typescript annotated constant", "import type { EventHandlers } from '@netlify/functions'\nconst hooks: EventHandlers<{ a: 1 }> = { deployLocked(e) {}, fetch: async () => new Response('') }\nexport default hooks satisfies EventHandlers\n",
			[]string{"deployLocked", "fetch"}},
		{"default of a non-object constant", "const fn = async () => new Response('')\nexport default fn\n", nil},
		{"typescript satisfies", `import type { Handlers } from "x"; export default { userValidate(e) { return e.deny() } } satisfies Handlers`,
			[]string{"userValidate"}},
		{"strings and comments are not code", "// export default { deploySucceeded() {} }\nconst s = 'export default { userLogin() {} }'\nexport default () => {}\n", nil},
		{"empty object", `export default {}`, []string{}},
		{"v1 handler", `exports.handler = async () => ({ statusCode: 200 })`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readInSource(tt.src).handlers
			if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("handlers = %#v, want %#v", got, tt.want)
			}
		})
	}
}
