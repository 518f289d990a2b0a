package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

type ctxKey int

const (
	keyRequest ctxKey = iota // *requestState
	keyViewer                // auth.ViewerClaims, for handlers called without observe
)

// requestState is what the middleware learns about a request and the
// handlers read back: one allocation and one context value per request,
// however many layers fill it in.
type requestState struct {
	sw       statusWriter
	id       string
	route    string
	viewer   auth.ViewerClaims
	isViewer bool
}

func stateOf(r *http.Request) *requestState {
	st, _ := r.Context().Value(keyRequest).(*requestState)
	return st
}

func requestID(r *http.Request) string {
	if st := stateOf(r); st != nil {
		return st.id
	}
	return ""
}

func routeOf(r *http.Request) string {
	if st := stateOf(r); st != nil && st.route != "" {
		return st.route
	}
	return "unmatched"
}

// validRequestID accepts a caller's id only if it is short, printable ASCII,
// so it cannot forge log lines.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var h [24]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe is the outermost middleware: request id, panic recovery, the
// request log (requestlog.go: a line per request, or per minute for the
// ordinary answers of hot viewer reads) and the request metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		st := &requestState{sw: statusWriter{ResponseWriter: w}, id: id}
		ctx := context.WithValue(r.Context(), keyRequest, st)
		r = r.WithContext(ctx)
		sw := &st.sw
		defer func() {
			panicked := false
			if p := recover(); p != nil {
				panicked = true
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic", "request_id", id, "route", routeOf(r), "panic", p)
				if sw.status == 0 {
					s.writeError(sw, r, mgm.Errorf(mgm.CodeInternal, "Something went wrong on our side; the request id identifies it in our logs."))
				}
			}
			elapsed := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.ObserveRequest(routeOf(r), r.Method, status, elapsed)
			s.requests.finished(ctx, r.Method, routeOf(r), status, elapsed, sw.bytes, id, panicked)
		}()
		if framingAmbiguous(r) {
			// RFC 9112 § 6.3: such a request may be refused, and the
			// connection must close after the answer either way.
			setRoute(r, "ambiguous_framing")
			sw.Header().Set("Connection", "close")
			s.writeError(sw, r, mgm.Errorf(ebsapi.CodeMalformedRequest,
				"Content-Length and Transfer-Encoding together frame the body twice; send one of them."))
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// cors answers preflights and marks responses for the configured origins only.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		allowed := s.originAllowed(origin)
		h := w.Header()
		h.Add("Vary", "Origin")
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-Id")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if allowed {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id, "+PushSeqHeader)
				// Chromium caches a preflight for at most 2 hours (Firefox
				// 24): one preflight per route per browser session, instead
				// of one per request at 10 minutes' worth of polling.
				h.Set("Access-Control-Max-Age", "7200")
			}
			setRoute(r, "preflight")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.cfg.CorsOrigins {
		if o == "*" || o == origin {
			return true
		}
	}
	return false
}

func setRoute(r *http.Request, route string) {
	if st := stateOf(r); st != nil {
		st.route = route
	}
}

// retryAfter formats a delay as whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return strconv.Itoa(secs)
}
