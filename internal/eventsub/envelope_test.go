package eventsub

import (
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const challengeBody = `{
  "challenge": "pogchamp-kappa-360noscope-vohiyo",
  "subscription": {
    "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
    "status": "webhook_callback_verification_pending",
    "type": "channel.chat.message",
    "version": "1",
    "cost": 0,
    "condition": {"broadcaster_user_id": "1000", "user_id": "1000"},
    "transport": {"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
    "created_at": "2023-07-19T14:56:51.634234626Z"
  }
}`

const revocationBody = `{
  "subscription": {
    "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
    "status": "authorization_revoked",
    "type": "channel.chat.message",
    "version": "1",
    "cost": 0,
    "condition": {"broadcaster_user_id": "1000", "user_id": "1000"},
    "transport": {"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
    "created_at": "2023-07-19T14:56:51.634234626Z"
  }
}`

const notificationBody = `{
  "subscription": {
    "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
    "status": "enabled",
    "type": "channel.chat.message",
    "version": "1",
    "cost": 0,
    "condition": {"broadcaster_user_id": "1000", "user_id": "1000"},
    "transport": {"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
    "created_at": "2023-07-19T14:56:51.634234626Z"
  },
  "event": {"message_id": "m1", "chatter_user_id": "u1", "message": {"text": "!twgold Abcd"}}
}`

func TestParseEnvelope(t *testing.T) {
	tests := []struct {
		name      string
		header    string
		body      string
		wantType  string
		challenge *string
		hasSub    bool
		hasEvent  bool
		status    string
	}{
		{name: "challenge, no header", body: challengeBody, wantType: TypeVerification,
			challenge: ptr("pogchamp-kappa-360noscope-vohiyo"), hasSub: true, status: "webhook_callback_verification_pending"},
		{name: "challenge, header", header: "webhook_callback_verification", body: challengeBody, wantType: TypeVerification,
			challenge: ptr("pogchamp-kappa-360noscope-vohiyo"), hasSub: true, status: "webhook_callback_verification_pending"},
		{name: "bare challenge", body: `{"challenge":"hello-challenge"}`, wantType: TypeVerification, challenge: ptr("hello-challenge")},
		{name: "null challenge", body: `{"challenge":null}`, wantType: TypeVerification, challenge: ptr("")},
		{name: "revocation, no header", body: revocationBody, wantType: TypeRevocation, hasSub: true, status: "authorization_revoked"},
		{name: "revocation, header", header: "revocation", body: revocationBody, wantType: TypeRevocation, hasSub: true, status: "authorization_revoked"},
		{name: "revocation user_removed", body: `{"subscription":{"status":"user_removed"}}`, wantType: TypeRevocation, hasSub: true, status: "user_removed"},
		{name: "revocation status with event", body: `{"subscription":{"status":"version_removed"},"event":{}}`,
			wantType: TypeRevocation, hasSub: true, hasEvent: true, status: "version_removed"},
		{name: "not enabled, no event", body: `{"subscription":{"status":"something_new"}}`, wantType: TypeRevocation, hasSub: true, status: "something_new"},
		{name: "enabled, no event", body: `{"subscription":{"type":"channel.chat.message","status":"enabled"}}`,
			wantType: TypeNotification, hasSub: true, status: "enabled"},
		{name: "notification, no header", body: notificationBody, wantType: TypeNotification, hasSub: true, hasEvent: true, status: "enabled"},
		{name: "notification, header", header: "notification", body: notificationBody, wantType: TypeNotification, hasSub: true, hasEvent: true, status: "enabled"},
		{name: "header case-insensitive", header: "  Notification ", body: notificationBody, wantType: TypeNotification, hasSub: true, hasEvent: true, status: "enabled"},
		{name: "header wins over shape", header: "notification", body: revocationBody, wantType: TypeNotification, hasSub: true, status: "authorization_revoked"},
		{name: "header revocation on notification body", header: "REVOCATION", body: notificationBody, wantType: TypeRevocation, hasSub: true, hasEvent: true, status: "enabled"},
		{name: "unknown header with event", header: "something_else", body: notificationBody, wantType: TypeNotification, hasSub: true, hasEvent: true, status: "enabled"},
		{name: "unknown header without event", header: "something_else", body: revocationBody, wantType: "", hasSub: true, status: "authorization_revoked"},
		{name: "unknown header, challenge only", header: "something_else", body: `{"challenge":"x"}`, wantType: "", challenge: ptr("x")},
		{name: "empty object", body: `{}`, wantType: TypeNotification},
		{name: "null subscription and event", body: `{"subscription":null,"event":null}`, wantType: TypeNotification},
		{name: "unknown fields ignored", body: `{"foo":[1,2,{"x":null}],"subscription":{"status":"enabled","extra":true},"event":{"a":1}}`,
			wantType: TypeNotification, hasSub: true, hasEvent: true, status: "enabled"},
		{name: "non-object event kept", body: `{"subscription":{"status":"enabled"},"event":"x"}`,
			wantType: TypeNotification, hasSub: true, hasEvent: true, status: "enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := ParseEnvelope(tt.header, []byte(tt.body))
			if err != nil {
				t.Fatalf("ParseEnvelope: %v", err)
			}
			if env.MessageType != tt.wantType {
				t.Errorf("MessageType = %q, want %q", env.MessageType, tt.wantType)
			}
			if (env.Challenge == nil) != (tt.challenge == nil) || (env.Challenge != nil && *env.Challenge != *tt.challenge) {
				t.Errorf("Challenge = %v, want %v", deref(env.Challenge), deref(tt.challenge))
			}
			if (env.Subscription != nil) != tt.hasSub {
				t.Errorf("Subscription = %+v, want present=%v", env.Subscription, tt.hasSub)
			}
			if env.Subscription != nil && env.Subscription.Status != tt.status {
				t.Errorf("Status = %q, want %q", env.Subscription.Status, tt.status)
			}
			if (env.Event != nil) != tt.hasEvent {
				t.Errorf("Event = %s, want present=%v", env.Event, tt.hasEvent)
			}
		})
	}
}

func TestParseEnvelopeSubscriptionFields(t *testing.T) {
	env, err := ParseEnvelope("", []byte(revocationBody))
	if err != nil {
		t.Fatal(err)
	}
	s := env.Subscription
	if s.ID != "f1c2a387-161a-49f9-a165-0f21d7a4e1c4" || s.Type != "channel.chat.message" || s.Version != "1" ||
		s.CreatedAt != "2023-07-19T14:56:51.634234626Z" || s.Condition["broadcaster_user_id"] != "1000" ||
		s.Transport["method"] != "webhook" {
		t.Fatalf("Subscription = %+v", s)
	}
}

func TestParseEnvelopeInvalid(t *testing.T) {
	for _, body := range []string{
		"", " ", "not json", "{", `{"a":1}x`, "[]", `[{"challenge":"x"}]`, "null", `"str"`, "42", "true",
		`{"challenge":5}`, `{"challenge":{}}`,
		`{"subscription":"x"}`, `{"subscription":[]}`, `{"subscription":{"type":5}}`, `{"subscription":{"status":true}}`,
		`{"subscription":{"condition":"x"}}`, `{"subscription":{"transport":[1]}}`,
	} {
		t.Run(body, func(t *testing.T) {
			_, err := ParseEnvelope("", []byte(body))
			if !mgm.IsCode(err, mgm.CodeInvalidPayload) {
				t.Fatalf("err = %v, want invalid_payload", err)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}
