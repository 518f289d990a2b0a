// Package twitchsim holds the Twitch stand-ins of mgm-sim: an EventSub
// sender/forwarder (NewEventSub, MainEventSub), an extension JWT issuer
// (NewJWT, MainJWT) and a Helix API (NewHelix, MainHelix), which also serves
// the id.twitch.tv OAuth stand-in (NewAuth, oauth.go) and the EventSub hub
// (NewHub: the subscriptions API in eventsubapi.go and the EventSub
// WebSocket server in eventsubws.go). Their routes and
// JSON keep the contract of the predecessor's MockEventSubWebhook,
// MockExtensionJwt and MockHelixApi, so tools written for those keep working,
// while the payloads they produce are shaped like real Twitch's.
//
// Each stand-in is an http.Handler that owns its state (no package-level
// mutable state), so tests can run any number of them side by side.
package twitchsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config/option"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

// settings are the parsed environment variables and flags of one stand-in.
type settings struct {
	listen string
	// values maps a key's environment spelling to its trimmed value, or its
	// default; a key given on the command line (even as an empty value) hides
	// the environment variable.
	values map[string]string
}

func (s settings) get(key string) string { return s.values[key] }

// errHelp means --help was given; the Main prints usage and returns nil.
var errHelp = errors.New("help requested")

// listenFlag is where --listen lands among the parsed flags; it is not a
// Section__Key, so no setting can take its place.
const listenFlag = "listen"

// parseSettings reads keys from getenv and from args, which override the
// environment, the way mgm-ebs does (see package option), plus --listen
// host:port.
func parseSettings(args []string, getenv func(string) string, keys option.Table, defaultListen string) (settings, error) {
	flags, problems, help := option.ParseArgs(args, keys, map[string]string{"listen": listenFlag})
	if help {
		return settings{}, errHelp
	}
	if len(problems) > 0 {
		return settings{}, errors.New(strings.Join(problems, "; "))
	}
	s := settings{listen: defaultListen, values: map[string]string{}}
	if v, ok := flags[listenFlag]; ok {
		v = strings.TrimSpace(v)
		if _, _, err := net.SplitHostPort(v); err != nil {
			return settings{}, fmt.Errorf("--listen %q is not host:port (for example 127.0.0.1:0)", v)
		}
		s.listen = v
	}
	src := option.Source{Getenv: getenv, Flags: flags}
	for _, k := range keys {
		v, _ := src.Get(k)
		if v == "" {
			v = k.Default
		}
		s.values[k.Key] = v
	}
	return s, nil
}

func usage(command, service, defaultListen, summary string, keys option.Table) string {
	return fmt.Sprintf("Usage: mgm-sim %s [--listen host:port] [--Section:Key=value ...]\n\n%s (default listen %s)\n%s\n\nSettings (environment Section__Key, or --Section:Key=value):\n",
		command, service, defaultListen, summary) +
		keys.Usage() +
		"\nFlags:\n  --listen host:port   where to listen (port 0 picks a free port; the actual address is printed)\n  -h, --help           show this help\n"
}

// listenAndServe listens on addr, prints "<service> listening on http://<addr>" to
// stdout, serves h until ctx ends and then shuts down gracefully.
func listenAndServe(ctx context.Context, service, addr string, h http.Handler, writeTimeout time.Duration, stdout io.Writer) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", service, addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	fmt.Fprintf(stdout, "%s listening on http://%s\n", service, ln.Addr().String())
	if err := serve.Until(ctx, srv, ln, 5*time.Second); err != nil {
		return fmt.Errorf("%s: %w", service, err)
	}
	return nil
}

// runMain is the common shape of the three Mains.
func runMain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer,
	command, service, defaultListen, summary string, keys option.Table, writeTimeout time.Duration,
	build func(settings, *slog.Logger) (http.Handler, error),
) error {
	s, err := parseSettings(args, getenv, keys, defaultListen)
	if errors.Is(err, errHelp) {
		_, _ = io.WriteString(stdout, usage(command, service, defaultListen, summary, keys))
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("service", service)
	h, err := build(s, log)
	if err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	err = listenAndServe(ctx, service, s.listen, h, writeTimeout, stdout)
	// The Helix stand-in owns WebSocket sessions, which outlive a server
	// shutdown unless closed.
	if c, ok := h.(io.Closer); ok {
		_ = c.Close()
	}
	return err
}

// writeJSON answers v as JSON that no client caches: tokens and fake Helix
// answers change from one call to the next.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	serve.JSON(w, status, v)
}

// writeRaw answers a fixed JSON document byte for byte.
func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// decodeBody decodes a JSON request body (at most limit bytes) into v. An
// empty body leaves v unchanged when allowEmpty.
func decodeBody(r *http.Request, limit int64, v any, allowEmpty bool) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return errors.New("could not read the body")
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("the body is larger than %d bytes", limit)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if allowEmpty {
			return nil
		}
		return errors.New("a JSON body is required")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%s: unexpected JSON %s", te.Field, te.Value)
		}
		return errors.New("the body is not valid JSON")
	}
	return nil
}

// splitList splits a comma-separated list, trimming items and dropping empty
// ones and duplicates (first occurrence wins).
func splitList(v string) []string {
	return cleanList(strings.Split(v, ","))
}

func cleanList(items []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" || seen[it] {
			continue
		}
		seen[it] = true
		out = append(out, it)
	}
	return out
}

// truthy is the predecessor's reading of a boolean setting ("true",
// case-insensitive), plus "1".
func truthy(v string) bool {
	v = strings.TrimSpace(v)
	return strings.EqualFold(v, "true") || v == "1"
}

func nowFunc(f func() time.Time) func() time.Time {
	if f != nil {
		return f
	}
	return time.Now
}

func discardLogger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
