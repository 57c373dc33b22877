package ciphemic

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultPasswordMinLength is Django's MinimumLengthValidator default.
const DefaultPasswordMinLength = 8

// maxSimilarity is UserAttributeSimilarityValidator's default max_similarity.
const maxSimilarity = 0.7

// PasswordPolicy is Django's default AUTH_PASSWORD_VALIDATORS: user attribute similarity,
// minimum length, common passwords and entirely numeric, applied in that order (the
// article's settings.py) so that several failures list their messages as Django does.
type PasswordPolicy struct {
	// MinLength is MinimumLengthValidator's min_length; zero means
	// DefaultPasswordMinLength.
	MinLength int
}

// ValidatePassword applies the default PasswordPolicy.
func ValidatePassword(pw string, user User) []string {
	return PasswordPolicy{}.Validate(pw, user)
}

// Validate returns Django's messages for every validator pw fails, as the user would be
// after the change (its username, email and names are compared with pw); an empty result
// means the password is acceptable.
func (p PasswordPolicy) Validate(pw string, user User) []string {
	var msgs []string
	if msg := similarityMessage(pw, user); msg != "" {
		msgs = append(msgs, msg)
	}
	if n := p.minLength(); utf8.RuneCountInString(pw) < n {
		msgs = append(msgs, tooShortMessage(n))
	}
	if IsCommonPassword(pw) {
		msgs = append(msgs, "This password is too common.")
	}
	if isPythonDigits(pw) {
		msgs = append(msgs, "This password is entirely numeric.")
	}
	return msgs
}

func (p PasswordPolicy) minLength() int {
	if p.MinLength == 0 {
		return DefaultPasswordMinLength
	}
	return p.MinLength
}

// tooShortMessage is MinimumLengthValidator's message, singular for a minimum of one as
// Django's ngettext chooses.
func tooShortMessage(n int) string {
	if n == 1 {
		return "This password is too short. It must contain at least 1 character."
	}
	return fmt.Sprintf("This password is too short. It must contain at least %d characters.", n)
}

// userAttribute is one attribute UserAttributeSimilarityValidator compares, with its
// model field's verbose_name.
type userAttribute struct {
	verboseName, value string
}

// nonWord is Python's re \W+ on a str: a run of anything but letters, digits and "_".
var nonWord = regexp.MustCompile(`[^\p{L}\p{N}_]+`)

// similarityMessage is UserAttributeSimilarityValidator: pw (lowered) is too similar to
// an attribute when the quick ratio against the attribute or one of its parts split at
// non-word characters reaches maxSimilarity. The first such attribute names the message.
func similarityMessage(pw string, user User) string {
	pw = pythonLower(pw)
	attrs := []userAttribute{
		{"username", user.Username}, {"first name", user.FirstName},
		{"last name", user.LastName}, {"email address", user.Email},
	}
	for _, a := range attrs {
		if a.value == "" {
			continue
		}
		value := pythonLower(a.value)
		parts := append(nonWord.Split(value, -1), value)
		for _, part := range parts {
			if exceedsMaximumLengthRatio(pw, part) {
				continue
			}
			if quickRatio(pw, part) >= maxSimilarity {
				return "The password is too similar to the " + a.verboseName + "."
			}
		}
	}
	return ""
}

// exceedsMaximumLengthRatio is Django's shortcut: a value ten times shorter than the
// password cannot reach the ratio, so it is not compared.
func exceedsMaximumLengthRatio(pw, value string) bool {
	pwLen, valueLen := utf8.RuneCountInString(pw), utf8.RuneCountInString(value)
	lengthBoundSimilarity := maxSimilarity / 2 * float64(pwLen)
	return pwLen >= 10*valueLen && float64(valueLen) < lengthBoundSimilarity
}

// quickRatio is Python's difflib.SequenceMatcher(a=a, b=b).quick_ratio(): twice the size
// of the multiset intersection of the two strings' code points over their total length,
// 1.0 for two empty strings.
func quickRatio(a, b string) float64 {
	counts := map[rune]int{}
	lb := 0
	for _, r := range b {
		counts[r]++
		lb++
	}
	matches, la := 0, 0
	for _, r := range a {
		la++
		if counts[r] > 0 {
			matches++
		}
		counts[r]--
	}
	if la+lb == 0 {
		return 1.0
	}
	return 2.0 * float64(matches) / float64(la+lb)
}

// pythonLower is Python's str.lower() for what it is used on here: Go's simple case
// mapping plus the one unconditional special lowercase mapping, U+0130 to "i̇".
func pythonLower(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "\u0130", "i\u0307"))
}

// pythonStrip is Python's str.strip(): Python's whitespace also holds the separators
// U+001C to U+001F, which Go's unicode.IsSpace does not.
func pythonStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}

// pythonDigits are the characters Python's str.isdigit() accepts beyond the decimal
// digits (Unicode's Numeric_Type=Digit: superscripts, subscripts, circled digits, …),
// taken from Python 3.11's unicodedata.
var pythonDigits = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x00b2, 0x00b3, 1}, {0x00b9, 0x00b9, 1}, {0x1369, 0x1371, 1}, {0x19da, 0x19da, 1},
		{0x2070, 0x2070, 1}, {0x2074, 0x2079, 1}, {0x2080, 0x2089, 1}, {0x2460, 0x2468, 1},
		{0x2474, 0x247c, 1}, {0x2488, 0x2490, 1}, {0x24ea, 0x24ea, 1}, {0x24f5, 0x24fd, 1},
		{0x24ff, 0x24ff, 1}, {0x2776, 0x277e, 1}, {0x2780, 0x2788, 1}, {0x278a, 0x2792, 1},
	},
	R32: []unicode.Range32{
		{0x10a40, 0x10a43, 1}, {0x10e60, 0x10e68, 1}, {0x11052, 0x1105a, 1}, {0x1f100, 0x1f10a, 1},
	},
}

// isPythonDigits is Python's str.isdigit(), NumericPasswordValidator's test: not empty,
// and every character a digit.
func isPythonDigits(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !unicode.IsDigit(r) && !unicode.Is(pythonDigits, r)
	}) < 0
}
