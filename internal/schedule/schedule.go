// Package schedule parses the cron expressions of Netlify scheduled functions
// and works out when they next run.
//
// Netlify takes a five-field cron expression (minute hour day-of-month month
// day-of-week), always in UTC, or one of the shortcuts @yearly, @annually,
// @monthly, @weekly, @daily, @midnight and @hourly
// (https://docs.netlify.com/functions/scheduled-functions/). Parsing is done by
// github.com/robfig/cron/v3; this package narrows it to what Netlify accepts:
// no seconds field, no @every, no time zone prefix.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is a parsed cron expression. The zero Schedule never runs.
type Schedule struct {
	expr string
	spec *cron.SpecSchedule
}

// parser reads the five standard fields and the @ shortcuts. @every is a
// shortcut to robfig/cron too, so Parse turns it away before it gets here.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// fieldNames are the five fields in order, for error messages.
var fieldNames = [...]string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// shortcuts are the @ forms Netlify documents.
const shortcuts = "@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"

// Parse parses a cron expression. The error names the expression:
// `invalid schedule "x": …`.
func Parse(expr string) (Schedule, error) {
	spec, err := parse(expr)
	if err != nil {
		return Schedule{}, fmt.Errorf("invalid schedule %q: %w", expr, err)
	}
	return Schedule{expr: expr, spec: spec}, nil
}

func parse(expr string) (*cron.SpecSchedule, error) {
	trimmed := strings.TrimSpace(expr)
	switch {
	case trimmed == "":
		return nil, errors.New("the expression is empty")
	case strings.HasPrefix(trimmed, "TZ=") || strings.HasPrefix(trimmed, "CRON_TZ="):
		// robfig/cron would read a time zone here (and panics when nothing
		// follows it); Netlify runs every schedule in UTC.
		return nil, errors.New("time zones are not supported: scheduled functions run in UTC")
	case strings.HasPrefix(trimmed, "@every"):
		return nil, fmt.Errorf("@every is not supported: use a cron expression or %s", shortcuts)
	case strings.HasPrefix(trimmed, "@"):
		switch trimmed {
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
		default:
			return nil, fmt.Errorf("unknown shortcut %s: use %s", trimmed, shortcuts)
		}
		return specOf(parser.Parse(trimmed))
	}

	fields := strings.Fields(trimmed)
	switch n := len(fields); {
	case n == 6:
		return nil, errors.New("expected 5 fields (minute hour day-of-month month day-of-week), found 6: a seconds field is not supported")
	case n != 5:
		return nil, fmt.Errorf("expected 5 fields (minute hour day-of-month month day-of-week), found %d", n)
	}
	fields[4] = sundaySeven(fields[4])
	spec, err := specOf(parser.Parse(strings.Join(fields, " ")))
	if err != nil {
		return nil, fieldError(fields, err)
	}
	// A day that never comes (February 30, April 31) is valid syntax, but
	// the function would never run.
	if spec.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, errors.New("it never runs: no month has that day")
	}
	return spec, nil
}

// specOf takes the *cron.SpecSchedule out of what the parser returned, and
// pins it to UTC: robfig/cron otherwise runs it in the zone of the time
// passed to Next.
func specOf(s cron.Schedule, err error) (*cron.SpecSchedule, error) {
	if err != nil {
		return nil, err
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("unsupported schedule type %T", s)
	}
	spec.Location = time.UTC
	return spec, nil
}

// fieldError finds which field made the parser fail, so the message can say
// "day-of-week: …" and not only robfig/cron's bare "end of range (8) above
// maximum (6): 8".
func fieldError(fields []string, err error) error {
	for i, f := range fields {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, perr := parser.Parse(strings.Join(probe, " ")); perr != nil {
			return fmt.Errorf("%s field: %w", fieldNames[i], perr)
		}
	}
	return err
}

// sundaySeven rewrites 7 in the day-of-week field to 0. Most crons, and the
// cron-parser package netlify-cli uses for next_run, take both 0 and 7 for
// Sunday; robfig/cron takes only 0. Only a plain 7 and a range ending at 7
// without a step are rewritten; anything else is left for the parser.
func sundaySeven(field string) string {
	parts := strings.Split(field, ",")
	changed := false
	for i, p := range parts {
		switch lo, hi, isRange := strings.Cut(p, "-"); {
		case p == "7":
			parts[i] = "0"
			changed = true
		case isRange && hi == "7" && lo == "7":
			parts[i] = "0"
			changed = true
		case isRange && hi == "7" && lo != "":
			parts[i] = lo + "-6,0"
			changed = true
		}
	}
	if !changed {
		return field
	}
	return strings.Join(parts, ",")
}

// Next returns the first time after after at which the schedule fires, in
// UTC, to the minute. It returns the zero time for the zero Schedule, or when
// nothing fires within five years (robfig/cron's search limit; only a
// February 29 schedule around 2100 comes near it).
func (s Schedule) Next(after time.Time) time.Time {
	if s.spec == nil {
		return time.Time{}
	}
	next := s.spec.Next(after.UTC())
	if next.IsZero() {
		return next
	}
	return next.UTC()
}

// String returns the expression as it was given to Parse.
func (s Schedule) String() string { return s.expr }
