package records

import (
	"math/rand/v2"
	"time"
)

// NewID returns a new invocation id: 12 hex digits of milliseconds (so ids
// sort by time) and 8 random ones. ShortID is the random part's start.
func NewID() string {
	var b [20]byte
	const hexd = "0123456789abcdef"
	ms := uint64(time.Now().UnixMilli())
	for i := 11; i >= 0; i-- {
		b[i] = hexd[ms&0xf]
		ms >>= 4
	}
	r := rand.Uint32()
	for i := 19; i >= 12; i-- {
		b[i] = hexd[r&0xf]
		r >>= 4
	}
	return string(b[:])
}

// ShortID is the 4-character id shown in log prefixes.
func ShortID(id string) string {
	if len(id) >= 16 {
		return id[12:16]
	}
	return id
}
