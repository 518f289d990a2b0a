package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"

	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// ExplainEBS turns an error of a call to the EBS at base into what the
// streamer reads: a sentence saying what is wrong and what to do, instead of
// Go's "Post …: dial tcp …: connect: connection refused". It is the one
// place where EBS failures get their words; the raw error still goes to the
// log file for bug reports. Errors it does not recognise are passed through.
func ExplainEBS(base string, err error) string {
	if err == nil {
		return ""
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		// errors.Join of several calls' failures: usually one cause, said once.
		var out []string
		for _, e := range j.Unwrap() {
			if s := ExplainEBS(base, e); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return strings.Join(out, " ")
	}
	at := "The EBS"
	if base != "" {
		at = "The EBS at " + base
	}
	const checkURL = "Check the EBS URL in Settings and that the EBS is running."
	var (
		ee      *ebsclient.Error
		dnsErr  *net.DNSError
		netErr  net.Error
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &ee):
		return explainAnswer(at, ee)
	case errors.Is(err, ErrNotConfigured):
		return "The EBS is not configured yet: enter its URL and the Desktop API key in Settings."
	case errors.Is(err, context.Canceled):
		return "The request to the EBS was cancelled (the Desktop is stopping or the settings changed)."
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("%s cannot be found: the name %q does not resolve. Check the EBS URL in Settings for a typo.", at, dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s is not reachable (connection refused). %s", at, checkURL)
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid), errors.As(err, &verify):
		return fmt.Sprintf("%s did not present a certificate this computer trusts for that address. Check the EBS URL in Settings (the host name must match the certificate) and the EBS's HTTPS certificate.", at)
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http says the latter with errors.New, so only its words identify it.
		return fmt.Sprintf("%s does not speak HTTPS on that port. Check the EBS URL in Settings: it probably starts with http:// rather than https://.", at)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("%s did not answer in time. %s The Desktop keeps trying.", at, checkURL)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s closed the connection without answering. %s The Desktop keeps trying.", at, checkURL)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s is not reachable from this computer (no route to it). Check the network and the EBS URL in Settings.", at)
	case strings.Contains(err.Error(), "unreadable EBS response"):
		return fmt.Sprintf("%s answered with something that is not the EBS's API. Check that the EBS URL in Settings points at the EBS itself.", at)
	}
	return err.Error()
}

// explainAnswer words an answer the EBS gave (a status, usually with an mgm code).
func explainAnswer(at string, e *ebsclient.Error) string {
	detail := ""
	if e.Message != "" {
		detail = " (" + strings.TrimSuffix(e.Message, ".") + ")"
	}
	switch {
	case e.Code == mgm.CodeForbiddenAPIKey || e.Status == http.StatusForbidden && e.Code == "":
		return "The EBS refused the API key (403). Copy the Desktop API key again from the EBS (mgm-data/desktop-api-key.txt or Mgm__ApiKey) into Settings."
	case e.Code == mgm.CodeUnauthorized || e.Status == http.StatusUnauthorized:
		return "The EBS wants the Desktop API key (401). Enter it in Settings."
	case e.Status == http.StatusTooManyRequests:
		return fmt.Sprintf("%s asks the Desktop to slow down (429). The Desktop tries again shortly.", at)
	case e.Status >= 500:
		return fmt.Sprintf("%s has a problem of its own (HTTP %d%s). Look at the EBS's log; the Desktop keeps trying.", at, e.Status, detail)
	case e.Code == mgm.CodeTerminalStatusChange:
		return "This payout is already finished (Sent, Failed or Cancelled) on the EBS, so it cannot change any more" + detail + "."
	case e.Code == mgm.CodeInvalidState || e.Code == mgm.CodeOutOfSequence:
		return "The EBS refused because the payout or request is no longer in the state this action needs" + detail + ". Press Refresh to see its current state."
	case e.Code == mgm.CodeNotFound:
		return "The EBS does not know this payout or request" + detail + ". Press Refresh; if it persists, check that the EBS URL in Settings is the right EBS."
	case e.Status == http.StatusNotFound:
		return fmt.Sprintf("%s answered 404 without the EBS's error format: the URL in Settings probably points at another web server.", at)
	case e.Code != "":
		return fmt.Sprintf("The EBS refused the request: %s%s.", e.Code, detail)
	}
	return fmt.Sprintf("%s answered HTTP %d, which is not what the EBS answers. Check that the EBS URL in Settings points at the EBS.", at, e.Status)
}
