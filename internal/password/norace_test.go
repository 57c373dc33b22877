//go:build !race

package password

// raceEnabled is true under the race detector, which slows pure-Go bcrypt about 25 times.
const raceEnabled = false
