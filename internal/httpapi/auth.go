package httpapi

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// viewerOf returns the verified viewer of a request that passed s.viewer.
func viewerOf(r *http.Request) auth.ViewerClaims {
	if st := stateOf(r); st != nil && st.isViewer {
		return st.viewer
	}
	c, _ := r.Context().Value(keyViewer).(auth.ViewerClaims)
	return c
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// viewer authenticates an extension JWT, then applies the viewer rate limit.
// needIdentity refuses viewers who have not shared their Twitch identity.
func (s *Server) viewer(class string, needIdentity bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			s.writeError(w, r, mgm.Errorf(mgm.CodeUnauthorized, "Send the Twitch extension token as 'Authorization: Bearer <token>'."))
			return
		}
		claims, err := s.verifier.Verify(token)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		key := claims.RateKey()
		if key == "" {
			key = clientIP(r)
		}
		if !s.rateAllow(w, r, class, key) {
			return
		}
		s.pushReceipt(r)
		if needIdentity && !claims.HasIdentity() {
			s.writeError(w, r, mgm.Errorf(mgm.CodeIdentityNotShared, "Share your Twitch identity with the extension to see your status."))
			return
		}
		if st := stateOf(r); st != nil {
			st.viewer, st.isViewer = claims, true
			h(w, r)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), keyViewer, claims)))
	}
}

// PushSeqHeader carries the seq of the last Extension PubSub message the
// viewer's panel received.
const PushSeqHeader = "X-Mgm-Push-Seq"

// pushReceipt passes a verified viewer's X-Mgm-Push-Seq on: the proof that
// pushes reach panels. Only verified viewers count, so the header alone
// cannot fake it.
func (s *Server) pushReceipt(r *http.Request) {
	if s.receipts == nil {
		return
	}
	v := r.Header.Get(PushSeqHeader)
	if v == "" {
		return
	}
	if seq, err := strconv.ParseInt(v, 10, 64); err == nil && seq > 0 {
		s.receipts.ViewerConfirmed(seq)
	}
}

// desktop authenticates the Desktop's API key, then applies its rate limit.
func (s *Server) desktop(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-MGM-ApiKey")
		if err := s.apiKeys.Check(key); err != nil {
			if mgm.IsCode(err, mgm.CodeUnauthorized) {
				err = mgm.Errorf(mgm.CodeUnauthorized, "Send the Desktop API key in the X-MGM-ApiKey header.")
			}
			s.writeError(w, r, err)
			return
		}
		if !s.rateAllow(w, r, classDesktop, auth.Fingerprint(key)) {
			return
		}
		h(w, r)
	}
}

// anonymous applies the per-IP limit.
func (s *Server) anonymous(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.rateAllow(w, r, classAnonymous, clientIP(r)) {
			return
		}
		h(w, r)
	}
}

func (s *Server) rateAllow(w http.ResponseWriter, r *http.Request, class, key string) bool {
	ok, wait := s.limiter.allow(class, key)
	if ok {
		return true
	}
	s.metrics.RateLimit(class)
	w.Header().Set("Retry-After", retryAfter(wait))
	s.writeError(w, r, mgm.Errorf(ebsapi.CodeRateLimited, "Too many requests; retry after %s s.", retryAfter(wait)))
	return false
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
