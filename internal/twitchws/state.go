package twitchws

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mimirons-goldomatic/mgm/internal/twitchsubs"
)

// State is the client's condition, for /readyz's detail and twitch status.
type State struct {
	// Holder: this replica holds the lease (or runs without one).
	Holder bool `json:"holder"`
	// Status is "starting", "standby" (another replica holds the
	// connection), "connecting", "subscribed", "reconnecting" or
	// "needs_sign_in".
	Status         string    `json:"status"`
	Detail         string    `json:"detail,omitempty"`
	Connected      bool      `json:"connected"`
	SessionID      string    `json:"session_id,omitempty"`
	SessionSince   time.Time `json:"session_since,omitzero"`
	LastMessage    time.Time `json:"last_message,omitzero"`
	Reconnects     int64     `json:"reconnects"`
	LastRevocation string    `json:"last_revocation,omitempty"`
}

// State returns a copy of the client's condition.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state
	for _, n := range c.reconnects {
		st.Reconnects += n
	}
	return st
}

func (c *Client) setRole(holder bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Holder = holder
	if holder {
		c.state.Status, c.state.Detail = "connecting", ""
	} else {
		c.state.Status, c.state.Detail = "standby", "another replica holds the EventSub WebSocket connection"
	}
}

func (c *Client) setSession(id string, moved bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Connected, c.state.SessionID = true, id
	if !moved || c.state.SessionSince.IsZero() {
		c.state.SessionSince = c.cfg.Now()
	}
}

func (c *Client) setSubscribed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Status, c.state.Detail = "subscribed", ""
}

func (c *Client) setProblem(status, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Status, c.state.Detail = status, detail
}

func (c *Client) setDisconnected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.Connected, c.state.SessionID, c.state.SessionSince = false, "", time.Time{}
}

func (c *Client) touch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.LastMessage = c.cfg.Now()
}

func (c *Client) revoked(status string, v twitchsubs.Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.LastRevocation = status
	if v.NeedsSignIn {
		c.state.Status, c.state.Detail = "needs_sign_in", v.Explain
	}
}

func (c *Client) count(reason string) {
	if reason == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reconnects[reason]++
}

var (
	descConnected = prometheus.NewDesc("mgm_twitch_eventsub_ws_connected",
		"1 while this replica holds a welcomed EventSub WebSocket session.", nil, nil)
	descSessionAge = prometheus.NewDesc("mgm_twitch_eventsub_ws_session_age_seconds",
		"Age of the current EventSub WebSocket session (0 when none).", nil, nil)
	descLastMessage = prometheus.NewDesc("mgm_twitch_eventsub_ws_last_message_timestamp_seconds",
		"Unix time of the last message from Twitch's EventSub WebSocket server.", nil, nil)
	descReconnects = prometheus.NewDesc("mgm_twitch_eventsub_ws_reconnects_total",
		"EventSub WebSocket session ends and moves, by reason.", []string{"reason"}, nil)
)

// Collector exposes the state as metrics; register it with the EBS's registry.
func (c *Client) Collector() prometheus.Collector { return collector{c} }

type collector struct{ c *Client }

func (k collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConnected
	ch <- descSessionAge
	ch <- descLastMessage
	ch <- descReconnects
}

func (k collector) Collect(ch chan<- prometheus.Metric) {
	k.c.mu.Lock()
	st := k.c.state
	counts := make(map[string]int64, len(k.c.reconnects))
	for r, n := range k.c.reconnects {
		counts[r] = n
	}
	k.c.mu.Unlock()
	connected, age, last := 0.0, 0.0, 0.0
	if st.Connected {
		connected = 1
		age = k.c.cfg.Now().Sub(st.SessionSince).Seconds()
	}
	if !st.LastMessage.IsZero() {
		last = float64(st.LastMessage.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(descSessionAge, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(descLastMessage, prometheus.GaugeValue, last)
	for _, r := range reasons() {
		ch <- prometheus.MustNewConstMetric(descReconnects, prometheus.CounterValue, float64(counts[r]), r)
	}
}
