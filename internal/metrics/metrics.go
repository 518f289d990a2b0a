// Package metrics defines the EBS's Prometheus metrics in a registry of its
// own (no global state); /metrics serves it.
package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every collector. It implements app.Observer. The vectors
// are recorded only through its methods, which keep every label value in a
// closed set: one series per distinct value lives as long as the process.
type Metrics struct {
	Registry *prometheus.Registry

	requests          *prometheus.CounterVec
	latency           *prometheus.HistogramVec
	eventSub          *prometheus.CounterVec
	enrollments       *prometheus.CounterVec
	rateLimited       *prometheus.CounterVec
	spinCycles        *prometheus.CounterVec
	payoutTransitions *prometheus.CounterVec
	giftTransitions   *prometheus.CounterVec
	helixCalls        *prometheus.CounterVec
	sweepRuns         *prometheus.CounterVec
	sweepChanged      *prometheus.CounterVec
	twitchState       *prometheus.GaugeVec
	twitchRefreshes   *prometheus.CounterVec
	ingestGroups      prometheus.Histogram
	pubSubSent        prometheus.Counter
	pubSubFailures    *prometheus.CounterVec

	// Backstops for labels whose values are ours rather than a client's.
	routes, outcomes, states, classes, sweeps *capped
}

// New registers all collectors, plus the Go runtime and process collectors.
func New() *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: counter("mgm_http_requests_total", "HTTP requests by route, method and status.", "route", "method", "status"),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mgm_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		eventSub:          counter("mgm_eventsub_messages_total", "EventSub deliveries by message type and outcome.", "type", "outcome"),
		enrollments:       counter("mgm_enrollments_total", "Enrollment attempts by source (chat, claim) and outcome.", "source", "outcome"),
		rateLimited:       counter("mgm_rate_limited_total", "Requests refused by the rate limiter, by client class.", "class"),
		spinCycles:        counter("mgm_spin_cycles_total", "Spin cycles decided, by outcome.", "outcome"),
		payoutTransitions: counter("mgm_payout_transitions_total", "Payout status changes (from \"\" = created).", "from", "to"),
		giftTransitions:   counter("mgm_gift_transitions_total", "Gift request state changes (from \"\" = created).", "from", "to"),
		helixCalls:        counter("mgm_helix_calls_total", "Helix reward announcements by outcome (success, failure, skipped).", "outcome"),
		sweepRuns:         counter("mgm_sweep_runs_total", "Periodic sweeps run.", "sweep"),
		sweepChanged:      counter("mgm_sweep_changed_total", "Records changed by periodic sweeps.", "sweep"),
		twitchState: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mgm_twitch_token_state",
			Help: "1 for the broadcaster's Twitch sign-in's current state (static, not_connected, valid, invalid, unreadable)."}, []string{"state"}),
		twitchRefreshes: counter("mgm_twitch_token_refreshes_total", "Broadcaster token refreshes by outcome (success, reused, invalid, failure).", "outcome"),

		ingestGroups: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mgm_ingest_group_lines",
			Help: "Chat lines committed per group commit; mostly 1 when quiet, larger under a burst.", Buckets: []float64{1, 2, 4, 8, 16, 32}}),

		pubSubSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "mgm_extension_pubsub_messages_total",
			Help: "Extension PubSub messages Twitch accepted (204) for the panel."}),
		pubSubFailures: counter("mgm_extension_pubsub_failures_total",
			"Extension PubSub sends that failed, by reason (unauthorized, rate_limited, rejected, twitch_error, unreachable, too_large).", "reason"),

		routes: newCapped(128), outcomes: newCapped(128), states: newCapped(32), classes: newCapped(16), sweeps: newCapped(16),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.eventSub, m.enrollments, m.rateLimited, m.spinCycles,
		m.payoutTransitions, m.giftTransitions, m.helixCalls, m.sweepRuns, m.sweepChanged, m.twitchState, m.twitchRefreshes,
		m.ingestGroups, m.pubSubSent, m.pubSubFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest counts one HTTP request. route must be a registered
// pattern or one of the few fixed names the server uses ("unmatched", ...);
// method and status may be anything a client sent or provoked.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	route, method = m.routes.of(route), Method(method)
	m.requests.WithLabelValues(route, method, Status(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// EventSubMessage counts one EventSub delivery.
func (m *Metrics) EventSubMessage(msgType, outcome string) {
	m.eventSub.WithLabelValues(EventSubType(msgType), m.outcomes.of(outcome)).Inc()
}

// Enrollment counts one enrollment attempt.
func (m *Metrics) Enrollment(source, outcome string) {
	m.enrollments.WithLabelValues(oneOf(source, "chat", "claim"), m.outcomes.of(outcome)).Inc()
}

// RateLimit counts one request refused by the rate limiter.
func (m *Metrics) RateLimit(class string) { m.rateLimited.WithLabelValues(m.classes.of(class)).Inc() }

// SpinCycleDecided implements app.Observer.
func (m *Metrics) SpinCycleDecided(outcome string) {
	m.spinCycles.WithLabelValues(m.outcomes.of(outcome)).Inc()
}

// PayoutTransition implements app.Observer.
func (m *Metrics) PayoutTransition(from, to string) {
	m.payoutTransitions.WithLabelValues(m.states.of(from), m.states.of(to)).Inc()
}

// GiftTransition implements app.Observer.
func (m *Metrics) GiftTransition(from, to string) {
	m.giftTransitions.WithLabelValues(m.states.of(from), m.states.of(to)).Inc()
}

// HelixCall implements app.Observer.
func (m *Metrics) HelixCall(outcome string) {
	m.helixCalls.WithLabelValues(m.outcomes.of(outcome)).Inc()
}

// SweepRun implements app.Observer.
func (m *Metrics) SweepRun(sweep string, changed int) {
	sweep = m.sweeps.of(sweep)
	m.sweepRuns.WithLabelValues(sweep).Inc()
	m.sweepChanged.WithLabelValues(sweep).Add(float64(changed))
}

// ExtensionPubSubSent counts one message Twitch accepted.
func (m *Metrics) ExtensionPubSubSent() { m.pubSubSent.Inc() }

// ExtensionPubSubFailed counts one failed send; reason is one of the
// sender's closed set.
func (m *Metrics) ExtensionPubSubFailed(reason string) {
	m.pubSubFailures.WithLabelValues(m.outcomes.of(reason)).Inc()
}

// IngestGroup implements app.Observer.
func (m *Metrics) IngestGroup(lines int) { m.ingestGroups.Observe(float64(lines)) }

// twitchStates are the values of the sign-in's state (internal/twitchauth.States).
var twitchStates = []string{"static", "not_connected", "valid", "invalid", "unreadable"}

// TwitchTokenState implements twitchauth.Observer: the gauge is 1 for the
// current state and 0 for the others, so an alert can watch one series.
func (m *Metrics) TwitchTokenState(state string) {
	state = oneOf(state, twitchStates...)
	for _, s := range append(twitchStates, Other) {
		v := 0.0
		if s == state {
			v = 1
		}
		m.twitchState.WithLabelValues(s).Set(v)
	}
}

// TwitchTokenRefresh implements twitchauth.Observer.
func (m *Metrics) TwitchTokenRefresh(outcome string) {
	m.twitchRefreshes.WithLabelValues(oneOf(outcome, "success", "reused", "invalid", "failure")).Inc()
}

// Other is the label value that stands for every value outside a closed set.
const Other = "other"

// Method is a request method as a label: the standard methods, else "other".
// Clients choose methods freely ("Q0000001 / HTTP/1.1" is a valid request
// line), so the raw method would be one series per made-up method.
func Method(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return Other
}

// Status is a response status as a label: the statuses net/http knows by
// name (a closed set of about sixty), else "other".
func Status(code int) string {
	if http.StatusText(code) == "" {
		return Other
	}
	return strconv.Itoa(code)
}

// EventSubType is an EventSub message type as a label: Twitch's three, or
// "unknown" for deliveries refused before their type was read, else "other".
func EventSubType(t string) string {
	return oneOf(t, "notification", "webhook_callback_verification", "revocation", "unknown")
}

func oneOf(v string, set ...string) string {
	if slices.Contains(set, v) {
		return v
	}
	return Other
}

// capped admits label values until it holds max distinct ones, then maps
// every new value to "other". Callers pass values from closed sets of our
// own (routes, outcomes, states); the cap is the backstop that keeps a
// future caller passing client text from growing the registry without bound.
type capped struct {
	max  int
	mu   sync.Mutex
	seen map[string]struct{}
}

func newCapped(max int) *capped { return &capped{max: max, seen: map[string]struct{}{}} }

func (c *capped) of(v string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[v]; ok {
		return v
	}
	if len(c.seen) >= c.max {
		return Other
	}
	c.seen[v] = struct{}{}
	return v
}
