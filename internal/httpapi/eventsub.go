package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// handleEventSub is Twitch's webhook. It must never answer 5xx for anything
// Twitch sends (Twitch retries, then revokes the subscription), and it must
// be quick: an enrollment is one small transaction.
func (s *Server) handleEventSub(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, eventSubBodyLimit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.eventSubDone(w, r, "unknown", "too_large", mgm.Errorf(ebsapi.CodePayloadTooLarge, "The body is larger than %d bytes.", mbe.Limit))
			return
		}
		s.eventSubDone(w, r, "unknown", "read_error", mgm.Errorf(mgm.CodeInvalidPayload, "Could not read the body."))
		return
	}
	if s.cfg.EventSubSecret != "" {
		if err := eventsub.Verify(s.cfg.EventSubSecret, r.Header, body, s.now(), mgm.EventSubFreshness); err != nil {
			s.eventSubDone(w, r, "unknown", string(mgm.ErrorCode(err)), err)
			return
		}
	}
	env, err := eventsub.ParseEnvelope(r.Header.Get(eventsub.HeaderMessageType), body)
	if err != nil {
		s.eventSubDone(w, r, "unknown", "invalid_payload", err)
		return
	}
	deliveryID := r.Header.Get(eventsub.HeaderMessageID)

	if env.MessageType == eventsub.TypeVerification {
		if _, err := s.svc.RecordDelivery(r.Context(), deliveryID, env.MessageType); err != nil {
			s.eventSubDone(w, r, env.MessageType, "error", err)
			return
		}
		challenge := ""
		if env.Challenge != nil {
			challenge = *env.Challenge
		}
		// A redelivered verification gets the challenge again: answering is harmless
		// and it is what completes the handshake.
		s.metrics.EventSubMessage(env.MessageType, "challenge")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, challenge)
		return
	}
	outcome, err := s.ingest(r.Context(), deliveryID, env)
	msgType := env.MessageType
	if outcome == "ignored_type" && msgType == "" {
		msgType = "unknown"
	}
	s.eventSubDone(w, r, msgType, outcome, err)
}

// RevocationHandler hears of each revocation once (the first delivery of its
// message id), whichever transport brought it, so that the subscription can
// be re-created when the reason allows.
type RevocationHandler interface {
	Revoked(ctx context.Context, sub eventsub.Subscription)
}

// IngestEventSub processes a notification or revocation that arrived over
// another transport than the webhook (the EventSub WebSocket client): the
// same use cases, the same dedupe by message id, the same metrics. An error
// means the message was not processed (the database failed, or it is
// malformed); the caller cannot ask Twitch to redeliver, so it may retry.
func (s *Server) IngestEventSub(ctx context.Context, messageID string, env eventsub.Envelope) error {
	outcome, err := s.ingest(ctx, messageID, env)
	msgType := env.MessageType
	if msgType == "" || msgType == eventsub.TypeVerification {
		msgType = "unknown"
	}
	if err != nil && mgm.ErrorCode(err) == mgm.CodeInternal {
		s.log.ErrorContext(ctx, "eventsub message failed", "message_id", messageID, "error", err)
		outcome = "error"
	}
	s.metrics.EventSubMessage(msgType, outcome)
	return err
}

// ingest is the one path every EventSub notification and revocation takes,
// webhook or WebSocket: deduped by message id, enrolled once. It returns the
// outcome to count and, for a message not processed, the error.
func (s *Server) ingest(ctx context.Context, deliveryID string, env eventsub.Envelope) (string, error) {
	switch env.MessageType {
	case eventsub.TypeRevocation:
		fresh, err := s.svc.RecordDelivery(ctx, deliveryID, env.MessageType)
		if err != nil {
			return "error", err
		}
		if fresh && env.Subscription != nil {
			s.log.WarnContext(ctx, "Twitch revoked an EventSub subscription; what it delivers (chat, or the live status) stops until it is recreated",
				"subscription_type", env.Subscription.Type, "subscription_id", env.Subscription.ID, "reason", env.Subscription.Status)
			if s.revocations != nil {
				s.revocations.Revoked(ctx, *env.Subscription)
			}
		}
		return outcomeOf(fresh, "revoked"), nil

	case eventsub.TypeNotification:
		if env.Subscription != nil && (env.Subscription.Type == eventsub.StreamOnlineType || env.Subscription.Type == eventsub.StreamOfflineType) {
			ev, err := eventsub.ParseStreamEvent(env.Event)
			if err != nil {
				return "invalid_payload", err
			}
			outcome, err := s.svc.SetStreamLive(ctx, deliveryID, ev.BroadcasterUserID, env.Subscription.Type == eventsub.StreamOnlineType)
			return string(outcome), err
		}
		if env.Subscription == nil || env.Subscription.Type != "channel.chat.message" {
			fresh, err := s.svc.RecordDelivery(ctx, deliveryID, env.MessageType)
			return outcomeOf(fresh, "ignored_type"), err
		}
		msg, err := eventsub.ParseChatMessage(env.Event)
		if err != nil {
			return "invalid_payload", err
		}
		display := msg.ChatterUserName
		if display == "" {
			display = msg.ChatterUserLogin
		}
		outcome, err := s.svc.HandleChatMessage(ctx, app.ChatMessage{
			DeliveryID: deliveryID, MessageID: msg.MessageID, BroadcasterID: msg.BroadcasterUserID,
			Viewer: mgm.Viewer{UserID: msg.ChatterUserID, DisplayName: display},
			Text:   msg.Text, IsSubscriber: msg.IsSubscriber(), IsModerator: msg.IsModerator(),
		})
		if code := mgm.ErrorCode(err); err != nil && code != mgm.CodeInternal {
			outcome = app.Outcome(code) // refused as malformed: a 400, counted under its code
		}
		if err == nil && outcome != app.OutcomeDuplicate && outcome != app.OutcomeIgnored && !app.IsControlOutcome(outcome) {
			s.metrics.Enrollment("chat", string(outcome))
			s.log.DebugContext(ctx, "chat command", "outcome", outcome, "chatter_user_id", msg.ChatterUserID)
		}
		return string(outcome), err

	default:
		return "ignored_type", nil
	}
}

func outcomeOf(fresh bool, outcome string) string {
	if !fresh {
		return string(app.OutcomeDuplicate)
	}
	return outcome
}

// eventSubDone answers a delivery and counts it. Client mistakes get their
// 4xx; our own failures answer 503 rather than 500, because Twitch then
// retries later instead of counting the endpoint broken.
func (s *Server) eventSubDone(w http.ResponseWriter, r *http.Request, msgType, outcome string, err error) {
	if err != nil && mgm.ErrorCode(err) == mgm.CodeInternal {
		s.log.ErrorContext(r.Context(), "eventsub delivery failed", "request_id", requestID(r), "error", err)
		outcome = "error"
		err = mgm.Errorf(mgm.CodeUnavailable, "Temporarily unable to process the message; redeliver later.")
	}
	s.metrics.EventSubMessage(msgType, outcome)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
