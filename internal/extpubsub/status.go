package extpubsub

import (
	"fmt"
	"strings"
	"time"
)

// States of the push (Status.State).
const (
	StateOff         = "off"          // not configured: Missing says what to set
	StateStarting    = "starting"     // not yet asked for the lease
	StateStandby     = "standby"      // another replica pushes
	StatePushing     = "pushing"      // the last send was accepted (or none was due yet)
	StateFailing     = "failing"      // the last send failed: LastError says why and what to do
	StateRateLimited = "rate_limited" // Twitch answered 429: sending again after RateLimitedUntil
)

// Status is the push's condition as /readyz shows it under "extension_pubsub".
type Status struct {
	State string `json:"status"`
	// Detail says what is wrong and what to do ("" when all is well).
	Detail string `json:"detail,omitempty"`
	// Missing lists the settings to set when State is off.
	Missing       []string `json:"missing,omitempty"`
	Holder        bool     `json:"holder"`
	BroadcasterID string   `json:"broadcaster_id,omitempty"`
	// LastSeq and LastAcceptedAt are the last message Twitch accepted (204).
	LastSeq        int64     `json:"last_seq,omitempty"`
	LastAcceptedAt time.Time `json:"last_accepted_at,omitzero"`
	// Accepted and Failures count sends since start.
	Accepted         int64     `json:"accepted"`
	Failures         int64     `json:"failures"`
	LastError        *Failure  `json:"last_error,omitempty"`
	RateLimitedUntil time.Time `json:"rate_limited_until,omitzero"`
	// ViewerConfirmedSeq is the highest seq a viewer's panel reported
	// having received (X-Mgm-Push-Seq on its requests to this replica), and
	// ViewerConfirmedAt when it was first reported.
	ViewerConfirmedSeq int64     `json:"viewer_confirmed_seq,omitempty"`
	ViewerConfirmedAt  time.Time `json:"viewer_confirmed_at,omitzero"`
	// Delivery says in words whether pushes reach viewers.
	Delivery string `json:"delivery,omitempty"`
	// Since is when this process began pushing or standing by.
	Since time.Time `json:"since,omitzero"`
}

// Failure is the last send Twitch did not accept.
type Failure struct {
	At         time.Time `json:"at"`
	Reason     string    `json:"reason"`
	HTTPStatus int       `json:"http_status,omitempty"`
	Message    string    `json:"message,omitempty"`
	WhatToDo   string    `json:"what_to_do"`
}

// OffStatus is the status of a push that cannot run: missing names the
// settings to set.
func OffStatus(missing []string) Status {
	return Status{State: StateOff, Missing: missing,
		Detail: "the panel's push is off: set " + strings.Join(missing, ", ") + "; panels poll slowly meanwhile"}
}

// delivery is the viewers' side in words.
func delivery(st Status) string {
	switch {
	case !st.Holder:
		return ""
	case st.ViewerConfirmedSeq > 0:
		return fmt.Sprintf("push delivered to viewers: last seq %d at %s", st.ViewerConfirmedSeq,
			st.ViewerConfirmedAt.UTC().Format(time.RFC3339))
	default:
		return "no viewer has confirmed a push since " + st.Since.UTC().Format(time.RFC3339)
	}
}
