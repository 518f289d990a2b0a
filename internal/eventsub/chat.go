package eventsub

import (
	"encoding/json"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// ChatMessage is what the EBS reads from a channel.chat.message event.
type ChatMessage struct {
	MessageID         string
	BroadcasterUserID string
	ChatterUserID     string
	ChatterUserLogin  string
	ChatterUserName   string // display name
	Text              string
	BadgeSetIDs       []string // badges[].set_id, in order, empty ones skipped
}

// IsSubscriber reports whether the chatter subscribes to the channel: a badge
// whose set_id is exactly "subscriber" or "founder". ("premium" is the Prime
// Gaming badge, not a subscription to this channel.)
func (m ChatMessage) IsSubscriber() bool {
	for _, id := range m.BadgeSetIDs {
		if id == "subscriber" || id == "founder" {
			return true
		}
	}
	return false
}

// IsModerator reports whether the chatter may use the streamer's chat
// controls: a "broadcaster" or "moderator" badge.
func (m ChatMessage) IsModerator() bool {
	for _, id := range m.BadgeSetIDs {
		if id == "broadcaster" || id == "moderator" {
			return true
		}
	}
	return false
}

type chatEvent struct {
	MessageID         string `json:"message_id"`
	BroadcasterUserID string `json:"broadcaster_user_id"`
	ChatterUserID     string `json:"chatter_user_id"`
	ChatterUserLogin  string `json:"chatter_user_login"`
	ChatterUserName   string `json:"chatter_user_name"`
	Message           *struct {
		Text string `json:"text"`
	} `json:"message"`
	Badges []struct {
		SetID string `json:"set_id"`
	} `json:"badges"`
}

// ParseChatMessage reads a channel.chat.message event object. Missing or null
// strings become "". An event that is not a JSON object, or a read field of
// the wrong JSON type (badges not an array, message not an object, text a
// number, …), is an invalid_payload error. Fields it does not read are not
// checked.
func ParseChatMessage(event json.RawMessage) (ChatMessage, error) {
	if !isObject(event) {
		return ChatMessage{}, mgm.Errorf(mgm.CodeInvalidPayload, "event: expected an object")
	}
	var ev chatEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return ChatMessage{}, typeError("event", err)
	}
	m := ChatMessage{
		MessageID:         ev.MessageID,
		BroadcasterUserID: ev.BroadcasterUserID,
		ChatterUserID:     ev.ChatterUserID,
		ChatterUserLogin:  ev.ChatterUserLogin,
		ChatterUserName:   ev.ChatterUserName,
	}
	if ev.Message != nil {
		m.Text = ev.Message.Text
	}
	for _, b := range ev.Badges {
		if b.SetID != "" {
			m.BadgeSetIDs = append(m.BadgeSetIDs, b.SetID)
		}
	}
	return m, nil
}
