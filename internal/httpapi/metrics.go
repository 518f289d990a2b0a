package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics live in a registry of their own (no global state), served at /metrics.
type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	eventsub    *prometheus.CounterVec
	enrollments *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mgm_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mgm_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		eventsub: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mgm_eventsub_messages_total", Help: "EventSub deliveries by message type and outcome.",
		}, []string{"type", "outcome"}),
		enrollments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mgm_enrollments_total", Help: "Enrollment attempts by source (chat, claim) and outcome.",
		}, []string{"source", "outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mgm_rate_limited_total", Help: "Requests refused by the rate limiter, by client class.",
		}, []string{"class"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.eventsub, m.enrollments, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}
