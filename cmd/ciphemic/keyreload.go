package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ciphemic/ciphemic/internal/token"
)

// retirementGrace is added to the longest token lifetime when deciding that a previous
// key can go: it covers an instance that picks up a rotation a poll interval late (and
// signs with the old key meanwhile) and a small skew between the clock of the host that
// ran `keys rotate` and the servers'.
const retirementGrace = time.Minute

// keyRetention is how long a retired key keeps verifying: no token it signed outlives it.
func keyRetention(ts tokenSettings) time.Duration {
	return ts.refreshLifetime + ts.leeway + retirementGrace
}

// keyRetirement is how long the keys of the ring stay trusted on a server that polls the
// key file every reloadInterval: an instance signs with a retired key for at most that
// long, so a token of the key issued later (plus leeway) was forged with it.
func keyRetirement(ts tokenSettings, reloadInterval time.Duration) token.Retirement {
	return token.Retirement{Retention: keyRetention(ts), Lag: reloadInterval}
}

// keyReloader keeps the token service's keys in step with the key file and its ring, so
// that `keys rotate` (or a key file replaced by a deployment) takes effect on every
// instance without a restart. A file that fails to load leaves the keys in force: a bad
// rotation is logged, never an outage.
type keyReloader struct {
	file       string
	alg        string
	retirement token.Retirement
	tokens     *token.Service
	log        *slog.Logger
	now        func() time.Time
	// seen is what stat found of the key file and the ring at the last load.
	seen [2]os.FileInfo
}

func newKeyReloader(file, alg string, retirement token.Retirement, tokens *token.Service, log *slog.Logger) *keyReloader {
	r := &keyReloader{file: file, alg: alg, retirement: retirement, tokens: tokens, log: log, now: time.Now}
	r.seen = r.stat()
	return r
}

// startKeyReload reloads the keys on SIGHUP and, every interval (0: never), when the key
// file or its ring changed, until ctx is done. Every interval it also drops the retired
// keys whose retention has passed, though no file changed.
func startKeyReload(ctx context.Context, r *keyReloader, interval time.Duration) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		r.run(ctx, interval, hup)
	}()
}

func (r *keyReloader) run(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.seen = r.stat()
			r.reload("SIGHUP")
		case <-tick:
			r.poll()
			r.prune()
		}
	}
}

// poll reloads when the files changed since the last load. The files are stat'ed before
// they are read, so a change made during a load is seen by the next poll.
func (r *keyReloader) poll() bool {
	now := r.stat()
	if !changed(r.seen[0], now[0]) && !changed(r.seen[1], now[1]) {
		return false
	}
	r.seen = now
	return r.reload("key file changed")
}

// reload loads the keys and puts them in force, or logs why not. Errors of the token
// package name files and reasons, never key material.
func (r *keyReloader) reload(trigger string) bool {
	keys, err := token.LoadKeySet(r.file, r.alg, r.now(), r.retirement)
	if err != nil {
		r.log.Error("signing keys not reloaded; the keys in force stay", "trigger", trigger, "error", err.Error())
		return false
	}
	r.tokens.SetKeys(keys)
	r.log.Info("signing keys reloaded", "trigger", trigger, "kid", keys.Current().ID, "algorithm", keys.Current().Algorithm)
	return true
}

// prune drops the retired keys whose retention has passed from the keys in force, and
// reports whether there were any. Verification refuses such keys from that moment
// anyway; pruning also takes them out of the JWKS, which must not list a key that fails.
func (r *keyReloader) prune() bool {
	keys, dropped := r.tokens.Keys().Prune(r.now())
	if len(dropped) == 0 {
		return false
	}
	r.tokens.SetKeys(keys)
	r.log.Info("retired signing keys dropped: their retention has passed", "kids", strings.Join(dropped, ","), "retention", r.retirement.Retention.String())
	return true
}

func (r *keyReloader) stat() [2]os.FileInfo {
	var infos [2]os.FileInfo
	for i, path := range []string{r.file, token.KeyRingPath(r.file)} {
		if fi, err := os.Stat(path); err == nil {
			infos[i] = fi
		}
	}
	return infos
}

// changed reports whether a file differs between two stats: appeared, vanished, replaced
// (a rename makes another file, even with the same size and time) or modified.
func changed(before, after os.FileInfo) bool {
	if before == nil || after == nil {
		return before != after
	}
	return !os.SameFile(before, after) || !before.ModTime().Equal(after.ModTime()) || before.Size() != after.Size()
}

// warnAlgorithm logs when the key file holds a key of another algorithm than --algorithm,
// as after a rotation that changed it: the file is what counts.
func warnAlgorithm(log *slog.Logger, keys *token.KeySet, alg string) {
	if got := keys.Current().Algorithm; got != alg {
		log.Warn("the signing key file holds a key of another algorithm; it signs with its own", "key_algorithm", got, "algorithm_setting", alg)
	}
}
