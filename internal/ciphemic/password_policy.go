package ciphemic

import (
	"strings"
	"unicode"
)

// minPasswordLength is Django's MinimumLengthValidator default.
const minPasswordLength = 8

// ValidatePassword applies Django's default password validators that need no word list
// (minimum length, not entirely numeric, not the username or email), with Django's
// messages; an empty result means the password is acceptable.
func ValidatePassword(pw string, user User) []string {
	var msgs []string
	if len([]rune(pw)) < minPasswordLength {
		msgs = append(msgs, "This password is too short. It must contain at least 8 characters.")
	}
	if pw != "" && strings.IndexFunc(pw, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		msgs = append(msgs, "This password is entirely numeric.")
	}
	if strings.EqualFold(pw, user.Username) {
		msgs = append(msgs, "The password is too similar to the username.")
	}
	if user.Email != "" && strings.EqualFold(pw, user.Email) {
		msgs = append(msgs, "The password is too similar to the email address.")
	}
	return msgs
}
