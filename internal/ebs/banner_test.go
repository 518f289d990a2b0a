package ebs

import (
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
)

func TestBanner(t *testing.T) {
	b := &backend{
		cfg:          config.Config{Environment: config.Development},
		store:        "SQLite /data/mgm.db",
		devPanel:     true,
		devPanelHint: "not built: cd extension && npm ci && npm run build",
		notes:        []string{"Desktop API key: in /data/desktop-api-key.txt", "EventSub: signatures NOT verified"},
	}
	var out strings.Builder
	b.banner(&out, "[::]:8080", "", 42*time.Millisecond)
	want := `Mimiron's Gold-o-Matic EBS dev — Development mode
  Listening:  http://localhost:8080  (health: /healthz, ready: /readyz, metrics: /metrics)
  Dev panel:  http://localhost:8080/dev/panel  (not built: cd extension && npm ci && npm run build)
  Store:      SQLite /data/mgm.db
  Desktop API key: in /data/desktop-api-key.txt
  EventSub: signatures NOT verified
  Ready in 42 ms. Ctrl+C stops.
`
	if out.String() != want {
		t.Errorf("banner =\n%s\nwant\n%s", out.String(), want)
	}

	b = &backend{cfg: config.Config{Environment: config.Production}, store: "PostgreSQL"}
	out.Reset()
	b.banner(&out, "10.0.0.5:8080", "1.2.3", time.Second)
	want = `Mimiron's Gold-o-Matic EBS 1.2.3 — Production mode
  Listening:  http://10.0.0.5:8080  (health: /healthz, ready: /readyz, metrics: /metrics)
  Store:      PostgreSQL
  Ready in 1000 ms. Ctrl+C stops.
`
	if out.String() != want {
		t.Errorf("banner =\n%s\nwant\n%s", out.String(), want)
	}
}
