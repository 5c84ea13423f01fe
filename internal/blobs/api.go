package blobs

import (
	"errors"
	"net/http"
	"strconv"
)

// APIPath is where bgfn dev mounts the JSON API: mux.Handle(APIPath+"/",
// NewAPI(...)). The handler matches full paths, so it needs no
// StripPrefix.
const APIPath = "/.bgfn/api/blobs"

// NewAPI is the JSON API over one site's store, for bgfn's pages and for
// `bgfn blobs` while bgfn dev runs. Stores are named by their wire names
// (site:NAME, deploy:0:NAME, deploy:0), path-escaped:
//
//	GET    /.bgfn/api/blobs/stores                 {"siteId", "stores":[{id,kind,name,deployId?}]}
//	GET    /.bgfn/api/blobs/stores/{store}         ?prefix&directories&cursor&limit
//	                                               {"blobs":[{key,size,lastModified,etag}],
//	                                                "directories":[...], "nextCursor"?}
//	DELETE /.bgfn/api/blobs/stores/{store}         {"deleted": n}
//	GET    /.bgfn/api/blobs/stores/{store}/{key...}  the value, with ETag, Last-Modified and
//	                                               x-amz-meta-user (b64;base64 JSON) headers;
//	                                               ?meta=1: {key,size,lastModified,etag,metadata}
//	PUT    /.bgfn/api/blobs/stores/{store}/{key...}  store the body (metadata and conditions
//	                                               as in the protocol); the entry as JSON
//	DELETE /.bgfn/api/blobs/stores/{store}/{key...}  204, or 404 when there was no value
//
// Errors are {"error": message} with 400, 404, 409, 411, 412 or 500. It
// has no token: mount it behind the Host/Origin guard of /.bgfn/.
func NewAPI(st *Store, siteID string) http.Handler {
	a := &api{st: st, site: siteID}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APIPath+"/stores", a.stores)
	mux.HandleFunc("GET "+APIPath+"/stores/{store}", a.list)
	mux.HandleFunc("DELETE "+APIPath+"/stores/{store}", a.deleteStore)
	mux.HandleFunc("GET "+APIPath+"/stores/{store}/{key...}", a.get)
	mux.HandleFunc("PUT "+APIPath+"/stores/{store}/{key...}", a.put)
	mux.HandleFunc("DELETE "+APIPath+"/stores/{store}/{key...}", a.delete)
	// Only GET, so that a wrong method on a known path gets the mux's 405.
	mux.HandleFunc("GET "+APIPath+"/", func(w http.ResponseWriter, r *http.Request) {
		apiFail(w, &httpError{http.StatusNotFound, "no such blobs API endpoint: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

type api struct {
	st   *Store
	site string
}

func apiFail(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), map[string]string{"error": err.Error()})
}

func (a *api) stores(w http.ResponseWriter, r *http.Request) {
	ids, err := a.st.Stores(a.site)
	if err != nil {
		apiFail(w, err)
		return
	}
	infos := make([]StoreInfo, 0, len(ids))
	for _, id := range ids {
		if info, err := ParseStore(id); err == nil {
			infos = append(infos, info)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"siteId": a.site, "stores": infos})
}

// APIPage is a page of keys as the JSON API returns it.
type APIPage struct {
	Blobs       []Entry  `json:"blobs"`
	Directories []string `json:"directories"`
	NextCursor  string   `json:"nextCursor,omitempty"`
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := ListOptions{Prefix: q.Get("prefix"), Directories: q.Get("directories") == "true", Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > PageSize {
			apiFail(w, invalid("limit", l, "limit is a number from 1 to %d", PageSize))
			return
		}
		o.Limit = n
	}
	p, err := a.st.List(a.site, r.PathValue("store"), o)
	if err != nil {
		apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, APIPage{Blobs: p.Blobs, Directories: p.Directories, NextCursor: p.NextCursor})
}

func (a *api) deleteStore(w http.ResponseWriter, r *http.Request) {
	n, err := a.st.DeleteStore(a.site, r.PathValue("store"))
	if err != nil {
		apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
}

// APIEntry is one value's description with its metadata.
type APIEntry struct {
	Entry
	Metadata any `json:"metadata"`
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	b, err := a.st.Get(a.site, r.PathValue("store"), r.PathValue("key"))
	if err != nil {
		apiFail(w, err)
		return
	}
	defer b.Close()
	if r.URL.Query().Has("meta") {
		var meta any = map[string]any{}
		if b.Metadata != nil {
			meta = b.Metadata
		}
		writeJSON(w, http.StatusOK, APIEntry{Entry: b.Entry, Metadata: meta})
		return
	}
	h := w.Header()
	h.Set("ETag", b.ETag)
	if b.Metadata != nil {
		h.Set(metadataHeader, EncodeMetadata(b.Metadata))
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", b.LastModified, b.File)
}

func (a *api) put(w http.ResponseWriter, r *http.Request) {
	meta, cond, err := putInput(r)
	if err != nil {
		apiFail(w, err)
		return
	}
	body := &bodyReader{r: r.Body}
	e, err := a.st.Put(a.site, r.PathValue("store"), r.PathValue("key"), body, meta, cond)
	if err != nil {
		if body.err != nil {
			err = &httpError{http.StatusBadRequest, "read request body: " + body.err.Error()}
		}
		apiFail(w, err)
		return
	}
	w.Header().Set("ETag", e.ETag)
	writeJSON(w, http.StatusOK, e)
}

func (a *api) delete(w http.ResponseWriter, r *http.Request) {
	ok, err := a.st.Delete(a.site, r.PathValue("store"), r.PathValue("key"))
	if err == nil && !ok {
		err = ErrNotFound
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			err = &httpError{http.StatusNotFound, "no value for key " + strconv.Quote(r.PathValue("key"))}
		}
		apiFail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
