package twitchsim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
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
}

// MainEventSub runs the EventSub stand-in (MockEventSubWebhook) until ctx
// ends.
func MainEventSub(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
				BroadcasterUserID: s.get(KeyBroadcasterUserID), Logger: log,
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
				k, err := decodeExtensionSecret(v)
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
	return runMain(ctx, args, getenv, stdout, stderr, "helix", HelixService, DefaultHelixListen,
		"Stands in for Twitch Helix:\n"+
			"GET /health, POST /helix/chat/messages, GET /helix/subscriptions, GET /last-request, GET /requests,\n"+
			"POST /reset, POST /fail-next {count,status}, GET|PUT /subscribers {userIds}.",
		helixKeys, defaultServeWriteLimit,
		func(s settings, log *slog.Logger) (http.Handler, error) {
			return NewHelix(HelixOptions{
				StrictAuth:  truthy(s.get(KeyHelixStrictAuth)),
				Subscribers: splitList(s.get(KeyHelixSubscriberIDs)),
				Logger:      log,
			}), nil
		})
}
