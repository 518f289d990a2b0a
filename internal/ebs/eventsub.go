package ebs

import (
	"context"
	"sync"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/metrics"
	"github.com/mimirons-goldomatic/mgm/internal/twitchsubs"
	"github.com/mimirons-goldomatic/mgm/internal/twitchws"
)

// eventSubWebhookPath is where the API serves Twitch's webhook (httpapi's route).
const eventSubWebhookPath = "/api/twitch/eventsub"

// eventSubWiring is how chat reaches the EBS besides the webhook route:
// what the API needs before it is built, and what runs once it is.
type eventSubWiring struct {
	revocations httpapi.RevocationHandler
	readyDetail func() map[string]any
	// start runs the client or manager until ctx ends; nil when neither runs.
	start func(ctx context.Context, api *httpapi.Server, m *metrics.Metrics)
}

// eventSub chooses by Twitch__EventSubTransport: the WebSocket client (one
// replica holds it through a database lease) or, for webhooks, the manager
// that keeps the subscription pointed at Mgm__PublicUrl. What cannot run
// says why in the banner.
func (b *backend) eventSub(o Options) eventSubWiring {
	cfg := b.cfg
	helix := func(tok twitchsubs.TokenSource) *twitchsubs.Helix {
		return &twitchsubs.Helix{BaseURL: cfg.HelixAPIBaseURL, ClientID: cfg.HelixClientID, Token: tok}
	}
	if cfg.EventSubTransport == config.EventSubWebSocket {
		userToken := o.UserToken
		if userToken == nil {
			if cfg.BroadcasterAccessToken == "" {
				b.notes = append(b.notes, "EventSub:   WebSocket NOT started (sign in with mgm-ebs twitch login, or set Twitch__BroadcasterAccessToken)")
				return eventSubWiring{}
			}
			userToken = twitchsubs.StaticToken(cfg.BroadcasterAccessToken)
		}
		if cfg.HelixClientID == "" || cfg.BroadcasterUserID == "" {
			b.notes = append(b.notes, "EventSub:   WebSocket NOT started (needs Twitch__HelixClientId and Twitch__BroadcasterUserId)")
			return eventSubWiring{}
		}
		var mu sync.Mutex
		var client *twitchws.Client
		b.notes = append(b.notes, "EventSub:   WebSocket "+cfg.EventSubWebSocketURL+" (one replica holds it)")
		return eventSubWiring{
			readyDetail: func() map[string]any {
				mu.Lock()
				defer mu.Unlock()
				if client == nil {
					return map[string]any{"twitch_eventsub": map[string]any{"transport": config.EventSubWebSocket, "status": "starting"}}
				}
				return map[string]any{"twitch_eventsub": map[string]any{"transport": config.EventSubWebSocket, "websocket": client.State()}}
			},
			start: func(ctx context.Context, api *httpapi.Server, m *metrics.Metrics) {
				c := twitchws.New(twitchws.Config{
					URL: cfg.EventSubWebSocketURL, Helix: helix(userToken), BroadcasterID: cfg.BroadcasterUserID,
					Ingest: api, Lease: b.db, LeaseTTL: cfg.EventSubLeaseTTL, Logger: o.Logger, Now: o.Now,
				})
				if err := m.Registry.Register(c.Collector()); err != nil {
					o.Logger.Warn("EventSub WebSocket metrics not registered", "error", err)
				}
				mu.Lock()
				client = c
				mu.Unlock()
				c.Run(ctx)
			},
		}
	}

	switch {
	case cfg.PublicURL == "":
		b.notes = append(b.notes, "EventSub:   webhook; subscription not managed (set Mgm__PublicUrl, or Twitch__EventSubTransport=websocket)")
		return eventSubWiring{}
	case o.AppToken == nil:
		b.notes = append(b.notes, "EventSub:   webhook "+cfg.PublicURL+eventSubWebhookPath+"; subscription not managed (no app access token: set Twitch__ClientSecret)")
		return eventSubWiring{}
	case cfg.HelixClientID == "" || cfg.BroadcasterUserID == "":
		b.notes = append(b.notes, "EventSub:   webhook; subscription not managed (needs Twitch__HelixClientId and Twitch__BroadcasterUserId)")
		return eventSubWiring{}
	}
	mgr := twitchsubs.NewManager(twitchsubs.Config{
		Helix: helix(o.AppToken), BroadcasterID: cfg.BroadcasterUserID, Callback: cfg.PublicURL + eventSubWebhookPath,
		Secret: cfg.EventSubSecret, Logger: o.Logger, Now: o.Now,
	})
	b.notes = append(b.notes, "EventSub:   webhook "+cfg.PublicURL+eventSubWebhookPath+" (subscription kept in place)")
	return eventSubWiring{
		revocations: mgr,
		readyDetail: func() map[string]any {
			return map[string]any{"twitch_eventsub": map[string]any{"transport": config.EventSubWebhook, "webhook": mgr.State()}}
		},
		start: func(ctx context.Context, _ *httpapi.Server, _ *metrics.Metrics) { mgr.Run(ctx) },
	}
}
