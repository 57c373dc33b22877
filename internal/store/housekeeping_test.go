package store

import (
	"testing"
	"time"
)

func TestNextBatchSize(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		size, limit  int
		took, budget time.Duration
		want         int
	}{
		{1000, 1000, 20 * ms, 5 * ms, 250}, // four times over budget: a quarter
		{1000, 1000, 5 * ms, 5 * ms, 1000}, // on budget: unchanged
		{1000, 1000, 10 * time.Second, 5 * ms, minSweepBatch},
		{100, 1000, ms, 5 * ms, 200}, // quick: doubled
		{800, 1000, ms, 5 * ms, 1000},
		{1000, 1000, time.Hour, -1, 1000}, // no budget
	}
	for _, tc := range tests {
		if got := nextBatchSize(tc.size, tc.limit, tc.took, tc.budget); got != tc.want {
			t.Errorf("nextBatchSize(%d, %d, %v, %v) = %d, want %d", tc.size, tc.limit, tc.took, tc.budget, got, tc.want)
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
