package ebs

import (
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
)

func load(t *testing.T, env map[string]string, args ...string) config.Config {
	t.Helper()
	c, err := config.Load(func(k string) string { return env[k] }, args)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBanner(t *testing.T) {
	b := &backend{
		cfg:          load(t, nil),
		store:        "SQLite /data/mgm.db",
		devPanel:     true,
		devPanelHint: "not built: cd extension && npm ci && npm run build",
		notes:        []string{"Desktop API key: in /data/desktop-api-key.txt", "EventSub: signatures NOT verified"},
	}
	var out strings.Builder
	b.banner(&out, "127.0.0.1:8080", "", 42*time.Millisecond)
	want := `Mimiron's Gold-o-Matic EBS dev — Development mode (nothing configured)
  Listening:  http://127.0.0.1:8080  (health: /healthz, ready: /readyz)
  Dev panel:  http://127.0.0.1:8080/dev/panel  (not built: cd extension && npm ci && npm run build)
  Store:      SQLite /data/mgm.db
  Desktop API key: in /data/desktop-api-key.txt
  EventSub: signatures NOT verified
  Gift queue: development broadcaster id "dev-channel" (Twitch__BroadcasterUserId not set)
  Ready in 42 ms. Ctrl+C stops.
`
	if out.String() != want {
		t.Errorf("banner =\n%s\nwant\n%s", out.String(), want)
	}

	// Explicit Development on every interface runs, with a warning; a
	// configured broadcaster id keeps Development and replaces the stand-in.
	b = &backend{cfg: load(t, map[string]string{"Mgm__Environment": "Development", "Twitch__BroadcasterUserId": "12345"}, "--listen", ":8080"), store: "SQLite /data/mgm.db"}
	out.Reset()
	b.banner(&out, "[::]:8080", "", 42*time.Millisecond)
	want = `Mimiron's Gold-o-Matic EBS dev — Development mode (Mgm__Environment=Development)
  WARNING: Development mode on :8080, which is not a loopback address: its conveniences (the public development JWT key, unsigned EventSub without a secret) are open to anyone who can reach it
  Listening:  http://localhost:8080  (health: /healthz, ready: /readyz)
  Store:      SQLite /data/mgm.db
  Ready in 42 ms. Ctrl+C stops.
`
	if out.String() != want {
		t.Errorf("banner =\n%s\nwant\n%s", out.String(), want)
	}

	b = &backend{cfg: load(t, map[string]string{
		"Twitch__ExtensionSecret": "k3J8Jf1w0H5m2Qe7sV9nXc4Lr6Tb1Ya8Zu0Pd2Og5Ei=", "Twitch__EventSubSecret": "q8Vt2mZr5Xw1",
		"Mgm__ApiKey": "Hq3v9Zt1Lr7Xw2Mb6Pe0Ky4Ns8", "Mgm__Listen": "10.0.0.5:8080",
	}), store: "PostgreSQL"}
	out.Reset()
	b.banner(&out, "10.0.0.5:8080", "1.2.3", time.Second)
	want = `Mimiron's Gold-o-Matic EBS 1.2.3 — Production mode (Mgm__ApiKey, Twitch__ExtensionSecret and Twitch__EventSubSecret are set)
  Listening:  http://10.0.0.5:8080  (health: /healthz, ready: /readyz)
  Store:      PostgreSQL
  Ready in 1000 ms. Ctrl+C stops.
`
	if out.String() != want {
		t.Errorf("banner =\n%s\nwant\n%s", out.String(), want)
	}
}
