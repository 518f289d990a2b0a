package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// maxHeaderBytes bounds a request's line and headers (net/http allows 4 KiB
// more before it answers 431).
const maxHeaderBytes = 32 << 10

// Listener wraps ln for the EBS's http.Server (NewHTTPServer) so that the
// answers net/http writes on its own, before any handler runs — 400 for a
// malformed request, 417, 431, 501, 505 — reach the client in the standard
// error shape with an X-Request-Id, are logged and counted, and so that a
// request with both Content-Length and Transfer-Encoding can be refused.
//
// net/http offers no hook for either: it writes those answers straight to
// the connection in one write each, with a fixed set of headers no handler
// response has, and it silently drops Content-Length when Transfer-Encoding
// is present (RFC 9112 § 6.3 allows that, but the request is a smuggling
// attempt). The connection is where both can be seen.
func (s *Server) Listener(ln net.Listener) net.Listener { return &shapedListener{Listener: ln, s: s} }

type shapedListener struct {
	net.Listener
	s *Server
}

func (l *shapedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &shapedConn{Conn: c, s: l.s}, nil
}

type connKey struct{}

// connContext is http.Server.ConnContext: it makes the connection's
// findings visible to the handler.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if sc, ok := c.(*shapedConn); ok {
		return context.WithValue(ctx, connKey{}, sc)
	}
	return ctx
}

// framingAmbiguous reports whether r's connection carried a header block
// with both Content-Length and Transfer-Encoding.
func framingAmbiguous(r *http.Request) bool {
	sc, ok := r.Context().Value(connKey{}).(*shapedConn)
	return ok && sc.ambiguous.Load()
}

// shapedConn watches the bytes read for header blocks that frame the body
// twice, and rewrites net/http's own error answers.
type shapedConn struct {
	net.Conn
	s *Server

	// Read side, used only by the connection's reading goroutine. line holds
	// the start of the current line: enough to recognise a field name.
	line         []byte
	lineLen      int
	sawCL, sawTE bool
	ambiguous    atomic.Bool
}

const longestName = len("transfer-encoding:")

// Read scans every header block it passes through: lines since the last
// empty line, each recognised by its field name at the start of a line. A
// body read in between can only add lines to the block that follows it, so
// a real header block with both fields is never missed; a body crafted to
// look like one only gets its own connection refused.
func (c *shapedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for _, b := range p[:n] {
		if b != '\n' {
			if c.lineLen < longestName {
				c.line = append(c.line, lower(b))
			}
			c.lineLen++
			continue
		}
		line := bytes.TrimSuffix(c.line, []byte{'\r'})
		switch {
		case c.lineLen == 0 || (c.lineLen == 1 && len(line) == 0):
			if c.sawCL && c.sawTE {
				c.ambiguous.Store(true)
			}
			c.sawCL, c.sawTE = false, false
		case bytes.HasPrefix(line, []byte("content-length:")):
			c.sawCL = true
		case bytes.HasPrefix(line, []byte("transfer-encoding:")):
			c.sawTE = true
		}
		c.line, c.lineLen = c.line[:0], 0
	}
	return n, err
}

// CloseWrite keeps net/http's graceful close (a FIN, then a pause before
// closing) working through the wrapper.
func (c *shapedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// serverErrorHeaders follow the status line of every answer net/http writes
// itself (server.go, conn.serve); a handler's response always carries
// X-Request-Id and Date first, so it never starts this way.
const serverErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// Write passes responses through, except net/http's own error answers,
// which it replaces with the same status in the standard shape.
func (c *shapedConn) Write(p []byte) (int, error) {
	status, reason, ok := serverAnswer(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(c.s.shapeServerAnswer(status, reason, c.RemoteAddr())); err != nil {
		return 0, err
	}
	return len(p), nil
}

// serverAnswer recognises an answer net/http wrote on its own: its status,
// and the reason net/http gave after the status text, if any.
func serverAnswer(p []byte) (status int, reason string, ok bool) {
	rest, found := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !found || len(rest) < 4 || rest[3] != ' ' {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(rest[:3]))
	if err != nil {
		return 0, "", false
	}
	if status == http.StatusExpectationFailed {
		// Sent through the normal response path (sendExpectationFailed);
		// no handler of ours answers 417.
		return status, "", true
	}
	statusLine, _, found := bytes.Cut(rest, []byte(serverErrorHeaders))
	if !found || bytes.ContainsAny(statusLine, "\r\n") {
		return 0, "", false
	}
	text := http.StatusText(status)
	_, why, _ := bytes.Cut(statusLine[4:], []byte(text+": "))
	return status, string(why), true
}

// shapeServerAnswer builds the complete response that replaces one of
// net/http's own, logs it and counts it. The connection closes after it, as
// it would have.
func (s *Server) shapeServerAnswer(status int, reason string, remote net.Addr) []byte {
	var code mgm.Code
	var msg string
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		code, msg = ebsapi.CodeHeadersTooLarge, fmt.Sprintf("The request line and headers are larger than %d bytes.", maxHeaderBytes)
	case http.StatusNotImplemented:
		code, msg = ebsapi.CodeUnsupportedTransferEncoding, "Transfer-Encoding other than a single 'chunked' is not supported."
	case http.StatusHTTPVersionNotSupported:
		code, msg = ebsapi.CodeHTTPVersionNotSupported, "Use HTTP/1.1."
	case http.StatusExpectationFailed:
		code, msg = ebsapi.CodeExpectationFailed, "Only 'Expect: 100-continue' is supported."
	default:
		code, msg = ebsapi.CodeMalformedRequest, "Malformed HTTP request."
		if reason != "" {
			// net/http's fixed texts ("missing required Host header"), never
			// the client's bytes.
			msg = "Malformed HTTP request: " + reason + "."
		}
	}
	body, _ := json.Marshal(ebsapi.ErrorBody{Code: code, Message: msg, Details: map[string]any{}})
	id := newRequestID()
	s.metrics.ObserveRequest("refused_before_routing", "", status, 0)
	s.log.Info("request", "route", "refused_before_routing", "status", status, "code", code,
		"remote", remote.String(), "request_id", id)
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	fmt.Fprintf(&b, "Content-Type: application/json; charset=utf-8\r\nX-Request-Id: %s\r\n", id)
	fmt.Fprintf(&b, "Date: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", s.now().UTC().Format(http.TimeFormat), len(body)+1)
	b.Write(body)
	b.WriteByte('\n')
	return b.Bytes()
}
