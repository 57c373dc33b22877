package httpapi

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string the way slog's JSON handler writes
// one (HTML characters as they are; \n, \r, \t short, other control characters as
// \u00XX; invalid UTF-8 as \ufffd; U+2028 and U+2029 escaped, for JavaScript).
// encoding/json, since Go 1.22, also writes \b and \f short: appendJSONStringStd.
func appendJSONString(b []byte, s string) []byte { return appendQuotedJSON(b, s, false) }

// appendJSONStringStd appends s as encoding/json does with SetEscapeHTML(false), which is
// how response bodies are written (marshal).
func appendJSONStringStd(b []byte, s string) []byte { return appendQuotedJSON(b, s, true) }

func appendQuotedJSON(b []byte, s string, shortBF bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plainJSONWord(wordAt(s, i)) {
			i += 8
			continue
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			b = appendEscapedByte(b, c, shortBF)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case utf8.RuneError:
				b = append(b, `\ufffd`...)
			default:
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscapedByte(b []byte, c byte, shortBF bool) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(b, '\\', c)
	case c == '\n':
		return append(b, '\\', 'n')
	case c == '\r':
		return append(b, '\\', 'r')
	case c == '\t':
		return append(b, '\\', 't')
	case shortBF && c == '\b':
		return append(b, '\\', 'b')
	case shortBF && c == '\f':
		return append(b, '\\', 'f')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
