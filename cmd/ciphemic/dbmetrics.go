package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ciphemic/ciphemic/internal/store"
)

// dbStatsCollector exports the store's pool statistics (store.DB.Stats) under the names of
// client_golang's collectors.NewDBStatsCollector, so that its dashboards work, with the
// pool ("read", "write" or "shared") as db_name. It reads them at each scrape.
type dbStatsCollector struct {
	stats func() []store.PoolStats
	descs dbStatsDescs
}

type dbStatsDescs struct {
	maxOpen, open, inUse, idle, waitCount, waitDuration, maxIdleClosed, maxIdleTimeClosed, maxLifetimeClosed *prometheus.Desc
}

func newDBStatsCollector(stats func() []store.PoolStats) *dbStatsCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("go_sql_"+name, help, []string{"db_name"}, nil)
	}
	return &dbStatsCollector{stats: stats, descs: dbStatsDescs{
		maxOpen:           desc("max_open_connections", "Maximum number of open connections to the database."),
		open:              desc("open_connections", "The number of established connections both in use and idle."),
		inUse:             desc("in_use_connections", "The number of connections currently in use."),
		idle:              desc("idle_connections", "The number of idle connections."),
		waitCount:         desc("wait_count_total", "The total number of connections waited for."),
		waitDuration:      desc("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
		maxIdleClosed:     desc("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns."),
		maxIdleTimeClosed: desc("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime."),
		maxLifetimeClosed: desc("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime."),
	}}
}

// Describe implements prometheus.Collector.
func (c *dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	d := c.descs
	for _, desc := range []*prometheus.Desc{d.maxOpen, d.open, d.inUse, d.idle, d.waitCount, d.waitDuration, d.maxIdleClosed, d.maxIdleTimeClosed, d.maxLifetimeClosed} {
		ch <- desc
	}
}

// Collect implements prometheus.Collector.
func (c *dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	d := c.descs
	for _, p := range c.stats() {
		gauge := func(desc *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, p.Name)
		}
		counter := func(desc *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, v, p.Name)
		}
		gauge(d.maxOpen, float64(p.MaxOpenConnections))
		gauge(d.open, float64(p.OpenConnections))
		gauge(d.inUse, float64(p.InUse))
		gauge(d.idle, float64(p.Idle))
		counter(d.waitCount, float64(p.WaitCount))
		counter(d.waitDuration, p.WaitDuration.Seconds())
		counter(d.maxIdleClosed, float64(p.MaxIdleClosed))
		counter(d.maxIdleTimeClosed, float64(p.MaxIdleTimeClosed))
		counter(d.maxLifetimeClosed, float64(p.MaxLifetimeClosed))
	}
}
