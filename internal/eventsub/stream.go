package eventsub

import (
	"encoding/json"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// The stream's live status (EventSub reference, version "1", condition
// {broadcaster_user_id}): stream.online's event is {id,
// broadcaster_user_id, broadcaster_user_login, broadcaster_user_name,
// type: "live", started_at}; stream.offline's {broadcaster_user_id,
// broadcaster_user_login, broadcaster_user_name}.
const (
	StreamOnlineType  = "stream.online"
	StreamOfflineType = "stream.offline"
)

// StreamEvent is what the EBS reads from stream.online and stream.offline.
type StreamEvent struct {
	BroadcasterUserID string `json:"broadcaster_user_id"`
	// Type is stream.online's "live" (or "playlist", "watch_party", …); ""
	// for stream.offline.
	Type      string `json:"type"`
	StartedAt string `json:"started_at"`
}

// ParseStreamEvent reads a stream.online or stream.offline event object; an
// event that is not an object, or a field of the wrong JSON type, is an
// invalid_payload error.
func ParseStreamEvent(event json.RawMessage) (StreamEvent, error) {
	if !isObject(event) {
		return StreamEvent{}, mgm.Errorf(mgm.CodeInvalidPayload, "event: expected an object")
	}
	var ev StreamEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return StreamEvent{}, typeError("event", err)
	}
	return ev, nil
}
