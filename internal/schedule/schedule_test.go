package schedule

import (
	"strings"
	"testing"
	"time"
)

// at parses an RFC 3339 time for the tables below.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		after string
		want  []string // successive runs
	}{
		{"yearly", "@yearly", "2025-06-15T12:00:00Z", []string{"2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		{"annually", "@annually", "2025-12-31T23:59:59Z", []string{"2026-01-01T00:00:00Z"}},
		{"monthly", "@monthly", "2025-01-31T10:00:00Z", []string{"2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z"}},
		// 2025-06-15 is a Sunday: @weekly fires on Sundays at midnight.
		{"weekly", "@weekly", "2025-06-15T00:00:00Z", []string{"2025-06-22T00:00:00Z", "2025-06-29T00:00:00Z"}},
		{"daily", "@daily", "2025-06-15T12:00:00Z", []string{"2025-06-16T00:00:00Z", "2025-06-17T00:00:00Z"}},
		{"midnight", "@midnight", "2025-12-31T23:00:00Z", []string{"2026-01-01T00:00:00Z"}},
		{"hourly", "@hourly", "2025-06-15T12:00:00Z", []string{"2025-06-15T13:00:00Z", "2025-06-15T14:00:00Z"}},
		{"every minute", "* * * * *", "2025-06-15T12:00:30Z", []string{"2025-06-15T12:01:00Z", "2025-06-15T12:02:00Z"}},
		{"every 15 minutes", "*/15 * * * *", "2025-06-15T12:07:00Z", []string{"2025-06-15T12:15:00Z", "2025-06-15T12:30:00Z", "2025-06-15T12:45:00Z", "2025-06-15T13:00:00Z"}},
		{"on the tick is after", "*/15 * * * *", "2025-06-15T12:15:00Z", []string{"2025-06-15T12:30:00Z"}},
		// 2025-06-13 is a Friday.
		{"weekdays from Friday evening", "0 9 * * 1-5", "2025-06-13T18:00:00Z", []string{"2025-06-16T09:00:00Z", "2025-06-17T09:00:00Z"}},
		{"31st skips short months", "0 0 31 * *", "2025-01-31T00:00:00Z", []string{"2025-03-31T00:00:00Z", "2025-05-31T00:00:00Z", "2025-07-31T00:00:00Z", "2025-08-31T00:00:00Z"}},
		{"February 29 waits for a leap year", "0 0 29 2 *", "2024-03-01T00:00:00Z", []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		// Both day fields restricted: either one matching is enough.
		// 2025-06-01 is a Sunday, so the Mondays are 2, 9, 16, ...
		{"day-of-month or day-of-week", "0 0 1 * 1", "2025-05-31T00:00:00Z", []string{"2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z", "2025-06-09T00:00:00Z", "2025-06-16T00:00:00Z", "2025-06-23T00:00:00Z", "2025-06-30T00:00:00Z", "2025-07-01T00:00:00Z"}},
		// One of them a star: both must match (the 13th that is a Friday).
		{"day-of-month and star", "0 0 13 * 5", "2025-01-01T00:00:00Z", []string{"2025-01-03T00:00:00Z"}},
		{"names", "0 12 * JAN,JUL SUN", "2025-01-20T00:00:00Z", []string{"2025-01-26T12:00:00Z", "2025-07-06T12:00:00Z", "2025-07-13T12:00:00Z"}},
		{"lower-case names", "0 12 * jan mon-tue", "2025-01-01T00:00:00Z", []string{"2025-01-06T12:00:00Z", "2025-01-07T12:00:00Z"}},
		{"7 is Sunday", "0 0 * * 7", "2025-06-13T00:00:00Z", []string{"2025-06-15T00:00:00Z"}},
		{"range to 7", "30 6 * * 6-7", "2025-06-13T00:00:00Z", []string{"2025-06-14T06:30:00Z", "2025-06-15T06:30:00Z", "2025-06-21T06:30:00Z"}},
		{"extra spaces", "  0   0 * * *  ", "2025-06-15T12:00:00Z", []string{"2025-06-16T00:00:00Z"}},
		{"question mark", "0 0 ? * *", "2025-06-15T12:00:00Z", []string{"2025-06-16T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.expr, err)
			}
			if s.String() != tt.expr {
				t.Errorf("String() = %q, want %q", s.String(), tt.expr)
			}
			cur := at(t, tt.after)
			for i, w := range tt.want {
				next := s.Next(cur)
				if !next.Equal(at(t, w)) {
					t.Fatalf("run %d after %s = %s, want %s", i+1, cur.Format(time.RFC3339), next.Format(time.RFC3339), w)
				}
				if next.Location() != time.UTC {
					t.Errorf("run %d is in %v, want UTC", i+1, next.Location())
				}
				cur = next
			}
		})
	}
}

// TestNextIsUTC checks that the zone of the time passed in changes neither
// the answer nor the zone of the result.
func TestNextIsUTC(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*60*60)
	tests := []struct {
		name  string
		after time.Time
	}{
		{"utc", time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)},
		{"tokyo", time.Date(2025, 6, 15, 19, 0, 0, 0, tokyo)},
		{"local", time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC).Local()},
	}
	s, err := Parse("0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 6, 16, 9, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Next(tt.after)
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("Next(%v) = %v, want %v", tt.after, got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // substring of the error, after the common prefix
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"0 0 0 * * *", "found 6: a seconds field is not supported"},
		{"*/5 * * * * *", "found 6"},
		{"* * *", "expected 5 fields"},
		{"0 0 * * * * *", "found 7"},
		{"@every 5m", "@every is not supported"},
		{"@every", "@every is not supported"},
		{"@reboot", "unknown shortcut @reboot"},
		{"@DAILY", "unknown shortcut"},
		{"TZ=Europe/Paris 0 9 * * *", "time zones are not supported"},
		{"CRON_TZ=UTC 0 9 * * *", "time zones are not supported"},
		{"TZ=UTC", "time zones are not supported"},
		{"60 * * * *", "minute field: end of range (60) above maximum (59)"},
		{"* 24 * * *", "hour field"},
		{"* * 0 * *", "day-of-month field: beginning of range (0) below minimum (1)"},
		{"* * 32 * *", "day-of-month field"},
		{"* * * 13 *", "month field"},
		{"* * * FOO *", "month field"},
		{"* * * * 8", "day-of-week field"},
		{"* * * * MON-FOO", "day-of-week field"},
		{"*/0 * * * *", "minute field: step of range should be a positive number"},
		{"1-2-3 * * * *", "minute field: too many hyphens"},
		{"5-1 * * * *", "minute field: beginning of range (5) beyond end of range (1)"},
		{"a * * * *", "minute field"},
		{"0 0 30 2 *", "never runs"},
		{"0 0 31 4,6,9,11 *", "never runs"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tt.expr, s)
			}
			prefix := `invalid schedule "` + tt.expr + `": `
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestZeroSchedule(t *testing.T) {
	var s Schedule
	if got := s.Next(time.Now()); !got.IsZero() {
		t.Errorf("zero Schedule: Next = %v, want the zero time", got)
	}
	if s.String() != "" {
		t.Errorf("zero Schedule: String = %q, want empty", s.String())
	}
}

func BenchmarkNext(b *testing.B) {
	s, err := Parse("*/15 9-17 * * MON-FRI")
	if err != nil {
		b.Fatal(err)
	}
	t := time.Date(2025, 6, 13, 18, 0, 0, 0, time.UTC)
	for b.Loop() {
		s.Next(t)
	}
}
