package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/username"
)

// The typed readers below extend formBody (encode.go) with the DRF fields the school and
// user endpoints need. Each one records DRF's exact message in errs and reports ok=false
// when the field is absent or invalid, so callers apply only what was sent and valid.

// DRF's messages, spelled as DRF spells them.
const (
	msgRequired    = "This field is required."
	msgNull        = "This field may not be null."
	msgBlank       = "This field may not be blank."
	msgNotString   = "Not a valid string."
	msgInteger     = "A valid integer is required."
	msgBoolean     = "Must be a valid boolean."
	msgEmail       = "Enter a valid email address."
	msgEmptyList   = "This list may not be empty."
	msgBadUsername = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
)

// maxIntegerField is the upper bound Django gives an IntegerField column on every backend.
const maxIntegerField = math.MaxInt32

// charRule describes a DRF CharField.
type charRule struct {
	required   bool
	allowBlank bool
	maxLen     int  // in characters; 0 means unbounded
	keepSpace  bool // DRF trims by default; passwords keep their whitespace
}

// char reads a CharField.
func (b formBody) char(errs *fieldErrors, name string, rule charRule) (string, bool) {
	v, present := b[name]
	if !present {
		if rule.required {
			errs.add(name, msgRequired)
		}
		return "", false
	}
	var s string
	switch v := v.(type) {
	case nil:
		errs.add(name, msgNull)
		return "", false
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		errs.add(name, msgNotString)
		return "", false
	}
	if !rule.keepSpace {
		s = strings.TrimSpace(s)
	}
	if strings.ContainsRune(s, 0) {
		errs.add(name, "Null characters are not allowed.")
		return "", false
	}
	switch {
	case s == "" && !rule.allowBlank:
		errs.add(name, msgBlank)
		return "", false
	case rule.maxLen > 0 && utf8.RuneCountInString(s) > rule.maxLen:
		errs.add(name, fmt.Sprintf("Ensure this field has no more than %d characters.", rule.maxLen))
		return "", false
	}
	return s, true
}

// intRule describes a DRF IntegerField.
type intRule struct {
	required bool
	nullable bool
	min, max int
}

// integer reads an IntegerField. A null (when allowed) is reported as nil with ok=true.
func (b formBody) integer(errs *fieldErrors, name string, rule intRule) (*int, bool) {
	v, present := b[name]
	switch {
	case !present:
		if rule.required {
			errs.add(name, msgRequired)
		}
		return nil, false
	case v == nil && rule.nullable:
		return nil, true
	case v == nil:
		errs.add(name, msgNull)
		return nil, false
	}
	n, err := parseInteger(v)
	if err != nil {
		errs.add(name, msgInteger)
		return nil, false
	}
	if n < int64(rule.min) {
		errs.add(name, fmt.Sprintf("Ensure this value is greater than or equal to %d.", rule.min))
		return nil, false
	}
	if n > int64(rule.max) {
		errs.add(name, fmt.Sprintf("Ensure this value is less than or equal to %d.", rule.max))
		return nil, false
	}
	i := int(n)
	return &i, true
}

// trailingZeros is DRF's IntegerField.re_decimal: "12.0" and "12.00 " are the integer 12.
var trailingZeros = regexp.MustCompile(`\.0*\s*$`)

// parseInteger reads a JSON number or a string as DRF's IntegerField does; booleans, lists
// and objects are not integers.
func parseInteger(v any) (int64, error) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, strconv.ErrSyntax
	}
	s = strings.TrimSpace(trailingZeros.ReplaceAllString(s, ""))
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		// ParseInt saturates, so the bound checks still say which side is out of range.
		return n, nil
	}
	return n, err
}

// boolean reads a BooleanField, accepting DRF's spellings of true and false.
func (b formBody) boolean(errs *fieldErrors, name string) (bool, bool) {
	v, present := b[name]
	if !present {
		return false, false
	}
	switch v := v.(type) {
	case nil:
		errs.add(name, msgNull)
		return false, false
	case bool:
		return v, true
	case json.Number, string:
		switch fmt.Sprint(v) {
		case "t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1":
			return true, true
		case "f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0":
			return false, true
		}
	}
	errs.add(name, msgBoolean)
	return false, false
}

// pkRule describes a DRF PrimaryKeyRelatedField.
type pkRule struct {
	required bool
	nullable bool
}

// primaryKey reads a PrimaryKeyRelatedField's value. It checks the type only: whether the
// object exists (and is of the right kind) is the handler's question, answered with
// invalidPK. A null (when allowed) is 0 with ok=true.
func (b formBody) primaryKey(errs *fieldErrors, name string, rule pkRule) (int64, bool) {
	v, present := b[name]
	switch {
	case !present:
		if rule.required {
			errs.add(name, msgRequired)
		}
		return 0, false
	case v == nil && rule.nullable:
		return 0, true
	case v == nil:
		errs.add(name, msgNull)
		return 0, false
	}
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		errs.add(name, fmt.Sprintf("Incorrect type. Expected pk value, received %s.", pythonTypeName(v)))
		return 0, false
	}
	if id < 1 {
		invalidPK(errs, name, id)
		return 0, false
	}
	return id, true
}

// invalidPK records DRF's answer for a primary key that names no acceptable object.
func invalidPK(errs *fieldErrors, name string, id int64) {
	errs.add(name, fmt.Sprintf("Invalid pk \"%d\" - object does not exist.", id))
}

// pythonTypeName names a decoded JSON value as Python's type(v).__name__ would.
func pythonTypeName(v any) string {
	if _, ok := v.(map[string]any); ok {
		return "dict"
	}
	return jsonTypeName(v)
}

// oneRole reads the "roles" list of a user: DRF's ListField of ChoiceField limited to one
// element, since a user holds exactly one role.
func (b formBody) oneRole(errs *fieldErrors, name string, required bool) (ciphemic.Role, bool) {
	v, present := b[name]
	if !present {
		if required {
			errs.add(name, msgRequired)
		}
		return "", false
	}
	list, ok := v.([]any)
	switch {
	case v == nil:
		errs.add(name, msgNull)
		return "", false
	case !ok:
		errs.add(name, fmt.Sprintf("Expected a list of items but got type %q.", pythonTypeName(v)))
		return "", false
	case len(list) == 0:
		errs.add(name, msgEmptyList)
		return "", false
	case len(list) > 1:
		errs.add(name, "Ensure this field has no more than 1 elements.")
		return "", false
	}
	s, _ := list[0].(string)
	role, err := ciphemic.ParseRole(s)
	if err != nil {
		errs.add(name, `"`+pythonStr(list[0])+`" is not a valid choice.`)
		return "", false
	}
	return role, true
}

// pythonStr renders a JSON value as Python's str() would, for DRF's choice message.
func pythonStr(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// email reads Django's EmailField as a user's email is declared: optional, blank allowed,
// at most 254 characters.
func (b formBody) email(errs *fieldErrors, name string) (string, bool) {
	s, ok := b.char(errs, name, charRule{allowBlank: true, maxLen: 254})
	if ok && s != "" && !validEmail(s) {
		errs.add(name, msgEmail)
		return "", false
	}
	return s, ok
}

var (
	emailUser   = regexp.MustCompile(`^[-!#$%&'*+/=?^_` + "`" + `{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_` + "`" + `{}|~0-9A-Za-z]+)*$`)
	emailDomain = regexp.MustCompile(`^((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}|localhost)$`)
)

// validEmail follows Django's EmailValidator for ASCII addresses: a dot-atom user part and
// a domain with a top-level label (or localhost).
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 1 || len(s) > 320 {
		return false
	}
	return emailUser.MatchString(s[:at]) && emailDomain.MatchString(s[at+1:])
}

// username reads Django's username: required (when asked), at most 150 characters of
// letters, digits and @/./+/-/_ (UnicodeUsernameValidator), in NFKC. Like Django's
// UsernameField it normalises before it validates, so the rules hold for the name as
// stored, and a look-alike ("ａdmin") is the name it looks like, which the store's
// unique username then refuses as taken.
func (b formBody) username(errs *fieldErrors, name string, required bool) (string, bool) {
	s, ok := b.char(errs, name, charRule{required: required})
	if !ok {
		return "", false
	}
	if utf8.RuneCountInString(s) <= maxTypedUsername {
		// Longer is too long however it normalises; not normalising it bounds the work.
		s = username.Normalize(s)
	}
	switch {
	case utf8.RuneCountInString(s) > maxUsernameLen:
		errs.add(name, fmt.Sprintf("Ensure this field has no more than %d characters.", maxUsernameLen))
	case strings.IndexFunc(s, notUsernameRune) >= 0:
		errs.add(name, msgBadUsername)
	default:
		return s, true
	}
	return "", false
}

// maxUsernameLen is the max_length of Django's username.
const maxUsernameLen = 150

// maxTypedUsername is the most characters in which a username of maxUsernameLen can be
// typed: NFKC composes at most four code points (a letter and three marks) into one, and
// otherwise only lengthens. Beyond it no normalising is needed to know the name is too
// long, and none is done, since NFKC can also make a string ten times longer (U+FDFA is
// 18 letters) and a body is up to a megabyte.
const maxTypedUsername = 4 * maxUsernameLen

func notUsernameRune(r rune) bool {
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || strings.ContainsRune("@.+-", r))
}
