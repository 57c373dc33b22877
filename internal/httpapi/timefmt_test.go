package httpapi

import (
	"testing"
	"time"
)

// timeFormatters are the fast formatters and the layouts whose AppendFormat they must
// match byte for byte.
var timeFormatters = []struct {
	name   string
	append func([]byte, time.Time) []byte
	want   func(time.Time) string
}{
	{"drf", appendDRFTimeValue, func(t time.Time) string { return t.UTC().Format(drfTimeLayout) }},
	{"slog text", appendSlogTime, func(t time.Time) string { return t.Format(slogTextTimeLayout) }},
}

var timeZones = []*time.Location{
	time.UTC, time.Local,
	time.FixedZone("east", 5*3600+30*60), time.FixedZone("west", -(9*3600 + 45*60)),
	time.FixedZone("seconds", 3600+17), // a fraction of a minute: AppendFormat's own way
	time.FixedZone("max", 23*3600+59*60), time.FixedZone("min", -(23*3600 + 59*60)),
}

func checkTimeFormats(t *testing.T, at time.Time) {
	t.Helper()
	for _, f := range timeFormatters {
		if got, want := string(f.append([]byte("x"), at)), "x"+f.want(at); got != want {
			t.Errorf("%s of %v (unix %d, ns %d): got %q, want %q", f.name, at, at.Unix(), at.Nanosecond(), got, want)
		}
	}
}

func TestTimeFormatsMatchAppendFormat(t *testing.T) {
	zones := timeZones
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones[:len(zones):len(zones)], ny)
	}
	instants := []time.Time{
		{}, // year 1: the zero time
		time.Unix(0, 0),
		time.Unix(-1, 999_999_999),
		time.Unix(951782400, 0),  // 2000-02-29, a leap day of a year divisible by 400
		time.Unix(4107456000, 0), // 2100-02-28, the last day of February in a century
		time.Date(2026, 12, 3, 13, 4, 5, 678_901_234, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 3, 8, 7, 0, 0, 100_000_000, time.UTC),
		time.Date(2026, 3, 8, 7, 0, 0, 1_000, time.UTC),
		time.Date(2026, 3, 8, 7, 0, 0, 1, time.UTC),
		time.Date(2026, 3, 8, 7, 0, 0, 999_999, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	for _, at := range instants {
		for _, loc := range zones {
			checkTimeFormats(t, at.In(loc))
		}
	}
	// Every day of four hundred years, the Gregorian calendar's whole cycle, at a time of
	// day that moves with it.
	start := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := range 146097 {
		at := start.AddDate(0, 0, d).Add(time.Duration(d%86400) * time.Second).Add(time.Duration(d) * 7919)
		checkTimeFormats(t, at)
	}
}

func FuzzTimeFormats(f *testing.F) {
	f.Add(int64(1764768000), int64(123456789), 0)
	f.Add(int64(-62135596800), int64(0), 3600)
	f.Add(int64(253402300799), int64(999999999), -3600)
	f.Fuzz(func(t *testing.T, secs, nanos int64, offset int) {
		at := time.Unix(secs, nanos)
		if offset != 0 {
			at = at.In(time.FixedZone("fuzz", offset%(100*3600)))
		}
		checkTimeFormats(t, at)
	})
}

// BenchmarkTimeFormats: each fast formatter against AppendFormat with its layout, for
// the same time.
func BenchmarkTimeFormats(b *testing.B) {
	at := time.Now()
	buf := make([]byte, 0, 64)
	for _, f := range []struct {
		name   string
		append func([]byte, time.Time) []byte
	}{
		{"drf", appendDRFTimeValue},
		{"drf-AppendFormat", func(b []byte, t time.Time) []byte { return t.UTC().AppendFormat(b, drfTimeLayout) }},
		{"slog-text", appendSlogTime},
		{"slog-text-AppendFormat", func(b []byte, t time.Time) []byte { return t.AppendFormat(b, slogTextTimeLayout) }},
	} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				buf = f.append(buf[:0], at)
			}
		})
	}
}
