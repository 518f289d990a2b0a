// Package ebsclient is the Desktop's client for the EBS's Desktop API
// (X-MGM-ApiKey). The Desktop companion and the synthetic desktop stand-in
// both use it, so the EBS is always driven the same way.
//
// Calls that are safe to repeat (reads, status changes to a target status,
// consent, /who reports) are retried on network errors, 5xx and 429 with
// exponential backoff and full jitter, honouring Retry-After. Calls that are
// not (gift item selection and confirmation) are tried once. Every failure the
// EBS explains carries its stable error code.
package ebsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/retry"
)

// Client talks to one EBS. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	apiKey string
	http   *http.Client
	retry  RetryPolicy
	sleep  func(context.Context, time.Duration) error
	jitter func() float64
	trace  func(Trace)
	ua     string
}

// RetryPolicy bounds retries of idempotent calls.
type RetryPolicy struct {
	Attempts int           // total tries, including the first (default 4)
	Base     time.Duration // first backoff (default 250 ms), doubled each retry
	Max      time.Duration // cap on one backoff and on a Retry-After wait (default 10 s)
}

// Trace describes one HTTP attempt, for logs and diagnostics. Body is the
// response body (at most 64 KiB); it never contains the API key.
type Trace struct {
	Method, Path string
	Attempt      int
	Status       int // 0 when no response arrived
	Body         []byte
	Err          error
	Duration     time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (its Timeout bounds each attempt).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetry replaces the retry policy.
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithSleep replaces the wait between retries (tests make it instant and record it).
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(c *Client) { c.sleep = f }
}

// WithJitter replaces the jitter source: a uniform number in [0, 1).
func WithJitter(f func() float64) Option { return func(c *Client) { c.jitter = f } }

// WithTrace receives every attempt.
func WithTrace(f func(Trace)) Option { return func(c *Client) { c.trace = f } }

// WithUserAgent sets the User-Agent (e.g. "mgm-desktop/1.2.0").
func WithUserAgent(ua string) Option { return func(c *Client) { c.ua = ua } }

// New validates the base URL and the API key before anything is sent.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ebsclient: EBS URL %q must be an http(s) URL such as http://127.0.0.1:8080", baseURL)
	}
	if strings.TrimSpace(apiKey) == "" || strings.ContainsAny(apiKey, "\r\n") {
		return nil, errors.New("ebsclient: the API key is empty; copy it from the EBS (mgm-data/desktop-api-key.txt or Mgm__ApiKey)")
	}
	c := &Client{
		base: u, apiKey: strings.TrimSpace(apiKey),
		http:   &http.Client{Timeout: 10 * time.Second},
		retry:  RetryPolicy{Attempts: 4, Base: 250 * time.Millisecond, Max: 10 * time.Second},
		sleep:  retry.Sleep,
		jitter: rand.Float64,
		ua:     "mgm-ebsclient",
	}
	for _, o := range opts {
		o(c)
	}
	if c.retry.Attempts < 1 {
		c.retry.Attempts = 1
	}
	return c, nil
}

// BaseURL is the EBS root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// Error is a failure the EBS answered with its standard error body
// (ebsapi.ErrorBody), mapped back to the domain's error code.
type Error struct {
	Status    int
	Code      mgm.Code // "" when the body was not the EBS's error shape
	Message   string
	RequestID string
	// Details are the error body's details, when it has them.
	Details map[string]any
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("EBS answered HTTP %d", e.Status)
	}
	return fmt.Sprintf("EBS answered HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// ErrorCode returns the EBS error code carried by err, or "" when err is not
// an answer of the EBS (no response, an unreadable one, nil). Callers compare
// it with the mgm.Code constants: ErrorCode(err) == mgm.CodeInvalidState.
func ErrorCode(err error) mgm.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ErrorDetail returns the string detail key of the EBS's error body carried
// by err, or "".
func ErrorDetail(err error, key string) string {
	var e *Error
	if errors.As(err, &e) {
		v, _ := e.Details[key].(string)
		return v
	}
	return ""
}

// Transient reports whether a failure may succeed later without any change:
// no answer at all, a 5xx, or 429. A definitive answer (other 4xx) is not.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, errBadResponse)
}

var errBadResponse = errors.New("ebsclient: unreadable EBS response")

// call is one API call; idempotent calls are retried.
type call struct {
	method, path string
	query        url.Values
	body         any
	out          any
	idempotent   bool
	okStatuses   []int // besides 200/201
}

// do performs a call and reports the final HTTP status.
func (c *Client) do(ctx context.Context, cl call) (int, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return 0, fmt.Errorf("ebsclient: encode request: %w", err)
		}
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + cl.path
	if cl.query != nil {
		u.RawQuery = cl.query.Encode()
	}
	attempts := 1
	if cl.idempotent {
		attempts = c.retry.Attempts
	}
	var lastErr error
	for attempt := 1; ; attempt++ {
		status, wait, err := c.attempt(ctx, cl, u.String(), payload, attempt)
		if err == nil {
			return status, nil
		}
		lastErr = err
		if attempt >= attempts || !Transient(err) || ctx.Err() != nil {
			return status, lastErr
		}
		if err := c.sleep(ctx, c.backoff(attempt, wait)); err != nil {
			return status, lastErr
		}
	}
}

// backoff is full jitter over an exponential ceiling, but never shorter than
// what the server asked for with Retry-After.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceiling := c.retry.Base << (attempt - 1)
	if ceiling > c.retry.Max || ceiling <= 0 {
		ceiling = c.retry.Max
	}
	d := time.Duration(c.jitter() * float64(ceiling))
	if retryAfter > d {
		d = min(retryAfter, c.retry.Max)
	}
	return d
}

func (c *Client) attempt(ctx context.Context, cl call, u string, payload []byte, n int) (int, time.Duration, error) {
	start := time.Now()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, rd)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("X-MGM-ApiKey", c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.emit(Trace{Method: cl.method, Path: cl.path, Attempt: n, Err: err, Duration: time.Since(start)})
		return 0, 0, fmt.Errorf("ebsclient: %s %s: %w", cl.method, cl.path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	c.emit(Trace{Method: cl.method, Path: cl.path, Attempt: n, Status: resp.StatusCode, Body: snippet(body), Err: readErr, Duration: time.Since(start)})
	if readErr != nil {
		return resp.StatusCode, 0, fmt.Errorf("ebsclient: %s %s: read response: %w", cl.method, cl.path, readErr)
	}
	ok := resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated
	for _, s := range cl.okStatuses {
		ok = ok || resp.StatusCode == s
	}
	if !ok {
		e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
		var eb ebsapi.ErrorBody
		if json.Unmarshal(body, &eb) == nil {
			e.Code, e.Message, e.Details = eb.Code, eb.Message, eb.Details
		}
		return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After")), e
	}
	if cl.out != nil && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, cl.out); err != nil {
			return resp.StatusCode, 0, fmt.Errorf("%w: %s %s: %v", errBadResponse, cl.method, cl.path, err)
		}
	}
	return resp.StatusCode, 0, nil
}

func (c *Client) emit(t Trace) {
	if c.trace != nil {
		c.trace(t)
	}
}

func snippet(b []byte) []byte {
	if len(b) > 64<<10 {
		b = b[:64<<10]
	}
	return append([]byte(nil), b...)
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// unwrapURLError drops url.Error's repetition of the URL; keeps timeouts recognisable.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		var ne net.Error
		if errors.As(ue.Err, &ne) && ne.Timeout() {
			return fmt.Errorf("timed out: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}
