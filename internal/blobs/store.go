package blobs

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// UnlinkedSiteID is the site id netlify-cli uses for a site that is not
// linked to a Netlify site (UNLINKED_SITE_MOCK_ID).
const UnlinkedSiteID = "unlinked"

// LocalDeployID is the deploy id Netlify's local tools give deploy stores.
const LocalDeployID = "0"

// PageSize is how many entries one listing page holds, as on Netlify.
const PageSize = 1000

const (
	lockName   = ".bgfn-blobs.lock"
	tmpPattern = ".tmp{bgfn}*"
)

// Errors a Store returns besides *ValidationError.
var (
	ErrNotFound     = errors.New("not found")
	ErrPrecondition = errors.New("the write condition does not hold")
	// ErrConflict is a key that needs a folder where a value is, or the
	// other way round: on disk "a" and "a/b" cannot both exist.
	ErrConflict = errors.New("conflicting keys")
)

// conflictError names the key in the way.
type conflictError struct{ key, other string }

func (e *conflictError) Error() string {
	return fmt.Sprintf("key %q conflicts with %s: on disk a key cannot be both a value and a folder of other keys", e.key, e.other)
}

func (e *conflictError) Is(target error) bool { return target == ErrConflict }

// Dir is the folder a site's blobs live in, the one netlify-cli uses.
func Dir(baseDir string) string { return filepath.Join(baseDir, ".netlify", "blobs-serve") }

// SiteID is the site id `netlify dev` files this site's blobs under: the
// linked site's id from .netlify/state.json, else "unlinked".
func SiteID(baseDir string) string {
	b, err := os.ReadFile(filepath.Join(baseDir, ".netlify", "state.json"))
	if err != nil {
		return UnlinkedSiteID
	}
	var st struct {
		SiteID string `json:"siteId"`
	}
	if json.Unmarshal(b, &st) != nil || ValidateSiteID(st.SiteID) != nil {
		return UnlinkedSiteID
	}
	return st.SiteID
}

// Entry describes one stored value.
type Entry struct {
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"lastModified"`
	ETag         string    `json:"etag"`
}

// Condition makes a write conditional, as the client's onlyIfNew and
// onlyIfMatch options do.
type Condition struct {
	OnlyIfNew   bool
	OnlyIfMatch string
}

// Blob is a value opened for reading, with what was stored alongside it.
// The file is opened under the store's lock together with the metadata, so
// both belong to the same write; reading it later still sees that value,
// because writers replace files rather than change them. Close it.
type Blob struct {
	Entry
	// Metadata is the JSON stored with the value; nil when there is none.
	Metadata json.RawMessage
	*os.File
}

// Store is the blobs folder of a site, shared with netlify dev and with
// other bgfn processes.
type Store struct {
	root  string
	codec codec
	mu    sync.Mutex
	lockf *os.File
}

// Open opens (creating it if needed) the store rooted at dir, normally
// Dir(baseDir).
func Open(dir string) (*Store, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open blobs folder %s: %w", dir, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create blobs folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(root, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open blobs lock: %w", err)
	}
	return &Store{root: root, codec: hostCodec, lockf: f}, nil
}

// Close releases the lock file.
func (s *Store) Close() error { return s.lockf.Close() }

// Dir is the store's absolute root folder.
func (s *Store) Dir() string { return s.root }

// lock orders the short steps that must not interleave (check a
// condition and rename; open a value and read its metadata) across
// goroutines (the mutex) and across processes (the file lock).
func (s *Store) lock() (unlock func(), err error) {
	s.mu.Lock()
	if err := lockFile(s.lockf); err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("lock %s: %w", s.lockf.Name(), err)
	}
	return func() {
		unlockFile(s.lockf)
		s.mu.Unlock()
	}, nil
}

// location is where one key of one store lives on disk.
type location struct {
	siteData  string // entries/<site>
	siteMeta  string // metadata/<site>
	storeData string // entries/<site>/<store>
	storeMeta string // metadata/<site>/<store>
	data      string // the value; empty for a store-level location
	meta      string // its metadata
}

func (s *Store) storeLocation(site, store string) (location, error) {
	if err := ValidateSiteID(site); err != nil {
		return location{}, err
	}
	if _, err := ParseStore(store); err != nil {
		return location{}, err
	}
	sn, err := s.codec.folderName("site id", site)
	if err != nil {
		return location{}, err
	}
	st, err := s.codec.folderName("store name", store)
	if err != nil {
		return location{}, err
	}
	l := location{
		siteData: filepath.Join(s.root, "entries", sn),
		siteMeta: filepath.Join(s.root, "metadata", sn),
	}
	l.storeData = filepath.Join(l.siteData, st)
	l.storeMeta = filepath.Join(l.siteMeta, st)
	return l, nil
}

func (s *Store) locate(site, store, key string) (location, error) {
	l, err := s.storeLocation(site, store)
	if err != nil {
		return l, err
	}
	comps, err := s.codec.keyPath(key)
	if err != nil {
		return l, err
	}
	rel := filepath.Join(comps...)
	l.data = filepath.Join(l.storeData, rel)
	l.meta = filepath.Join(l.storeMeta, rel)
	return l, nil
}

// ETag is netlify's ETag for a value: an HMAC of the file's modification
// time (as JavaScript's toISOString prints it) keyed over its path, so a
// value written by either tool has the same ETag in both.
func ETag(path string, mtime time.Time) string {
	m := hmac.New(sha256.New, []byte(jsTime(mtime)))
	m.Write([]byte(path))
	return `"` + hex.EncodeToString(m.Sum(nil)) + `"`
}

// jsTime is a file time as Node shows it: fs.Stats rounds the nanosecond
// time to the nearest millisecond (new Date(Math.round(mtimeMs))), then
// toISOString prints it. Cutting the nanoseconds off instead gave another
// ETag for every file written in the second half of a millisecond (found
// when TestNetlifyServerInterop failed in the race run).
func jsTime(t time.Time) string {
	return t.UTC().Round(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

func entryOf(key, path string, fi fs.FileInfo) Entry {
	return Entry{Key: key, Size: fi.Size(), LastModified: fi.ModTime().UTC(), ETag: ETag(path, fi.ModTime())}
}

// EncodeMetadata is the header value carrying metadata JSON: "b64;" and
// its base64.
func EncodeMetadata(meta []byte) string { return "b64;" + base64.StdEncoding.EncodeToString(meta) }

// normalizeMetadata checks metadata JSON and compacts it; none is "{}", as
// netlify's server stores it.
func normalizeMetadata(meta []byte) ([]byte, error) {
	if len(bytes.TrimSpace(meta)) == 0 {
		return []byte("{}"), nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, meta); err != nil {
		return nil, invalid("metadata", string(meta), "metadata must be JSON: %v", err)
	}
	if n := len("netlify-blobs-metadata") + len(EncodeMetadata(b.Bytes())); n > MaxMetadataBytes {
		return nil, invalid("metadata", b.String(), "metadata is %d bytes encoded; the limit is %d", n, MaxMetadataBytes)
	}
	return b.Bytes(), nil
}

// current reports the value at l now: its file info, or nil when there is
// none.
func current(l location, key string) (fs.FileInfo, error) {
	fi, err := os.Stat(l.data)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("stat %s: %w", key, err)
	case fi.IsDir():
		return nil, &conflictError{key, fmt.Sprintf("the keys below it (%q)", key+"/...")}
	}
	return fi, nil
}

func checkCondition(l location, fi fs.FileInfo, c Condition) error {
	switch {
	case c.OnlyIfNew && fi != nil:
		return ErrPrecondition
	case c.OnlyIfMatch != "" && (fi == nil || ETag(l.data, fi.ModTime()) != c.OnlyIfMatch):
		return ErrPrecondition
	}
	return nil
}

// Put stores body as the value of key, with metadata (JSON; nil for
// none), if cond holds. The body streams into a temporary file next to
// the value; only checking cond, renaming and writing the metadata happen
// under the lock, so a large upload never blocks other keys.
//
// Both files are synced before they are renamed into place, so after a
// crash or a power cut a value is whole: the new one or the one before.
// The folders are not synced (that would double the cost of a write for
// the last rename before a power cut), so such a cut can lose the latest
// writes, never a value's content.
func (s *Store) Put(site, store, key string, body io.Reader, metadata []byte, cond Condition) (Entry, error) {
	l, err := s.locate(site, store, key)
	if err != nil {
		return Entry{}, err
	}
	meta, err := normalizeMetadata(metadata)
	if err != nil {
		return Entry{}, err
	}
	if cond.OnlyIfNew && cond.OnlyIfMatch != "" {
		return Entry{}, invalid("condition", cond.OnlyIfMatch, "only-if-new and only-if-match cannot be used together")
	}
	// A cheap early answer; checked again under the lock.
	fi, err := current(l, key)
	if err != nil {
		return Entry{}, err
	}
	if err := checkCondition(l, fi, cond); err != nil {
		return Entry{}, err
	}

	tmp, err := s.createTemp(filepath.Dir(l.data), key)
	if errors.Is(err, ErrConflict) {
		return Entry{}, s.conflictOf(site, store, key, err)
	}
	if err != nil {
		return Entry{}, err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, body); err != nil {
		return Entry{}, fmt.Errorf("write %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return Entry{}, fmt.Errorf("write %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return Entry{}, fmt.Errorf("write %s: %w", key, err)
	}

	unlock, err := s.lock()
	if err != nil {
		return Entry{}, err
	}
	defer unlock()
	if fi, err = current(l, key); err != nil {
		return Entry{}, err
	}
	if err := checkCondition(l, fi, cond); err != nil {
		return Entry{}, err
	}
	// The ETag comes from the modification time in milliseconds: make it
	// move on every write, however quick.
	mt := time.Now().Truncate(time.Millisecond)
	if fi != nil {
		if old := fi.ModTime().Truncate(time.Millisecond); !mt.After(old) {
			mt = old.Add(time.Millisecond)
		}
	}
	if err := os.Chtimes(tmp.Name(), mt, mt); err != nil {
		return Entry{}, fmt.Errorf("write %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), l.data); err != nil {
		return Entry{}, fmt.Errorf("write %s: %w", key, err)
	}
	committed = true
	if err := s.writeMetadata(l, key, meta); err != nil {
		return Entry{}, err
	}
	nfi, err := os.Stat(l.data)
	if err != nil {
		return Entry{}, fmt.Errorf("write %s: %w", key, err)
	}
	return entryOf(key, l.data, nfi), nil
}

// conflictOf names the shorter key whose value stands where key needs a
// folder.
func (s *Store) conflictOf(site, store, key string, err error) error {
	segs := strings.Split(key, "/")
	for i := 1; i < len(segs); i++ {
		p := strings.Join(segs[:i], "/")
		if l, lerr := s.locate(site, store, p); lerr == nil {
			if fi, serr := os.Stat(l.data); serr == nil && fi.Mode().IsRegular() {
				return &conflictError{key, fmt.Sprintf("key %q", p)}
			}
		}
	}
	return err
}

// createTemp makes the folders of a value and a temporary file in the
// last one. A concurrent Delete may remove an emptied folder between the
// two steps, so it tries again.
func (s *Store) createTemp(dir, key string) (*os.File, error) {
	var err error
	for range 20 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
				return nil, &conflictError{key, "a shorter key that holds a value"}
			}
			return nil, fmt.Errorf("write %s: %w", key, err)
		}
		var f *os.File
		if f, err = os.CreateTemp(dir, tmpPattern); err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	return nil, fmt.Errorf("write %s: %w", key, err)
}

func (s *Store) writeMetadata(l location, key string, meta []byte) error {
	f, err := s.createTemp(filepath.Dir(l.meta), key)
	if err != nil {
		return fmt.Errorf("metadata of %s: %w", key, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(meta)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), l.meta)
	}
	if err != nil {
		return fmt.Errorf("write metadata of %s: %w", key, err)
	}
	return nil
}

// Get opens the value of key with its metadata, or returns ErrNotFound.
func (s *Store) Get(site, store, key string) (*Blob, error) {
	l, err := s.locate(site, store, key)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	f, err := openValue(l.data)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		return nil, ErrNotFound
	}
	b := &Blob{Entry: entryOf(key, l.data, fi), File: f}
	if raw, err := readSmall(l.meta); err == nil {
		var c bytes.Buffer
		if json.Compact(&c, raw) == nil {
			b.Metadata = c.Bytes()
		}
	}
	return b, nil
}

// readSmall reads a metadata file, which the size limit keeps small; a
// larger one was not written by a Blobs server.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err == nil && len(b) > 64<<10 {
		return nil, errors.New("metadata file too large")
	}
	return b, err
}

// Delete removes the value of key and its metadata, and the folders that
// leaves empty. It reports whether there was a value.
func (s *Store) Delete(site, store, key string) (bool, error) {
	l, err := s.locate(site, store, key)
	if err != nil {
		return false, err
	}
	unlock, err := s.lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	fi, err := os.Lstat(l.data)
	existed := err == nil && fi.Mode().IsRegular()
	if existed {
		if err := os.Remove(l.data); err != nil {
			return false, fmt.Errorf("delete %s: %w", key, err)
		}
	}
	if fi, err := os.Lstat(l.meta); err == nil && fi.Mode().IsRegular() {
		if err := os.Remove(l.meta); err != nil {
			return existed, fmt.Errorf("delete metadata of %s: %w", key, err)
		}
	}
	prune(filepath.Dir(l.data), l.siteData)
	prune(filepath.Dir(l.meta), l.siteMeta)
	return existed, nil
}

// prune removes dir and its parents while they are empty, up to (not
// including) stop. The store's folder goes too when it empties, so a store
// is listed while it holds something.
func prune(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// DeleteStore removes every value of a store and reports how many there
// were.
func (s *Store) DeleteStore(site, store string) (int, error) {
	l, err := s.storeLocation(site, store)
	if err != nil {
		return 0, err
	}
	unlock, err := s.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	var n int
	err = s.walk(l.storeData, nil, func(string, string, fs.DirEntry) error {
		n++
		return nil
	}, nil)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("delete store %s: %w", store, err)
	}
	if err := os.RemoveAll(l.storeData); err != nil {
		return 0, fmt.Errorf("delete store %s: %w", store, err)
	}
	if err := os.RemoveAll(l.storeMeta); err != nil {
		return 0, fmt.Errorf("delete store %s: %w", store, err)
	}
	return n, nil
}

// ListOptions select a page of a listing.
type ListOptions struct {
	// Prefix keeps the keys that start with it.
	Prefix string
	// Directories groups keys at the next "/" after Prefix, as S3's
	// delimiter does: "a/b" and "a/c" under prefix "" list as directory
	// "a".
	Directories bool
	// Cursor is a Page's NextCursor, to get the page after it.
	Cursor string
	// Limit is the page size; 0 means PageSize.
	Limit int
}

// Page is one page of a listing, in key order.
type Page struct {
	Blobs       []Entry
	Directories []string
	// NextCursor is set when there are more entries.
	NextCursor string
}

type listItem struct {
	key   string
	dir   bool
	entry Entry
}

// List lists the values of a store. netlify's server has no pages and
// lists in directory order; this one sorts by key and pages as Netlify
// does, and a missing store is empty.
func (s *Store) List(site, store string, o ListOptions) (Page, error) {
	l, err := s.storeLocation(site, store)
	if err != nil {
		return Page{}, err
	}
	after := ""
	if o.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(o.Cursor)
		if err != nil {
			return Page{}, invalid("cursor", o.Cursor, "not a cursor this server gave out")
		}
		after = string(b)
	}
	limit := o.Limit
	if limit <= 0 {
		limit = PageSize
	}
	var items []listItem
	seenDir := map[string]bool{}
	outside := func(key string) bool {
		k := key + "/"
		return !strings.HasPrefix(o.Prefix, k) && !strings.HasPrefix(k, o.Prefix)
	}
	onDir := func(key, path string) (descend bool) {
		if outside(key) {
			return false
		}
		// A folder is a directory of the listing when it goes past the
		// prefix; the folder the prefix ends in ("mice/") is gone into.
		if o.Directories && strings.HasPrefix(key+"/", o.Prefix) && len(key)+1 > len(o.Prefix) {
			if !seenDir[key] && s.hasValue(path) {
				seenDir[key] = true
				items = append(items, listItem{key: key, dir: true})
			}
			return false
		}
		return true
	}
	err = s.walk(l.storeData, nil, func(key, path string, d fs.DirEntry) error {
		if !strings.HasPrefix(key, o.Prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed while listing
		}
		items = append(items, listItem{key: key, entry: entryOf(key, path, fi)})
		return nil
	}, onDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Page{}, fmt.Errorf("list %s: %w", store, err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	p := Page{Blobs: []Entry{}, Directories: []string{}}
	n := 0
	for i, it := range items {
		if it.key <= after && after != "" {
			continue
		}
		if n == limit {
			p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(items[i-1].key))
			break
		}
		n++
		if it.dir {
			p.Directories = append(p.Directories, it.key)
		} else {
			p.Blobs = append(p.Blobs, it.entry)
		}
	}
	return p, nil
}

// ListAll follows a listing through all its pages.
func (s *Store) ListAll(site, store string, o ListOptions) ([]Entry, []string, error) {
	var blobs []Entry
	var dirs []string
	for {
		p, err := s.List(site, store, o)
		if err != nil {
			return nil, nil, err
		}
		blobs = append(blobs, p.Blobs...)
		dirs = append(dirs, p.Directories...)
		if p.NextCursor == "" {
			return blobs, dirs, nil
		}
		o.Cursor = p.NextCursor
	}
}

// hasValue reports whether a folder holds at least one value, so an empty
// folder (left by netlify's server, say) is not listed as a directory.
func (s *Store) hasValue(dir string) bool {
	errFound := errors.New("found")
	err := s.walk(dir, nil, func(string, string, fs.DirEntry) error { return errFound }, nil)
	return errors.Is(err, errFound)
}

// walk calls onValue for every value below dir (whose path components
// below the store folder are comps) with its key, and onDir, when set, for
// every folder that completes a key segment; onDir says whether to go into
// it. Names that are not keys (temporary files, foreign files) are
// skipped.
func (s *Store) walk(dir string, comps []string, onValue func(key, path string, d fs.DirEntry) error, onDir func(key, path string) bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if comps != nil && errors.Is(err, fs.ErrNotExist) {
			return nil // removed while walking
		}
		return err
	}
	for _, d := range ents {
		name := d.Name()
		if comps == nil && name == lockName {
			continue
		}
		path := filepath.Join(dir, name)
		sub := append(comps[:len(comps):len(comps)], name)
		if pieceKind(name) == pieceMore {
			if d.IsDir() {
				if err := s.walk(path, sub, onValue, onDir); err != nil {
					return err
				}
			}
			continue
		}
		key, ok := s.codec.keyFromPath(sub)
		if !ok {
			continue
		}
		switch {
		case d.Type().IsRegular():
			if err := onValue(key, path, d); err != nil {
				return err
			}
		case d.IsDir():
			if onDir == nil || onDir(key, path) {
				if err := s.walk(path, sub, onValue, onDir); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Stores lists the wire names of a site's stores, sorted.
func (s *Store) Stores(site string) ([]string, error) {
	if err := ValidateSiteID(site); err != nil {
		return nil, err
	}
	sn, err := s.codec.folderName("site id", site)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(s.root, "entries", sn))
	if errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	stores := []string{}
	for _, d := range ents {
		if !d.IsDir() {
			continue
		}
		name, ok := s.codec.decodeFolder(d.Name())
		if !ok {
			continue
		}
		if _, err := ParseStore(name); err == nil {
			stores = append(stores, name)
		}
	}
	sort.Strings(stores)
	return stores, nil
}
