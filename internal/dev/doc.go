// Package dev wires `bgfn dev` together: it loads the site, builds its
// functions, starts worker pools, the HTTP server (public routes and
// /.bgfn/), the background queue, the watcher and the scheduler, and stops
// them in order. It decides nothing that another package can: what a
// change must rebuild is the pure plan in plan.go; what it does to the
// running pools is apply.
//
// Nothing imports dev except cli.
package dev
