package main_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/twitchauth/oauthtest"
)

// The real binary: mgm-ebs twitch login against a Twitch-shaped OAuth
// server, then status. Nothing it prints (stdout or the JSON logs on
// stderr) contains a token.
func TestTwitchLoginBinary(t *testing.T) {
	t.Parallel()
	bin := build(t)
	srv := oauthtest.New(t, time.Now)
	srv.Interval = time.Second // Twitch says 5; the test need not wait that long
	srv.DevicePolls("authorization_pending", "")
	env := cleanEnv("Mgm__DataDir="+filepath.Join(t.TempDir(), "data"), "Mgm__LogLevel=debug",
		"Twitch__HelixClientId="+srv.ClientID, "Twitch__ClientSecret="+srv.ClientSecret, "Twitch__AuthBaseUrl="+srv.URL)
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	out, errOut, err := run("twitch", "login")
	if err != nil {
		t.Fatalf("login: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"ABCDEFGH", "https://www.twitch.tv/activate", "Connected as twitchdev (user id 141981764)",
		"unencrypted (set Twitch__TokenEncryptionKey", "Set Twitch__BroadcasterUserId=141981764"} {
		if !strings.Contains(out, want) {
			t.Errorf("login output lacks %q:\n%s", want, out)
		}
	}
	sOut, sErr, err := run("twitch", "status")
	if err != nil || !strings.Contains(sOut, "Status:      OK") {
		t.Fatalf("status: %v\n%s\n%s", err, sOut, sErr)
	}
	all := out + errOut + sOut + sErr
	for _, tok := range append(srv.Issued(), srv.ClientSecret) {
		if strings.Contains(all, tok) {
			t.Errorf("%q leaked into the output or logs", tok)
		}
	}
	if _, _, err := run("twitch", "bogus"); err == nil {
		t.Error("an unknown twitch command succeeded")
	}
}
