package httpapi

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strings"
)

// handleDrawProof serves a cycle's draw proof (internal/drawproof). It is
// public: a proof holds nothing the panel does not show, and a viewer must
// be able to check a draw without the panel, hence without a Twitch token.
// It is rate-limited as every anonymous route is (s.anonymous).
//
// At 100,000 members the proof is about 6 MB of JSON, so it goes out
// gzip-compressed to a client that accepts it (about half the size: most of
// it is hex), and, being fixed once drawn, with an ETag and a long
// Cache-Control that let browsers and proxies keep it.
func (s *Server) handleDrawProof(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.DrawProof(r.Context(), strings.ToLower(r.PathValue("id")))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The seed is fixed for the cycle, so the list hash fixes the proof.
	etag := `"` + p.ListHash + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=86400, immutable")
	h.Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	if !acceptsGzip(r) {
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(p) // a client gone mid-body is not ours to report
		return
	}
	h.Set("Content-Encoding", "gzip")
	w.WriteHeader(http.StatusOK)
	// Huffman coding alone does nearly as well as the best level on a
	// body that is mostly hex, at a fraction of the CPU (drawproof.Gzip).
	zw, _ := gzip.NewWriterLevel(w, gzip.HuffmanOnly) // the level is valid
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
	_ = zw.Close()
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}
