// Package acmetest runs Pebble, Let's Encrypt's ACME test server, in-process
// for tests: its CA, validation authority and front end as a library, with a
// DNS server of its own that sends every name to 127.0.0.1, so a test domain
// such as ebs.example.com is validated against the EBS's loopback listeners.
//
// A CA is created listening but not yet serving (New), so that its directory
// URL can be given to an EBS whose ports are not known yet; Serve starts it
// once they are, with the validation authority pointed at them. An ACME
// client that called early waits in the listen queue meanwhile.
package acmetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
	"go.uber.org/goleak"

	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// IgnoreLeaks is for TestMain (testkit.VerifyNoLeaks): Pebble's validation
// authority runs a task loop that never ends.
var IgnoreLeaks = goleak.IgnoreTopFunction("github.com/letsencrypt/pebble/v2/va.VAImpl.processTasks")

// CA is one Pebble instance.
type CA struct {
	// DirectoryURL is the ACME directory (Mgm__AcmeDirectoryUrl).
	DirectoryURL string
	// RootsFile is a PEM file with the certificate the directory is served
	// with (Mgm__AcmeCaRoots).
	RootsFile string

	srv    *httptest.Server
	pebble *ca.CAImpl
	orders atomic.Int64
}

// New opens the CA's listener on loopback; Serve starts it.
func New(t testing.TB) *CA {
	t.Helper()
	// Pebble rejects a share of good nonces and sleeps up to 5 s before
	// each validation by default, to keep clients honest; a test wants it
	// fast and the same every run. Both are read from the environment.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	srv := httptest.NewUnstartedServer(nil)
	cert, pemBytes := serverCert(t)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	roots := filepath.Join(t.TempDir(), "acme-directory-root.pem")
	if err := os.WriteFile(roots, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &CA{DirectoryURL: "https://" + srv.Listener.Addr().String() + wfe.DirectoryPath, RootsFile: roots, srv: srv}
	t.Cleanup(srv.Close)
	return c
}

// Serve starts the CA. Its validation authority connects to httpPort for
// HTTP-01 and tlsPort for TLS-ALPN-01 (a closed port fails that challenge),
// at 127.0.0.1 whatever the name.
func (c *CA) Serve(t testing.TB, httpPort, tlsPort string) {
	t.Helper()
	// Pebble's log is long; it is shown only when the test failed.
	var out testkit.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Pebble's log:\n%s", out.String())
		}
	})
	logger := log.New(&out, "pebble ", log.Lmicroseconds)
	resolver := dnsServer(t)
	store := db.NewMemoryStore()
	c.pebble = ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "the default profile"}})
	v := va.New(logger, atoi(t, httpPort), atoi(t, tlsPort), false, resolver, store)
	front := wfe.New(logger, store, v, c.pebble, []string{"pebble.letsencrypt.org"}, false, false, 1, 1)
	h := front.Handler()
	c.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/order-plz") {
			c.orders.Add(1)
		}
		h.ServeHTTP(w, r)
	})
	c.srv.StartTLS()
}

// Orders counts the orders clients created (ACME newOrder requests).
func (c *CA) Orders() int { return int(c.orders.Load()) }

// Roots holds the root the CA issues under, for a client of the server
// that got a certificate.
func (c *CA) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.pebble.GetRootCert(0).Cert)
	return p
}

// serverCert is a self-signed certificate for 127.0.0.1, and its PEM.
func serverCert(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "acmetest directory"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// dnsServer answers every A question with 127.0.0.1 and every other with
// nothing (no AAAA, no CAA: issuance allowed), over TCP as Pebble asks.
func dnsServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		a := new(dns.Msg)
		a.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				a.Answer = append(a.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		_ = w.WriteMsg(a) // the resolver retries or fails the validation, which the test sees
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }() // ends with Shutdown
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

func atoi(t testing.TB, port string) int {
	t.Helper()
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("port %q: %v", port, err)
	}
	return n
}
