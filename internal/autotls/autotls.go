// Package autotls is the EBS's built-in HTTPS: a certificate for one domain
// from an ACME CA (Let's Encrypt by default) through autocert, the HTTPS and
// plain-HTTP handlers around it, and the certificate's state for /readyz.
//
// The certificate is obtained by Run, at start and then on a backoff after
// failures, never by a TLS handshake: a public server is probed by scanners
// all day, and each failed validation they triggered would count against the
// CA's rate limits. Once a certificate exists, autocert serves and renews it.
package autotls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/mimirons-goldomatic/mgm/internal/retry"
)

// Leaser is the database's named lease (store.DB): replicas sharing a
// certificate cache take turns ordering under it.
type Leaser interface {
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	RenewLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Config is what a Manager needs.
type Config struct {
	// Domain is the one name certificates are obtained and served for.
	Domain       string
	DirectoryURL string
	// Email is given to the CA as the account's contact; "" = none.
	Email string
	// RootCAs verify the ACME server; nil = the system's roots.
	RootCAs *x509.CertPool
	// Cache keeps the CA account key, the certificate and open challenge
	// answers: autocert.DirCache on one machine, DBCache across replicas.
	Cache autocert.Cache
	// Lease, when set, makes the replicas sharing Cache order one at a
	// time, so that the first one's certificate serves them all. Holder
	// names this replica in it.
	Lease  Leaser
	Holder string
	Logger *slog.Logger
	Now    func() time.Time
	// Backoff is the wait after the n-th failed attempt in a row (n ≥ 1);
	// nil = 5 minutes, doubling, at most an hour.
	Backoff func(n int) time.Duration
}

// leaseTTL bounds how long a replica that died while ordering keeps the
// others waiting; the holder renews at a third of it.
const leaseTTL = 30 * time.Second

// checkEvery is how often Run looks at the certificate once it has one, so
// that the state shows a renewal (autocert renews 30 days before expiry).
const checkEvery = time.Hour

// Manager obtains, serves and reports the certificate.
type Manager struct {
	cfg Config
	ac  *autocert.Manager
	// transport talks to the CA; stopped ends its requests when Run ends,
	// since autocert gives its own work a detached five-minute context.
	transport *http.Transport
	stopped   context.Context
	stop      context.CancelFunc
	// obtained is set once a certificate is in hand; handshakes are served
	// by autocert from then on.
	obtained atomic.Bool

	mu     sync.Mutex
	status Status
	// challenges are the CA's verdicts on this attempt's challenges, seen
	// in its answers: autocert reports only that none worked.
	challenges []string
}

// New prepares a Manager; Run obtains the certificate.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff == nil {
		cfg.Backoff = defaultBackoff
	}
	m := &Manager{cfg: cfg, status: Status{Domain: cfg.Domain, State: StateObtaining}}
	m.stopped, m.stop = context.WithCancel(context.Background())
	m.transport = http.DefaultTransport.(*http.Transport).Clone()
	m.transport.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	m.ac = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cfg.Cache,
		HostPolicy: m.hostPolicy,
		Email:      cfg.Email,
		Client: &acme.Client{
			DirectoryURL: cfg.DirectoryURL,
			UserAgent:    "mgm-ebs",
			HTTPClient:   &http.Client{Transport: &watcher{m: m}, Timeout: time.Minute},
		},
	}
	return m
}

func defaultBackoff(n int) time.Duration {
	d := 5 * time.Minute
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// hostPolicy allows exactly the configured domain. A CA's HTTP-01 request
// names it with the port when the listener is not on 80 (tests).
func (m *Manager) hostPolicy(_ context.Context, host string) error {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !strings.EqualFold(strings.TrimSuffix(host, "."), m.cfg.Domain) {
		return fmt.Errorf("autotls: %q is not %s", host, m.cfg.Domain)
	}
	return nil
}

// TLSConfig is the HTTPS listener's configuration: the certificate, and
// TLS-ALPN-01 challenges answered during the handshake. It offers HTTP/1.1
// only: the EBS wraps each connection to shape net/http's own answers
// (httpapi.Listener), which hides the TLS connection from net/http's HTTP/2
// negotiation, so h2 must not be agreed.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: m.getCertificate,
		NextProtos:     []string{"http/1.1", acme.ALPNProto},
	}
}

var errNoCertificate = errors.New("autotls: no certificate yet (see /readyz)")

func (m *Manager) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if m.obtained.Load() || isChallenge(hello) {
		return m.ac.GetCertificate(hello)
	}
	return nil, errNoCertificate
}

// isChallenge is a CA's TLS-ALPN-01 handshake (autocert's own test).
func isChallenge(hello *tls.ClientHelloInfo) bool {
	return len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto
}

// Run obtains the certificate, retrying failures on the backoff, then
// checks it hourly, until ctx ends. Requests to the CA still running then
// are cut.
func (m *Manager) Run(ctx context.Context) {
	defer m.transport.CloseIdleConnections()
	defer context.AfterFunc(ctx, m.stop)()
	failures := 0
	for {
		m.attempt(ctx)
		wait := checkEvery
		if st := m.Status(); st.Error != "" {
			failures++
			wait = m.cfg.Backoff(failures)
		} else {
			failures = 0
		}
		next := m.cfg.Now().Add(wait)
		m.mu.Lock()
		m.status.NextAttempt = &next
		m.mu.Unlock()
		if retry.Sleep(ctx, wait) != nil {
			return
		}
	}
}

// attempt gets the certificate from memory, the cache or the CA, and
// records the outcome.
func (m *Manager) attempt(ctx context.Context) {
	now := m.cfg.Now()
	m.mu.Lock()
	m.status.LastAttempt, m.status.NextAttempt = &now, nil
	m.challenges = nil
	m.mu.Unlock()

	cert, err := m.obtain(ctx)
	if ctx.Err() != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.status.Error, m.status.Hint = describe(err, m.challenges, m.cfg)
		if m.status.NotAfter == nil {
			m.status.State = StateFailed
		}
		m.cfg.Logger.Warn("could not obtain the TLS certificate", "domain", m.cfg.Domain, "error", m.status.Error)
		return
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			m.status.Error, m.status.Hint = err.Error(), ""
			return
		}
	}
	renewed := m.status.NotAfter == nil || !m.status.NotAfter.Equal(leaf.NotAfter)
	notAfter := leaf.NotAfter
	m.status.State, m.status.Error, m.status.Hint = StateObtained, "", ""
	m.status.NotAfter, m.status.Issuer, m.status.Serial = &notAfter, leaf.Issuer.CommonName, leaf.SerialNumber.Text(16)
	m.obtained.Store(true)
	if renewed {
		m.cfg.Logger.Info("TLS certificate in use", "domain", m.cfg.Domain, "not_after", notAfter, "issuer", leaf.Issuer.CommonName)
	}
}

// obtain asks autocert as a handshake for the domain would, with ECDSA, under
// the lease when replicas share the cache: the cache is read first, so a
// replica that waited finds the certificate another one just obtained.
func (m *Manager) obtain(ctx context.Context) (*tls.Certificate, error) {
	if m.cfg.Lease != nil {
		release, err := m.lock(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	return m.ac.GetCertificate(&tls.ClientHelloInfo{
		ServerName:   m.cfg.Domain,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	})
}

// lock waits for the domain's lease and keeps it renewed until release.
func (m *Manager) lock(ctx context.Context) (release func(), err error) {
	name := "acme:" + m.cfg.Domain
	for {
		now := m.cfg.Now()
		ok, err := m.cfg.Lease.AcquireLease(ctx, name, m.cfg.Holder, now, now.Add(leaseTTL))
		if err != nil {
			return nil, fmt.Errorf("take the certificate lease: %w", err)
		}
		if ok {
			break
		}
		// Another replica is ordering; its certificate will be in the cache.
		if err := retry.Sleep(ctx, time.Second); err != nil {
			return nil, err
		}
	}
	rctx, stopRenewing := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for retry.Sleep(rctx, leaseTTL/3) == nil {
			now := m.cfg.Now()
			if _, err := m.cfg.Lease.RenewLease(rctx, name, m.cfg.Holder, now, now.Add(leaseTTL)); err != nil && rctx.Err() == nil {
				m.cfg.Logger.Warn("could not renew the certificate lease", "error", err)
			}
		}
	}()
	return func() {
		stopRenewing()
		<-done
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := m.cfg.Lease.ReleaseLease(ctx, name, m.cfg.Holder); err != nil {
			m.cfg.Logger.Warn("could not release the certificate lease; it expires by itself", "error", err)
		}
	}, nil
}

// LoadRoots is the system's roots plus the certificates in the PEM file at path.
func LoadRoots(path string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the ACME CA roots: %w", err)
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// Listener serves TLS on ln with TLSConfig. A failed handshake (a scanner
// without the domain's name, a client that distrusts the certificate, no
// certificate yet) ends its connection as if the client had closed it:
// net/http would otherwise answer it with a 400 that cannot be delivered,
// and the EBS would log and count a malformed request that never came.
func (m *Manager) Listener(ln net.Listener) net.Listener {
	return &tlsListener{Listener: ln, cfg: m.TLSConfig(), log: m.cfg.Logger}
}

type tlsListener struct {
	net.Listener
	cfg *tls.Config
	log *slog.Logger
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &quietConn{Conn: tls.Server(c, l.cfg), log: l.log}, nil
}

// quietConn handshakes on its first read, under the deadline net/http set
// for reading the request.
type quietConn struct {
	*tls.Conn
	log *slog.Logger
}

func (c *quietConn) Read(p []byte) (int, error) {
	// After the first call Handshake only returns the first call's result.
	if err := c.Handshake(); err != nil {
		c.log.Debug("TLS handshake failed", "remote", c.RemoteAddr().String(), "error", err)
		return 0, io.EOF
	}
	return c.Conn.Read(p)
}
