package ebsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

// The streamer's controls (issue 17). Pause, resume, remove, ban and unban
// are retried: each is idempotent at the EBS (pausing twice is one pause,
// a second removal answers not_in_pool after the first succeeded).

// StreamerControls reads the controls and the settings in force.
func (c *Client) StreamerControls(ctx context.Context) (ebsapi.StreamerControls, error) {
	var out ebsapi.StreamerControls
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/api/streamer/controls", out: &out, idempotent: true})
	return out, err
}

// Pause stops the draws from now on.
func (c *Client) Pause(ctx context.Context) (ebsapi.StreamerControls, error) {
	var out ebsapi.StreamerControls
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/api/streamer/roulette/pause", out: &out, idempotent: true})
	return out, err
}

// Resume lets windows starting from now on draw again.
func (c *Client) Resume(ctx context.Context) (ebsapi.StreamerControls, error) {
	var out ebsapi.StreamerControls
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/api/streamer/roulette/resume", out: &out, idempotent: true})
	return out, err
}

// RemoveEntrant takes a viewer out of the pool (by name or Twitch user id).
func (c *Client) RemoveEntrant(ctx context.Context, t ebsapi.StreamerTarget) (ebsapi.RemovedEntrant, error) {
	var out ebsapi.RemovedEntrant
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/api/streamer/pool/remove", body: t, out: &out})
	return out, err
}

// Bans lists the banned viewers, newest first.
func (c *Client) Bans(ctx context.Context) ([]ebsapi.Ban, error) {
	var out []ebsapi.Ban
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/api/streamer/bans", out: &out, idempotent: true})
	return out, err
}

// Ban bans a viewer (a repeat keeps the first ban).
func (c *Client) Ban(ctx context.Context, t ebsapi.StreamerTarget) (ebsapi.Ban, error) {
	var out ebsapi.Ban
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/api/streamer/bans", body: t, out: &out, idempotent: true})
	return out, err
}

// Unban lifts a viewer's ban.
func (c *Client) Unban(ctx context.Context, twitchUserID string) (ebsapi.Ban, error) {
	var out ebsapi.Ban
	_, err := c.do(ctx, call{method: http.MethodDelete, path: pathID("/api/streamer/bans/", twitchUserID, ""), out: &out})
	return out, err
}

// HistoryQuery is an export: UTC dates YYYY-MM-DD (inclusive), kind
// "payouts" or "events", format "csv" or "json".
type HistoryQuery struct {
	From, To, Kind, Format string
}

// History streams an export as the EBS sends it: once the EBS has accepted
// the query, open is called with the Content-Type and a file name and the
// body is copied to the writer it returns. It is not retried, since part of
// it may already be written; an EBS refusal is an *Error and opens nothing.
// The client's timeout bounds the whole download.
func (c *Client) History(ctx context.Context, q HistoryQuery, open func(contentType, fileName string) io.Writer) error {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/api/streamer/history"
	u.RawQuery = url.Values{"from": {q.From}, "to": {q.To}, "kind": {q.Kind}, "format": {q.Format}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-MGM-ApiKey", c.apiKey)
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("ebsclient: GET /api/streamer/history: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
		var eb ebsapi.ErrorBody
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&eb) == nil {
			e.Code, e.Message = eb.Code, eb.Message
		}
		return e
	}
	w := open(resp.Header.Get("Content-Type"), "mgm-"+q.Kind+"-"+q.From+"_"+q.To+"."+q.Format)
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("ebsclient: history export cut short: %w", err)
	}
	return nil
}
