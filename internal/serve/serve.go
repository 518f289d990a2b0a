// Package serve runs an HTTP server until its context ends, then shuts it
// down gracefully, and writes JSON answers. Every program of the project (the
// EBS, the Desktop's UI and the stand-ins) stops and answers the same way.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"
)

// Until serves srv on ln. When ctx ends it stops accepting connections and
// gives in-flight requests up to grace to finish; after that they are cut.
// It returns nil after a clean stop, or the error that ended serving.
func Until(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close() // the deadline passed: cut what is left; Shutdown's error says so
		if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			return errors.Join(err, serveErr)
		}
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// JSON answers v as JSON with the given status: UTF-8, one trailing newline,
// and HTML characters left as written (character names and chat lines are
// Cyrillic with punctuation; escaping "<" or "&" would only obscure them).
// Headers such as Cache-Control must be set before calling.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
