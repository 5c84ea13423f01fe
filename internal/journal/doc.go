// Package journal is the write-ahead journal of background runs: a run is
// written to disk and fsynced before its 202 is sent, and so are the start
// of each attempt, the end of each attempt and the run's final status.
// When bgfn stops without ending its runs (SIGKILL, a crash, the machine
// going down), the next bgfn on the same site reads the journal back and
// knows every run it had accepted and not finished, with its request and
// attempts, so it can record it as interrupted and run it again
// (issue 16).
//
// # Format
//
// One JSON object per line (.netlify/bgfn/journal.jsonl), appended:
//
//	{"op":"journal","version":1}                      first line of every file
//	{"op":"accept","run":{"id":…,"fn":…,"req":…,"event":…}}   a run was accepted
//	{"op":"start","id":…,"n":2,"at":…}                attempt 2 begins
//	{"op":"end","id":…,"attempt":{"n":2,"status":"failed",…}}
//	{"op":"final","id":…,"status":"succeeded","at":…} succeeded, failed, timed_out, interrupted or cancelled
//	{"op":"resume","id":…,"at":…}                     an interrupted run runs again
//
// While the journal is open the lines are followed by zeros, up to
// DefaultTail bytes of them, which each batch overwrites (tail.go):
// reading stops at the first NUL byte, and a line cut by a crash before
// the zeros is a torn last line like any other. Close cuts the zeros off.
//
// A run is unfinished from its accept line until a final line. A final
// interrupted run stays resumable until a resume line reopens it. Reading
// the file back applies the lines in order (see state.apply); a last line
// without its newline is a write that bgfn did not finish (it was killed
// while writing, and the run it described was never acknowledged): it is
// ignored, with a warning, and cut off before anything is appended. Lines
// that are not journal entries are skipped with a warning.
//
// # Group commit
//
// Writers append their line to a batch in memory and, for the lines that
// must be durable before bgfn goes on (accept, start, resume), wait for
// the batch. One goroutine writes each batch with one write and one fdatasync
// while the next batch fills, so under load a single fsync acknowledges
// every request that arrived during the previous one. End and final lines
// go out with the next batch without being waited for: losing one to a
// kill only makes the run look unfinished, so it is run again
// (at-least-once, as AWS runs asynchronous invocations). With
// Options.BeforeFinal (an fsync of the invocation history before the
// journal forgets a run), final lines other than interrupted ones are held
// and go out together at most every 100 ms, so that fsync is not added to
// every batch of accepts while runs finish (issue 19); a goroutine of
// their own runs BeforeFinal for them, so no batch waits for it
// (finals.go).
//
// # Compaction
//
// Past Options.MaxSize the journal is rewritten (to a temporary file,
// fsynced, renamed over the journal) with one accept line per run that is
// unfinished or resumable, carrying its attempts and status, and nothing
// of the runs that ended. The limit then grows to twice what was kept, so
// a large backlog is not rewritten on every batch. While the runs still
// held take more than half of the file (a burst of accepts, all queued),
// there is nothing worth dropping: the limit moves on to twice what they
// take, without a rewrite. A run unchanged since its accept line (queued,
// perhaps spilled) has that line copied as it is, not decoded and encoded
// again (issue 19).
//
// One bgfn at a time owns a site's journal: Open takes an exclusive lock
// on journal.lock next to it.
package journal
