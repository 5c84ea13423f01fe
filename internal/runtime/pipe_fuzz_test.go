package runtime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// pipeSeeds are lines in the shapes the bootstrap writes on fd 4, whole,
// cut short and mangled.
var pipeSeeds = []string{
	`{"inst":1,"type":"ready","api":"v2"}` + "\n",
	`{"inst":1,"type":"result","id":"01a2","response":{"statusCode":200,"body":"hi"},"logs":false,"pending":false}` + "\n",
	`{"inst":2,"type":"result","id":"01a2","response":{"body":"a\"b,\"logs\":false"},"logs":true,"pending":true}` + "\n",
	`{"inst":1,"type":"error","id":"x","error":{"errorType":"TypeError","errorMessage":"boom","trace":["a","b"]},"logs":false,"pending":false}` + "\n",
	`{"inst":3,"type":"log","s":1,"d":"hello\n"}` + "\n" + `{"inst":3,"type":"log","s":2,"d":"part`,
	`{"inst":1,"type":"exit","code":1}` + "\n",
	`{"type":"result","id":"p","response":1,"logs":false,"pending":false}` + "\n",
	`{"inst":1,"type":"result","id":"p","response":garbage,"logs":false,"pending":false}` + "\n",
	`{"inst":-1,"type":"ready"}` + "\n" + `{"inst":99999999999999999999,"type":"ready"}` + "\n",
	`{"inst":1` + "\n" + `{"inst":,` + "\n" + "\x00\xff\n\n",
	`{"inst":1,"type":"log","s":1,"d":"` + strings.Repeat("x", 200) + `"}` + "\n",
}

// FuzzPipeProtocol feeds fd 4 arbitrary bytes. Reading never panics and
// splits the stream into exactly its newline-ended frames, whatever their
// length (a frame cut short at the end is dropped, as at a host's death);
// decoding a frame never panics, and the reflection-free fast path for
// results agrees with encoding/json on every line that is valid JSON.
func FuzzPipeProtocol(f *testing.F) {
	for _, s := range pipeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The smallest buffer bufio allows, so that long frames take the
		// ErrBufferFull path.
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		var got [][]byte
		for {
			line, err := readLine(br)
			if err != nil {
				break
			}
			got = append(got, bytes.Clone(line)) // valid only until the next read
		}
		want := bytes.Split(data, []byte("\n"))
		want = want[:len(want)-1] // the part after the last newline is torn
		if len(got) != len(want) {
			t.Fatalf("read %d frames, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("frame %d = %q, want %q", i, got[i], want[i])
			}
		}

		for _, line := range append(got, data) {
			if _, _, ok := decodeHostLine(line); !ok {
				continue
			}
			comma := bytes.IndexByte(line, ',')
			msgLine := append([]byte{'{'}, line[comma+1:]...)
			fast, fastOK := parseResult(msgLine)
			if !fastOK || !json.Valid(msgLine) {
				continue
			}
			var slow nodeMessage
			if err := json.Unmarshal(msgLine, &slow); err != nil {
				continue // valid JSON of the wrong types: the fast path took it, the host never writes it
			}
			if fast.Type != slow.Type || fast.ID != slow.ID || fast.Pending != slow.Pending || fast.Logs != slow.Logs {
				t.Fatalf("fast path %+v, encoding/json %+v for %q", fast, slow, msgLine)
			}
			if !jsonEqual(fast.Response, slow.Response) {
				t.Fatalf("fast path response %s, encoding/json %s for %q", fast.Response, slow.Response, msgLine)
			}
		}
	})
}

// jsonEqual reports whether two JSON texts have the same value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
