// Package metrics defines the EBS's Prometheus metrics in a registry of its
// own (no global state); /metrics serves it.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector. It implements app.Observer.
type Metrics struct {
	Registry          *prometheus.Registry
	Requests          *prometheus.CounterVec
	Latency           *prometheus.HistogramVec
	EventSub          *prometheus.CounterVec
	Enrollments       *prometheus.CounterVec
	RateLimited       *prometheus.CounterVec
	SpinCycles        *prometheus.CounterVec
	PayoutTransitions *prometheus.CounterVec
	GiftTransitions   *prometheus.CounterVec
	HelixCalls        *prometheus.CounterVec
	SweepRuns         *prometheus.CounterVec
	SweepChanged      *prometheus.CounterVec
}

// New registers all collectors, plus the Go runtime and process collectors.
func New() *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: counter("mgm_http_requests_total", "HTTP requests by route, method and status.", "route", "method", "status"),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mgm_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		EventSub:          counter("mgm_eventsub_messages_total", "EventSub deliveries by message type and outcome.", "type", "outcome"),
		Enrollments:       counter("mgm_enrollments_total", "Enrollment attempts by source (chat, claim) and outcome.", "source", "outcome"),
		RateLimited:       counter("mgm_rate_limited_total", "Requests refused by the rate limiter, by client class.", "class"),
		SpinCycles:        counter("mgm_spin_cycles_total", "Spin cycles decided, by outcome.", "outcome"),
		PayoutTransitions: counter("mgm_payout_transitions_total", "Payout status changes (from \"\" = created).", "from", "to"),
		GiftTransitions:   counter("mgm_gift_transitions_total", "Gift request state changes (from \"\" = created).", "from", "to"),
		HelixCalls:        counter("mgm_helix_calls_total", "Helix reward announcements by outcome (success, failure, skipped).", "outcome"),
		SweepRuns:         counter("mgm_sweep_runs_total", "Periodic sweeps run.", "sweep"),
		SweepChanged:      counter("mgm_sweep_changed_total", "Records changed by periodic sweeps.", "sweep"),
	}
	m.Registry.MustRegister(m.Requests, m.Latency, m.EventSub, m.Enrollments, m.RateLimited, m.SpinCycles,
		m.PayoutTransitions, m.GiftTransitions, m.HelixCalls, m.SweepRuns, m.SweepChanged,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest counts one HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.Requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.Latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// SpinCycleDecided implements app.Observer.
func (m *Metrics) SpinCycleDecided(outcome string) { m.SpinCycles.WithLabelValues(outcome).Inc() }

// PayoutTransition implements app.Observer.
func (m *Metrics) PayoutTransition(from, to string) {
	m.PayoutTransitions.WithLabelValues(from, to).Inc()
}

// GiftTransition implements app.Observer.
func (m *Metrics) GiftTransition(from, to string) {
	m.GiftTransitions.WithLabelValues(from, to).Inc()
}

// HelixCall implements app.Observer.
func (m *Metrics) HelixCall(outcome string) { m.HelixCalls.WithLabelValues(outcome).Inc() }

// SweepRun implements app.Observer.
func (m *Metrics) SweepRun(sweep string, changed int) {
	m.SweepRuns.WithLabelValues(sweep).Inc()
	m.SweepChanged.WithLabelValues(sweep).Add(float64(changed))
}
