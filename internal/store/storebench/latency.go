package storebench

import (
	"math"
	"slices"
	"testing"
	"time"
)

// latencies are the durations of timed operations: ns/op alone is a mean, and a stall
// of a few operations shows only in the high percentiles.
type latencies []time.Duration

// quantile returns the q-quantile (0 < q ≤ 1) by the nearest-rank method.
func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// report reports the median and the 99th percentile as prefix+"p50-ns" and prefix+"p99-ns".
func (l latencies) report(b *testing.B, prefix string) {
	b.ReportMetric(float64(l.quantile(0.50).Nanoseconds()), prefix+"p50-ns")
	b.ReportMetric(float64(l.quantile(0.99).Nanoseconds()), prefix+"p99-ns")
}
