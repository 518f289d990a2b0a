package autotls

import (
	"net"
	"net/http"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

// HTTPHandler serves the plain-HTTP listener: the CA's HTTP-01 challenges
// (from the cache too, so any replica answers for another's order), GET
// /healthz and /readyz through health — so that the certificate's state can
// be read while there is no certificate to reach it over HTTPS — and, for
// everything else, a permanent redirect of GET and HEAD to the same path on
// https://<domain>, with httpsPort unless it is 443. Other methods are
// refused rather than redirected: a Desktop or script configured with
// http:// would otherwise keep sending its API key in the clear before every
// redirected call, and an error gets its address fixed.
func (m *Manager) HTTPHandler(httpsPort string, health http.Handler) http.Handler {
	base := "https://" + m.cfg.Domain
	if httpsPort != "443" {
		base = "https://" + net.JoinHostPort(m.cfg.Domain, httpsPort)
	}
	return m.ac.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") {
			health.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, base+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		serve.JSON(w, http.StatusBadRequest, ebsapi.ErrorBody{Code: "https_required",
			Message: "This address only redirects browsers; use " + base + r.URL.Path + ".", Details: map[string]any{}})
	}))
}

// hstsMaxAge is a year: browsers that saw the EBS over HTTPS never try it
// over plain HTTP again. Subdomains are left out; they are not the EBS's.
const hstsMaxAge = "max-age=31536000"

// HSTS adds Strict-Transport-Security to every answer of next.
func HSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsMaxAge)
		next.ServeHTTP(w, r)
	})
}
