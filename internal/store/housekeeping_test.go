package store

import (
	"testing"
	"time"
)

// TestStatementRows: a statement is sized to what is left of its batch's budget at the
// time a row took, never below one row, and a few rows while nothing is measured.
func TestStatementRows(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		left, perRow time.Duration
		want         int
	}{
		{5 * ms, 0, firstStatementRows},
		{5 * ms, ms, 5},
		{5 * ms, 2 * ms, 2},
		{ms, 2 * ms, 1}, // a row costs more than is left: still one, to progress
		{-ms, ms, 1},
		{time.Hour, time.Nanosecond, 1<<31 - 1},
	}
	for _, tc := range tests {
		if got := statementRows(tc.left, tc.perRow); got != tc.want {
			t.Errorf("statementRows(%v, %v) = %d, want %d", tc.left, tc.perRow, got, tc.want)
		}
	}
}

// TestPauseAfter: the pause after a batch is never shorter than the batch, so that
// housekeeping holds the writer half of the time at most.
func TestPauseAfter(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		took, least, want time.Duration
	}{
		{ms, 10 * ms, 10 * ms},
		{30 * ms, 10 * ms, 30 * ms},
		{30 * ms, -1, 0},
	}
	for _, tc := range tests {
		if got := pauseAfter(tc.took, tc.least); got != tc.want {
			t.Errorf("pauseAfter(%v, %v) = %v, want %v", tc.took, tc.least, got, tc.want)
		}
	}
}
