package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// defaultHealthTimeout is well inside a container runtime's own health
// check timeout (30 s by default): a healthy EBS answers /healthz from memory.
const defaultHealthTimeout = 3 * time.Second

// runHealthcheck GETs the EBS's liveness route. It exists because the
// container image has no shell and no curl: HEALTHCHECK runs the binary.
func runHealthcheck(ctx context.Context, raw []string, o Options) int {
	a, err := splitArgs(raw, false, []string{"url", "timeout"}, nil)
	if err != nil {
		fmt.Fprintf(o.Stderr, "mgm-ebs healthcheck: %v\n", err)
		return 2
	}
	timeout := defaultHealthTimeout
	if v, ok := a.flags["timeout"]; ok {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
			fmt.Fprintf(o.Stderr, "mgm-ebs healthcheck: --timeout %q is not a positive duration such as 3s\n", v)
			return 2
		}
	}
	target := a.flags["url"]
	if target == "" || len(a.settings) > 0 {
		// The address the server listens on comes from the same settings
		// (in a container: the same environment), so no flag is needed.
		cfg, status, ok := load("healthcheck", a.settings, o)
		if !ok {
			return status
		}
		if target == "" {
			target = HealthURL(cfg.Listen)
			if cfg.TLS.Enabled() {
				// With built-in HTTPS the plain-HTTP listener answers
				// /healthz too (before any certificate exists), and a
				// loopback client could not check the domain's name anyway.
				target = HealthURL(cfg.TLS.HTTPListen)
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := check(ctx, target); err != nil {
		fmt.Fprintf(o.Stderr, "unhealthy: %s: %v\n", target, err)
		return 1
	}
	fmt.Fprintf(o.Stdout, "healthy: %s answered 200\n", target)
	return 0
}

func check(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "mgm-ebs healthcheck")
	client := &http.Client{
		// A proxy from the environment must not stand in for the local server.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		// A redirect is an answer, not health: following it could reach
		// another server (the public address) and hide that this one is down.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("no answer within the timeout")
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is already on the line
		}
		return err
	}
	defer func() { _ = resp.Body.Close() }() // drained below; nothing to report
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// HealthURL is where a local health check reaches a server listening on
// listen (host:port): a wildcard host is reached on loopback.
func HealthURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host, port = "127.0.0.1", "8080"
	}
	switch ip := net.ParseIP(host); {
	case host == "", ip != nil && ip.Equal(net.IPv4zero):
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}
