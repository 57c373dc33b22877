package main

import (
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/ciphemic/ciphemic/internal/password"
)

// verifications is how many argon2id verifications each timing of the login bound is
// the mean of.
const verifications = 10

// loginBound is goal 4's bound on logins per second: every core busy verifying passwords,
// less 10 % for everything else a login does. The time of one verification is taken two
// ways. alone is one goroutine on an otherwise idle process, as the goal reads. allCores
// is the same verification while every core verifies at once, as they do under a login
// load: argon2id is memory-hard (19 MiB a verification), and concurrent verifications
// share the memory bus and the last-level cache, so each takes longer than alone and
// "cores ÷ alone" is a rate the hardware itself cannot reach.
type loginBound struct {
	alone    time.Duration
	allCores time.Duration
	cpus     int
}

func rateOf(cpus int, verify time.Duration) float64 {
	if verify <= 0 {
		return 0
	}
	return 0.9 * float64(cpus) / verify.Seconds()
}

// rate is the goal's bound, from one verification alone.
func (b loginBound) rate() float64 { return rateOf(b.cpus, b.alone) }

// hardwareRate is the bound from a verification timed while every core verifies.
func (b loginBound) hardwareRate() float64 { return rateOf(b.cpus, b.allCores) }

// measureLoginBound times argon2id verifications with the parameters ciphemic hashes
// with, in this process: first on one goroutine, then on one goroutine per core at once.
// The caller runs it while no load runs, right before the login scenario, so that both
// see the same machine.
func measureLoginBound() (loginBound, error) {
	h := password.NewHasher(password.DefaultParams)
	encoded, err := h.Hash(benchUser.password)
	if err != nil {
		return loginBound{}, err
	}
	verifyN := func(n int) error {
		for range n {
			ok, _, err := h.Verify(encoded, benchUser.password)
			if err != nil {
				return err
			}
			if !ok {
				return errors.New("argon2id: the password does not verify against its own hash")
			}
		}
		return nil
	}
	b := loginBound{cpus: runtime.NumCPU()}
	start := time.Now()
	if err := verifyN(verifications); err != nil {
		return loginBound{}, err
	}
	b.alone = time.Since(start) / verifications

	errs := make([]error, b.cpus)
	var wg sync.WaitGroup
	start = time.Now()
	for i := range b.cpus {
		wg.Go(func() { errs[i] = verifyN(verifications) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return loginBound{}, err
	}
	// Each goroutine did verifications one after another in the elapsed time.
	b.allCores = time.Since(start) / verifications
	return b, nil
}
