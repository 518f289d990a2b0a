package eventsub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const (
	testSecret = "s3cr3t-eventsub-secret"
	testID     = "e76c6bd4-55c9-4987-8304-da1588d8988b"
)

var testNow = time.Date(2023, 7, 19, 14, 56, 51, 634234626, time.UTC)

func TestSignKnownVector(t *testing.T) {
	body := []byte(`{"challenge":"pogchamp-kappa-360noscope-vohiyo"}`)
	ts := "2023-07-19T14:56:51.634234626Z"

	// Independently computed: HMAC-SHA256 over the concatenated message.
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(testID + ts + string(body)))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))

	if got := Sign(testSecret, testID, ts, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}

	// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
	got := Sign("Jefe", "what do ", "ya want ", []byte("for nothing?"))
	if got != "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("Sign(RFC 4231 #2) = %s", got)
	}
}

func signedHeaders(secret, id, ts string, body []byte) http.Header {
	h := http.Header{}
	h.Set(HeaderMessageID, id)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(secret, id, ts, body))
	h.Set(HeaderMessageType, TypeNotification)
	return h
}

func TestVerify(t *testing.T) {
	body := []byte(`{"subscription":{"type":"channel.chat.message"},"event":{"message_id":"m1"}}`)
	rfc := func(d time.Duration) string { return testNow.Add(d).Format(time.RFC3339Nano) }
	unix := func(d time.Duration) string { return strconv.FormatInt(testNow.Add(d).Unix(), 10) }

	tests := []struct {
		name   string
		secret string // verifier's secret; "" = testSecret
		hdr    func() http.Header
		body   []byte
		skew   time.Duration
		want   mgm.Code // "" = ok
	}{
		{name: "ok", hdr: func() http.Header { return signedHeaders(testSecret, testID, rfc(0), body) }},
		{name: "ok without fraction", hdr: func() http.Header {
			return signedHeaders(testSecret, testID, testNow.Truncate(time.Second).Format(time.RFC3339), body)
		}},
		{name: "ok with offset", hdr: func() http.Header {
			return signedHeaders(testSecret, testID, testNow.In(time.FixedZone("x", 2*3600)).Format(time.RFC3339Nano), body)
		}},
		{name: "non-canonical header keys", hdr: func() http.Header {
			ts := rfc(0)
			return http.Header{
				"twitch-eventsub-message-id":        {testID},
				"TWITCH-EVENTSUB-MESSAGE-TIMESTAMP": {ts},
				"twitch-eventsub-message-signature": {Sign(testSecret, testID, ts, body)},
			}
		}},
		{name: "missing id", hdr: func() http.Header {
			h := signedHeaders(testSecret, testID, rfc(0), body)
			h.Del(HeaderMessageID)
			return h
		}, want: mgm.CodeInvalidSignature},
		{name: "missing timestamp", hdr: func() http.Header {
			h := signedHeaders(testSecret, testID, rfc(0), body)
			h.Del(HeaderTimestamp)
			return h
		}, want: mgm.CodeInvalidSignature},
		{name: "missing signature", hdr: func() http.Header {
			h := signedHeaders(testSecret, testID, rfc(0), body)
			h.Del(HeaderSignature)
			return h
		}, want: mgm.CodeInvalidSignature},
		{name: "empty signature", hdr: func() http.Header {
			h := signedHeaders(testSecret, testID, rfc(0), body)
			h.Set(HeaderSignature, "")
			return h
		}, want: mgm.CodeInvalidSignature},
		{name: "no headers", hdr: func() http.Header { return http.Header{} }, want: mgm.CodeInvalidSignature},
		{name: "nil headers", hdr: func() http.Header { return nil }, want: mgm.CodeInvalidSignature},
		{name: "uppercase hex", hdr: func() http.Header {
			h := signedHeaders(testSecret, testID, rfc(0), body)
			sig := h.Get(HeaderSignature)
			h.Set(HeaderSignature, "sha256="+strings.ToUpper(strings.TrimPrefix(sig, "sha256=")))
			return h
		}, want: mgm.CodeInvalidSignature},
		{name: "missing sha256= prefix", hdr: func() http.Header {
			h := signedHeaders(testSecret, testID, rfc(0), body)
			h.Set(HeaderSignature, strings.TrimPrefix(h.Get(HeaderSignature), "sha256="))
			return h
		}, want: mgm.CodeInvalidSignature},
		{name: "wrong secret", hdr: func() http.Header { return signedHeaders("other-secret", testID, rfc(0), body) }, want: mgm.CodeInvalidSignature},
		{name: "empty verifier secret", secret: "-", hdr: func() http.Header { return signedHeaders("", testID, rfc(0), body) }, want: mgm.CodeInvalidSignature},
		{name: "tampered body", hdr: func() http.Header { return signedHeaders(testSecret, testID, rfc(0), body) },
			body: []byte(strings.Replace(string(body), "m1", "m2", 1)), want: mgm.CodeInvalidSignature},
		{name: "tampered id", hdr: func() http.Header {
			h := signedHeaders(testSecret, testID, rfc(0), body)
			h.Set(HeaderMessageID, "another-id")
			return h
		}, want: mgm.CodeInvalidSignature},
		{name: "9 min old", hdr: func() http.Header { return signedHeaders(testSecret, testID, rfc(-9*time.Minute), body) }},
		{name: "9 min ahead", hdr: func() http.Header { return signedHeaders(testSecret, testID, rfc(9*time.Minute), body) }},
		{name: "exactly 10 min old", hdr: func() http.Header { return signedHeaders(testSecret, testID, rfc(-10*time.Minute), body) }},
		{name: "11 min old", hdr: func() http.Header { return signedHeaders(testSecret, testID, rfc(-11*time.Minute), body) }, want: mgm.CodeStaleMessage},
		{name: "11 min ahead", hdr: func() http.Header { return signedHeaders(testSecret, testID, rfc(11*time.Minute), body) }, want: mgm.CodeStaleMessage},
		{name: "unix seconds ok", hdr: func() http.Header { return signedHeaders(testSecret, testID, unix(-time.Minute), body) }},
		{name: "unix seconds fractional ok", hdr: func() http.Header {
			return signedHeaders(testSecret, testID, unix(-time.Minute)+".25", body)
		}},
		{name: "unix seconds stale", hdr: func() http.Header { return signedHeaders(testSecret, testID, unix(-11*time.Minute), body) }, want: mgm.CodeStaleMessage},
		{name: "garbage timestamp", hdr: func() http.Header { return signedHeaders(testSecret, testID, "yesterday-ish", body) }, want: mgm.CodeStaleMessage},
		{name: "bad signature beats stale", hdr: func() http.Header {
			h := signedHeaders(testSecret, testID, rfc(-time.Hour), body)
			h.Set(HeaderSignature, "sha256=00")
			return h
		}, want: mgm.CodeInvalidSignature},
		{name: "bad signature beats garbage timestamp", hdr: func() http.Header {
			return signedHeaders("other-secret", testID, "garbage", body)
		}, want: mgm.CodeInvalidSignature},
		{name: "custom skew", skew: time.Minute, hdr: func() http.Header {
			return signedHeaders(testSecret, testID, rfc(-2*time.Minute), body)
		}, want: mgm.CodeStaleMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := testSecret
			if tt.secret == "-" {
				secret = ""
			}
			b := body
			if tt.body != nil {
				b = tt.body
			}
			skew := tt.skew
			if skew == 0 {
				skew = 10 * time.Minute
			}
			err := Verify(secret, tt.hdr(), b, testNow, skew)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !mgm.IsCode(err, tt.want) {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestVerifyDefaultSkew(t *testing.T) {
	body := []byte(`{}`)
	ok := signedHeaders(testSecret, testID, testNow.Add(-9*time.Minute).Format(time.RFC3339), body)
	if err := Verify(testSecret, ok, body, testNow, 0); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	stale := signedHeaders(testSecret, testID, testNow.Add(-11*time.Minute).Format(time.RFC3339), body)
	if err := Verify(testSecret, stale, body, testNow, 0); !mgm.IsCode(err, mgm.CodeStaleMessage) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2023-07-19T14:56:51.634234626Z", want: time.Date(2023, 7, 19, 14, 56, 51, 634234626, time.UTC)},
		{in: "2023-07-19T14:56:51Z", want: time.Date(2023, 7, 19, 14, 56, 51, 0, time.UTC)},
		{in: "2023-07-19T14:56:51.5Z", want: time.Date(2023, 7, 19, 14, 56, 51, 500000000, time.UTC)},
		{in: "2023-07-19T16:56:51+02:00", want: time.Date(2023, 7, 19, 14, 56, 51, 0, time.UTC)},
		{in: "2023-07-19T09:56:51.1234567-05:00", want: time.Date(2023, 7, 19, 14, 56, 51, 123456700, time.UTC)},
		{in: " 2023-07-19T14:56:51Z ", want: time.Date(2023, 7, 19, 14, 56, 51, 0, time.UTC)},
		{in: "1689778611", want: time.Date(2023, 7, 19, 14, 56, 51, 0, time.UTC)},
		{in: "1689778611.5", want: time.Date(2023, 7, 19, 14, 56, 51, 500000000, time.UTC)},
		{in: "1689778611.1234567891234", want: time.Date(2023, 7, 19, 14, 56, 51, 123456789, time.UTC)},
		{in: "0", want: time.Unix(0, 0)},
		{in: "", bad: true},
		{in: "   ", bad: true},
		{in: "garbage", bad: true},
		{in: "1689778611.", bad: true},
		{in: ".5", bad: true},
		{in: "-1689778611", bad: true},
		{in: "1e9", bad: true},
		{in: "99999999999999999999999", bad: true},
		{in: "2023-07-19", bad: true},
		{in: "2023-07-19 14:56:51", bad: true},
		{in: "2023-07-19T14:56:51", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in)
		if tt.bad {
			if !mgm.IsCode(err, mgm.CodeStaleMessage) {
				t.Errorf("ParseTimestamp(%q) = %v, %v; want stale_message error", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
