package ebs_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// productionEnv is a complete Production configuration with strong secrets.
func productionEnv(t *testing.T) map[string]string {
	return map[string]string{
		"Mgm__Environment":          "Production",
		"Mgm__DataDir":              t.TempDir(),
		"Mgm__ApiKey":               "prod-desktop-key-7f3a9c1e5b2d4f6a8c0e",
		"Twitch__ExtensionSecret":   base64.StdEncoding.EncodeToString([]byte("a 32-byte extension secret: k9Qz")),
		"Twitch__EventSubSecret":    eventSubSecret,
		"Twitch__BroadcasterUserId": "b1",
	}
}

// In Production /metrics is not on the main listener by default; with
// Mgm__MetricsListen it is served on its own listener, which the banner names.
func TestProductionMetricsOnTheirOwnListener(t *testing.T) {
	env := productionEnv(t)
	r := start(t, env)
	if status, body := get(t, r.base+"/metrics", ""); status != http.StatusNotFound || strings.Contains(body, "mgm_") {
		t.Fatalf("Production main /metrics without settings: %d %.200s", status, body)
	}
	if !strings.Contains(r.out.String(), "Metrics:    /metrics on the main listener is not served") {
		t.Errorf("banner does not say /metrics is not served:\n%s", r.out)
	}

	env = productionEnv(t)
	env["Mgm__MetricsListen"] = "127.0.0.1:0"
	r = start(t, env)
	m := regexp.MustCompile(`Metrics:    (http://\S+)/metrics \(own listener\)`).FindStringSubmatch(r.out.String())
	if m == nil {
		t.Fatalf("banner does not name the metrics listener:\n%s", r.out)
	}
	get(t, r.base+"/api/version", "")
	if status, _ := get(t, r.base+"/metrics", ""); status != http.StatusNotFound {
		t.Errorf("main /metrics with a metrics listener: %d, want 404", status)
	}
	if status, body := get(t, m[1]+"/metrics", ""); status != http.StatusOK || !strings.Contains(body, "mgm_http_requests_total") {
		t.Errorf("metrics listener /metrics: %d %.200s", status, body)
	}
	if status, _ := get(t, m[1]+"/api/version", ""); status != http.StatusNotFound {
		t.Errorf("metrics listener serves the API: %d", status)
	}
}

// The assembled EBS serves on the wrapped listener: net/http's own answers
// (here 431) are in the error shape with a request id.
func TestServerWrittenAnswerShapedInEBS(t *testing.T) {
	r := start(t, baseEnv(t))
	c, err := net.Dial("tcp", strings.TrimPrefix(r.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /api/version HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || resp.Header.Get("X-Request-Id") == "" ||
		!strings.HasPrefix(string(body), `{"code":"headers_too_large",`) {
		t.Fatalf("431: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}
