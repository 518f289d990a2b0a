package eventsub

import "testing"

func FuzzParseEnvelopeAndChat(f *testing.F) {
	for _, seed := range []string{
		realChatNotification, notificationBody, challengeBody, revocationBody,
		``, `{}`, `[]`, `null`, `{"event":null}`, `{"event":"x"}`, `{"event":{"badges":"x"}}`,
		`{"event":{"message":"x"}}`, `{"event":{"badges":[null,{"set_id":"founder"}]}}`,
		`{"challenge":5}`, `{"subscription":{"status":"user_removed"}}`,
	} {
		for _, hdr := range []string{"", "notification", "revocation", "webhook_callback_verification", "weird"} {
			f.Add(hdr, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		env, err := ParseEnvelope(header, body)
		if err != nil {
			return
		}
		switch env.MessageType {
		case "", TypeNotification, TypeVerification, TypeRevocation:
		default:
			t.Fatalf("unexpected MessageType %q", env.MessageType)
		}
		if env.Event == nil {
			return
		}
		m, err := ParseChatMessage(env.Event)
		if err != nil {
			return
		}
		_ = m.IsSubscriber()
	})
}
