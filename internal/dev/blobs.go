package dev

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/bgfn-dev/bgfn/internal/blobs"
)

// localBlobs is the site's Netlify Blobs: the store on disk, shared by the
// protocol server the functions' @netlify/blobs client talks to and the
// JSON API under /.bgfn/api/blobs.
type localBlobs struct {
	store  *blobs.Store
	server *blobs.Server
	site   string
}

// startBlobs opens the site's store and starts its protocol server on a
// loopback port of its own, before any function runs. A store that cannot
// be opened leaves Blobs off, with a warning: functions that call
// getStore() then get the client's own error.
func (i *Instance) startBlobs() {
	base := i.site.Config.BaseDir
	dir := blobs.Dir(base)
	st, err := blobs.Open(dir)
	if err != nil {
		i.p.Warning("Netlify Blobs off: " + err.Error() + "; make " + i.site.Rel(dir) + " writable and restart")
		return
	}
	b := &localBlobs{store: st, site: blobs.SiteID(base)}
	shown := filepath.ToSlash(i.site.Rel(dir))
	b.server = blobs.NewServer(st, blobs.ServerOptions{
		OnFirstRequest: func() {
			i.p.Notice("Netlify Blobs: stored locally in "+shown+"/ under site id "+b.site, "bgfn blobs list shows them")
		},
		Logf: func(format string, args ...any) { i.p.Warning("Netlify Blobs: " + fmt.Sprintf(format, args...)) },
	})
	// Closed by stopBlobs once the functions have stopped, not when life
	// ends: functions still finishing at shutdown keep their store.
	if err := b.server.Start(context.Background()); err != nil {
		st.Close()
		i.p.Warning("Netlify Blobs off: " + err.Error())
		return
	}
	i.blobs = b
}

// blobsEvent is the blobs field of every event; empty with Blobs off.
func (i *Instance) blobsEvent() string {
	if i.blobs == nil {
		return ""
	}
	return i.blobs.server.EventBlobs()
}

// siteID is what functions see as x-nf-site-id and file their blobs under:
// the linked site's id, else "unlinked", as netlify dev does.
func (i *Instance) siteID() string {
	if i.blobs != nil {
		return i.blobs.site
	}
	return blobs.SiteID(i.site.Config.BaseDir)
}

// blobsAPI serves /.bgfn/api/blobs for bgfn's own tools; nil with Blobs
// off.
func (i *Instance) blobsAPI() http.Handler {
	if i.blobs == nil {
		return nil
	}
	return blobs.NewAPI(i.blobs.store, i.blobs.site)
}

// stopBlobs ends the protocol server and closes the store, once no
// function runs.
func (i *Instance) stopBlobs() {
	if i.blobs == nil {
		return
	}
	i.blobs.server.Close()
	i.blobs.store.Close()
}
