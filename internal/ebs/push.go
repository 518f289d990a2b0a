package ebs

import (
	"net/http"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/extpubsub"
	"github.com/mimirons-goldomatic/mgm/internal/metrics"
)

// panelPush is the Extension PubSub push as wired: the pusher (nil when a
// setting is missing) and what /readyz shows of it.
type panelPush struct {
	pusher *extpubsub.Pusher
	off    extpubsub.Status
	// source is the API, filled in once it is built (the API needs the
	// pusher for viewers' receipts first).
	source *apiSource
}

func (p panelPush) readyDetail() map[string]any {
	st := p.off
	if p.pusher != nil {
		st = p.pusher.Status()
	}
	return map[string]any{"extension_pubsub": st}
}

// apiSource is the roulette state as the API serves it.
type apiSource struct {
	api interface {
		PushState(now time.Time) ebsapi.RouletteState
		SnapshotChanged() <-chan struct{}
	}
}

func (s *apiSource) PushState(now time.Time) ebsapi.RouletteState { return s.api.PushState(now) }
func (s *apiSource) SnapshotChanged() <-chan struct{}             { return s.api.SnapshotChanged() }

// panelPush builds the push when its settings are there, and says in the
// banner either way. extKey is the viewer JWTs' key (the extension secret,
// or the development key in Development), which signs the EBS's tokens too.
func (b *backend) panelPush(o Options, extKey []byte, m *metrics.Metrics) panelPush {
	cfg := b.cfg
	channel := cfg.BroadcasterUserID
	if channel == "" && cfg.Development() {
		channel = cfg.DevBroadcasterUserID
	}
	var missing []string
	for _, s := range []struct{ key, value string }{
		{"Twitch__ExtensionClientId", cfg.ExtensionClientID},
		{"Twitch__ExtensionOwnerId", cfg.ExtensionOwnerID},
		{"Twitch__BroadcasterUserId", channel},
		{"Twitch__ExtensionSecret", string(extKey)},
	} {
		if s.value == "" {
			missing = append(missing, s.key)
		}
	}
	if len(missing) > 0 {
		off := extpubsub.OffStatus(missing)
		b.notes = append(b.notes, "Panel push: off (set "+strings.Join(missing, ", ")+"); panels poll")
		return panelPush{off: off}
	}
	src := &apiSource{}
	p := extpubsub.New(extpubsub.Config{
		Sender: &extpubsub.Client{
			BaseURL: cfg.HelixAPIBaseURL, ClientID: cfg.ExtensionClientID, OwnerID: cfg.ExtensionOwnerID,
			BroadcasterID: channel, Key: extKey, HTTP: &http.Client{Timeout: 5 * time.Second}, Now: o.Now,
		},
		Source: src, BroadcasterID: channel, Lease: b.db,
		Observer: m, Logger: o.Logger, Now: o.Now,
	})
	b.notes = append(b.notes, "Panel push: Extension PubSub to channel "+channel+" (one replica sends)")
	return panelPush{pusher: p, source: src}
}
