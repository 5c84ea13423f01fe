// Package background runs background functions as Netlify does: an
// accepted invocation is queued and answered 202 by the server, then runs
// detached from its request, at most MaxRunning of one function at a time,
// with Netlify's retries (after 1 and 2 minutes, scaled in development),
// and ends as succeeded, failed, timed out or interrupted, always recorded.
//
// It owns the queue, the attempts, the retry timers and what happens to
// unfinished runs at shutdown. It gets its invokers from a lookup function
// and must not import server or dev.
package background
