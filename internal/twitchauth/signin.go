package twitchauth

import (
	"context"
	"fmt"
)

// DeviceSignIn is the broadcaster's sign-in by the Device Code Grant flow.
// mgm-ebs twitch login and the development page both run it, so that they ask
// for the same scopes and keep the grant the same way.
type DeviceSignIn struct {
	Client *Client
	Source *UserTokenSource
	// BroadcasterUserID, when set, is the only account whose sign-in is kept:
	// a grant for another account would serve the wrong channel.
	BroadcasterUserID string
}

// Start asks Twitch for a code the streamer enters at dc.VerificationURI.
func (d DeviceSignIn) Start(ctx context.Context) (DeviceCode, error) {
	return d.Client.StartDevice(ctx, Scopes)
}

// Finish waits for the streamer to approve dc (ErrAccessDenied,
// ErrDeviceExpired otherwise), checks the account and stores the grant in
// Source, which uses it from then on. It returns the new sign-in's status.
func (d DeviceSignIn) Finish(ctx context.Context, dc DeviceCode, sleep Sleeper) (Status, error) {
	g, err := d.Client.PollDevice(ctx, dc, Scopes, sleep)
	if err != nil {
		return Status{}, err
	}
	v, err := d.Client.Validate(ctx, g.AccessToken)
	if err != nil {
		return Status{}, fmt.Errorf("Twitch gave a token it then did not accept: %w", err)
	}
	if id := d.BroadcasterUserID; id != "" && v.UserID != id {
		return Status{}, fmt.Errorf("signed in as %s (user id %s), but Twitch__BroadcasterUserId is %s: sign in again "+
			"as the broadcaster (log out of Twitch in the browser first)", v.Login, v.UserID, id)
	}
	if err := d.Source.Save(ctx, g, v); err != nil {
		return Status{}, err
	}
	return d.Source.Status(), nil
}
