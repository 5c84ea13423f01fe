package dev

import (
	"testing"

	"github.com/bgfn-dev/bgfn/internal/server"
)

func TestRegistryRoutes(t *testing.T) {
	r := newRegistry()
	r.set("plain", &entry{fn: &server.Function{Name: "plain"}})
	r.set("items", &entry{fn: &server.Function{Name: "items", Paths: []string{"/api/items/:id"}, Methods: []string{"GET"}}})
	r.set("submit", &entry{fn: &server.Function{Name: "submit", Paths: []string{"/api/submit"}, Methods: []string{"POST"}}})

	tests := []struct {
		method, path, fn, param string
		ok                      bool
	}{
		{"GET", "/api/items/42", "items", "42", true},
		{"POST", "/api/items/42", "", "", false},
		{"POST", "/api/submit", "submit", "", true},
		{"GET", "/plain", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			fn, _, params, ok := r.Route(tt.method, tt.path)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && (fn.Name != tt.fn || params["id"] != tt.param) {
				t.Errorf("got %s %v, want %s id=%s", fn.Name, params, tt.fn, tt.param)
			}
		})
	}
	// Removing a function removes its routes.
	r.set("items", nil)
	if _, _, _, ok := r.Route("GET", "/api/items/42"); ok {
		t.Error("removed function still routed")
	}
	if _, ok := r.Lookup("plain"); !ok {
		t.Error("plain lost")
	}
}
