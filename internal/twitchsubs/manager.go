package twitchsubs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
)

// NeedsSignIn is the sentence every state that only a new sign-in can heal carries.
const NeedsSignIn = "a new sign-in is needed (mgm-ebs twitch login)"

// Verdict is what a revocation reason allows.
type Verdict struct {
	Recreate    bool   // creating the subscription again can work now
	NeedsSignIn bool   // only the broadcaster signing in again heals it
	Explain     string // a sentence for the log, /readyz and twitch status
}

// Judge reads a revocation's subscription status
// (https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#revoking-your-subscription,
// https://dev.twitch.tv/docs/eventsub/handling-websocket-events/#revocation-message).
func Judge(status string) Verdict {
	switch status {
	case "authorization_revoked":
		return Verdict{NeedsSignIn: true, Explain: "the broadcaster revoked the app's authorization: " + NeedsSignIn}
	case "user_removed":
		return Verdict{NeedsSignIn: true, Explain: "the broadcaster's Twitch account was removed or suspended: " + NeedsSignIn}
	case "version_removed":
		return Verdict{Explain: "Twitch removed this subscription version: update mgm-ebs"}
	case "notification_failures_exceeded":
		return Verdict{Recreate: true, Explain: "Twitch gave up on the callback after repeated failures; re-creating (check that " +
			"Mgm__PublicUrl reaches this EBS)"}
	default:
		return Verdict{Recreate: true, Explain: fmt.Sprintf("Twitch revoked the subscription (%s); re-creating", status)}
	}
}

// State is the manager's last word, for /readyz's detail and twitch status.
type State struct {
	// Status is "starting", "ok", "needs_sign_in" or "error".
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	// SubscriptionID is the chat subscription's; Subscriptions every
	// kept one's, by type.
	SubscriptionID string            `json:"subscription_id,omitempty"`
	Subscriptions  map[string]string `json:"subscriptions,omitempty"`
	LastCheck      time.Time         `json:"last_check,omitzero"`
	LastRevocation string            `json:"last_revocation,omitempty"`
}

// Config is what the webhook Manager needs.
type Config struct {
	Helix         *Helix // with the app access token
	BroadcasterID string
	Callback      string // <Mgm__PublicUrl>/api/twitch/eventsub
	Secret        string // Twitch__EventSubSecret
	// Interval between checks; 0 means 5 minutes.
	Interval time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
}

// Manager keeps exactly one webhook subscription of each of Wanted's types
// for the broadcaster pointed at Callback. Replicas may each run one: creating
// what exists already is answered 409 and treated as success.
type Manager struct {
	cfg  Config
	kick chan struct{}

	mu    sync.Mutex
	state State
}

// NewManager builds a manager; Run starts it.
func NewManager(cfg Config) *Manager {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{cfg: cfg, kick: make(chan struct{}, 1), state: State{Status: "starting"}}
}

// Run checks at once, then every Interval and after each revocation that
// allows re-creating, until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		if err := m.Reconcile(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Logger.WarnContext(ctx, "EventSub subscription check failed; retrying later", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		}
	}
}

// Reconcile keeps each of Wanted's subscriptions in place.
func (m *Manager) Reconcile(ctx context.Context) error {
	ids := map[string]string{}
	var errs []error
	for _, w := range Wanted(m.cfg.BroadcasterID) {
		id, err := m.reconcile(ctx, w)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids[w.Type] = id
	}
	if err := errors.Join(errs...); err != nil {
		return m.fail(err)
	}
	m.mu.Lock()
	m.state.Status, m.state.Detail, m.state.LastCheck = "ok", "", m.cfg.Now()
	m.state.SubscriptionID, m.state.Subscriptions = ids[ChatMessageType], ids
	m.mu.Unlock()
	return nil
}

// reconcile lists the subscriptions of w's type, keeps one healthy
// subscription of ours, deletes the others of the same type and condition
// (another callback, a failed one, a duplicate) and creates ours when none
// is left. It returns the id kept or created ("" when another replica
// created it meanwhile).
func (m *Manager) reconcile(ctx context.Context, w Want) (string, error) {
	subs, err := m.cfg.Helix.List(ctx, w.Type)
	if err != nil {
		return "", err
	}
	keep := ""
	var errs []error
	for _, s := range subs {
		if s.Type != w.Type || s.Transport.Method != "webhook" || !maps.Equal(s.Condition, w.Condition) {
			continue
		}
		healthy := s.Status == "enabled" || s.Status == "webhook_callback_verification_pending"
		if keep == "" && healthy && s.Transport.Callback == m.cfg.Callback {
			keep = s.ID
			continue
		}
		m.cfg.Logger.InfoContext(ctx, "deleting an EventSub subscription that does not deliver here",
			"type", s.Type, "subscription_id", s.ID, "status", s.Status, "callback", s.Transport.Callback)
		if err := m.cfg.Helix.Delete(ctx, s.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if keep == "" {
		created, err := m.cfg.Helix.Create(ctx, w.Type, w.Version, w.Condition,
			Transport{Method: "webhook", Callback: m.cfg.Callback, Secret: m.cfg.Secret})
		switch {
		case StatusOf(err) == http.StatusConflict:
			// Another replica created it between our list and our create.
		case err != nil:
			return "", errors.Join(append(errs, err)...)
		default:
			keep = created.ID
			m.cfg.Logger.InfoContext(ctx, "created an EventSub subscription", "type", w.Type, "subscription_id", created.ID, "callback", m.cfg.Callback)
		}
	}
	return keep, errors.Join(errs...)
}

// fail records err as the state: a refusal only a sign-in heals says so.
func (m *Manager) fail(err error) error {
	st := State{Status: "error", Detail: err.Error()}
	switch StatusOf(err) {
	case http.StatusUnauthorized:
		st.Detail = "Twitch refused the app access token (check Twitch__HelixClientId and Twitch__ClientSecret): " + err.Error()
	case http.StatusForbidden:
		st.Status, st.Detail = "needs_sign_in", "the broadcaster has not granted the chat scopes: "+NeedsSignIn
	}
	m.mu.Lock()
	m.state.Status, m.state.Detail, m.state.LastCheck = st.Status, st.Detail, m.cfg.Now()
	m.mu.Unlock()
	return err
}

// Revoked records a revocation (httpapi.RevocationHandler) and re-creates
// the subscription at once when the reason allows.
func (m *Manager) Revoked(ctx context.Context, sub eventsub.Subscription) {
	if !IsWanted(sub.Type) {
		return
	}
	v := Judge(sub.Status)
	m.mu.Lock()
	m.state.LastRevocation = sub.Status
	if v.NeedsSignIn {
		m.state.Status, m.state.Detail = "needs_sign_in", v.Explain
	} else if !v.Recreate {
		m.state.Status, m.state.Detail = "error", v.Explain
	}
	m.mu.Unlock()
	m.cfg.Logger.WarnContext(ctx, "EventSub subscription revoked", "type", sub.Type, "reason", sub.Status, "next", v.Explain)
	if v.Recreate {
		select {
		case m.kick <- struct{}{}:
		default: // a check is already due
		}
	}
}

// State returns the manager's last word.
func (m *Manager) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}
