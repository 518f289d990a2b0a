package twitchauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DeviceCode is Twitch's answer to starting the Device Code Grant flow.
// DeviceCode itself is a secret of this sign-in: it is never shown.
type DeviceCode struct {
	DeviceCode      string
	UserCode        string
	VerificationURI string
	ExpiresIn       time.Duration
	Interval        time.Duration
}

// StartDevice begins the Device Code Grant flow
// (https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#device-code-grant-flow):
// the user opens VerificationURI and enters UserCode while PollDevice waits.
// Twitch's form field is "scopes" (plural), space-separated.
func (c *Client) StartDevice(ctx context.Context, scopes []string) (DeviceCode, error) {
	v := url.Values{"client_id": {c.ClientID}, "scopes": {strings.Join(scopes, " ")}}
	var b struct {
		DeviceCode      string `json:"device_code"`
		ExpiresIn       int64  `json:"expires_in"`
		Interval        int64  `json:"interval"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
	}
	if err := c.form(ctx, "device authorization", "/oauth2/device", v, &b); err != nil {
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusBadRequest {
			return DeviceCode{}, fmt.Errorf("%w (is Twitch__HelixClientId the client id of an application registered in the Twitch developer console?)", err)
		}
		return DeviceCode{}, err
	}
	if b.DeviceCode == "" || b.UserCode == "" || b.VerificationURI == "" {
		return DeviceCode{}, errors.New("twitch device authorization: the answer lacks device_code, user_code or verification_uri")
	}
	d := DeviceCode{DeviceCode: b.DeviceCode, UserCode: b.UserCode, VerificationURI: b.VerificationURI,
		ExpiresIn: time.Duration(b.ExpiresIn) * time.Second, Interval: time.Duration(b.Interval) * time.Second}
	if d.Interval <= 0 {
		d.Interval = 5 * time.Second // RFC 8628 §3.2's default
	}
	return d, nil
}

// Sleeper waits d or until ctx ends; tests pass one that returns at once and
// records d, so polling is exact without waiting.
type Sleeper func(ctx context.Context, d time.Duration) error

// RealSleep waits on the wall clock.
func RealSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PollDevice asks the token endpoint, every Interval, whether the user has
// approved dc, until they have (the grant), declined (ErrAccessDenied), the
// code expired (ErrDeviceExpired) or ctx ends. slow_down adds 5 seconds to
// the interval, as RFC 8628 §3.5 asks; Twitch answers pending polls with 400
// {"status":400,"message":"authorization_pending"} and a used or expired code
// with "invalid device code".
func (c *Client) PollDevice(ctx context.Context, dc DeviceCode, scopes []string, sleep Sleeper) (Grant, error) {
	if sleep == nil {
		sleep = RealSleep
	}
	// The documented form: client_id, scopes, device_code, grant_type — no
	// client_secret, for public and confidential clients alike.
	v := url.Values{"client_id": {c.ClientID}, "scopes": {strings.Join(scopes, " ")}, "device_code": {dc.DeviceCode},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}
	interval := dc.Interval
	var waited time.Duration
	for {
		if dc.ExpiresIn > 0 && waited >= dc.ExpiresIn {
			return Grant{}, ErrDeviceExpired
		}
		if err := sleep(ctx, interval); err != nil {
			return Grant{}, err
		}
		waited += interval
		var b tokenBody
		err := c.form(ctx, "device token", "/oauth2/token", v, &b)
		if err == nil {
			return b.grant("device token")
		}
		var he *httpError
		if !errors.As(err, &he) || he.status >= 500 {
			// Twitch or the network stumbled: the code is still good until it expires.
			continue
		}
		switch code := he.body.code(); {
		case code == "authorization_pending":
		case code == "slow_down":
			interval += 5 * time.Second
		case code == "expired_token" || strings.Contains(code, "invalid device code") || strings.Contains(code, "expired"):
			return Grant{}, ErrDeviceExpired
		case code == "access_denied" || strings.Contains(code, "denied"):
			return Grant{}, ErrAccessDenied
		default:
			return Grant{}, err
		}
	}
}
