package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// handleDrawProof serves a cycle's draw proof (internal/drawproof). It is
// public: a proof holds nothing the panel does not show, and a viewer must
// be able to check a draw without the panel, hence without a Twitch token.
// It is rate-limited as every anonymous route is (s.anonymous).
//
// At 100,000 members the proof is about 7.5 MB of JSON, so it goes out
// gzip-compressed to a client that accepts it (about half the size: most of
// it is hex), and, being fixed once drawn, with an ETag and a long
// Cache-Control that let browsers and proxies keep it. Building it costs
// about 100 ms of CPU at that size, and a big channel's viewers press
// "Verify this draw" together right after it: the latest proofs are kept
// encoded (proofCache), so that work is done once per draw, not per viewer.
func (s *Server) handleDrawProof(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(r.PathValue("id"))
	e, err := s.proofs.get(r.Context(), id, s.now(), func() (*encodedProof, error) {
		// Built for every request waiting on it: the first leaving must
		// not fail the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), proofBuildTimeout)
		defer cancel()
		p, err := s.svc.DrawProof(ctx, id)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		// Huffman coding alone does nearly as well as the best level on a
		// body that is mostly hex, at a fraction of the CPU (drawproof.Gzip).
		zw, _ := gzip.NewWriterLevel(&b, gzip.HuffmanOnly) // the level is valid
		enc := json.NewEncoder(zw)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(p); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		// The seed is fixed for the cycle, so the list hash fixes the proof.
		return &encodedProof{etag: `"` + p.ListHash + `"`, gzip: b.Bytes()}, nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("ETag", e.etag)
	h.Set("Cache-Control", "public, max-age=86400, immutable")
	h.Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == e.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	if !acceptsGzip(r) {
		zr, err := gzip.NewReader(bytes.NewReader(e.gzip))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, zr) // a client gone mid-body is not ours to report
		return
	}
	h.Set("Content-Encoding", "gzip")
	h.Set("Content-Length", strconv.Itoa(len(e.gzip)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.gzip)
}

// encodedProof is a proof as the route sends it: its ETag and its JSON,
// gzip-compressed.
type encodedProof struct {
	etag string
	gzip []byte
}

// proofBuildTimeout bounds one build of a proof (about 100 ms at 100,000
// members).
const proofBuildTimeout = 30 * time.Second

// proofCacheSize is how many proofs are kept encoded: the draw just made,
// which every viewer may verify, and the one before. At 100,000 members
// each is 4.5 MB.
const proofCacheSize = 2

// proofCacheTTL bounds how long a kept proof is served without asking the
// store again: the rush to verify a draw is over within minutes, and a
// proof whose list the retention sweep removed must soon answer 410.
const proofCacheTTL = 10 * time.Minute

// proofCache keeps the latest proofs encoded, and lets concurrent requests
// for a proof not yet kept share one build. Refusals (not drawn yet, no
// proof, expired) are not kept: they are cheap, and change.
type proofCache struct {
	mu      sync.Mutex
	entries []*proofEntry // oldest first
}

type proofEntry struct {
	id    string
	built time.Time
	ready chan struct{} // closed once proof or err is set
	proof *encodedProof
	err   error
}

// get returns id's encoded proof, building it with build unless a fresh one
// is kept or being built.
func (c *proofCache) get(ctx context.Context, id string, now time.Time, build func() (*encodedProof, error)) (*encodedProof, error) {
	c.mu.Lock()
	for _, e := range c.entries {
		if e.id == id && now.Sub(e.built) < proofCacheTTL && !now.Before(e.built) {
			c.mu.Unlock()
			select {
			case <-e.ready:
				return e.proof, e.err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	e := &proofEntry{id: id, built: now, ready: make(chan struct{})}
	c.entries = append(slices.DeleteFunc(c.entries, func(o *proofEntry) bool { return o.id == id }), e)
	c.mu.Unlock()

	e.proof, e.err = build()
	close(e.ready)

	c.mu.Lock()
	defer c.mu.Unlock()
	if e.err != nil {
		c.entries = slices.DeleteFunc(c.entries, func(o *proofEntry) bool { return o == e })
	}
	if n := len(c.entries); n > proofCacheSize {
		c.entries = slices.Delete(c.entries, 0, n-proofCacheSize)
	}
	return e.proof, e.err
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
