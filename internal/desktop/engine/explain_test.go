package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// wrapped fails the way ebsclient wraps transport errors.
func wrapped(err error) error { return fmt.Errorf("ebsclient: GET /api/payouts/pending: %w", err) }

func TestExplainEBSSaysWhatIsWrongInSentences(t *testing.T) {
	const base = "http://127.0.0.1:8080"
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	timeout := &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"refused", wrapped(dial), "The EBS at http://127.0.0.1:8080 is not reachable (connection refused). Check the EBS URL in Settings and that the EBS is running."},
		{"dns", wrapped(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ebs.exmaple.com", IsNotFound: true}}),
			`The EBS at http://127.0.0.1:8080 cannot be found: the name "ebs.exmaple.com" does not resolve. Check the EBS URL in Settings for a typo.`},
		{"dial timeout", wrapped(timeout), "The EBS at http://127.0.0.1:8080 did not answer in time. Check the EBS URL in Settings and that the EBS is running. The Desktop keeps trying."},
		{"context deadline", wrapped(context.DeadlineExceeded), "did not answer in time"},
		{"cancelled", wrapped(context.Canceled), "The request to the EBS was cancelled"},
		{"unknown CA", wrapped(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), "did not present a certificate this computer trusts"},
		{"wrong host", wrapped(x509.HostnameError{Host: "x"}), "the host name must match the certificate"},
		{"plain http port", wrapped(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "it probably starts with http:// rather than https://"},
		{"reset", wrapped(os.NewSyscallError("read", syscall.ECONNRESET)), "closed the connection without answering"},
		{"403 code", &ebsclient.Error{Status: 403, Code: mgm.CodeForbiddenAPIKey, Message: "bad key"}, "The EBS refused the API key (403). Copy the Desktop API key again"},
		{"403 bare", &ebsclient.Error{Status: 403}, "The EBS refused the API key (403)."},
		{"401", &ebsclient.Error{Status: 401, Code: mgm.CodeUnauthorized}, "The EBS wants the Desktop API key (401). Enter it in Settings."},
		{"503", &ebsclient.Error{Status: 503, Code: mgm.CodeUnavailable, Message: "database unavailable."},
			"The EBS at http://127.0.0.1:8080 has a problem of its own (HTTP 503 (database unavailable)). Look at the EBS's log; the Desktop keeps trying."},
		{"502 proxy", &ebsclient.Error{Status: 502}, "has a problem of its own (HTTP 502)"},
		{"429", &ebsclient.Error{Status: 429}, "asks the Desktop to slow down"},
		{"terminal", &ebsclient.Error{Status: 409, Code: mgm.CodeTerminalStatusChange, Message: "payout is Sent"},
			"This payout is already finished (Sent, Failed or Cancelled) on the EBS, so it cannot change any more (payout is Sent)."},
		{"invalid state", &ebsclient.Error{Status: 409, Code: mgm.CodeInvalidState}, "no longer in the state this action needs. Press Refresh"},
		{"not found code", &ebsclient.Error{Status: 404, Code: mgm.CodeNotFound}, "The EBS does not know this payout or request. Press Refresh"},
		{"404 other server", &ebsclient.Error{Status: 404}, "points at another web server"},
		{"other code", &ebsclient.Error{Status: 400, Code: mgm.CodeInvalidPayload, Message: "status is required"}, "The EBS refused the request: invalid_payload (status is required)."},
		{"not configured", ErrNotConfigured, "The EBS is not configured yet"},
		{"joined, said once", errors.Join(wrapped(dial), wrapped(dial), &ebsclient.Error{Status: 503}),
			"The EBS at http://127.0.0.1:8080 is not reachable (connection refused). Check the EBS URL in Settings and that the EBS is running. The EBS at http://127.0.0.1:8080 has a problem of its own (HTTP 503). Look at the EBS's log; the Desktop keeps trying."},
		{"unknown passes through", errors.New("something else"), "something else"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ExplainEBS(base, c.err)
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
			if got != "" && (strings.Contains(got, "dial tcp") || strings.Contains(got, "ebsclient:")) {
				t.Fatalf("raw Go error leaked: %q", got)
			}
		})
	}
}

// The same words for what the real client returns on a real loopback socket.
func TestExplainEBSOnRealFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-MGM-ApiKey") != "right" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			fmt.Fprint(w, `{"code":"forbidden_apikey","message":"the API key is not valid"}`)
			return
		}
		time.Sleep(time.Second)
	}))
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	cases := []struct {
		base, key string
		timeout   time.Duration
		want      string
	}{
		{closed, "k", 5 * time.Second, "The EBS at " + closed + " is not reachable (connection refused). Check the EBS URL in Settings and that the EBS is running."},
		{srv.URL, "wrong", 5 * time.Second, "The EBS refused the API key (403)."},
		{srv.URL, "right", 100 * time.Millisecond, "did not answer in time"},
		{tlsSrv.URL, "k", 5 * time.Second, "did not present a certificate this computer trusts"},
		{strings.Replace(srv.URL, "http://", "https://", 1), "k", 5 * time.Second, "rather than https://"},
	}
	for _, c := range cases {
		cl, err := ebsclient.New(c.base, c.key, ebsclient.WithRetry(ebsclient.RetryPolicy{Attempts: 1}),
			ebsclient.WithHTTPClient(&http.Client{Timeout: c.timeout}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.PendingPayouts(context.Background(), mgm.PayoutPending)
		if got := ExplainEBS(cl.BaseURL(), err); !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q (raw %v), want %q", c.base, got, err, c.want)
		}
	}
}
