package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgfn-dev/bgfn/internal/records"
)

// BenchmarkAccept50 is 50 writers accepting runs at once, as the bench's
// background figure does at c50: the group commit shares each fsync.
// With finals, each writer also ends a run after each accept, and
// BeforeFinal fsyncs a file of its own, as bgfn dev's records.Store.Sync
// does while earlier runs finish during the accepts.
func BenchmarkAccept50(b *testing.B) {
	for _, finals := range []bool{false, true} {
		b.Run(fmt.Sprintf("finals=%v", finals), func(b *testing.B) {
			var opts Options
			var beforeFinal atomic.Int64
			if finals {
				other, err := os.Create(filepath.Join(b.TempDir(), "history.jsonl"))
				if err != nil {
					b.Fatal(err)
				}
				defer other.Close()
				opts.BeforeFinal = func() error {
					beforeFinal.Add(1)
					other.Write([]byte("{}\n"))
					return other.Sync()
				}
			}
			j, _, err := Open(filepath.Join(b.TempDir(), "journal.jsonl"), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			var n atomic.Int64
			var wg sync.WaitGroup
			lat := make([]time.Duration, b.N)
			b.ResetTimer()
			for range 50 {
				wg.Go(func() {
					for {
						i := n.Add(1)
						if i > int64(b.N) {
							return
						}
						id := fmt.Sprint(i)
						start := time.Now()
						if err := j.Accept(run(id, 0)); err != nil {
							b.Error(err)
							return
						}
						lat[i-1] = time.Since(start)
						if finals {
							j.Final(id, records.Succeeded, t0)
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			j.mu.Lock()
			syncs := j.syncs
			j.mu.Unlock()
			b.ReportMetric(float64(syncs+int(beforeFinal.Load()))/float64(b.N), "fsyncs/op")
			// The accept's wait, as a client waiting for its 202 sees it.
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
