// Package watch reports changed files in batches. It watches folder trees
// recursively (new sub-folders too) and single files by watching their
// parent folders and matching names, so editors that save by writing a
// temporary file and renaming it over the original are seen. Bursts are
// coalesced: a batch is delivered once no event has arrived for the quiet
// period (or the maximum wait has passed), so a `git checkout` that touches
// two hundred files causes one rebuild. A polling mode serves file systems
// without inotify.
package watch
