package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
)

// benchHandler is the full handler (middleware included) over SQLite, with
// rate limits off so the benchmark measures the work, not the limiter's refusals.
func benchHandler(b *testing.B) (http.Handler, *app.Service) {
	b.Helper()
	cfg := defaultTestConfig()
	cfg.RateLimits.ViewerReads, cfg.RateLimits.ViewerWrites = 0, 0
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := app.New(db, app.Options{BroadcasterID: cfg.BroadcasterUserID})
	h := httpapi.New(httpapi.Deps{
		Service: svc, Config: cfg, APIKeys: auth.NewAPIKeys(cfg.APIKeys),
		Verifier: &auth.ViewerVerifier{Key: auth.DevExtensionSecret(), BroadcasterUserID: cfg.BroadcasterUserID},
	}).Handler()
	return h, svc
}

func benchToken(user string) string {
	return auth.SignViewerToken(auth.DevExtensionSecret(), auth.TokenClaims{UserID: user, ChannelID: testBroadcaster, Expires: time.Now().Add(time.Hour)})
}

// GET /api/roulette/state is what every viewer polls: it must not touch the database.
func BenchmarkRouletteState(b *testing.B) {
	h, svc := benchHandler(b)
	if err := svc.Tick(context.Background()); err != nil {
		b.Fatal(err)
	}
	tok := "Bearer " + benchToken("1001")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/api/roulette/state", nil)
			req.Header.Set("Authorization", tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

func BenchmarkPoolMe(b *testing.B) {
	h, _ := benchHandler(b)
	tok := "Bearer " + benchToken("1001")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/api/pool/me", nil)
			req.Header.Set("Authorization", tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// A signed chat enrollment: signature check, dedupe, the group commit, from
// many webhooks in flight at once as Twitch delivers a busy chat.
func BenchmarkEventSubEnrollment(b *testing.B) {
	h, _ := benchHandler(b)
	var next atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			id := fmt.Sprintf("bench-%d", i)
			body := []byte(fmt.Sprintf(`{"subscription":{"type":"channel.chat.message"},"event":{"message_id":%q,"broadcaster_user_id":"b1",`+
				`"chatter_user_id":"u%d","chatter_user_login":"u","chatter_user_name":"U","message":{"text":"!twgold Name%s"},"badges":[{"set_id":"subscriber"}]}}`,
				id, i, benchName(i)))
			ts := time.Now().UTC().Format(time.RFC3339Nano)
			req := httptest.NewRequest(http.MethodPost, "/api/twitch/eventsub", bytes.NewReader(body))
			req.Header.Set(eventsub.HeaderMessageID, id)
			req.Header.Set(eventsub.HeaderTimestamp, ts)
			req.Header.Set(eventsub.HeaderSignature, eventsub.Sign(testEventSubSecret, id, ts, body))
			req.Header.Set(eventsub.HeaderMessageType, eventsub.TypeNotification)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrollments/s")
}

// benchName spells i in base 26 so every enrollment has a fresh valid name.
func benchName(i int) string {
	s := ""
	for {
		s += string(rune('a' + i%26))
		i /= 26
		if i == 0 {
			return s
		}
	}
}
