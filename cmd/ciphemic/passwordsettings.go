package main

import (
	"flag"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// passwordSettings are the options of Django's password validators, shared by every
// command that sets a password (serve, createuser, changepassword).
type passwordSettings struct {
	minLength int
}

func (s *passwordSettings) register(fs *flag.FlagSet) {
	fs.IntVar(&s.minLength, "password-min-length", ciphemic.DefaultPasswordMinLength, "shortest password accepted wherever one is set (Django's MinimumLengthValidator); the common-password, numeric and similarity checks always apply")
}

func (s *passwordSettings) validate() error {
	if s.minLength < 1 {
		return invalid("password-min-length", "must be at least 1")
	}
	return nil
}

// policy is the validators the settings describe.
func (s *passwordSettings) policy() ciphemic.PasswordPolicy {
	return ciphemic.PasswordPolicy{MinLength: s.minLength}
}
