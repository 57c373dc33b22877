package store

import (
	"testing"
	"time"
)

// TestNextBatchRows: a batch is sized so that it would have held the writer for the
// budget at the pace of the one before, shrinking at once, growing at most twofold,
// never below one row nor above the limit; without a budget every batch is the limit.
func TestNextBatchRows(t *testing.T) {
	const us = time.Microsecond
	tests := []struct {
		rows        int
		took, budge time.Duration
		limit, want int
	}{
		{10, 400 * us, 200 * us, 1000, 5},  // overran twofold: half
		{10, 190 * us, 200 * us, 1000, 10}, // about right: the same
		{10, 20 * us, 200 * us, 1000, 20},  // ten times quicker: only doubled
		{10, 0, 200 * us, 1000, 20},        // too quick to measure: doubled
		{1, time.Second, 200 * us, 1000, 1},
		{600, us, 200 * us, 1000, 1000}, // doubling stops at the limit
		{1000, us, 200 * us, 1000, 1000},
		{3, time.Second, -1, 100, 100},
		{1 << 30, us, time.Hour, 1<<31 - 1, 1<<31 - 1},
	}
	for _, tc := range tests {
		if got := nextBatchRows(tc.rows, tc.took, tc.budge, tc.limit); got != tc.want {
			t.Errorf("nextBatchRows(%d, %v, %v, %d) = %d, want %d", tc.rows, tc.took, tc.budge, tc.limit, got, tc.want)
		}
	}
	if got := firstBatchRows(1000, 200*us); got != firstStatementRows {
		t.Errorf("firstBatchRows with a budget = %d, want %d", got, firstStatementRows)
	}
	if got := firstBatchRows(1000, -1); got != 1000 {
		t.Errorf("firstBatchRows without a budget = %d, want the limit", got)
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
