package blobs

import (
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"unicode/utf8"
)

// Limits the @netlify/blobs client enforces (src/store.ts), so a key or
// store the client accepts is accepted here and one it rejects is too.
const (
	MaxKeyBytes       = 600
	MaxStoreNameBytes = 64
	// MaxMetadataBytes bounds the encoded metadata header. The client
	// counts the length of "netlify-blobs-metadata" plus the header value
	// against 2 KiB; the server uses the same sum.
	MaxMetadataBytes = 2 * 1024
)

// Store name prefixes on the wire.
const (
	sitePrefix   = "site:"
	deployPrefix = "deploy:"
)

// ValidationError is bad input: a key, store, site id or metadata that
// Netlify would reject or that cannot be stored. The server answers it with
// 400 and the CLI with exit code 2.
type ValidationError struct {
	What   string // "key", "store name", "site id", "metadata", ...
	Value  string
	Reason string
}

func (e *ValidationError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:77] + "..."
	}
	return fmt.Sprintf("invalid %s %q: %s", e.What, v, e.Reason)
}

func invalid(what, value, format string, args ...any) error {
	return &ValidationError{What: what, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// ValidateKey checks a blob key. Beyond the client's own rules (not empty,
// not starting with a slash, at most 600 bytes) it refuses what cannot be a
// path below the store folder: empty segments, "." and "..", NUL, and
// invalid UTF-8. The URL parser in the client resolves "." and ".." before
// they reach a server, so refusing them loses nothing a client can send.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return invalid("key", key, "a key must not be empty")
	case !utf8.ValidString(key):
		return invalid("key", key, "a key must be valid UTF-8")
	case len(key) > MaxKeyBytes:
		return invalid("key", key, "a key is at most %d bytes of UTF-8, this one has %d", MaxKeyBytes, len(key))
	case strings.HasPrefix(key, "/"):
		return invalid("key", key, "a key must not start with /")
	case strings.ContainsRune(key, 0):
		return invalid("key", key, "a key must not contain NUL")
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return invalid("key", key, "a key must not contain empty segments (// or a trailing /)")
		case ".", "..":
			return invalid("key", key, "a key must not contain . or .. segments")
		}
	}
	return nil
}

// ValidateStoreName checks the name a user gives getStore or
// getDeployStore: what the client refuses (a slash, more than 64 bytes),
// plus empty names and NUL, which cannot be folder names.
func ValidateStoreName(name string) error {
	switch {
	case name == "":
		return invalid("store name", name, "a store name must not be empty")
	case !utf8.ValidString(name):
		return invalid("store name", name, "a store name must be valid UTF-8")
	case strings.Contains(name, "/") || strings.Contains(strings.ToUpper(name), "%2F"):
		return invalid("store name", name, "a store name must not contain /")
	case len(name) > MaxStoreNameBytes:
		return invalid("store name", name, "a store name is at most %d bytes of UTF-8, this one has %d", MaxStoreNameBytes, len(name))
	case strings.ContainsRune(name, 0):
		return invalid("store name", name, "a store name must not contain NUL")
	case name == "." || name == "..":
		return invalid("store name", name, "a store name must not be . or ..")
	}
	return nil
}

var deployIDPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,24}$`)

// ValidateDeployID checks a deploy id the way the client does.
func ValidateDeployID(id string) error {
	if !deployIDPattern.MatchString(id) {
		return invalid("deploy id", id, "a deploy id is 1 to 24 letters, digits or underscores")
	}
	return nil
}

// SiteStore is the wire name of the site store getStore(name) uses.
func SiteStore(name string) string { return sitePrefix + name }

// DeployStore is the wire name of the store getDeployStore uses: the
// deploy's own store when name is empty, a named one otherwise.
func DeployStore(deployID, name string) string {
	if name == "" {
		return deployPrefix + deployID
	}
	return deployPrefix + deployID + ":" + name
}

// StoreInfo is a wire store name taken apart.
type StoreInfo struct {
	// ID is the wire name: site:NAME, deploy:ID[:NAME], or a legacy bare
	// name.
	ID string `json:"id"`
	// Kind is "site", "deploy" or "legacy".
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	DeployID string `json:"deployId,omitempty"`
}

// ParseStore validates a wire store name and takes it apart.
func ParseStore(id string) (StoreInfo, error) {
	switch {
	case strings.HasPrefix(id, sitePrefix):
		name := id[len(sitePrefix):]
		if err := ValidateStoreName(name); err != nil {
			return StoreInfo{}, err
		}
		return StoreInfo{ID: id, Kind: "site", Name: name}, nil
	case strings.HasPrefix(id, deployPrefix):
		rest := id[len(deployPrefix):]
		dep, name, named := strings.Cut(rest, ":")
		if err := ValidateDeployID(dep); err != nil {
			return StoreInfo{}, err
		}
		if named {
			if err := ValidateStoreName(name); err != nil {
				return StoreInfo{}, err
			}
		}
		return StoreInfo{ID: id, Kind: "deploy", Name: name, DeployID: dep}, nil
	}
	if err := ValidateStoreName(id); err != nil {
		return StoreInfo{}, err
	}
	return StoreInfo{ID: id, Kind: "legacy", Name: id}, nil
}

// ValidateSiteID checks a site id: one folder name.
func ValidateSiteID(id string) error {
	switch {
	case id == "":
		return invalid("site id", id, "a site id must not be empty")
	case !utf8.ValidString(id) || strings.ContainsAny(id, "/\x00"):
		return invalid("site id", id, "a site id must be UTF-8 without / or NUL")
	case id == "." || id == "..":
		return invalid("site id", id, "a site id must not be . or ..")
	case len(id) > 128:
		return invalid("site id", id, "a site id is at most 128 bytes")
	}
	return nil
}

// The file-name encoding.
//
// netlify's server names files after the raw, still percent-encoded URL
// segment the client sent: key "a b" is the file "a%20b". bgfn computes
// the same name from the decoded key, so both tools find each other's
// files, and listings show the key that was set ("a b", as on Netlify)
// rather than its URL form:
//
//  1. Each key segment is escaped as the WHATWG URL parser escapes a path
//     (controls, space, " < > ` { }, DEL and non-ASCII bytes become %XX with
//     upper-case hex), plus # and ? (the client cannot send them; `bgfn
//     blobs` can) and a % that is followed by two hex digits (so the name
//     decodes back to the same key; a lone % stays as it is, as netlify
//     stores it).
//  2. On Windows the result is escaped again as netlify does there:
//     encodeURIComponent, then *, a trailing dot, and reserved device names
//     (CON, NUL, COM1, ... also with an extension) get their first
//     character escaped.
//  3. A name longer than 255 bytes (where netlify's server fails) is cut
//     into pieces of at most 240 bytes, never inside a %XX, with every "."
//     escaped as %2E so no piece ends in a dot: all pieces but the last
//     become folders named "{" + piece, the last one is "}" + piece. Step 1
//     always escapes { and }, so such names cannot be the name of an
//     ordinary segment, and listings join the pieces back.
//
// A file name is read back only if encoding its decoded form gives the
// same name. Anything else (bgfn's own temporary files, which contain "{",
// and netlify's names for keys with a literal %XX in them) is not a key
// and is left out of listings.
type codec struct{ windows bool }

// hostCodec is the encoding for this operating system.
var hostCodec = codec{windows: runtime.GOOS == "windows"}

const (
	maxNameBytes  = 255
	maxPieceBytes = 240
	pieceMore     = '{'
	pieceLast     = '}'
)

const upperHex = "0123456789ABCDEF"

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case '0' <= b && b <= '9':
		return b - '0'
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10
	}
	return b - 'A' + 10
}

// urlEscape is step 1: the segment as the client's URL puts it on the wire.
func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		esc := c <= 0x20 || c >= 0x7f || strings.IndexByte("\"#<>?`{}", c) >= 0 ||
			c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])
		if esc {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// unescapeLenient decodes every valid %XX and keeps any other %.
func unescapeLenient(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var winReserved = regexp.MustCompile(`(?i)^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\.|$)`)

// uriComponentSafe are the bytes encodeURIComponent leaves alone.
func uriComponentSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-_.!~*'()", c) >= 0
}

// winEscape is step 2, netlify's encodeWin32SafeName extended to reserved
// names with an extension.
func winEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '*':
			b.WriteString("%2a")
		case c == '.' && i == len(s)-1:
			b.WriteString("%2e")
		case uriComponentSafe(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	out := b.String()
	if winReserved.MatchString(out) {
		out = fmt.Sprintf("%%%02x", out[0]) + out[1:]
	}
	return out
}

// winUnescape reverses winEscape (decodeURIComponent); ok is false for a
// name with a broken escape.
func winUnescape(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return "", false
		}
	}
	return unescapeLenient(s), true
}

// name is steps 1 and 2: the full-length file name of a segment.
func (c codec) name(seg string) string {
	n := urlEscape(seg)
	if c.windows {
		n = winEscape(n)
	}
	return n
}

// unname reverses name.
func (c codec) unname(n string) (string, bool) {
	if c.windows {
		var ok bool
		if n, ok = winUnescape(n); !ok {
			return "", false
		}
	}
	return unescapeLenient(n), true
}

// segment maps one key segment to the path components that hold it.
func (c codec) segment(seg string) []string {
	n := c.name(seg)
	if len(n) <= maxNameBytes {
		return []string{n}
	}
	n = strings.ReplaceAll(n, ".", "%2E")
	var parts []string
	for len(n) > maxPieceBytes {
		cut := maxPieceBytes
		// Never cut inside %XX.
		if n[cut-1] == '%' {
			cut--
		} else if n[cut-2] == '%' {
			cut -= 2
		}
		parts = append(parts, string(pieceMore)+n[:cut])
		n = n[cut:]
	}
	return append(parts, string(pieceLast)+n)
}

// keyPath maps a key to the path components below its store folder.
func (c codec) keyPath(key string) ([]string, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	var comps []string
	for _, seg := range strings.Split(key, "/") {
		comps = append(comps, c.segment(seg)...)
	}
	return comps, nil
}

// folderName maps a site id or store name to its one folder.
func (c codec) folderName(what, s string) (string, error) {
	n := c.name(s)
	if len(n) > maxNameBytes {
		return "", invalid(what, s, "it is %d bytes long as a folder name here; the limit is %d", len(n), maxNameBytes)
	}
	return n, nil
}

// pieceKind tells what a path component is: an ordinary segment, a
// continued piece of a long one, or its last piece.
func pieceKind(name string) byte {
	if name != "" && (name[0] == pieceMore || name[0] == pieceLast) {
		return name[0]
	}
	return 0
}

// decodeSegment turns the components of one segment (one name, or the
// pieces of a long one) back into the segment. ok is false when they are
// not what segment would produce for it.
func (c codec) decodeSegment(comps []string) (string, bool) {
	var n string
	switch {
	case len(comps) == 1 && pieceKind(comps[0]) == 0:
		n = comps[0]
	case len(comps) >= 1:
		var b strings.Builder
		for i, p := range comps {
			want := byte(pieceMore)
			if i == len(comps)-1 {
				want = pieceLast
			}
			if pieceKind(p) != want {
				return "", false
			}
			b.WriteString(p[1:])
		}
		n = b.String()
	default:
		return "", false
	}
	seg, ok := c.unname(n)
	if !ok || seg == "" || strings.ContainsAny(seg, "/\x00") || !utf8.ValidString(seg) {
		return "", false
	}
	got := c.segment(seg)
	if len(got) != len(comps) {
		return "", false
	}
	for i := range got {
		if got[i] != comps[i] {
			return "", false
		}
	}
	return seg, true
}

// keyFromPath reverses keyPath.
func (c codec) keyFromPath(comps []string) (string, bool) {
	var segs []string
	start := 0
	for i, p := range comps {
		if pieceKind(p) == pieceMore {
			continue
		}
		seg, ok := c.decodeSegment(comps[start : i+1])
		if !ok {
			return "", false
		}
		segs = append(segs, seg)
		start = i + 1
	}
	if start != len(comps) || len(segs) == 0 {
		return "", false
	}
	key := strings.Join(segs, "/")
	if ValidateKey(key) != nil {
		return "", false
	}
	return key, true
}

// decodeFolder reverses folderName.
func (c codec) decodeFolder(name string) (string, bool) {
	if pieceKind(name) != 0 {
		return "", false
	}
	return c.decodeSegment([]string{name})
}
