package autotls_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/autotls/acmetest"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
)

const domain = "ebs.example.com"

// The EBS gets a certificate from the ACME test server by HTTP-01 on its
// plain listener, serves /healthz over HTTPS with it (HSTS included),
// redirects plain HTTP to HTTPS, keeps the certificate in <data>/acme and
// reports it in /readyz.
func TestHTTPSByHTTP01(t *testing.T) {
	ca := acmetest.New(t)
	data := t.TempDir()
	e := ebstest.Start(t, ebstest.SQLite, map[string]string{"Mgm__DataDir": data,
		"Mgm__TlsDomain": domain, "Mgm__AcmeDirectoryUrl": ca.DirectoryURL, "Mgm__AcmeCaRoots": ca.RootsFile})
	// TLS-ALPN-01 is sent to a closed port: only HTTP-01 can succeed.
	ca.Serve(t, port(t, e.HTTPAddr), closedPort(t))
	client := clientFor(ca.Roots())

	resp := waitHTTPS(t, client, "https://"+net.JoinHostPort(domain, port(t, e.URL))+"/healthz")
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("Strict-Transport-Security %q, want max-age=…", got)
	}
	leaf := resp.TLS.PeerCertificates[0]
	if !slices.Contains(leaf.DNSNames, domain) {
		t.Errorf("certificate names %v, want %s", leaf.DNSNames, domain)
	}
	if len(resp.TLS.VerifiedChains) == 0 {
		t.Error("the certificate was not verified against the test CA's root")
	}

	st := readyTLS(t, client, "https://"+net.JoinHostPort(domain, port(t, e.URL))+"/readyz")
	if st.State != "obtained" || st.NotAfter == nil || !st.NotAfter.Equal(leaf.NotAfter) || st.Error != "" {
		t.Errorf("/readyz tls = %+v, want obtained until %s", st, leaf.NotAfter)
	}

	// Plain HTTP: browsers are sent to HTTPS, other methods refused.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	plain := "http://" + e.HTTPAddr
	r, err := noFollow.Get(plain + "/api/roulette/state?x=1")
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Body.Close()
	want := "https://" + net.JoinHostPort(domain, port(t, e.URL)) + "/api/roulette/state?x=1"
	if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != want {
		t.Errorf("GET over HTTP: %d to %q, want 301 to %q", r.StatusCode, r.Header.Get("Location"), want)
	}
	r, err = noFollow.Post(plain+"/api/payouts/claim", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "https_required") {
		t.Errorf("POST over HTTP: %d %s, want 400 https_required", r.StatusCode, body)
	}

	for _, line := range []string{"Listening:  https://" + domain + "  ", "HTTPS:      " + domain + " on ", "Certificate: from " + ca.DirectoryURL} {
		if !strings.Contains(e.Output(), line) {
			t.Errorf("the banner has no %q:\n%s", line, e.Output())
		}
	}

	dir := filepath.Join(data, "acme")
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("certificate cache %s: %v %v, want a 0700 folder", dir, fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, domain)); err != nil {
		t.Errorf("the certificate is not in the cache: %v", err)
	}
}

// TLS-ALPN-01 on the HTTPS listener also proves the domain, and a restart
// on the same data folder serves the cached certificate without an order.
func TestHTTPSByTLSALPN01AndRestart(t *testing.T) {
	ca := acmetest.New(t)
	data := t.TempDir()
	env := map[string]string{"Mgm__DataDir": data,
		"Mgm__TlsDomain": domain, "Mgm__AcmeDirectoryUrl": ca.DirectoryURL, "Mgm__AcmeCaRoots": ca.RootsFile}
	var client *http.Client
	var serial string
	t.Run("first", func(t *testing.T) {
		e := ebstest.Start(t, ebstest.SQLite, env)
		ca.Serve(t, closedPort(t), port(t, e.URL))
		client = clientFor(ca.Roots())
		resp := waitHTTPS(t, client, "https://"+net.JoinHostPort(domain, port(t, e.URL))+"/healthz")
		serial = resp.TLS.PeerCertificates[0].SerialNumber.String()
	})
	if t.Failed() {
		return
	}
	orders := ca.Orders()
	t.Run("restart", func(t *testing.T) {
		e := ebstest.Start(t, ebstest.SQLite, env)
		resp := waitHTTPS(t, client, "https://"+net.JoinHostPort(domain, port(t, e.URL))+"/healthz")
		if got := resp.TLS.PeerCertificates[0].SerialNumber.String(); got != serial {
			t.Errorf("after a restart serial %s, want the cached %s", got, serial)
		}
	})
	if ca.Orders() != orders {
		t.Errorf("the restart made %d orders, want none", ca.Orders()-orders)
	}
}

// Replicas on one PostgreSQL database make one order between them and serve
// the same certificate. The CA reaches only the first replica; whichever one
// orders, the other answers the challenge from the shared cache.
func TestHTTPSReplicasShareOneCertificate(t *testing.T) {
	ca := acmetest.New(t)
	env := map[string]string{"ConnectionStrings__PostgreSQL": pgtest.NewDatabase(t),
		"Mgm__TlsDomain": domain, "Mgm__AcmeDirectoryUrl": ca.DirectoryURL, "Mgm__AcmeCaRoots": ca.RootsFile}
	a := ebstest.Start(t, ebstest.Postgres, env)
	b := ebstest.Start(t, ebstest.Postgres, env)
	ca.Serve(t, port(t, a.HTTPAddr), port(t, a.URL))
	client := clientFor(ca.Roots())
	var serials []string
	for _, e := range []*ebstest.EBS{a, b} {
		resp := waitHTTPS(t, client, "https://"+net.JoinHostPort(domain, port(t, e.URL))+"/healthz")
		serials = append(serials, resp.TLS.PeerCertificates[0].SerialNumber.String())
	}
	if serials[0] != serials[1] {
		t.Errorf("replicas serve certificates %s and %s, want one", serials[0], serials[1])
	}
	if n := ca.Orders(); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

// When the CA cannot reach the server, /readyz — over plain HTTP, since
// there is no certificate for HTTPS — says what failed and what to check.
func TestHTTPSFailureReported(t *testing.T) {
	ca := acmetest.New(t)
	e := ebstest.Start(t, ebstest.SQLite, map[string]string{
		"Mgm__TlsDomain": domain, "Mgm__AcmeDirectoryUrl": ca.DirectoryURL, "Mgm__AcmeCaRoots": ca.RootsFile})
	ca.Serve(t, closedPort(t), closedPort(t))
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := readyTLS(t, http.DefaultClient, "http://"+e.HTTPAddr+"/readyz")
		if st.State == "failed" {
			if !strings.Contains(st.Error, "http-01") || !strings.Contains(st.Hint, "DNS") || !strings.Contains(st.Hint, "port") ||
				st.NextAttempt == nil {
				t.Errorf("/readyz tls = %+v; want the CA's verdict on http-01, a hint about DNS and ports, and the next attempt", st)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz tls still %+v after 20 s, want failed", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type tlsStatus struct {
	State       string     `json:"state"`
	NotAfter    *time.Time `json:"not_after"`
	NextAttempt *time.Time `json:"next_attempt"`
	Error       string     `json:"error"`
	Hint        string     `json:"hint"`
}

func readyTLS(t *testing.T, client *http.Client, url string) tlsStatus {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		TLS *tlsStatus `json:"tls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.TLS == nil {
		t.Fatalf("%s: %d, tls %v, %v", url, resp.StatusCode, body.TLS, err)
	}
	return *body.TLS
}

// waitHTTPS gets url until it answers 200, which it does once the
// certificate is there (until then the handshake fails).
func waitHTTPS(t *testing.T, client *http.Client, url string) *http.Response {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", url, resp.StatusCode)
			}
			return resp
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no certificate after 20 s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clientFor trusts only roots and reaches every name at 127.0.0.1, keeping
// the port: the test domain is served on loopback.
func clientFor(roots *x509.CertPool) *http.Client {
	var d net.Dialer
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, p, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", p))
		},
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func port(t *testing.T, addrOrURL string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(addrOrURL, "https://"), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close()
	return p
}
