package blobs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const site = UnlinkedSiteID

func openStore(t *testing.T) *Store {
	t.Helper()
	st, err := Open(filepath.Join(t.TempDir(), ".netlify", "blobs-serve"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func put(t *testing.T, st *Store, store, key, value string) Entry {
	t.Helper()
	e, err := st.Put(site, store, key, strings.NewReader(value), nil, Condition{})
	if err != nil {
		t.Fatalf("put %s/%s: %v", store, key, err)
	}
	return e
}

func read(t *testing.T, st *Store, store, key string) (string, *Blob) {
	t.Helper()
	b, err := st.Get(site, store, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", store, key, err)
	}
	defer b.Close()
	v, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), b
}

// TestStoreLayout: values and metadata land where netlify's server keeps
// them, under names it would use.
func TestStoreLayout(t *testing.T) {
	st := openStore(t)
	if _, err := st.Put(site, "site:my store", "dir/a b", strings.NewReader("hello"), []byte(`{ "n": 1 }`), Condition{}); err != nil {
		t.Fatal(err)
	}
	put(t, st, "deploy:0", "plain", "x")
	for path, want := range map[string]string{
		"entries/unlinked/site:my%20store/dir/a%20b":  "hello",
		"metadata/unlinked/site:my%20store/dir/a%20b": `{"n":1}`,
		"entries/unlinked/deploy:0/plain":             "x",
		"metadata/unlinked/deploy:0/plain":            "{}",
	} {
		b, err := os.ReadFile(filepath.Join(st.Dir(), filepath.FromSlash(path)))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", path, b, err, want)
		}
	}
	v, b := read(t, st, "site:my store", "dir/a b")
	if v != "hello" || string(b.Metadata) != `{"n":1}` || b.Size != 5 {
		t.Fatalf("got %q %s %d", v, b.Metadata, b.Size)
	}
}

// TestStoreReadsNetlifyFiles: a store written by netlify dev (raw names,
// metadata JSON with spaces, no metadata at all) reads back with the keys
// that were set, and with netlify's ETags.
func TestStoreReadsNetlifyFiles(t *testing.T) {
	st := openStore(t)
	write := func(rel, data string) {
		p := filepath.Join(st.Dir(), filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("entries/unlinked/site:shared/caf%C3%A9", "coffee")
	write("metadata/unlinked/site:shared/caf%C3%A9", `{ "by": "netlify" }`)
	write("entries/unlinked/site:shared/n/o-meta", "bare")
	v, b := read(t, st, "site:shared", "café")
	if v != "coffee" || string(b.Metadata) != `{"by":"netlify"}` {
		t.Fatalf("got %q %s", v, b.Metadata)
	}
	p := filepath.Join(st.Dir(), "entries", "unlinked", "site:shared", "caf%C3%A9")
	fi, _ := os.Stat(p)
	if want := ETag(p, fi.ModTime()); b.ETag != want {
		t.Fatalf("etag %s, want %s", b.ETag, want)
	}
	if v, b := read(t, st, "site:shared", "n/o-meta"); v != "bare" || b.Metadata != nil {
		t.Fatalf("got %q %s", v, b.Metadata)
	}
	blobs, _, err := st.ListAll(site, "site:shared", ListOptions{})
	if err != nil || len(blobs) != 2 || blobs[0].Key != "café" || blobs[1].Key != "n/o-meta" {
		t.Fatalf("list = %+v, %v", blobs, err)
	}
	stores, err := st.Stores(site)
	if err != nil || strings.Join(stores, ",") != "site:shared" {
		t.Fatalf("stores = %q, %v", stores, err)
	}
}

// TestETagFormula pins the ETag to the one netlify's server computes
// (HMAC-SHA256 keyed by the mtime's ISO string, over the path). The value
// was printed by node:
//
//	createHmac("sha256", new Date(Date.UTC(2026,11,1,10,0,0,123)).toISOString()).update("/srv/x").digest("hex")
func TestETagFormula(t *testing.T) {
	mt := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)
	want := `"a8c67e071b19051114b2448ad222435e7cda9cabc41c22db3b5915e81015bcf3"`
	if got := ETag("/srv/x", mt); got != want {
		t.Fatalf("ETag = %s, want %s", got, want)
	}
	// The same instant in another zone is the same ETag.
	if got := ETag("/srv/x", mt.In(time.FixedZone("x", 3600))); got != want {
		t.Fatalf("ETag in another zone = %s", got)
	}
	// Node rounds a file's time to the millisecond: a file touched at
	// 10:00:00.123556789 is 10:00:00.124Z in node, and .9996 is the next
	// second. The values were printed by node for "…00.124Z" and "…01.000Z".
	rounded := []struct {
		nsec int
		want string
	}{
		{123556789, `"1de8b8213675c3878b1add0af224feac133896e7206ac1fb3d49b0ab146cb733"`},
		{999600000, `"7d6d870f0d22ee33c7a15c2384aac4073f2519d706086c2b64d00831c7a5541c"`},
	}
	for _, r := range rounded {
		if got := ETag("/srv/x", time.Date(2026, 12, 1, 10, 0, 0, r.nsec, time.UTC)); got != r.want {
			t.Errorf("ETag at %d ns = %s, want %s", r.nsec, got, r.want)
		}
	}
}

func TestStoreConditions(t *testing.T) {
	st := openStore(t)
	e1, err := st.Put(site, "site:c", "k", strings.NewReader("1"), nil, Condition{OnlyIfNew: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(site, "site:c", "k", strings.NewReader("2"), nil, Condition{OnlyIfNew: true}); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("only-if-new on an existing key: %v", err)
	}
	if _, err := st.Put(site, "site:c", "k", strings.NewReader("2"), nil, Condition{OnlyIfMatch: `"nope"`}); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("only-if-match with a wrong etag: %v", err)
	}
	if _, err := st.Put(site, "site:c", "missing", strings.NewReader("2"), nil, Condition{OnlyIfMatch: e1.ETag}); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("only-if-match on a missing key: %v", err)
	}
	e2, err := st.Put(site, "site:c", "k", strings.NewReader("2"), nil, Condition{OnlyIfMatch: e1.ETag})
	if err != nil {
		t.Fatal(err)
	}
	// Writes in the same millisecond still get new ETags.
	e3 := put(t, st, "site:c", "k", "3")
	if e1.ETag == e2.ETag || e2.ETag == e3.ETag {
		t.Fatalf("etags repeat: %s %s %s", e1.ETag, e2.ETag, e3.ETag)
	}
	if v, _ := read(t, st, "site:c", "k"); v != "3" {
		t.Fatalf("value %q", v)
	}
	if _, err := st.Put(site, "site:c", "k", strings.NewReader("4"), nil, Condition{OnlyIfMatch: e2.ETag}); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("only-if-match with a stale etag: %v", err)
	}
}

// TestStoreConcurrentWriters: 20 writers of 1 MB values to one key end
// with one whole value, and readers meanwhile only ever see whole values.
func TestStoreConcurrentWriters(t *testing.T) {
	st := openStore(t)
	const writers, size = 20, 1 << 20
	put(t, st, "site:c", "k", strings.Repeat("@", size))
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readErr := make(chan error, 4)
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b, err := st.Get(site, "site:c", "k")
				if err != nil {
					readErr <- err
					return
				}
				v, err := io.ReadAll(b)
				b.Close()
				if err == nil {
					err = wholeValue(v, size)
				}
				if err != nil {
					readErr <- err
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := bytes.Repeat([]byte{byte('A' + i)}, size)
			if _, err := st.Put(site, "site:c", "k", bytes.NewReader(v), nil, Condition{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		t.Fatalf("a reader saw: %v", err)
	default:
	}
	v, _ := read(t, st, "site:c", "k")
	if err := wholeValue([]byte(v), size); err != nil {
		t.Fatal(err)
	}
	if v[0] == '@' {
		t.Fatal("no writer won")
	}
	assertNoTemp(t, st)
}

func wholeValue(v []byte, size int) error {
	if len(v) != size {
		return fmt.Errorf("value of %d bytes, want %d", len(v), size)
	}
	if i := bytes.IndexFunc(v, func(r rune) bool { return byte(r) != v[0] }); i >= 0 {
		return fmt.Errorf("mixed value: byte %d is %q, byte 0 is %q", i, v[i], v[0])
	}
	return nil
}

func assertNoTemp(t *testing.T, st *Store) {
	t.Helper()
	filepath.WalkDir(st.Dir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "{bgfn}") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

// TestStoreOnlyIfNewRace: of 20 concurrent only-if-new writers, through
// two Stores on one folder (two lock files open, as two processes have),
// exactly one wins.
func TestStoreOnlyIfNewRace(t *testing.T) {
	a := openStore(t)
	b, err := Open(a.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for round := range 5 {
		key := fmt.Sprintf("k%d", round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for i := range 20 {
			st := a
			if i%2 == 1 {
				st = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.Put(site, "site:race", key, strings.NewReader(fmt.Sprint(i)), nil, Condition{OnlyIfNew: true})
				switch {
				case err == nil:
					mu.Lock()
					won++
					mu.Unlock()
				case !errors.Is(err, ErrPrecondition):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("round %d: %d writers won, want 1", round, won)
		}
	}
}

// failingReader fails after n bytes, as a client that goes away does.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	for i := range p {
		p[i] = 'x'
	}
	f.n -= len(p)
	return len(p), nil
}

// TestStoreInterruptedWrite: a write that fails half way leaves the old
// value whole and no temporary file; a temporary file left by a killed
// process is not a key.
func TestStoreInterruptedWrite(t *testing.T) {
	st := openStore(t)
	put(t, st, "site:i", "k", "old")
	if _, err := st.Put(site, "site:i", "k", &failingReader{n: 100 << 10}, nil, Condition{}); err == nil {
		t.Fatal("a failing body was stored")
	}
	if v, _ := read(t, st, "site:i", "k"); v != "old" {
		t.Fatalf("value %q after a failed write", v)
	}
	assertNoTemp(t, st)
	stray := filepath.Join(st.Dir(), "entries", "unlinked", "site:i", ".tmp{bgfn}123")
	if err := os.WriteFile(stray, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	blobs, _, err := st.ListAll(site, "site:i", ListOptions{})
	if err != nil || len(blobs) != 1 || blobs[0].Key != "k" {
		t.Fatalf("list = %+v, %v", blobs, err)
	}
}

// pattern is a reader of n generated bytes, so a large value never exists
// in memory in the test either.
type pattern struct{ n, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n-p.off {
		b = b[:p.n-p.off]
	}
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 7 % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func patternSum(n int64) [32]byte {
	h := sha256.New()
	io.Copy(h, &pattern{n: n})
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// allocatedBy reports how many bytes f allocated on the heap, all
// goroutines included: a value held in memory shows as at least its size.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const bigValue = 50 << 20

// TestStoreStreamsLargeValues: a 50 MB value goes to disk and back
// without being held in memory.
func TestStoreStreamsLargeValues(t *testing.T) {
	st := openStore(t)
	var sum [32]byte
	alloc := allocatedBy(func() {
		if _, err := st.Put(site, "site:big", "v", &pattern{n: bigValue}, nil, Condition{}); err != nil {
			t.Fatal(err)
		}
		b, err := st.Get(site, "site:big", "v")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		h := sha256.New()
		if _, err := io.Copy(h, b); err != nil {
			t.Fatal(err)
		}
		copy(sum[:], h.Sum(nil))
	})
	if sum != patternSum(bigValue) {
		t.Fatal("the value read back differs")
	}
	t.Logf("put and get of 50 MB allocated %d KB", alloc>>10)
	if alloc > 4<<20 {
		t.Fatalf("put and get of 50 MB allocated %d MB; the value must stream", alloc>>20)
	}
}

func TestStoreList(t *testing.T) {
	st := openStore(t)
	long := strings.Repeat("é", 200) // 400 bytes, 1200 as a file name
	for _, k := range []string{"cats/garfield", "cats/tom", "catsuit", "mice/jerry", "mice/deep/mickey", "pink", "a b", long + "/x", long} {
		if k == long {
			continue
		}
		put(t, st, "site:l", k, k)
	}
	put(t, st, "site:l", "z/"+long, "long")
	tests := []struct {
		name        string
		o           ListOptions
		blobs, dirs string
	}{
		// Byte order, as Go and Netlify compare: "z" < "é".
		{"all", ListOptions{}, "a b,cats/garfield,cats/tom,catsuit,mice/deep/mickey,mice/jerry,pink,z/" + long + "," + long + "/x", ""},
		{"prefix", ListOptions{Prefix: "cats"}, "cats/garfield,cats/tom,catsuit", ""},
		{"prefix folder", ListOptions{Prefix: "cats/"}, "cats/garfield,cats/tom", ""},
		{"prefix matches no file longer than itself", ListOptions{Prefix: "catsuits"}, "", ""},
		{"directories", ListOptions{Directories: true}, "a b,catsuit,pink", "cats,mice,z," + long},
		{"directories below", ListOptions{Directories: true, Prefix: "mice/"}, "mice/jerry", "mice/deep"},
		{"directories partial", ListOptions{Directories: true, Prefix: "mi"}, "", "mice"},
		{"long keys", ListOptions{Prefix: "z/é"}, "z/" + long, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blobs, dirs, err := st.ListAll(site, "site:l", tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, b := range blobs {
				keys = append(keys, b.Key)
			}
			if got := strings.Join(keys, ","); got != tt.blobs {
				t.Errorf("blobs %q, want %q", got, tt.blobs)
			}
			if got := strings.Join(dirs, ","); got != tt.dirs {
				t.Errorf("directories %q, want %q", got, tt.dirs)
			}
		})
	}
	if v, _ := read(t, st, "site:l", "z/"+long); v != "long" {
		t.Fatalf("long key reads %q", v)
	}
}

// fill writes n values k0000, k0001, ... straight into the folder, as
// netlify's server would (without Put's syncs, to keep tests quick).
func fill(t *testing.T, st *Store, store string, n int) {
	t.Helper()
	dir := filepath.Join(st.Dir(), "entries", "unlinked", store)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("k%04d", i)), []byte("v"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStorePagination(t *testing.T) {
	st := openStore(t)
	fill(t, st, "site:p", 1100)
	p1, err := st.List(site, "site:p", ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Blobs) != PageSize || p1.NextCursor == "" || p1.Blobs[0].Key != "k0000" || p1.Blobs[999].Key != "k0999" {
		t.Fatalf("page 1: %d blobs, cursor %q", len(p1.Blobs), p1.NextCursor)
	}
	p2, err := st.List(site, "site:p", ListOptions{Cursor: p1.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Blobs) != 100 || p2.NextCursor != "" || p2.Blobs[0].Key != "k1000" {
		t.Fatalf("page 2: %d blobs, cursor %q", len(p2.Blobs), p2.NextCursor)
	}
	if _, err := st.List(site, "site:p", ListOptions{Cursor: "!!"}); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
}

func TestStoreDeleteAndConflicts(t *testing.T) {
	st := openStore(t)
	put(t, st, "site:d", "a/b/c", "1")
	put(t, st, "site:d", "keep", "2")
	if _, err := st.Put(site, "site:d", "a/b", strings.NewReader("x"), nil, Condition{}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a key over a folder: %v", err)
	}
	if _, err := st.Put(site, "site:d", "keep/x", strings.NewReader("x"), nil, Condition{}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a key below a value: %v", err)
	}
	if ok, err := st.Delete(site, "site:d", "a/b"); ok || err != nil {
		t.Fatalf("deleting a folder: %v %v", ok, err)
	}
	if ok, err := st.Delete(site, "site:d", "a/b/c"); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	for _, d := range []string{"entries/unlinked/site:d/a", "metadata/unlinked/site:d/a"} {
		if _, err := os.Stat(filepath.Join(st.Dir(), d)); !os.IsNotExist(err) {
			t.Errorf("%s still there after its last value went: %v", d, err)
		}
	}
	if _, err := st.Get(site, "site:d", "a/b/c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if ok, _ := st.Delete(site, "site:d", "a/b/c"); ok {
		t.Fatal("deleted twice")
	}
	put(t, st, "site:e", "x", "1")
	if n, err := st.DeleteStore(site, "site:d"); n != 1 || err != nil {
		t.Fatalf("delete store: %d %v", n, err)
	}
	if stores, _ := st.Stores(site); strings.Join(stores, ",") != "site:e" {
		t.Fatalf("stores %q", stores)
	}
}

func TestStoreRejects(t *testing.T) {
	st := openStore(t)
	tests := []struct{ name, site, store, key, meta string }{
		{"dotdot key", site, "site:s", "../../x", ""},
		{"empty key", site, "site:s", "", ""},
		{"long key", site, "site:s", strings.Repeat("k", 601), ""},
		{"slash store", site, "site:a/b", "k", ""},
		{"long store", site, "site:" + strings.Repeat("s", 65), "k", ""},
		{"dotdot site", "..", "site:s", "k", ""},
		{"bad metadata", site, "site:s", "k", "{nope"},
		{"big metadata", site, "site:s", "k", `{"x":"` + strings.Repeat("m", 1600) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var meta []byte
			if tt.meta != "" {
				meta = []byte(tt.meta)
			}
			_, err := st.Put(tt.site, tt.store, tt.key, strings.NewReader("v"), meta, Condition{})
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("put = %v, want a ValidationError", err)
			}
		})
	}
	// Nothing was written anywhere.
	ents, _ := os.ReadDir(st.Dir())
	if len(ents) != 1 || ents[0].Name() != lockName {
		t.Fatalf("the folder has %v", ents)
	}
}
