package eventsub

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// realChatNotification is a channel.chat.message notification as Twitch sends it.
const realChatNotification = `{
  "subscription": {
    "id": "0b7f3361-672b-4d39-b307-dd5b576c9b27",
    "status": "enabled",
    "type": "channel.chat.message",
    "version": "1",
    "condition": {"broadcaster_user_id": "1971641", "user_id": "2914196"},
    "transport": {"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
    "created_at": "2023-11-06T18:11:47.492253549Z",
    "cost": 0
  },
  "event": {
    "broadcaster_user_id": "1971641",
    "broadcaster_user_login": "streamer",
    "broadcaster_user_name": "streamer",
    "source_broadcaster_user_id": null,
    "source_broadcaster_user_login": null,
    "source_broadcaster_user_name": null,
    "chatter_user_id": "4145994",
    "chatter_user_login": "viewer32",
    "chatter_user_name": "Viewer32",
    "message_id": "cc106a89-1814-919d-454c-f4f2f970aae7",
    "source_message_id": null,
    "is_source_only": null,
    "message": {
      "text": "!twgold Abcd",
      "fragments": [
        {"type": "text", "text": "!twgold Abcd", "cheermote": null, "emote": null, "mention": null}
      ]
    },
    "color": "#00FF7F",
    "badges": [
      {"set_id": "moderator", "id": "1", "info": ""},
      {"set_id": "subscriber", "id": "12", "info": "16"},
      {"set_id": "sub-gifter", "id": "1", "info": ""}
    ],
    "source_badges": null,
    "message_type": "text",
    "cheer": null,
    "reply": null,
    "channel_points_custom_reward_id": null,
    "channel_points_animation_id": null
  }
}`

func TestParseChatMessageRealPayload(t *testing.T) {
	env, err := ParseEnvelope("notification", []byte(realChatNotification))
	if err != nil {
		t.Fatal(err)
	}
	if env.MessageType != TypeNotification || env.Subscription.Type != "channel.chat.message" {
		t.Fatalf("envelope = %+v", env)
	}
	m, err := ParseChatMessage(env.Event)
	if err != nil {
		t.Fatal(err)
	}
	want := ChatMessage{
		MessageID:         "cc106a89-1814-919d-454c-f4f2f970aae7",
		BroadcasterUserID: "1971641",
		ChatterUserID:     "4145994",
		ChatterUserLogin:  "viewer32",
		ChatterUserName:   "Viewer32",
		Text:              "!twgold Abcd",
		BadgeSetIDs:       []string{"moderator", "subscriber", "sub-gifter"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("ChatMessage = %+v\nwant %+v", m, want)
	}
	if !m.IsSubscriber() {
		t.Fatal("subscriber badge not detected")
	}
}

func TestParseChatMessage(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		sub    bool
		badges []string
		text   string
	}{
		{name: "subscriber", event: `{"badges":[{"set_id":"subscriber","id":"12","info":"16"}]}`, sub: true, badges: []string{"subscriber"}},
		{name: "founder", event: `{"badges":[{"set_id":"founder","id":"0","info":"1"}]}`, sub: true, badges: []string{"founder"}},
		{name: "premium only", event: `{"badges":[{"set_id":"premium","id":"1","info":""}]}`, badges: []string{"premium"}},
		{name: "case matters", event: `{"badges":[{"set_id":"Subscriber"}]}`, badges: []string{"Subscriber"}},
		{name: "no badges key", event: `{"message":{"text":"hi"}}`, text: "hi"},
		{name: "badges null", event: `{"badges":null}`},
		{name: "badges empty", event: `{"badges":[]}`},
		{name: "badge entry null or missing set_id", event: `{"badges":[null,{},{"set_id":null},{"set_id":"founder"}]}`, sub: true, badges: []string{"founder"}},
		{name: "message null", event: `{"message":null}`},
		{name: "text null", event: `{"message":{"text":null}}`},
		{name: "empty object", event: `{}`},
		{name: "unread fields of odd types ignored", event: `{"color":5,"cheer":"x","reply":[1],"message":{"text":"t","fragments":"x"}}`, text: "t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseChatMessage(json.RawMessage(tt.event))
			if err != nil {
				t.Fatalf("ParseChatMessage: %v", err)
			}
			if m.IsSubscriber() != tt.sub {
				t.Errorf("IsSubscriber = %v, want %v", m.IsSubscriber(), tt.sub)
			}
			if !reflect.DeepEqual(m.BadgeSetIDs, tt.badges) {
				t.Errorf("BadgeSetIDs = %#v, want %#v", m.BadgeSetIDs, tt.badges)
			}
			if m.Text != tt.text {
				t.Errorf("Text = %q, want %q", m.Text, tt.text)
			}
		})
	}
}

func TestParseChatMessageInvalid(t *testing.T) {
	for _, ev := range []string{
		``, `null`, `"x"`, `[]`, `5`, `{`, `{"a":1}x`,
		`{"badges":"x"}`, `{"badges":{}}`, `{"badges":["subscriber"]}`, `{"badges":[{"set_id":5}]}`,
		`{"message":"x"}`, `{"message":[]}`, `{"message":{"text":5}}`, `{"message":{"text":{}}}`,
		`{"message_id":1}`, `{"chatter_user_id":true}`, `{"broadcaster_user_id":[]}`,
		`{"chatter_user_login":{}}`, `{"chatter_user_name":2.5}`,
	} {
		t.Run(ev, func(t *testing.T) {
			var raw json.RawMessage
			if ev != "" {
				raw = json.RawMessage(ev)
			}
			_, err := ParseChatMessage(raw)
			if !mgm.IsCode(err, mgm.CodeInvalidPayload) {
				t.Fatalf("err = %v, want invalid_payload", err)
			}
		})
	}
}
