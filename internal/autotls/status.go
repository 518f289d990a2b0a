package autotls

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
)

// State is where the certificate stands.
type State string

const (
	// StateObtaining: the first attempt has not ended yet.
	StateObtaining State = "obtaining"
	// StateObtained: a certificate is served (Error may say its renewal failed).
	StateObtained State = "obtained"
	// StateFailed: no certificate yet; Error and Hint say why and what to do.
	StateFailed State = "failed"
)

// Status is the certificate's state as /readyz shows it.
type Status struct {
	Domain      string     `json:"domain"`
	State       State      `json:"state"`
	NotAfter    *time.Time `json:"not_after,omitempty"`
	Issuer      string     `json:"issuer,omitempty"`
	Serial      string     `json:"serial,omitempty"`
	LastAttempt *time.Time `json:"last_attempt,omitempty"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	// Error is the last attempt's failure; Hint what the operator can do.
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

// Status is a copy of the current state.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// describe turns an attempt's failure into the error and the advice the
// operator sees. challenges are the CA's own words about each challenge.
func describe(err error, challenges []string, cfg Config) (msg, hint string) {
	msg = err.Error()
	if len(challenges) > 0 {
		msg += "; the CA's checks: " + strings.Join(challenges, "; ")
	}
	var acmeErr *acme.Error
	var urlErr *url.Error
	var netErr net.Error
	var unknownCA x509.UnknownAuthorityError
	switch {
	case errors.Is(err, errNoCertificate):
		hint = ""
	case isRateLimit(err):
		hint = "The CA is rate limiting this domain or account (Let's Encrypt: https://letsencrypt.org/docs/rate-limits/). " +
			"The EBS tries again by itself, less and less often; restarting it does not help. Try a setup out with " +
			"Mgm__AcmeDirectoryUrl set to Let's Encrypt's staging CA first."
	case len(challenges) > 0 || strings.Contains(msg, "no viable challenge"):
		hint = fmt.Sprintf("The CA could not confirm that %[1]s is this server. Check that the DNS A (and AAAA, if any) "+
			"records of %[1]s point at this server's public address, and that ports 80 (HTTP-01) and 443 (TLS-ALPN-01) "+
			"reach the EBS from the internet: firewall, cloud security group, router port forwarding. The EBS tries again by itself.", cfg.Domain)
	case errors.As(err, &unknownCA):
		hint = "The ACME server's TLS certificate is not trusted: for a private CA, give its root in Mgm__AcmeCaRoots."
	case errors.As(err, &acmeErr):
		hint = "The CA refused the request. Check that Mgm__TlsDomain is a public name this CA may issue for " +
			"(CAA records in its DNS must allow the CA) and that Mgm__AcmeEmail, if set, is a real address."
	case errors.As(err, &urlErr), errors.As(err, &netErr):
		hint = fmt.Sprintf("Could not talk to the ACME CA at %s: check this server's outbound HTTPS (DNS, firewall, proxy) "+
			"and Mgm__AcmeDirectoryUrl. The EBS tries again by itself.", cfg.DirectoryURL)
	default:
		hint = "The EBS tries again by itself; the error above says what failed."
	}
	return msg, hint
}

func isRateLimit(err error) bool {
	_, ok := acme.RateLimit(err)
	return ok
}

// maxAnswer bounds an answer from the CA (they are a few kilobytes).
const maxAnswer = 1 << 20

// watcher is the ACME client's transport: it ends requests when Run ends and
// notes the CA's verdicts on challenges, which autocert does not pass on.
type watcher struct{ m *Manager }

func (w *watcher) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	defer context.AfterFunc(w.m.stopped, cancel)()
	resp, err := w.m.transport.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	// Read while the request's context lives; the caller gets the bytes.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	_ = resp.Body.Close() // fully read or failed: the read error is the one that matters
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		w.m.noteChallenges(body)
	}
	return resp, nil
}

// noteChallenges records the errors of invalid challenges in an
// authorization the CA sent.
func (m *Manager) noteChallenges(body []byte) {
	var authz struct {
		Challenges []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Error  *struct {
				Detail string `json:"detail"`
			} `json:"error"`
		} `json:"challenges"`
	}
	if json.Unmarshal(body, &authz) != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range authz.Challenges {
		if c.Status != "invalid" || c.Error == nil {
			continue
		}
		if note := c.Type + ": " + c.Error.Detail; !slices.Contains(m.challenges, note) {
			m.challenges = append(m.challenges, note)
		}
	}
}
