package httpapi

import "time"

// The per-request times, the text access line's and GET /api/me/'s two, are written here
// rather than by time.Time.AppendFormat, which reads its layout anew on every call (it
// has a fast path for time.RFC3339Nano alone, the JSON access line's): that was 3.5 % of
// the server's CPU for a cached GET /api/me/ under load, and these take under a third of
// its time (BenchmarkTimeFormats). Each writes byte for byte what AppendFormat writes for
// its layout (timefmt_test.go holds them together), and hands the rare time it does not
// handle to AppendFormat itself.

// The layouts these functions stand for.
const (
	// drfTimeLayout is how DRF's DateTimeField writes an instant: ISO 8601, UTC, up to
	// microseconds.
	drfTimeLayout = "2006-01-02T15:04:05.999999Z07:00"
	// slogTextTimeLayout is the time of a line of slog's text handler: milliseconds,
	// truncated, in the time's own location.
	slogTextTimeLayout = "2006-01-02T15:04:05.000Z07:00"
)

// appendDRFTimeValue appends t in UTC as drfTimeLayout writes it.
func appendDRFTimeValue(b []byte, t time.Time) []byte {
	return appendRFC3339(b, t.UTC(), drfTimeLayout, 6, true)
}

// appendSlogTime appends t as slog's text handler writes a record's time.
func appendSlogTime(b []byte, t time.Time) []byte {
	return appendRFC3339(b, t, slogTextTimeLayout, 3, false)
}

// appendRFC3339 appends t as "2006-01-02T15:04:05", a fraction of digits places, and
// "Z07:00": the fraction's trailing zeros and then its dot dropped when trim (layout
// ".999…"), kept when not (".000…"), the digits truncated, never rounded. layout is that
// layout, for what is left to AppendFormat: years outside 0–9999, which it writes in its
// own way, and offsets of a fraction of a minute, which "Z07:00" cuts short.
func appendRFC3339(b []byte, t time.Time, layout string, digits int, trim bool) []byte {
	_, offset := t.Zone()
	secs := t.Unix() + int64(offset)
	// 0000-01-01 and 10000-01-01 in seconds since 1970 in the time's own clock.
	if secs < -62167219200 || secs >= 253402300800 || offset%60 != 0 {
		return t.AppendFormat(b, layout)
	}
	days, daySecs := floorDivMod(secs, 86400)
	year, month, day := civilFromDays(days)
	ds := int(daySecs)
	b = append2Digits(b, year/100)
	b = append2Digits(b, year%100)
	b = append(b, '-')
	b = append2Digits(b, month)
	b = append(b, '-')
	b = append2Digits(b, day)
	b = append(b, 'T')
	b = append2Digits(b, ds/3600)
	b = append(b, ':')
	b = append2Digits(b, ds/60%60)
	b = append(b, ':')
	b = append2Digits(b, ds%60)
	b = appendFraction(b, t.Nanosecond(), digits, trim)
	if offset == 0 {
		return append(b, 'Z')
	}
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	b = append(b, sign)
	b = append2Digits(b, offset/3600)
	b = append(b, ':')
	return append2Digits(b, offset/60%60)
}

// twoDigits holds "00" to "99", each at twice its value.
const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// append2Digits appends v, in [0, 99], as two decimal digits.
func append2Digits(b []byte, v int) []byte {
	return append(b, twoDigits[2*v], twoDigits[2*v+1])
}

// appendFraction appends ".ddd" of ns truncated to digits places, as AppendFormat's
// ".000" (trim false) and ".999" (trim true) do.
func appendFraction(b []byte, ns, digits int, trim bool) []byte {
	for range 9 - digits {
		ns /= 10
	}
	if trim {
		for ns != 0 && ns%10 == 0 {
			ns /= 10
			digits--
		}
		if ns == 0 {
			return b
		}
	}
	b = append(b, '.')
	return appendDigits(b, ns, digits)
}

// appendDigits appends v, in [0, 10^width), in exactly width decimal digits.
func appendDigits(b []byte, v, width int) []byte {
	n := len(b) + width
	b = append(b, "000000000"[:width]...)
	for i := n - 1; v > 0; i-- {
		b[i] += byte(v % 10)
		v /= 10
	}
	return b
}

// floorDivMod is a ÷ n rounded down and the remainder, which is never negative.
func floorDivMod(a, n int64) (q, r int64) {
	q, r = a/n, a%n
	if r < 0 {
		q, r = q-1, r+n
	}
	return q, r
}

// civilFromDays is the proleptic Gregorian date of the day days after 1970-01-01, by
// Howard Hinnant's days_from_civil inverse (eras of 400 years of 146,097 days each).
func civilFromDays(days int64) (year, month, day int) {
	z := days + 719468
	era, _ := floorDivMod(z, 146097)
	doe := z - era*146097                                  // day of the era, [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of the era, [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the year from March 1st
	mp := (5*doy + 2) / 153                                // month from March, [0, 11]
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day
}
