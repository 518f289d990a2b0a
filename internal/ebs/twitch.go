package ebs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/devpage"
	"github.com/mimirons-goldomatic/mgm/internal/helix"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/twitchauth"
)

// TwitchOptions are the process-level pieces of the twitch subcommands.
type TwitchOptions struct {
	Out    io.Writer // what the streamer reads
	Logger *slog.Logger
	Now    func() time.Time
	// Sleep waits between polls of the device flow; nil is the wall clock.
	Sleep twitchauth.Sleeper
}

// ErrTwitchNotReady is returned by "twitch status" when the sign-in needs
// the streamer's attention (the reasons are printed), so scripts can check it.
var ErrTwitchNotReady = errors.New("the Twitch sign-in needs attention (see above)")

// TwitchUsage describes the subcommands.
const TwitchUsage = `Usage: mgm-ebs twitch login|status [--Section:Key=value ...]

  login    connect the broadcaster's Twitch account (Device Code Grant flow):
           open the link shown, enter the code, approve; the tokens are stored
           in the EBS's database (encrypted when Twitch__TokenEncryptionKey is set)
  status   who is connected, the scopes, expiry, last validation, what is missing

Both read the same settings as the server (Twitch__HelixClientId, Twitch__ClientSecret,
Twitch__AuthBaseUrl, Twitch__TokenEncryptionKey, the store).
`

// Twitch runs "mgm-ebs twitch <cmd>".
func Twitch(ctx context.Context, cfg config.Config, cmd string, o TwitchOptions) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if cmd != "login" && cmd != "status" {
		return fmt.Errorf("unknown twitch command %q\n%s", cmd, TwitchUsage)
	}
	if cfg.HelixClientID == "" {
		return errors.New("Twitch__HelixClientId is not set: register an application in the Twitch developer console " +
			"(https://dev.twitch.tv/console/apps) and set its client id")
	}
	cipher, err := tokenCipher(cfg)
	if err != nil {
		return err
	}
	// No data-folder lock: the server may be running on the same SQLite
	// file, and the sign-in is one row written in one transaction.
	db, where, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // read-mostly; a close error changes nothing for the streamer
	src := newUserTokens(cfg, db, cipher, o.Logger, o.Now)
	if cmd == "login" {
		return twitchLogin(ctx, cfg, src, where, cipher != nil, o)
	}
	return twitchStatus(ctx, cfg, src, o)
}

func tokenCipher(cfg config.Config) (*twitchauth.Cipher, error) {
	if len(cfg.TokenEncryptionKey) == 0 {
		return nil, nil
	}
	return twitchauth.NewCipher(cfg.TokenEncryptionKey)
}

func newUserTokens(cfg config.Config, db *store.DB, cipher *twitchauth.Cipher, log *slog.Logger, now func() time.Time) *twitchauth.UserTokenSource {
	return twitchauth.NewUserTokenSource(twitchauth.UserConfig{
		DB: db, Client: twitchauth.NewClient(cfg.AuthBaseURL, cfg.HelixClientID, cfg.ClientSecret), Cipher: cipher,
		Now: now, Logger: log,
	})
}

func twitchLogin(ctx context.Context, cfg config.Config, src *twitchauth.UserTokenSource, where string, encrypted bool, o TwitchOptions) error {
	signIn := deviceSignIn(cfg, src)
	dc, err := signIn.Start(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "To connect your Twitch channel, open\n\n    %s\n\nsign in as the broadcaster and enter the code\n\n    %s\n\n",
		dc.VerificationURI, dc.UserCode)
	fmt.Fprintf(o.Out, "Scopes asked for: %s\nWaiting for approval (the code expires in %s)…\n",
		strings.Join(twitchauth.Scopes, " "), dc.ExpiresIn.Round(time.Minute))
	st, err := signIn.Finish(ctx, dc, o.Sleep)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Connected as %s (user id %s); the token is valid until %s and is renewed automatically.\n",
		st.Login, st.UserID, st.ExpiresAt.Local().Format(time.DateTime))
	how := "unencrypted (set Twitch__TokenEncryptionKey to encrypt it, then run mgm-ebs twitch login again)"
	if encrypted {
		how = "encrypted with Twitch__TokenEncryptionKey"
	}
	fmt.Fprintf(o.Out, "Stored in %s, %s.\n", where, how)
	if cfg.BroadcasterUserID == "" {
		fmt.Fprintf(o.Out, "Set Twitch__BroadcasterUserId=%s so the EBS serves this channel.\n", st.UserID)
	}
	for _, p := range st.Problems() {
		fmt.Fprintf(o.Out, "Attention: %s\n", p)
	}
	return nil
}

// deviceSignIn is the sign-in both mgm-ebs twitch login and the development
// page run, into src.
func deviceSignIn(cfg config.Config, src *twitchauth.UserTokenSource) twitchauth.DeviceSignIn {
	return twitchauth.DeviceSignIn{Client: twitchauth.NewClient(cfg.AuthBaseURL, cfg.HelixClientID, cfg.ClientSecret),
		Source: src, BroadcasterUserID: cfg.BroadcasterUserID}
}

// devTwitchOptions are /dev/twitch's: the stored sign-in Helix uses, or
// why there is none to sign in to.
func (b *backend) devTwitchOptions(o Options) devpage.TwitchOptions {
	t := devpage.TwitchOptions{Sleep: o.TwitchSleep, Logger: o.Logger, Now: o.Now}
	switch {
	case b.twitchUser != nil:
		t.SignIn = deviceSignIn(b.cfg, b.twitchUser)
	case b.cfg.BroadcasterAccessToken != "":
		t.Unavailable = "Twitch__BroadcasterAccessToken is set: the EBS uses that static token and ignores a stored sign-in. " +
			"Remove it and restart the EBS to sign in here."
	default:
		t.Unavailable = "Twitch__HelixClientId is not set: register an application in the Twitch developer console " +
			"(https://dev.twitch.tv/console/apps), set its client id and restart the EBS."
	}
	return t
}

func twitchStatus(ctx context.Context, cfg config.Config, src *twitchauth.UserTokenSource, o TwitchOptions) error {
	w := o.Out
	if cfg.BroadcasterAccessToken != "" {
		fmt.Fprintln(w, "Twitch__BroadcasterAccessToken is set: the server uses that static token (never refreshed) and ignores the stored sign-in.")
	}
	checkErr := src.Check(ctx) // validates with Twitch when due, as the server does
	st := src.Status()
	switch st.State {
	case twitchauth.StateValid, twitchauth.StateInvalid:
		fmt.Fprintf(w, "Connected:   %s (user id %s)\n", st.Login, st.UserID)
		fmt.Fprintf(w, "Scopes:      %s\n", strings.Join(st.Scopes, " "))
		fmt.Fprintf(w, "Expires:     %s\n", st.ExpiresAt.Local().Format(time.DateTime))
		validated := "never"
		if st.ValidatedAt != nil {
			validated = st.ValidatedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(w, "Validated:   %s\n", validated)
		fmt.Fprintf(w, "Refresh:     %s\n", map[bool]string{true: "yes", false: "no refresh token"}[st.HasRefreshToken])
		fmt.Fprintf(w, "Stored:      %s\n", map[bool]string{true: "encrypted", false: "unencrypted"}[st.Encrypted])
	default:
		fmt.Fprintf(w, "Connected:   no\n")
	}
	if id := cfg.BroadcasterUserID; id != "" && st.UserID != "" && st.UserID != id {
		fmt.Fprintf(w, "Attention: signed in as user id %s, but Twitch__BroadcasterUserId is %s: run mgm-ebs twitch login again as the broadcaster\n", st.UserID, id)
	}
	problems := st.Problems()
	for _, p := range problems {
		fmt.Fprintf(w, "Attention: %s\n", p)
	}
	if checkErr != nil {
		fmt.Fprintf(w, "Could not check with Twitch just now: %v\n", checkErr)
	}
	if len(problems) > 0 || checkErr != nil || st.State != twitchauth.StateValid {
		return ErrTwitchNotReady
	}
	fmt.Fprintln(w, "Status:      OK")
	return nil
}

// helixClient picks the broadcaster token Helix uses: the static
// Twitch__BroadcasterAccessToken when set (as before), else the stored
// sign-in when a client id is configured. It adds the banner line saying which.
func (b *backend) helixClient(ctx context.Context, o Options, m twitchauth.Observer) (*helix.Client, error) {
	cfg := b.cfg
	if cfg.HelixClientID != "" && cfg.ClientSecret != "" {
		b.appTokens = twitchauth.NewAppTokenSource(twitchauth.NewClient(cfg.AuthBaseURL, cfg.HelixClientID, cfg.ClientSecret), o.Now)
	}
	if cfg.BroadcasterAccessToken != "" || cfg.HelixClientID == "" {
		if cfg.BroadcasterAccessToken != "" {
			m.TwitchTokenState(string(twitchauth.StateStatic))
			b.userTokens = twitchauth.NewStaticTokenSource(cfg.BroadcasterAccessToken)
		}
		return helix.New(cfg.HelixAPIBaseURL, cfg.HelixClientID, cfg.BroadcasterAccessToken, cfg.BroadcasterUserID), nil
	}
	cipher, err := tokenCipher(cfg)
	if err != nil {
		return nil, err
	}
	src := twitchauth.NewUserTokenSource(twitchauth.UserConfig{
		DB: b.db, Client: twitchauth.NewClient(cfg.AuthBaseURL, cfg.HelixClientID, cfg.ClientSecret), Cipher: cipher,
		Now: o.Now, Logger: o.Logger, Observer: m,
	})
	if err := src.Load(ctx); err != nil {
		return nil, err
	}
	b.twitchUser, b.userTokens = src, src
	st := src.Status()
	switch st.State {
	case twitchauth.StateValid:
		b.notes = append(b.notes, fmt.Sprintf("Twitch:     signed in as %s (user id %s); renewed automatically", st.Login, st.UserID))
	default:
		for _, p := range st.Problems() {
			b.notes = append(b.notes, "Twitch:     "+p)
		}
	}
	return helix.NewWithTokens(cfg.HelixAPIBaseURL, cfg.HelixClientID, src, cfg.BroadcasterUserID), nil
}

// twitchReadyDetail is the sign-in's part of /readyz's detail (no tokens):
// its state, and when it needs the streamer, why and what to do. nil when
// the stored sign-in is not in use.
func (b *backend) twitchReadyDetail() map[string]any {
	if b.twitchUser == nil {
		return nil
	}
	st := b.twitchUser.Status()
	d := map[string]any{"state": string(st.State)}
	if st.Login != "" {
		d["login"], d["user_id"], d["expires_at"] = st.Login, st.UserID, st.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if st.ValidatedAt != nil {
		d["validated_at"] = st.ValidatedAt.UTC().Format(time.RFC3339)
	}
	if st.Reason != "" {
		d["reason"] = st.Reason
	}
	if p := st.Problems(); len(p) > 0 {
		d["problems"] = p
	}
	return map[string]any{"twitch_signin": d}
}
