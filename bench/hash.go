package main

import (
	"errors"
	"runtime"
	"time"

	"github.com/ciphemic/ciphemic/internal/password"
)

// verifications is how many argon2id verifications the login bound is timed over.
const verifications = 10

// loginBound is goal 4's bound on logins per second: every core busy verifying passwords,
// less 10 % for everything else a login does.
type loginBound struct {
	verify time.Duration // one argon2id verification, the mean of verifications
	cpus   int
}

func (b loginBound) rate() float64 {
	if b.verify <= 0 {
		return 0
	}
	return 0.9 * float64(b.cpus) / b.verify.Seconds()
}

// measureLoginBound times argon2id verifications with the parameters ciphemic hashes
// with, in this process, on one goroutine; the caller runs it while no load runs, right
// before the login scenario, so that both see the same machine.
func measureLoginBound() (loginBound, error) {
	h := password.NewHasher(password.DefaultParams)
	encoded, err := h.Hash(benchUser.password)
	if err != nil {
		return loginBound{}, err
	}
	start := time.Now()
	for range verifications {
		ok, _, err := h.Verify(encoded, benchUser.password)
		if err != nil {
			return loginBound{}, err
		}
		if !ok {
			return loginBound{}, errors.New("argon2id: the password does not verify against its own hash")
		}
	}
	return loginBound{verify: time.Since(start) / verifications, cpus: runtime.NumCPU()}, nil
}
