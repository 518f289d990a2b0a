package desktop_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
	"github.com/mimirons-goldomatic/mgm/internal/sim/wowsim"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Tier C, the full loop (sim.md): the EBS with short cycles, the Twitch
// stand-ins, the WoW client simulator running the real addon in --auto mode,
// and the real mgm-desktop binary with the simulator injector. The test plays
// the viewers (signed chat messages) and the streamer (the Desktop's own UI
// API for settings and Sync/Inject); otherwise it only watches: EBS reads, the
// chat log file and the Helix stand-in's recorder.
func TestTierC(t *testing.T) {
	if testing.Short() {
		t.Skip("tier C runs real spin cycles (about a minute)")
	}
	root := moduleRoot(t)
	bin := filepath.Join(t.TempDir(), "mgm-desktop")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, "./cmd/mgm-desktop")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, store := range ebstest.Stores {
		for _, route := range []string{"screen", "chatlog"} {
			t.Run(string(store)+"/"+route, func(t *testing.T) {
				t.Parallel()
				runTierC(t, store, route, root, bin)
			})
		}
	}
}

// tierCClient is the simulated client of a tier C run. "screen": the
// pessimistic default — the chat log reaches the disk only when WoW exits,
// prints are not logged, keys need the chat box opened — so every answer
// comes back through the addon's strip. "chatlog": the strip is covered by
// another window, and the chat log is written line by line with prints
// logged and whispers to self relayed, so every answer comes back through
// the chat-log routes.
func tierCClient(route string) (wowsim.Config, wowsim.ChatLogOptions) {
	if route == "chatlog" {
		return wowsim.Config{Window: wowsim.WindowCovered, Prints: wowsim.PrintsLogged, SelfWhisper: wowsim.SelfWhisperRelayed},
			wowsim.ChatLogOptions{Mode: wowsim.LogLineByLine}
	}
	return wowsim.Config{}, wowsim.ChatLogOptions{}
}

// chatFrame is everything the simulated chat frame has shown, one line per
// line: what the streamer saw, whether or not it reached the chat log.
func chatFrame(t *testing.T, simURL string) []byte {
	t.Helper()
	var st struct {
		ChatFrame []string `json:"chatFrame"`
	}
	testkit.Call(t, http.MethodGet, simURL+"/api/mock/state", nil, nil, &st)
	return []byte(strings.Join(st.ChatFrame, "\n"))
}

const (
	tierCKey      = "tier-c-desktop-api-key-0123456789abcdef"
	tierCSecret   = "tier-c-eventsub-secret"
	broadcaster   = "b1"
	consentPrefix = "Поздравляю, ты победил в розыгрыше!"
)

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// desktopProc is one run of the binary.
type desktopProc struct {
	cmd  *exec.Cmd
	out  *testkit.Buffer
	base string // http://127.0.0.1:port
	tok  string
	done chan struct{}
}

var uiURL = regexp.MustCompile(`UI:\s+(http://127\.0\.0\.1:\d+)/\?token=([0-9a-f]+)`)

func startDesktop(t *testing.T, bin, dataDir, simURL, logPath string) *desktopProc {
	t.Helper()
	cmd := exec.Command(bin, "--data-dir", dataDir, "--no-browser", "--injector", "simulator",
		"--wow-sim-url", simURL, "--log-path", logPath)
	pr, pw := io.Pipe()
	d := &desktopProc{cmd: cmd, out: &testkit.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = pw, d.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			d.out.Write([]byte(line + "\n"))
			if m := uiURL.FindStringSubmatch(line); m != nil {
				select {
				case found <- [2]string{m[1], m[2]}:
				default:
				}
			}
		}
	}()
	go func() { cmd.Wait(); pw.Close(); close(d.done) }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("mgm-desktop output:\n%s", d.out.String())
		}
	})
	select {
	case m := <-found:
		d.base, d.tok = m[0], m[1]
	case <-d.done:
		t.Fatalf("mgm-desktop exited:\n%s", d.out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("mgm-desktop printed no UI address:\n%s", d.out.String())
	}
	return d
}

// api calls the Desktop's UI API (as the page would).
func (d *desktopProc) api(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	client := &http.Client{Timeout: 60 * time.Second}
	r := testkit.Do(t, client, method, d.base+path, testkit.Header(map[string]string{"X-MGM-Token": d.tok, "Content-Type": "application/json"}), body)
	r.Decode(t, out)
	return r.Status
}

// kill is kill -9: no shutdown, no final save.
func (d *desktopProc) kill(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.done
}

func postJSON(t *testing.T, url string, body any) {
	t.Helper()
	if r := testkit.Do(t, nil, http.MethodPost, url, nil, body); r.Status != 200 {
		t.Fatalf("POST %s: %d %s", url, r.Status, r.Body)
	}
}

var allStatuses = []mgm.PayoutStatus{"Pending", "InProgress", "Sent", "Failed", "Cancelled", "Expired"}

func runTierC(t *testing.T, store ebstest.Store, route, root, bin string) {
	started := time.Now()
	ctx := context.Background()

	// Twitch stand-ins.
	helix := httptest.NewServer(twitchsim.NewHelix(twitchsim.HelixOptions{StrictAuth: true}))
	t.Cleanup(helix.Close)
	ebs := ebstest.Start(t, store, map[string]string{
		"Mgm__ApiKey": tierCKey, "Mgm__SpinIntervalSeconds": "10",
		"Mgm__RateLimits__DesktopPerMinute": "100000",
		"Twitch__BroadcasterUserId":         broadcaster, "Twitch__EventSubSecret": tierCSecret,
		"Twitch__BroadcasterAccessToken": "tier-c-access-token", "Twitch__HelixClientId": "tier-c-client",
		"Twitch__HelixApiBaseUrl": helix.URL,
	}, ebstest.WithSeeds(thrallFirst()), ebstest.WithLogger(testkit.TailLogger(t, 300)))
	eventsub := httptest.NewServer(twitchsim.NewEventSub(twitchsim.EventSubOptions{
		Secret: tierCSecret, BackendBaseURL: ebs.URL, BroadcasterUserID: broadcaster}))
	t.Cleanup(eventsub.Close)
	jwt := httptest.NewServer(twitchsim.NewJWT(twitchsim.JWTOptions{BroadcasterUserID: broadcaster}))
	t.Cleanup(jwt.Close)

	// The WoW client simulator with the real addon, playing the other side.
	// Thrall is not online. Posted keys are ignored while the chat box is
	// closed, as the real client may do: every line must be preceded by the
	// real Enter key.
	logPath := filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt")
	client, logOpts := tierCClient(route)
	client.AddonDir, client.PlayerName = filepath.Join(root, "addon", "MimironsGoldOMatic"), "Streamer"
	sim, err := wowsim.NewServer(wowsim.ServerConfig{
		Client: client, ChatLog: logOpts,
		LogPath: logPath, Auto: true, AutoReplyDelay: 500 * time.Millisecond,
		Roster: []wowsim.Player{{Name: "Voljin", Level: 80}, {Name: "Jaina", Level: 80}, {Name: "Arthas", Level: 80}},
	})
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(ctx)
	go sim.Run(simCtx)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { simSrv.Close(); stopSim(); sim.Close() })

	// The streamer's bags: enough items that the addon splits its listing
	// over several [MGM_ITEMS:<id>:<part>/<total>] lines.
	var items []wowsim.Item
	for i, name := range []string{"Linen Cloth", "Wool Cloth", "Silk Cloth", "Mageweave Cloth", "Runecloth",
		"Netherweave Cloth", "Frostweave Cloth", "Infinite Dust", "Eternium Ore", "Saronite Ore"} {
		items = append(items, wowsim.Item{Bag: i / 4, Slot: i%4 + 1, ID: 2589 + i, Name: name, Count: 5 + i})
	}
	postJSON(t, simSrv.URL+"/api/mock/bags", map[string]any{"items": items})

	// The Desktop, configured on its first run through its settings page's API.
	dataDir := t.TempDir()
	desk := startDesktop(t, bin, dataDir, simSrv.URL, logPath)
	var sv map[string]any
	desk.api(t, "GET", "/api/settings", nil, &sv)
	if sv["firstRun"] != true {
		t.Fatalf("first run not detected: %v", sv)
	}
	var test map[string]any
	desk.api(t, "POST", "/api/settings/test", map[string]string{"ebsUrl": ebs.URL, "apiKey": tierCKey}, &test)
	if test["ok"] != true {
		t.Fatalf("test connection: %v", test)
	}
	if code := desk.api(t, "PUT", "/api/settings", map[string]any{"ebsUrl": ebs.URL, "apiKey": tierCKey, "pollIntervalSeconds": 1}, &sv); code != 200 || sv["firstRun"] != false {
		t.Fatalf("settings: %d %v", code, sv)
	}

	// Viewers enroll by signed chat messages; one asks for a gift.
	for _, v := range []struct{ id, login, text string }{
		{"v1", "voljinfan", "!twgold Voljin"}, {"v2", "jainafan", "!twgold Jaina"},
		{"v3", "thrallfan", "!twgold Thrall"}, {"v4", "arthasfan", "!twgift Arthas"},
	} {
		postJSON(t, eventsub.URL+"/send-chat", twitchsim.SendChatRequest{UserID: v.id, Login: v.login, Text: v.text,
			Subscriber: true, BroadcasterUserID: broadcaster})
	}

	ebsClient, err := ebsclient.New(ebs.URL, tierCKey)
	if err != nil {
		t.Fatal(err)
	}
	synced := map[string]bool{}
	seen := map[string]ebsapi.Payout{}
	restarted, giftDone, offlineSeen := false, false, false
	var giftID string
	deadline := time.Now().Add(150 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("the loop did not finish: restarted=%v gift=%v offline=%v payouts=%+v\nchat frame:\n%s",
				restarted, giftDone, offlineSeen, seen, chatFrame(t, simSrv.URL))
		}
		ps, err := ebsClient.PendingPayouts(ctx, allStatuses...)
		if err != nil {
			t.Fatal(err)
		}
		sentAll := len(synced) > 0
		for _, p := range ps {
			seen[p.ID] = p
			if p.CharacterName == "Thrall" {
				t.Fatalf("an offline candidate got a payout: %+v", p)
			}
			// The streamer presses Sync/Inject once a winner has consented.
			if p.Status == mgm.PayoutPending && p.AcceptedAt != nil && !synced[p.ID] {
				var r struct {
					OK         bool     `json:"ok"`
					Message    string   `json:"message"`
					InProgress []string `json:"inProgress"`
				}
				desk.api(t, "POST", "/api/sync", nil, &r)
				if !r.OK {
					t.Fatalf("Sync/Inject: %+v", r)
				}
				for _, id := range r.InProgress {
					synced[id] = true
				}
				if !restarted {
					// Mid-loop: the gold is queued in WoW, the mail and its
					// [MGM_CONFIRM] come while the Desktop is dead.
					desk.kill(t)
					time.Sleep(1500 * time.Millisecond)
					desk = startDesktop(t, bin, dataDir, simSrv.URL, logPath)
					restarted = true
				}
			}
			if synced[p.ID] && p.Status != mgm.PayoutSent {
				sentAll = false
			}
		}
		log := chatFrame(t, simSrv.URL)
		offlineSeen = offlineSeen || regexp.MustCompile(`\[MGM_WHO\]\{[^}]*"characterName":"Thrall","online":false`).Match(log)
		if m := regexp.MustCompile(`\[MGM_GIFT_ACCEPT:([0-9a-f-]{36})\]`).FindSubmatch(log); m != nil {
			giftID = string(m[1])
		}
		if giftID != "" && !giftDone {
			giftDone = giftCompleted(t, ebs.URL, jwt.URL, giftID)
		}
		if restarted && sentAll && giftDone && offlineSeen {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}

	// Sent answers at once; the reward line follows from the EBS's
	// announcement job, so wait for each Sent payout's outcome first.
	for id, p := range seen {
		if p.Status != mgm.PayoutSent {
			continue
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			h, err := ebsClient.PayoutHistory(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(h); n > 0 && strings.HasPrefix(h[n-1].Type, "HelixRewardSentAnnouncement") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no announcement outcome 30 s after Sent", id)
			}
		}
	}

	// Nothing was done twice, nothing was lost.
	log := chatFrame(t, simSrv.URL)
	helixLines := helixRequests(t, helix.URL)
	sent := 0
	for id := range seen {
		p, err := ebsClient.Payout(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ebsClient.PayoutHistory(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, ev := range h {
			count[ev.Type]++
			count[ev.Type+" "+string(ev.Data)]++
			if ev.Type == "PayoutStatusChanged" && count[ev.Type+" "+string(ev.Data)] > 1 {
				t.Errorf("%s: transition repeated: %s", id, ev.Data)
			}
		}
		if count["WinnerAcceptanceRecorded"] > 1 {
			t.Errorf("%s: acceptance recorded %d times", id, count["WinnerAcceptanceRecorded"])
		}
		// The winner was whispered exactly once, across the restart.
		if n := strings.Count(string(log), "To ["+p.CharacterName+"]: "+consentPrefix); n != 1 {
			t.Errorf("%s (%s) whispered %d times", id, p.CharacterName, n)
		}
		if p.Status == mgm.PayoutSent {
			sent++
			if count["HelixRewardSentAnnouncementSucceeded"] != 1 || helixLines[p.CharacterName] != 1 {
				t.Errorf("%s (%s): %d announcements, %d Helix lines", id, p.CharacterName,
					count["HelixRewardSentAnnouncementSucceeded"], helixLines[p.CharacterName])
			}
		}
	}
	total := 0
	for _, n := range helixLines {
		total += n
	}
	if sent == 0 || total != sent {
		t.Errorf("%d payouts Sent, %d Helix lines", sent, total)
	}
	// The gift listing came split over several lines and was reassembled.
	if !regexp.MustCompile(`\[MGM_ITEMS:` + giftID + `:1/[2-9]\]`).Match(log) {
		t.Errorf("the gift listing was not split; the test no longer covers reassembly")
	}
	// The completed gift was delivered: its item mailed once, confirmed by marker.
	giftSent := regexp.MustCompile(`\[MGM_GIFT_SENT:` + giftID + `\]`)
	for deadline := time.Now().Add(30 * time.Second); !giftSent.Match(log) && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		log = chatFrame(t, simSrv.URL)
	}
	if n := len(giftSent.FindAll(log, -1)); n != 1 {
		t.Errorf("the gift was confirmed mailed %d times, want 1", n)
	}
	// One /who per spin cycle, across the restart.
	perCycle := map[string]int{}
	for _, m := range regexp.MustCompile(`\[MGM_WHO\]\{"schemaVersion":1,"spinCycleId":"([0-9a-f-]{36})"`).FindAllSubmatch(log, -1) {
		perCycle[string(m[1])]++
	}
	for c, n := range perCycle {
		if n > 1 {
			t.Errorf("cycle %s: %d /who reports", c, n)
		}
	}
	// The restarted Desktop has nothing left over. The spin clock keeps
	// running, so a marker of a cycle that began just now may be in flight:
	// give it a moment to finish instead of failing on a snapshot.
	var status struct {
		PendingMarkers []any `json:"pendingMarkers"`
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		status.PendingMarkers = nil
		desk.api(t, "GET", "/api/status", nil, &status)
		if len(status.PendingMarkers) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(status.PendingMarkers) != 0 {
		t.Errorf("unfinished marker work: %v", status.PendingMarkers)
	}
	// The restarted Desktop's handshake answered by the routes this client
	// allows, and only by them.
	var bv struct {
		Bridge struct {
			State     string    `json:"state"`
			LastCheck time.Time `json:"lastCheck"`
			Routes    []struct {
				Route    string `json:"route"`
				Answered bool   `json:"answered"`
			} `json:"routes"`
		} `json:"bridge"`
	}
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		desk.api(t, "GET", "/api/status", nil, &bv)
		if bv.Bridge.State == "up" && !bv.Bridge.LastCheck.IsZero() || time.Now().After(deadline) {
			break
		}
	}
	used := map[string]bool{}
	for _, r := range bv.Bridge.Routes {
		used[r.Route] = r.Answered
	}
	want := map[string]bool{"screen": route == "screen", "log-print": route == "chatlog", "log-whisper": route == "chatlog"}
	if bv.Bridge.State != "up" || fmt.Sprint(used) != fmt.Sprint(want) {
		t.Errorf("bridge %s, routes that answered the handshake %v, want %v", bv.Bridge.State, used, want)
	}
	if fileLog, _ := os.ReadFile(logPath); route == "screen" && len(bytes.TrimSpace(fileLog)) > 0 {
		t.Errorf("the chat log was written while WoW ran (%d bytes): the test no longer proves the screen route", len(fileLog))
	}
	t.Logf("%s via %s: %d payouts (%d Sent), %d cycles /who'd, gift %s completed, in %s",
		store, route, len(seen), sent, len(perCycle), giftID, time.Since(started).Round(time.Second))
}

// giftCompleted asks the EBS, as the gift's viewer, whether the request completed.
func giftCompleted(t *testing.T, ebsURL, jwtURL, giftID string) bool {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	testkit.Call(t, http.MethodGet, jwtURL+"/token?userId=v4&displayName=ArthasFan&channelId="+broadcaster, nil, nil, &tok)
	var q []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	bearer := testkit.Header(map[string]string{"Authorization": "Bearer " + tok.AccessToken})
	if code := testkit.Call(t, http.MethodGet, ebsURL+"/api/streamers/"+broadcaster+"/gift-queue", bearer, nil, &q); code != 200 {
		t.Fatalf("gift queue: %d", code)
	}
	for _, g := range q {
		if g.ID == giftID {
			return g.State == "Completed"
		}
	}
	return false
}

// helixRequests counts the reward lines posted to Twitch chat per character.
func helixRequests(t *testing.T, helixURL string) map[string]int {
	t.Helper()
	var reqs []struct {
		Path   string          `json:"path"`
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	}
	testkit.Call(t, http.MethodGet, helixURL+"/requests", nil, nil, &reqs)
	out := map[string]int{}
	for _, r := range reqs {
		var b struct {
			Message string `json:"message"`
		}
		json.Unmarshal(r.Body, &b)
		for _, name := range []string{"Voljin", "Jaina", "Thrall"} {
			if strings.Contains(b.Message, name) {
				out[name]++
			}
		}
	}
	return out
}

// thrallFirst fixes the draw order so the loop needs a few cycles, not
// luck. Draws are committed when a cycle is created, before anyone knows who
// will be eligible, so each cycle's seed is chosen for every case at once:
// the cycles take turns drawing offline Thrall whenever he is eligible (he
// always is: he never wins) and drawing the first eligible of Voljin, Jaina,
// Thrall (winners have an active payout, then leave the pool).
func thrallFirst() func(cycleID string) (drawproof.Seed, error) {
	members := []testkit.DrawMember{{TwitchUserID: "v1", CharacterName: "Voljin"},
		{TwitchUserID: "v2", CharacterName: "Jaina"}, {TwitchUserID: "v3", CharacterName: "Thrall"}}
	var mu sync.Mutex
	turn := 0
	return func(cycleID string) (drawproof.Seed, error) {
		mu.Lock()
		defer mu.Unlock()
		turn++
		if turn%2 == 1 {
			return testkit.SeedPreferring(cycleID, members, "Thrall"), nil
		}
		return testkit.SeedPreferring(cycleID, members, "Voljin", "Jaina", "Thrall"), nil
	}
}
