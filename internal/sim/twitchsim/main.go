package twitchsim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config/option"
)

// Configuration keys (environment spelling; also --Section:Key=value).
const (
	KeyEventSubSecret     = "Twitch__EventSubSecret"
	KeyBackendBaseURL     = "Backend__BaseUrl"
	KeyExtensionSecret    = "Twitch__ExtensionSecret"
	KeyExtensionClientID  = "Twitch__ExtensionClientId"
	KeyBroadcasterUserID  = "Twitch__BroadcasterUserId"
	KeyHelixStrictAuth    = "MockHelix__StrictAuth"
	KeyHelixSubscriberIDs = "MockHelix__Subscribers"
	KeyHelixRequireIssued = "MockHelix__RequireIssuedTokens"

	// The OAuth stand-in and the EventSub hub, served by the Helix stand-in.
	KeyAuthClientID        = "MockTwitch__ClientId"
	KeyAuthClientSecret    = "MockTwitch__ClientSecret"
	KeyUserTokenTTL        = "MockTwitch__UserTokenTtlSeconds"
	KeyAppTokenTTL         = "MockTwitch__AppTokenTtlSeconds"
	KeyEarlyExpiry         = "MockTwitch__EarlyExpirySeconds"
	KeyDeviceCodeTTL       = "MockTwitch__DeviceCodeTtlSeconds"
	KeyPollInterval        = "MockTwitch__DevicePollIntervalSeconds"
	KeySlowDown            = "MockTwitch__SlowDown"
	KeyRefreshRotation     = "MockTwitch__RefreshRotation"
	KeyKeepalive           = "MockTwitch__KeepaliveSeconds"
	KeyWelcomeTimeout      = "MockTwitch__WelcomeTimeoutSeconds"
	KeyReconnectGrace      = "MockTwitch__ReconnectGraceSeconds"
	KeyRequireHTTPSCallbck = "MockTwitch__RequireHttpsCallback"

	// Extension PubSub, served by the Helix stand-in.
	KeyExtensionOwnerID = "Twitch__ExtensionOwnerId"
	KeyPubSubDropEvery  = "MockTwitch__PubSubDropEvery"
	KeyPubSubDelayMs    = "MockTwitch__PubSubDelayMs"
	KeyPubSubAlways429  = "MockTwitch__PubSubAlways429"
)

// Server write timeouts: the EventSub stand-in waits up to 60 s for the EBS.
const (
	defaultServeWriteLimit  = 30 * time.Second
	eventSubServeWriteLimit = forwardTimeout + 15*time.Second
)

var eventSubKeys = option.Table{
	{Key: KeyEventSubSecret, Secret: true, Help: "HMAC secret: verifies forwarded webhooks and signs generated messages; empty skips verification"},
	{Key: KeyBackendBaseURL, Default: DefaultBackendBaseURL, Help: "the EBS; messages go to <url>" + EventSubPath},
	{Key: KeyBroadcasterUserID, Help: "broadcaster_user_id of generated messages when the request names none"},
}

var jwtKeys = option.Table{
	{Key: KeyExtensionSecret, DefaultNote: "the development key", Secret: true, Help: "base64 extension secret (HS256 key)"},
	{Key: KeyExtensionClientID, Help: "extension client id; when set, tokens carry it as aud"},
	{Key: KeyBroadcasterUserID, Help: "channel_id of tokens whose request names no channelId"},
}

var helixKeys = option.Table{
	{Key: KeyHelixStrictAuth, Default: "false", Help: "true: require Authorization: Bearer … and Client-Id (401 otherwise)"},
	{Key: KeyHelixSubscriberIDs, Help: "comma-separated user ids that subscribe to the broadcaster (PUT /subscribers changes it at runtime)"},
	{Key: KeyHelixRequireIssued, Default: "false", Help: "true: only tokens issued by /oauth2/token are accepted (401 otherwise)"},
	{Key: KeyAuthClientID, Help: "the registered client id; empty accepts any"},
	{Key: KeyAuthClientSecret, Secret: true, Help: "the client secret; empty accepts any"},
	{Key: KeyUserTokenTTL, Default: "14400", Help: "expires_in of user access tokens, seconds"},
	{Key: KeyAppTokenTTL, Default: "5011200", Help: "expires_in of app access tokens, seconds"},
	{Key: KeyEarlyExpiry, Default: "0", Help: "tokens die this many seconds before expires_in says"},
	{Key: KeyDeviceCodeTTL, Default: "1800", Help: "expires_in of device codes, seconds"},
	{Key: KeyPollInterval, Default: "5", Help: "interval the device flow asks clients to poll at, seconds"},
	{Key: KeySlowDown, Default: "false", Help: "true: a device-code poll sooner than the interval gets slow_down"},
	{Key: KeyRefreshRotation, Default: RotatePublic, Help: "which refresh tokens are single-use: public (Twitch: clients without a secret), always or never"},
	{Key: KeyKeepalive, Default: "10", Help: "EventSub WebSocket keepalive_timeout_seconds when the client asks for none"},
	{Key: KeyWelcomeTimeout, Default: "10", Help: "seconds a WebSocket session may stay without subscriptions before close 4003"},
	{Key: KeyReconnectGrace, Default: "30", Help: "seconds an old WebSocket lives after session_reconnect before close 4004"},
	{Key: KeyRequireHTTPSCallbck, Default: "false", Help: "true: webhook callbacks must be https on port 443, as on Twitch"},
	{Key: KeyExtensionSecret, DefaultNote: "the development key", Secret: true, Help: "base64 extension secret: verifies Extension PubSub JWTs"},
	{Key: KeyExtensionClientID, Help: "when set, Extension PubSub requires this Client-Id"},
	{Key: KeyExtensionOwnerID, Help: "when set, Extension PubSub JWTs must carry this user_id"},
	{Key: KeyPubSubDropEvery, Default: "0", Help: "accept but never deliver every Nth Extension PubSub message (0 = deliver all)"},
	{Key: KeyPubSubDelayMs, Default: "0", Help: "delay each Extension PubSub delivery by this many milliseconds"},
	{Key: KeyPubSubAlways429, Default: "false", Help: "true: refuse every Extension PubSub send with 429"},
}

// seconds reads a whole number of seconds (>= 0) from a setting.
func seconds(s settings, key string) (time.Duration, error) {
	v := s.get(key)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q is not a whole number of seconds", key, v)
	}
	return time.Duration(n) * time.Second, nil
}

// hubFromSettings builds the OAuth stand-in and EventSub hub of the Helix
// stand-in.
func hubFromSettings(s settings, log *slog.Logger) (*Hub, error) {
	d := map[string]time.Duration{}
	for _, k := range []string{KeyUserTokenTTL, KeyAppTokenTTL, KeyEarlyExpiry, KeyDeviceCodeTTL, KeyPollInterval, KeyKeepalive, KeyWelcomeTimeout, KeyReconnectGrace} {
		v, err := seconds(s, k)
		if err != nil {
			return nil, err
		}
		d[k] = v
	}
	rot := s.get(KeyRefreshRotation)
	if rot != RotatePublic && rot != RotateAlways && rot != RotateNever {
		return nil, fmt.Errorf("%s %q must be public, always or never", KeyRefreshRotation, rot)
	}
	auth := NewAuth(AuthOptions{
		ClientID: s.get(KeyAuthClientID), ClientSecret: s.get(KeyAuthClientSecret),
		UserTokenTTL: d[KeyUserTokenTTL], AppTokenTTL: d[KeyAppTokenTTL], EarlyExpiry: d[KeyEarlyExpiry],
		DeviceCodeTTL: d[KeyDeviceCodeTTL], PollInterval: d[KeyPollInterval], SlowDown: truthy(s.get(KeySlowDown)),
		RefreshRotation: rot, Logger: log,
	})
	return NewHub(HubOptions{
		Auth: auth, RequireHTTPSCallback: truthy(s.get(KeyRequireHTTPSCallbck)),
		Keepalive: d[KeyKeepalive], WelcomeTimeout: d[KeyWelcomeTimeout], ReconnectGrace: d[KeyReconnectGrace],
		Logger: log,
	}), nil
}

// pubSubFromSettings reads the Extension PubSub stand-in's settings.
func pubSubFromSettings(s settings) (PubSubOptions, error) {
	o := PubSubOptions{ClientID: s.get(KeyExtensionClientID), OwnerID: s.get(KeyExtensionOwnerID),
		Modes: PubSubModes{Always429: truthy(s.get(KeyPubSubAlways429))}}
	if v := s.get(KeyExtensionSecret); v != "" {
		k, err := DecodeExtensionSecret(v)
		if err != nil {
			return o, err
		}
		o.Key = k
	}
	for _, x := range []struct {
		key string
		dst *int
	}{{KeyPubSubDropEvery, &o.Modes.DropEvery}, {KeyPubSubDelayMs, &o.Modes.DelayMs}} {
		n, err := strconv.Atoi(s.get(x.key))
		if err != nil || n < 0 {
			return o, fmt.Errorf("%s %q is not a whole number >= 0", x.key, s.get(x.key))
		}
		*x.dst = n
	}
	return o, nil
}

// MainEventSub runs the EventSub stand-in (MockEventSubWebhook) until ctx
// ends.
func MainEventSub(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return mainEventSub(ctx, args, getenv, stdout, stderr, nil)
}

func mainEventSub(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, hub func() *Hub) error {
	return runMain(ctx, args, getenv, stdout, stderr, "eventsub", EventSubService, DefaultEventSubListen,
		"Forwards signed EventSub webhooks to the EBS and sends real-shaped ones itself:\n"+
			"GET /health, POST "+EventSubPath+", POST /send-chat, POST /verify-subscription, POST /send-revocation.",
		eventSubKeys, eventSubServeWriteLimit,
		func(s settings, log *slog.Logger) (http.Handler, error) {
			base := s.get(KeyBackendBaseURL)
			if base == "" {
				base = DefaultBackendBaseURL
			}
			if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("%s %q is not an http(s) URL", KeyBackendBaseURL, base)
			}
			return NewEventSub(EventSubOptions{
				Secret: s.get(KeyEventSubSecret), BackendBaseURL: base,
				BroadcasterUserID: s.get(KeyBroadcasterUserID), Logger: log, Hub: hub,
			}), nil
		})
}

// MainJWT runs the extension JWT stand-in (MockExtensionJwt) until ctx ends.
func MainJWT(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runMain(ctx, args, getenv, stdout, stderr, "jwt", JWTService, DefaultJWTListen,
		"Issues Twitch-shaped extension JWTs:\n"+
			"GET /health, GET /token?userId=&displayName=&channelId=&role=&opaque=true&expiresIn=.",
		jwtKeys, defaultServeWriteLimit,
		func(s settings, log *slog.Logger) (http.Handler, error) {
			var key []byte
			if v := s.get(KeyExtensionSecret); v != "" {
				k, err := DecodeExtensionSecret(v)
				if err != nil {
					return nil, err
				}
				key = k
			}
			return NewJWT(JWTOptions{
				Key: key, ClientID: s.get(KeyExtensionClientID),
				BroadcasterUserID: s.get(KeyBroadcasterUserID), Logger: log,
			}), nil
		})
}

// MainHelix runs the Helix stand-in (MockHelixApi) until ctx ends.
func MainHelix(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return mainHelix(ctx, args, getenv, stdout, stderr, nil)
}

func mainHelix(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, built func(*Hub)) error {
	return runMain(ctx, args, getenv, stdout, stderr, "helix", HelixService, DefaultHelixListen,
		"Stands in for Twitch Helix, id.twitch.tv and EventSub (subscriptions API and WebSocket):\n"+
			"GET /health, POST /helix/chat/messages, GET /helix/subscriptions, GET /last-request, GET /requests,\n"+
			"POST /reset, POST /fail-next {count,status}, GET|PUT /subscribers {userIds},\n"+
			"POST /oauth2/device, POST /oauth2/token, GET /oauth2/validate, POST /oauth2/revoke,\n"+
			"POST|GET|DELETE /helix/eventsub/subscriptions, GET /ws (EventSub WebSocket),\n"+
			"POST /sim/device/approve|deny, POST /sim/grants/revoke, POST /sim/tokens/expire,\n"+
			"POST /sim/eventsub/send-chat, POST /sim/eventsub/send-stream-online|send-stream-offline {broadcasterUserId},\n"+
			"POST /sim/eventsub/revoke, GET /sim/eventsub/ws/sessions,\n"+
			"POST /sim/eventsub/ws/reconnect|keepalive|close,\n"+
			"POST /helix/extensions/pubsub, GET /_sim/extension-pubsub/{broadcaster}[/stream],\n"+
			"GET|PUT /_sim/extension-pubsub/modes {dropEvery,delayMs,always429}, POST /_sim/extension-pubsub/reset.",
		helixKeys, defaultServeWriteLimit,
		func(s settings, log *slog.Logger) (http.Handler, error) {
			hub, err := hubFromSettings(s, log)
			if err != nil {
				return nil, err
			}
			if built != nil {
				built(hub)
			}
			ps, err := pubSubFromSettings(s)
			if err != nil {
				return nil, err
			}
			return NewHelix(HelixOptions{
				PubSub:              ps,
				StrictAuth:          truthy(s.get(KeyHelixStrictAuth)),
				Subscribers:         splitList(s.get(KeyHelixSubscriberIDs)),
				RequireIssuedTokens: truthy(s.get(KeyHelixRequireIssued)),
				Hub:                 hub,
				Logger:              log,
			}), nil
		})
}

// LinkedMains returns the EventSub and Helix Mains of one process, linked:
// /send-chat of the EventSub stand-in also reaches the subscriptions
// (webhook and WebSocket) created on the Helix stand-in. mgm-sim all uses
// them.
func LinkedMains() (eventSub, helix func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error) {
	var shared atomic.Pointer[Hub]
	eventSub = func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
		return mainEventSub(ctx, args, getenv, stdout, stderr, shared.Load)
	}
	helix = func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
		return mainHelix(ctx, args, getenv, stdout, stderr, shared.Store)
	}
	return eventSub, helix
}
