package runtime

import (
	"encoding/json"
	"testing"
)

// TestParseResult checks the fast path against encoding/json for every
// shape the bootstrap writes, and that anything else falls back.
func TestParseResult(t *testing.T) {
	tests := []struct {
		line string
		fast bool
	}{
		{`{"type":"result","id":"01a2","response":{"statusCode":200,"body":"hi"},"logs":false,"pending":false}` + "\n", true},
		{`{"type":"result","id":"01a2","response":"x","logs":true,"pending":false}`, true},
		{`{"type":"result","id":"01a2","response":null,"logs":false,"pending":true}`, true},
		{`{"type":"result","id":"01a2","response":{"body":"a\"b,\"logs\":false"},"logs":true,"pending":true}`, true},
		{`{"type":"result","id":"01a2","undefined":true,"logs":false,"pending":false}`, false},
		{`{"type":"error","id":"01a2","error":{"errorType":"E","errorMessage":"m"},"logs":false,"pending":false}`, false},
		{`{"type":"result","id":"a\"b","response":1,"logs":false,"pending":false}`, false},
		{`{"type":"ready","api":"v1"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, ok := parseResult([]byte(tt.line))
			if ok != tt.fast {
				t.Fatalf("fast path = %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			var want nodeMessage
			if err := json.Unmarshal([]byte(tt.line), &want); err != nil {
				t.Fatal(err)
			}
			if got.Type != want.Type || got.ID != want.ID || string(got.Response) != string(want.Response) || got.Logs != want.Logs || got.Pending != want.Pending {
				t.Errorf("parseResult = %+v, encoding/json = %+v", got, want)
			}
		})
	}
}
