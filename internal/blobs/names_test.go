package blobs

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateKey(t *testing.T) {
	long := strings.Repeat("k", MaxKeyBytes)
	tests := []struct {
		key    string
		reason string // "" when valid
	}{
		{"a", ""},
		{"a/b/c", ""},
		{"a b/é/😀", ""},
		{".env", ""},
		{"a..b", ""},
		{"...", ""},
		{`back\slash`, ""},
		{"100%", ""},
		{long, ""},
		{strings.Repeat("é", MaxKeyBytes/2), ""},
		{"", "must not be empty"},
		{long + "k", "at most 600 bytes"},
		{strings.Repeat("é", MaxKeyBytes/2) + "k", "at most 600 bytes"},
		{"/a", "must not start with /"},
		{"a//b", "empty segments"},
		{"a/", "empty segments"},
		{"..", ". or .. segments"},
		{"../x", ". or .. segments"},
		{"a/../../x", ". or .. segments"},
		{"a/./b", ". or .. segments"},
		{".", ". or .. segments"},
		{"a\x00b", "NUL"},
		{"\xff", "valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			err := ValidateKey(tt.key)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("ValidateKey(%q) = %v, want nil", tt.key, err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("ValidateKey(%q) = %v, want a ValidationError about %q", tt.key, err, tt.reason)
			}
		})
	}
}

func TestParseStore(t *testing.T) {
	tests := []struct {
		id       string
		kind     string // "" when invalid
		name     string
		deployID string
	}{
		{"site:images", "site", "images", ""},
		{"site:my store", "site", "my store", ""},
		{"site:" + strings.Repeat("s", 64), "site", strings.Repeat("s", 64), ""},
		{"deploy:0", "deploy", "", "0"},
		{"deploy:0:cache", "deploy", "cache", "0"},
		{"deploy:abc_123:x", "deploy", "x", "abc_123"},
		{"production", "legacy", "production", ""},
		{"", "", "", ""},
		{"site:", "", "", ""},
		{"site:a/b", "", "", ""},
		{"site:a%2Fb", "", "", ""},
		{"site:a%2fb", "", "", ""},
		{"site:" + strings.Repeat("s", 65), "", "", ""},
		{"site:..", "", "", ""},
		{"site:a\x00", "", "", ""},
		{"deploy:", "", "", ""},
		{"deploy:0:", "", "", ""},
		{"deploy:a-b", "", "", ""},
		{"deploy:" + strings.Repeat("1", 25), "", "", ""},
		{"..", "", "", ""},
		{"a/b", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			info, err := ParseStore(tt.id)
			if tt.kind == "" {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("ParseStore(%q) = %+v, %v; want a ValidationError", tt.id, info, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStore(%q): %v", tt.id, err)
			}
			want := StoreInfo{ID: tt.id, Kind: tt.kind, Name: tt.name, DeployID: tt.deployID}
			if info != want {
				t.Fatalf("ParseStore(%q) = %+v, want %+v", tt.id, info, want)
			}
		})
	}
}

// TestCodecMatchesNetlify checks file names against those netlify's server
// gives the same keys: the path segment the client's URL sends, and on
// Windows the package's own encodeName of it. The table was produced by
// running @netlify/blobs 11.1.1 (new URL(...) and encodeName with
// process.platform set to win32).
func TestCodecMatchesNetlify(t *testing.T) {
	tests := []struct{ key, unix, windows string }{
		{"plain", "plain", "plain"},
		{"a b", "a%20b", "a%2520b"},
		{"café", "caf%C3%A9", "caf%25C3%25A9"},
		{"100%", "100%", "100%25"},
		{"{x}", "%7Bx%7D", "%257Bx%257D"},
		{"|^[]~!$&'()*+,;=:@", "|^[]~!$&'()*+,;=:@", "%7C%5E%5B%5D~!%24%26'()%2a%2B%2C%3B%3D%3A%40"},
		{"CON", "CON", "%43ON"},
		{"con", "con", "%63on"},
		{"AUX", "AUX", "%41UX"},
		{"lpt1", "lpt1", "%6cpt1"},
		{"x*", "x*", "x%2a"},
		{"a.", "a.", "a%2e"},
		{"emoji😀", "emoji%F0%9F%98%80", "emoji%25F0%259F%2598%2580"},
		{"site:images", "site:images", "site%3Aimages"},
		{"deploy:0:x", "deploy:0:x", "deploy%3A0%3Ax"},
		{"q\"<>`", "q%22%3C%3E%60", "q%2522%253C%253E%2560"},
		{".env", ".env", ".env"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			for _, c := range []struct {
				codec codec
				want  string
			}{{codec{}, tt.unix}, {codec{windows: true}, tt.windows}} {
				if got := c.codec.segment(tt.key); len(got) != 1 || got[0] != c.want {
					t.Errorf("windows=%v: segment(%q) = %q, want %q", c.codec.windows, tt.key, got, c.want)
				}
				if got, ok := c.codec.decodeSegment([]string{c.want}); !ok || got != tt.key {
					t.Errorf("windows=%v: decodeSegment(%q) = %q, %v; want %q", c.codec.windows, c.want, got, ok, tt.key)
				}
			}
		})
	}
}

// TestCodecBeyondNetlify covers what netlify's server cannot store.
func TestCodecBeyondNetlify(t *testing.T) {
	tests := []struct {
		name, key string
		windows   bool
		want      []string
	}{
		{"reserved with extension", "con.txt", true, []string{"%63on.txt"}},
		{"literal escape stays literal", "%41", false, []string{"%2541"}},
		{"hash and question mark", "a#b?c", false, []string{"a%23b%3Fc"}},
		{"backslash on windows", `a\b`, true, []string{"a%5Cb"}},
		{"long segment in pieces", strings.Repeat("x", 300), false, []string{"{" + strings.Repeat("x", 240), "}" + strings.Repeat("x", 60)}},
		{"long dotted segment", strings.Repeat(".", 256), false, []string{"{" + strings.Repeat("%2E", 80), "{" + strings.Repeat("%2E", 80), "{" + strings.Repeat("%2E", 80), "}" + strings.Repeat("%2E", 16)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := codec{windows: tt.windows}
			got := c.segment(tt.key)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("segment(%q) = %q, want %q", tt.key, got, tt.want)
			}
			if back, ok := c.decodeSegment(got); !ok || back != tt.key {
				t.Fatalf("decodeSegment(%q) = %q, %v; want %q", got, back, ok, tt.key)
			}
		})
	}
}

// TestDecodeRejectsNonKeys: names that segment never produces are not
// keys, so temporary files and foreign files stay out of listings.
func TestDecodeRejectsNonKeys(t *testing.T) {
	for _, name := range []string{
		".tmp{bgfn}12345", // bgfn's temporary files
		"%41",             // netlify's name for the key "%41": bgfn reads that key as "A"
		"caf%c3%a9",       // lower-case escapes
		"a%2Fb",           // an escaped slash
		"{short",          // a piece without its end
		"}short",          // a last piece of a segment that needs none
		"%00",
		"%FF",
	} {
		if got, ok := hostCodec.decodeSegment([]string{name}); ok {
			t.Errorf("decodeSegment(%q) = %q, want not a key", name, got)
		}
	}
}

// checkKeyPath asserts what must hold for every key: invalid keys are
// refused, and a valid one maps to plain file names below the store
// folder that decode back to it.
func checkKeyPath(t *testing.T, c codec, key string) {
	t.Helper()
	comps, err := c.keyPath(key)
	if ValidateKey(key) != nil {
		if err == nil {
			t.Fatalf("keyPath(%q) accepted an invalid key: %q", key, comps)
		}
		return
	}
	if err != nil {
		t.Fatalf("keyPath(%q): %v", key, err)
	}
	root := filepath.FromSlash("/srv/site/.netlify/blobs-serve/entries/unlinked/site:s")
	p := filepath.Join(append([]string{root}, comps...)...)
	rel, err := filepath.Rel(root, p)
	if err != nil || !filepath.IsLocal(rel) || !strings.HasPrefix(p, root+string(filepath.Separator)) {
		t.Fatalf("keyPath(%q) = %q leaves the store folder: %s", key, comps, p)
	}
	for _, n := range comps {
		switch {
		case n == "" || n == "." || n == "..":
			t.Fatalf("keyPath(%q) has component %q", key, n)
		case len(n) > maxNameBytes:
			t.Fatalf("keyPath(%q) has a %d-byte component", key, len(n))
		case strings.ContainsAny(n, "/\x00"), c.windows && strings.Contains(n, `\`):
			t.Fatalf("keyPath(%q) has component %q with a separator or NUL", key, n)
		}
		if c.windows {
			if strings.ContainsAny(n, `<>:"|?*`) || strings.HasSuffix(n, ".") || strings.HasSuffix(n, " ") || winReserved.MatchString(n) {
				t.Fatalf("keyPath(%q) has component %q that Windows refuses", key, n)
			}
		}
		for i := 0; i < len(n); i++ {
			if n[i] < 0x20 || n[i] >= 0x7f {
				t.Fatalf("keyPath(%q) has component %q with byte %#x", key, n, n[i])
			}
		}
	}
	back, ok := c.keyFromPath(comps)
	if !ok || back != key {
		t.Fatalf("keyFromPath(keyPath(%q)) = %q, %v", key, back, ok)
	}
}

func TestKeyPath(t *testing.T) {
	keys := []string{
		"a", "a/b", "..", "a/../b", "/etc/passwd", "a//b", "", "x\x00y",
		strings.Repeat("é", 300), strings.Repeat("a/", 299) + "a",
		strings.Repeat("%", 600), strings.Repeat("%4", 300), strings.Repeat(".", 600),
		strings.Repeat("😀", 150), "CON/aux/nul.txt", "a:b|c*d?e",
	}
	for _, c := range []codec{{}, {windows: true}} {
		for _, k := range keys {
			checkKeyPath(t, c, k)
		}
	}
}

// FuzzKeyPath: no key, however odd, maps to a path outside the store
// folder, and every valid key round-trips. Read as file names found on
// disk (written by netlify dev, or by hand), the input decodes to a key
// only if that key maps back to exactly those names, so two files never
// list as one key.
func FuzzKeyPath(f *testing.F) {
	for _, k := range []string{
		"a", "a/b", "..", "a/../../b", "%2e%2e", "CON", "x.", strings.Repeat("é", 300), "%%41", "a\\b",
		"cats/tom.jpg", "a b/ü#?", "%41", "%2F", "%252F", "%C3%BC", "%c3%bc", "%2a", "con%2etxt", "%43ON",
		string(pieceMore) + "ab/" + string(pieceLast) + "cd", string(pieceLast) + "x",
	} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, c := range []codec{{}, {windows: true}} {
			if back, ok := c.keyFromPath(strings.Split(key, "/")); ok {
				comps, err := c.keyPath(back)
				if err != nil || strings.Join(comps, "/") != key {
					t.Fatalf("names %q read as key %q, which maps to %q (%v)", key, back, comps, err)
				}
			}
		}
		if !utf8.ValidString(key) {
			if _, err := hostCodec.keyPath(key); err == nil {
				t.Fatalf("keyPath accepted invalid UTF-8 %q", key)
			}
			return
		}
		checkKeyPath(t, codec{}, key)
		checkKeyPath(t, codec{windows: true}, key)
	})
}
