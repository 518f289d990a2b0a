package wowsim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The normative whispers (spec README), byte for byte.
const (
	consentText  = "Поздравляю, ты победил в розыгрыше! Дай мне своё согласие на получение награды - ответь на это сообщение одной фразой: !twgold"
	mailSentText = "Награда отправлена тебе на почту, проверяй ящик!"
	giftText     = "Тебе выбран подарок! Для подтверждения ответь одной фразой: !twgift"
)

const (
	payout1 = "0f8fad5b-d9cb-469f-a165-70867728950e"
	payout2 = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	payout3 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
	gift1   = "9b2f6d4e-1c3a-4e5f-8a7b-6c5d4e3f2a1b"
)

func allOnline(c *Client) *Client { c.SetRoster(nil, true); return c }

func whisperTexts(c *Client) []string {
	var out []string
	for _, w := range c.Whispers() {
		out = append(out, w.To+": "+w.Text)
	}
	return out
}

func queueSummary(c *Client) []string {
	var out []string
	for _, r := range c.QueueRows() {
		out = append(out, fmt.Sprintf("%s:%s:%d:%s", r.PayoutID, r.CharacterName, r.Copper, r.State))
	}
	return out
}

func click(t *testing.T, c *Client, button string) {
	t.Helper()
	if err := c.ClickButton(button); err != nil {
		t.Fatalf("click %s: %v", button, err)
	}
}

func TestNormativeTexts(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	for _, tt := range []struct {
		field, want string
		bytes       int
	}{
		{"CONSENT_WHISPER", consentText, 222},
		{"MAIL_SENT_WHISPER", mailSentText, 88},
		{"GIFT_WHISPER", giftText, 117},
	} {
		got := evalString(t, c, "return MimironsGoldOMaticCore."+tt.field)
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
		}
		if len(got) != tt.bytes || len(got) > 255 {
			t.Errorf("%s is %d bytes, want %d (and at most 255)", tt.field, len(got), tt.bytes)
		}
	}
}

// TestEntryPoints calls every entry point with good and bad arguments; bad
// ones must do nothing and raise nothing (the cleanup fails on Lua errors).
func TestEntryPoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		code      string
		whispers  []string
		markers   []string // after 10 s
		queue     []string
		whoFilter []string
	}{
		{name: "notify good", code: `NotifyWinnerWhisper("p-1","Norinn")`, whispers: []string{"Norinn: " + consentText}},
		{name: "notify trims", code: `NotifyWinnerWhisper(" p-1 "," Norinn ")`, whispers: []string{"Norinn: " + consentText}},
		{name: "notify no args", code: `NotifyWinnerWhisper()`},
		{name: "notify empty id", code: `NotifyWinnerWhisper("","Norinn")`},
		{name: "notify blank name", code: `NotifyWinnerWhisper("p-1","   ")`},
		{name: "notify number id", code: `NotifyWinnerWhisper(42,"Norinn")`},
		{name: "notify table name", code: `NotifyWinnerWhisper("p-1",{})`},
		{name: "notify id with bracket", code: `NotifyWinnerWhisper("p]1","Norinn")`},
		{name: "notify name with space", code: `NotifyWinnerWhisper("p-1","Two Words")`},
		{name: "notify name with colon", code: `NotifyWinnerWhisper("p-1","Na:me")`},

		{name: "gold good", code: `ReceiveGold("p-1:Norinn:10000000;p-2:Рагнар:5;")`,
			queue: []string{"p-1:Norinn:10000000:READY", "p-2:Рагнар:5:READY"}},
		{name: "gold no args", code: `ReceiveGold()`},
		{name: "gold empty", code: `ReceiveGold("")`},
		{name: "gold number", code: `ReceiveGold(5)`},
		{name: "gold table", code: `ReceiveGold({})`},
		{name: "gold separators only", code: `ReceiveGold(";;;")`},
		{name: "gold garbage", code: `ReceiveGold("garbage")`},

		{name: "who good", code: `MGM_RunWhoForSpin("c-1","Hero")`, whoFilter: []string{`n-"Hero"`},
			markers: []string{`[MGM_WHO]{"schemaVersion":1,"spinCycleId":"c-1","characterName":"Hero","online":true,"capturedAt":"2026-04-03T21:15:00.000Z"}`}},
		{name: "who no args", code: `MGM_RunWhoForSpin()`},
		{name: "who empty cycle", code: `MGM_RunWhoForSpin("","Hero")`},
		{name: "who nil name", code: `MGM_RunWhoForSpin("c-1",nil)`},
		{name: "who blank name", code: `MGM_RunWhoForSpin("c-1"," ")`},
		{name: "who bad name", code: `MGM_RunWhoForSpin("c-1","Bad Name")`},
		{name: "who number name", code: `MGM_RunWhoForSpin("c-1",12)`},

		{name: "items good", code: `MGM_RequestGiftItems("g-1")`, markers: []string{"[MGM_ITEMS:g-1][]"}},
		{name: "items no args", code: `MGM_RequestGiftItems()`},
		{name: "items empty", code: `MGM_RequestGiftItems("")`},
		{name: "items bad id", code: `MGM_RequestGiftItems("g]1")`},
		{name: "items number", code: `MGM_RequestGiftItems(7)`},

		{name: "gift confirm good", code: `MGM_RequestGiftConfirmation("g-1","Bob")`, whispers: []string{"Bob: " + giftText}},
		{name: "gift confirm no args", code: `MGM_RequestGiftConfirmation()`},
		{name: "gift confirm empty id", code: `MGM_RequestGiftConfirmation("","Bob")`},
		{name: "gift confirm empty name", code: `MGM_RequestGiftConfirmation("g-1","")`},
		{name: "gift confirm number name", code: `MGM_RequestGiftConfirmation("g-1",12)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := allOnline(newTestClient(t))
			run(t, c, tt.code)
			c.Advance(10 * time.Second)
			if got := whisperTexts(c); !slices.Equal(got, tt.whispers) {
				t.Errorf("whispers %q, want %q", got, tt.whispers)
			}
			if got := markers(c); !slices.Equal(got, tt.markers) {
				t.Errorf("markers %q, want %q", got, tt.markers)
			}
			if got := queueSummary(c); !slices.Equal(got, tt.queue) {
				t.Errorf("queue %q, want %q", got, tt.queue)
			}
			if got := c.WhoQueries(); !slices.Equal(got, tt.whoFilter) {
				t.Errorf("who queries %q, want %q", got, tt.whoFilter)
			}
		})
	}
}

func TestConsent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, winner, sender, text string
		accept                     bool
	}{
		{"exact", "Norinn", "Norinn", "!twgold", true},
		{"case and spaces", "Norinn", "nORINN", "  !TwGold \t", true},
		{"realm suffix", "Norinn", "Norinn-Icecrown", "!twgold", true},
		{"cyrillic lower", "Рагнар", "рагнар", "!twgold", true},
		{"cyrillic upper with realm", "рагнар", "РАГНАР-Гордунни", "!TWGOLD", true},
		{"yo folds", "Ёжик", "ёЖИК", "!twgold", true},
		{"cyrillic other name", "Рагнар", "Рагнир", "!twgold", false},
		{"other player", "Norinn", "Thrall", "!twgold", false},
		{"name prefix", "Norinn", "Norin", "!twgold", false},
		{"extra words", "Norinn", "Norinn", "!twgold please", false},
		{"similar word", "Norinn", "Norinn", "not-twgold", false},
		{"gift word", "Norinn", "Norinn", "!twgift", false},
		{"empty", "Norinn", "Norinn", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := allOnline(newTestClient(t))
			run(t, c, fmt.Sprintf(`NotifyWinnerWhisper(%q,%q)`, payout1, tt.winner))
			c.ReceiveWhisper(tt.sender, tt.text)
			var want []string
			if tt.accept {
				want = []string{"[MGM_ACCEPT:" + payout1 + "]"}
			}
			if got := markers(c); !slices.Equal(got, want) {
				t.Fatalf("markers %q, want %q", got, want)
			}
			// Each consent is reported once.
			c.ReceiveWhisper(tt.sender, tt.text)
			if got := markers(c); !slices.Equal(got, want) {
				t.Fatalf("after a second reply: markers %q, want %q", got, want)
			}
		})
	}
}

func TestSeveralWinnersAwaitConsent(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, fmt.Sprintf(`NotifyWinnerWhisper(%q,"Alpha")`, payout1))
	run(t, c, fmt.Sprintf(`NotifyWinnerWhisper(%q,"Бета")`, payout2))
	run(t, c, fmt.Sprintf(`NotifyWinnerWhisper(%q,"Gamma")`, payout3))
	c.ReceiveWhisper("БЕТА", "!twgold")
	c.ReceiveWhisper("Alpha-Icecrown", "!twgold")
	c.ReceiveWhisper("Delta", "!twgold")
	want := []string{"[MGM_ACCEPT:" + payout2 + "]", "[MGM_ACCEPT:" + payout1 + "]"}
	if got := markers(c); !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
	c.ReceiveWhisper("gamma", "!twgold")
	want = append(want, "[MGM_ACCEPT:"+payout3+"]")
	if got := markers(c); !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
	if n := len(c.Whispers()); n != 3 {
		t.Fatalf("%d whispers, want 3", n)
	}
}

func TestReceiveGoldSegments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		data string
		want []string
	}{
		{"p-1:Norinn:10000000;", []string{"p-1:Norinn:10000000:READY"}},
		{"p-1:Norinn:10000000", []string{"p-1:Norinn:10000000:READY"}},
		{" p-1:Norinn:7 ;; p-2:Ёжик:007;", []string{"p-1:Norinn:7:READY", "p-2:Ёжик:7:READY"}},
		{"p-1:Norinn:5;p-1:Norinn:5;", []string{"p-1:Norinn:5:READY"}},
		{"id::10;id:Name:;id:Name:10abc;id:Name:-5;id:Name:1:2;id x:Name:1;id_1:Name:1;id:Name:0;bad", nil},
		{"id:Name:2147483648;id:Na me:5;id:Name:2147483647", []string{"id:Name:2147483647:READY"}},
		{"bad;" + payout1 + ":Norinn:10000000;x:y", []string{payout1 + ":Norinn:10000000:READY"}},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t)
			run(t, c, fmt.Sprintf("ReceiveGold(%q)", tt.data))
			if got := queueSummary(c); !slices.Equal(got, tt.want) {
				t.Fatalf("queue %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("later lines append and skip queued payouts", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t)
		run(t, c, `ReceiveGold("p-1:A:1;p-2:B:2;")`)
		run(t, c, `ReceiveGold("p-2:B:2;p-3:C:3;")`)
		want := []string{"p-1:A:1:READY", "p-2:B:2:READY", "p-3:C:3:READY"}
		if got := queueSummary(c); !slices.Equal(got, want) {
			t.Fatalf("queue %q, want %q", got, want)
		}
	})
}

// TestMailFlow is the armed mail: Prepare fills the Send Mail tab, Send goes
// out, MAIL_SEND_SUCCESS prints the marker and then whispers.
func TestMailFlow(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;%s:Рагнар:20000;")`, payout1, payout2))
	if f := c.Frame("MGMQueuePrepareButton"); f.Visible {
		t.Fatal("the panel should not show before the mailbox opens")
	}
	c.OpenMailbox()
	if f := c.Frame("MGMQueuePanel"); !f.Visible {
		t.Fatal("MAIL_SHOW should show the queue panel")
	}
	if f := c.Frame("MGMQueuePanelList"); !strings.Contains(f.Text, "1. Norinn  1000g  [READY]") || !strings.Contains(f.Text, "2. Рагнар  2g  [READY]") {
		t.Fatalf("panel list %q", f.Text)
	}
	if f := c.Frame("MGMQueuePrepareButton"); !f.Enabled {
		t.Fatal("Prepare Mail should be enabled at an open mailbox with a READY head row")
	}
	if f := c.Frame("SendMailFrame"); f.Visible {
		t.Fatal("the mailbox opens on the Inbox tab")
	}
	click(t, c, "MGMQueuePrepareButton")
	if !c.Frame("SendMailFrame").Visible {
		t.Fatal("Prepare Mail should switch to the Send Mail tab")
	}
	for name, want := range map[string]string{
		"SendMailNameEditBox": "Norinn", "SendMailSubjectEditBox": "Mimiron's Gold-o-Matic",
		"SendMailMoneyGold": "1000", "SendMailMoneySilver": "0", "SendMailMoneyCopper": "0",
	} {
		if got := c.Frame(name).Text; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := queueSummary(c); got[0] != payout1+":Norinn:10000000:PROCESSING" {
		t.Fatalf("queue %q", got)
	}
	if c.Frame("MGMQueuePrepareButton").Enabled {
		t.Fatal("Prepare Mail should be disabled while a row is being sent")
	}
	click(t, c, "SendMailMailButton")
	if len(markers(c)) != 0 {
		t.Fatal("nothing may be reported before the server confirms the mail")
	}
	c.Advance(time.Second)
	lines := unseqLines(c)
	ci := slices.Index(lines, "[MGM_CONFIRM:"+payout1+"]")
	wi := slices.Index(lines, "To [Norinn]: "+mailSentText)
	if ci < 0 || wi < 0 || wi < ci {
		t.Fatalf("want the CONFIRM marker and then the whisper, got %q", lines)
	}
	if got := whisperTexts(c); !slices.Equal(got, []string{"Norinn: " + mailSentText}) {
		t.Fatalf("whispers %q", got)
	}
	if got := queueSummary(c); !slices.Equal(got, []string{payout2 + ":Рагнар:20000:READY"}) {
		t.Fatalf("queue %q", got)
	}
	if m := c.Mails(); len(m) != 1 || m[0].To != "Norinn" || m[0].Copper != 10000000 || m[0].Result != "sent" {
		t.Fatalf("mails %+v", m)
	}
	if f := c.Frame("MGMToast"); !f.Visible {
		t.Fatal("a toast should confirm the mail")
	}
	c.Advance(4 * time.Second)
	if c.Frame("MGMToast").Visible {
		t.Fatal("the toast should fade out")
	}
	if !c.Frame("MGMQueuePrepareButton").Enabled {
		t.Fatal("the next row can be prepared")
	}
}

// TestManualMailNeverConfirms: mails the streamer writes by hand never print
// a marker, never whisper and never change the queue.
func TestManualMailNeverConfirms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		queue   bool
		prepare bool
		compose func(c *Client) error
		fail    bool
		want    []string
	}{
		{name: "no queue", compose: func(c *Client) error { return c.ComposeMail("Norinn", "hi", 100) }},
		{name: "queued, not prepared, same recipient and amount", queue: true,
			compose: func(c *Client) error { return c.ComposeMail("Norinn", "hi", 10000000) },
			want:    []string{payout1 + ":Norinn:10000000:READY"}},
		{name: "prepared, then sent to someone else", queue: true, prepare: true,
			compose: func(c *Client) error { return c.ComposeMail("Thrall", "hi", 500) },
			want:    []string{payout1 + ":Norinn:10000000:PROCESSING"}},
		{name: "prepared, amount changed", queue: true, prepare: true,
			compose: func(c *Client) error { return c.ComposeMail("Norinn", "hi", 5) },
			want:    []string{payout1 + ":Norinn:10000000:PROCESSING"}},
		{name: "prepared, switched to C.O.D.", queue: true, prepare: true,
			compose: func(c *Client) error {
				return c.blizzard(`SendMailSendMoneyButton:SetChecked(nil) SendMailCODButton:SetChecked(1)`)
			},
			want: []string{payout1 + ":Norinn:10000000:PROCESSING"}},
		{name: "prepared, a manual mail fails", queue: true, prepare: true, fail: true,
			compose: func(c *Client) error { return c.ComposeMail("Thrall", "hi", 500) },
			want:    []string{payout1 + ":Norinn:10000000:PROCESSING"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := allOnline(newTestClient(t))
			if tt.queue {
				run(t, c, fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;")`, payout1))
			}
			c.OpenMailbox()
			if tt.prepare {
				click(t, c, "MGMQueuePrepareButton")
			}
			if err := tt.compose(c); err != nil {
				t.Fatal(err)
			}
			if tt.fail {
				c.FailNextMail("Cannot find recipient")
			}
			click(t, c, "SendMailMailButton")
			c.Advance(2 * time.Second)
			if m := c.Mails(); len(m) != 1 {
				t.Fatalf("mails %+v, want the manual one", m)
			}
			for _, l := range c.ChatLines() {
				if strings.Contains(l, "[MGM_CONFIRM") {
					t.Fatalf("a manual mail printed %q", l)
				}
			}
			if n := len(c.Whispers()); n != 0 {
				t.Fatalf("a manual mail whispered: %q", whisperTexts(c))
			}
			if got := queueSummary(c); !slices.Equal(got, tt.want) {
				t.Fatalf("queue %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMailFailureReturnsRowToReady(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;")`, payout1))
	c.OpenMailbox()
	click(t, c, "MGMQueuePrepareButton")
	c.FailNextMail("Cannot find recipient")
	click(t, c, "SendMailMailButton")
	c.Advance(time.Second)
	if got := queueSummary(c); !slices.Equal(got, []string{payout1 + ":Norinn:10000000:READY"}) {
		t.Fatalf("queue %q", got)
	}
	if len(markers(c)) != 0 || len(c.Whispers()) != 0 {
		t.Fatalf("a failed mail reported: %q %q", markers(c), whisperTexts(c))
	}
	if !slices.Contains(c.ChatLines(), "MGM: the mail to Norinn was not sent; press Prepare Mail to try again.") {
		t.Fatalf("the streamer should be told: %q", c.ChatLines())
	}
	// Retrying works.
	click(t, c, "MGMQueuePrepareButton")
	click(t, c, "SendMailMailButton")
	c.Advance(time.Second)
	if got := markers(c); !slices.Equal(got, []string{"[MGM_CONFIRM:" + payout1 + "]"}) {
		t.Fatalf("markers %q", got)
	}
}

func TestMailboxClose(t *testing.T) {
	t.Parallel()
	t.Run("prepared, not sent", func(t *testing.T) {
		t.Parallel()
		c := allOnline(newTestClient(t))
		run(t, c, fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;")`, payout1))
		c.OpenMailbox()
		click(t, c, "MGMQueuePrepareButton")
		c.CloseMailbox()
		c.Advance(time.Second)
		if got := queueSummary(c); !slices.Equal(got, []string{payout1 + ":Norinn:10000000:READY"}) {
			t.Fatalf("queue %q", got)
		}
		if c.Frame("MGMQueuePrepareButton").Enabled {
			t.Fatal("Prepare Mail needs an open mailbox")
		}
		if got := c.Frame("MailFrame"); got.Visible {
			t.Fatal("MAIL_CLOSED hides the mail frame")
		}
		// Sending by hand after reopening is a manual mail: no marker.
		c.OpenMailbox()
		if err := c.ComposeMail("Norinn", "x", 10000000); err != nil {
			t.Fatal(err)
		}
		click(t, c, "SendMailMailButton")
		c.Advance(time.Second)
		if len(markers(c)) != 0 {
			t.Fatalf("markers %q", markers(c))
		}
	})
	t.Run("sent, closed before the answer", func(t *testing.T) {
		t.Parallel()
		c := allOnline(newTestClient(t))
		run(t, c, fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;")`, payout1))
		c.OpenMailbox()
		click(t, c, "MGMQueuePrepareButton")
		click(t, c, "SendMailMailButton")
		c.CloseMailbox()
		c.Advance(time.Second)
		if got := markers(c); !slices.Equal(got, []string{"[MGM_CONFIRM:" + payout1 + "]"}) {
			t.Fatalf("a mail that left must still be confirmed: %q", got)
		}
		if len(c.QueueRows()) != 0 {
			t.Fatalf("queue %q", queueSummary(c))
		}
	})
	t.Run("sent, closed, no answer ever", func(t *testing.T) {
		t.Parallel()
		c := allOnline(newTestClient(t))
		run(t, c, fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;")`, payout1))
		c.OpenMailbox()
		click(t, c, "MGMQueuePrepareButton")
		click(t, c, "SendMailMailButton")
		c.tasks = nil // the server's answer is lost
		c.CloseMailbox()
		c.Advance(9 * time.Second)
		if got := queueSummary(c); got[0] != payout1+":Norinn:10000000:PROCESSING" {
			t.Fatalf("queue %q: keep waiting for the answer a while", got)
		}
		c.Advance(2 * time.Second)
		if got := queueSummary(c); got[0] != payout1+":Norinn:10000000:READY" {
			t.Fatalf("queue %q", got)
		}
		if len(markers(c)) != 0 {
			t.Fatalf("markers %q", markers(c))
		}
	})
}

var whoMarker = regexp.MustCompile(`^\[MGM_WHO\](\{.*\})$`)

type whoReport struct {
	SchemaVersion int    `json:"schemaVersion"`
	SpinCycleID   string `json:"spinCycleId"`
	CharacterName string `json:"characterName"`
	Online        bool   `json:"online"`
	CapturedAt    string `json:"capturedAt"`
}

func whoReports(t *testing.T, c *Client) []whoReport {
	t.Helper()
	var out []whoReport
	for _, l := range markers(c) {
		m := whoMarker.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var r whoReport
		if err := json.Unmarshal([]byte(m[1]), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

func TestWho(t *testing.T) {
	t.Parallel()
	roster := []Player{{Name: "Hero", Guild: "Knights"}, {Name: "Рагнар"}, {Name: "Heroine"}}
	tests := []struct {
		name     string
		locale   string
		route    WhoRoute
		query    string
		online   bool
		friends  bool // FriendsFrame may show (the answer came as WHO_LIST_UPDATE)
		queryArg string
	}{
		{"list update, online", "enUS", WhoRouteAuto, "Hero", true, false, `n-"Hero"`},
		{"list update, offline", "enUS", WhoRouteAuto, "Nobody", false, false, `n-"Nobody"`},
		{"list update, case-folded", "enUS", WhoRouteUI, "hERO", true, false, `n-"hERO"`},
		{"system chat, online with guild", "enUS", WhoRouteChat, "Hero", true, false, `n-"Hero"`},
		{"system chat, offline", "enUS", WhoRouteChat, "Nobody", false, false, `n-"Nobody"`},
		{"system chat, ruRU, Cyrillic", "ruRU", WhoRouteChat, "рагнар", true, false, `n-"рагнар"`},
		{"system chat, ruRU, offline", "ruRU", WhoRouteChat, "Ёжик", false, false, `n-"Ёжик"`},
		{"list update, ruRU, Cyrillic", "ruRU", WhoRouteAuto, "РАГНАР", true, false, `n-"РАГНАР"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, func(cfg *Config) { cfg.Locale = tt.locale })
			c.SetRoster(roster, false)
			c.SetWhoRoute(tt.route)
			run(t, c, fmt.Sprintf(`MGM_RunWhoForSpin("cycle-9",%q)`, tt.query))
			if got := c.WhoQueries(); !slices.Equal(got, []string{tt.queryArg}) {
				t.Fatalf("who queries %q", got)
			}
			if c.WhoToUI() != 1 {
				t.Fatal("the addon should ask for WHO_LIST_UPDATE while its query runs")
			}
			c.Advance(time.Second)
			got := whoReports(t, c)
			want := []whoReport{{1, "cycle-9", tt.query, tt.online, "2026-04-03T21:15:00.000Z"}}
			if !slices.Equal(got, want) {
				t.Fatalf("reports %+v, want %+v (chat %q)", got, want, c.ChatLines())
			}
			if c.WhoToUI() != 0 {
				t.Fatal("the who-to-UI setting must be restored")
			}
			if c.Frame("FriendsFrame").Shown {
				t.Fatal("the Friends frame must not pop up for the addon's /who")
			}
			if !c.vm.named["FriendsFrame"].events["WHO_LIST_UPDATE"] {
				t.Fatal("the Friends frame must get WHO_LIST_UPDATE back")
			}
		})
	}
}

// TestWhoSystemChatAfterAnotherAddonResetsRouting: another addon sets
// who-to-UI back to 0 while the query runs; the single result then arrives as
// system chat, which the addon still understands.
func TestWhoSystemChatAfterAnotherAddonResetsRouting(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	c.SetRoster([]Player{{Name: "Hero"}}, false)
	run(t, c, `MGM_RunWhoForSpin("c-2","Hero")`)
	run(t, c, `SetWhoToUI(0)`)
	c.Advance(time.Second)
	if got := whoReports(t, c); len(got) != 1 || !got[0].Online {
		t.Fatalf("reports %+v; chat %q", got, c.ChatLines())
	}
	if !slices.Contains(c.ChatLines(), "|Hplayer:Hero|h[Hero]|h: Level 80 Human Warrior - Dalaran") {
		t.Fatalf("the answer should have come as system chat: %q", c.ChatLines())
	}
}

func TestWhoTimeout(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	c.SetRoster([]Player{{Name: "Hero"}}, false)
	c.SetWhoRoute(WhoRouteDrop)
	run(t, c, `MGM_RunWhoForSpin("c-3","Hero")`)
	c.Advance(7900 * time.Millisecond)
	if n := len(whoReports(t, c)); n != 0 {
		t.Fatalf("reported before the timeout: %q", markers(c))
	}
	c.Advance(200 * time.Millisecond)
	got := whoReports(t, c)
	want := []whoReport{{1, "c-3", "Hero", false, "2026-04-03T21:15:08.000Z"}}
	if !slices.Equal(got, want) {
		t.Fatalf("reports %+v, want %+v", got, want)
	}
	if c.WhoToUI() != 0 {
		t.Fatal("the who-to-UI setting must be restored after a timeout")
	}
	// A late answer after the timeout changes nothing.
	c.SetWhoRoute(WhoRouteAuto)
	c.Advance(10 * time.Second)
	if n := len(whoReports(t, c)); n != 1 {
		t.Fatalf("reports %q", markers(c))
	}
}

func TestWhoQueue(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, func(cfg *Config) { cfg.WhoThrottle = 2 * time.Second })
	c.SetRoster([]Player{{Name: "Hero"}, {Name: "Mage"}}, false)
	run(t, c, `MGM_RunWhoForSpin("c-1","Hero")`)
	run(t, c, `MGM_RunWhoForSpin("c-2","Nobody")`)
	run(t, c, `MGM_RunWhoForSpin("c-3","Mage")`)
	run(t, c, `MGM_RunWhoForSpin("c-3","Mage")`) // a repeat of a queued request is ignored
	c.Advance(20 * time.Second)
	got := whoReports(t, c)
	if len(got) != 3 {
		t.Fatalf("reports %+v", got)
	}
	for i, want := range []struct {
		cycle  string
		online bool
	}{{"c-1", true}, {"c-2", false}, {"c-3", true}} {
		if got[i].SpinCycleID != want.cycle || got[i].Online != want.online {
			t.Errorf("report %d = %+v, want %+v", i, got[i], want)
		}
	}
	if q := c.WhoQueries(); len(q) != 3 {
		t.Fatalf("queries %q: one each, spaced beyond the server's throttle", q)
	}
}

func TestWhoRestoresPreviousSetting(t *testing.T) {
	t.Parallel()
	for _, getter := range []bool{false, true} {
		t.Run(fmt.Sprintf("GetWhoToUI=%v", getter), func(t *testing.T) {
			c := newTestClient(t, func(cfg *Config) { cfg.ExposeGetWhoToUI = getter })
			c.SetRoster([]Player{{Name: "Hero"}}, false)
			run(t, c, `SetWhoToUI(1)`) // the streamer's own choice
			run(t, c, `MGM_RunWhoForSpin("c-1","Hero")`)
			c.Advance(time.Second)
			if c.WhoToUI() != 1 {
				t.Fatal("the streamer's who-to-UI 1 must be restored")
			}
			if got := whoReports(t, c); len(got) != 1 || !got[0].Online {
				t.Fatalf("reports %+v", got)
			}
		})
	}
}

func TestGiftConfirmWithoutGoldConsent(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, fmt.Sprintf(`MGM_RequestGiftConfirmation(%q,"Bob")`, gift1))
	if got := whisperTexts(c); !slices.Equal(got, []string{"Bob: " + giftText}) {
		t.Fatalf("whispers %q", got)
	}
	c.ReceiveWhisper("Bob", "!twgold") // not the gift word
	c.ReceiveWhisper("bob-Icecrown", " !TWGIFT ")
	c.ReceiveWhisper("Bob", "!twgift")
	if got := markers(c); !slices.Equal(got, []string{"[MGM_GIFT_ACCEPT:" + gift1 + "]"}) {
		t.Fatalf("markers %q", got)
	}
}

func TestGiftAndGoldIndependent(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, fmt.Sprintf(`NotifyWinnerWhisper(%q,"Bob")`, payout1))
	run(t, c, fmt.Sprintf(`MGM_RequestGiftConfirmation(%q,"Bob")`, gift1))
	c.ReceiveWhisper("Bob", "!twgift")
	c.ReceiveWhisper("Bob", "!twgold")
	want := []string{"[MGM_GIFT_ACCEPT:" + gift1 + "]", "[MGM_ACCEPT:" + payout1 + "]"}
	if got := markers(c); !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
}

type giftItem struct {
	Name    string `json:"name"`
	ID      int    `json:"id"`
	Count   int    `json:"count"`
	Link    string `json:"link"`
	Texture string `json:"texture"`
	BagID   int    `json:"bagId"`
	SlotID  int    `json:"slotId"`
}

func TestGiftItems(t *testing.T) {
	t.Parallel()
	items := []Item{
		{Bag: 0, Slot: 1, ID: 36913, Name: `Saronite "Bar"`, Count: 17, Quality: 2, Texture: `Interface\Icons\INV_Ingot_Platinum`},
		{Bag: 0, Slot: 2, ID: 6948, Name: "Hearthstone", Soulbound: true},
		{Bag: 1, Slot: 5, ID: 33470, Name: "Frostweave Cloth", Count: 20, Quality: 1},
		{Bag: 2, Slot: 1, ID: 43523, Name: "Conjured Mana Strudel", Count: 20, Conjured: true},
		{Bag: 3, Slot: 1, ID: 12345, Name: "Quest Thing", Quest: true},
		{Bag: 4, Slot: 16, ID: 42943, Name: "Bloodied Arcanite Reaper", AccountBound: true, Quality: 7},
		{Bag: 4, Slot: 2, ID: 40000, Name: "Клинок", Quality: 4},
	}
	for _, locale := range []string{"enUS", "ruRU"} {
		t.Run(locale, func(t *testing.T) {
			c := newTestClient(t, func(cfg *Config) { cfg.Locale = locale })
			if err := c.SetBags(items, nil); err != nil {
				t.Fatal(err)
			}
			run(t, c, fmt.Sprintf(`MGM_RequestGiftItems(%q)`, gift1))
			ms := markers(c)
			prefix := "[MGM_ITEMS:" + gift1 + "]"
			if len(ms) != 1 || !strings.HasPrefix(ms[0], prefix) {
				t.Fatalf("markers %q", ms)
			}
			first := `[{"name":"Saronite \"Bar\"","id":36913,"count":17,"link":"|cff1eff00|Hitem:36913:0:0:0:0:0:0:0:80|h[Saronite \"Bar\"]|h|r","texture":"Interface\\Icons\\INV_Ingot_Platinum","bagId":0,"slotId":1},`
			if !strings.HasPrefix(ms[0][len(prefix):], first) {
				t.Fatalf("first item (key order, escaping) wrong:\n%s", ms[0])
			}
			var got []giftItem
			if err := json.Unmarshal([]byte(ms[0][len(prefix):]), &got); err != nil {
				t.Fatal(err)
			}
			want := []giftItem{
				{`Saronite "Bar"`, 36913, 17, itemLink(items[0]), `Interface\Icons\INV_Ingot_Platinum`, 0, 1},
				{"Frostweave Cloth", 33470, 20, itemLink(items[2]), `Interface\Icons\INV_Misc_QuestionMark`, 1, 5},
				{"Клинок", 40000, 1, itemLink(items[6]), `Interface\Icons\INV_Misc_QuestionMark`, 4, 2},
			}
			if !slices.Equal(got, want) {
				t.Fatalf("items\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestGiftItemsSplitIntoParts(t *testing.T) {
	t.Parallel()
	var items []Item
	for i := 0; i < 40; i++ {
		items = append(items, Item{Bag: i / 16, Slot: i%16 + 1, ID: 1000 + i, Name: fmt.Sprintf("Item number %d", i), Count: i + 1})
	}
	c := newTestClient(t)
	if err := c.SetBags(items, nil); err != nil {
		t.Fatal(err)
	}
	run(t, c, fmt.Sprintf(`MGM_RequestGiftItems(%q)`, gift1))
	part := regexp.MustCompile(`^\[MGM_ITEMS:` + gift1 + `:(\d+)/(\d+)\](\[.*\])$`)
	lines := markers(c)
	if len(lines) < 2 {
		t.Fatalf("want several parts, got %d lines", len(lines))
	}
	var all []giftItem
	for i, l := range lines {
		if len(l) > 1000 {
			t.Errorf("part %d is %d bytes (max 1000)", i+1, len(l))
		}
		m := part.FindStringSubmatch(l)
		if m == nil || m[1] != fmt.Sprint(i+1) || m[2] != fmt.Sprint(len(lines)) {
			t.Fatalf("line %d = %q", i+1, l)
		}
		var chunk []giftItem
		if err := json.Unmarshal([]byte(m[3]), &chunk); err != nil {
			t.Fatalf("part %d is not a JSON array: %v", i+1, err)
		}
		all = append(all, chunk...)
	}
	if len(all) != len(items) {
		t.Fatalf("%d items in the parts, want %d", len(all), len(items))
	}
	for i, it := range all {
		if it.ID != 1000+i || it.Count != i+1 {
			t.Fatalf("item %d = %+v: parts must keep the bag order", i, it)
		}
	}
}

func TestReloadKeepsQueueAndConsents(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, `SIM_MARK = 1`)
	run(t, c, fmt.Sprintf(`NotifyWinnerWhisper(%q,"Norinn")`, payout1))
	run(t, c, fmt.Sprintf(`MGM_RequestGiftConfirmation(%q,"Bob")`, gift1))
	run(t, c, fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;%s:Рагнар:5;")`, payout1, payout2))
	c.OpenMailbox()
	click(t, c, "MGMQueuePrepareButton")
	if res := c.Type("/reload"); res.Error != "" {
		t.Fatal(res.Error)
	}
	if got := evalString(t, c, "return SIM_MARK"); got != "" {
		t.Fatal("/reload must start a fresh Lua state")
	}
	want := []string{payout1 + ":Norinn:10000000:READY", payout2 + ":Рагнар:5:READY"}
	if got := queueSummary(c); !slices.Equal(got, want) {
		t.Fatalf("queue after /reload %q, want %q", got, want)
	}
	c.ReceiveWhisper("Norinn", "!twgold")
	c.ReceiveWhisper("Bob", "!twgift")
	wantMarkers := []string{"[MGM_ACCEPT:" + payout1 + "]", "[MGM_GIFT_ACCEPT:" + gift1 + "]"}
	if got := markers(c); !slices.Equal(got, wantMarkers) {
		t.Fatalf("markers %q, want %q", got, wantMarkers)
	}
	// The mailbox closed with the reload; reopening lets the row be mailed.
	c.OpenMailbox()
	click(t, c, "MGMQueuePrepareButton")
	click(t, c, "SendMailMailButton")
	c.Advance(time.Second)
	if got := markers(c); got[len(got)-1] != "[MGM_CONFIRM:"+payout1+"]" {
		t.Fatalf("markers %q", got)
	}

	// A relog from the written file (a new client) gets the queue back too.
	sv := c.SavedVariables()
	if !strings.Contains(sv, "MimironsGoldOMaticDB = {") || !strings.Contains(sv, `["payoutId"] = "`+payout2+`"`) {
		t.Fatalf("SavedVariables file:\n%s", sv)
	}
	c2 := newTestClient(t, func(cfg *Config) { cfg.SavedVariables = sv })
	if got := queueSummary(c2); !slices.Equal(got, []string{payout2 + ":Рагнар:5:READY"}) {
		t.Fatalf("queue after relog %q", got)
	}
}

func TestReloadDropsStaleConsents(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, fmt.Sprintf(`NotifyWinnerWhisper(%q,"Norinn")`, payout1))
	run(t, c, fmt.Sprintf(`NotifyWinnerWhisper(%q,"Thrall")`, payout2))
	sv := c.SavedVariables()
	// Logging in again a day later: Thrall's consent (notified at the start)
	// has expired, Norinn's (made two hours younger here) has not.
	later := allOnline(newTestClient(t, func(cfg *Config) {
		cfg.SavedVariables = strings.Replace(sv, fmt.Sprintf(`["since"] = %d`, testStart.Unix()), fmt.Sprintf(`["since"] = %d`, testStart.Add(2*time.Hour).Unix()), 1)
		cfg.Start = testStart.Add(24*time.Hour + time.Second)
	}))
	later.ReceiveWhisper("Norinn", "!twgold")
	later.ReceiveWhisper("Thrall", "!twgold")
	if got := markers(later); !slices.Equal(got, []string{"[MGM_ACCEPT:" + payout1 + "]"}) {
		t.Fatalf("markers %q: only the consent younger than 24 h may be kept", got)
	}
}

func TestSlashMGM(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	c.Type("/mgm")
	if !c.Frame("MGMQueuePanel").Visible {
		t.Fatal("/mgm should show the queue panel")
	}
	if got := c.Frame("MGMQueuePanelList").Text; got != "(empty)" {
		t.Fatalf("list %q", got)
	}
	c.Type("/MGM")
	if c.Frame("MGMQueuePanel").Visible {
		t.Fatal("/mgm again should hide it")
	}
	c.Type("/mgm")
	click(t, c, "MGMQueuePanelCloseButton")
	if c.Frame("MGMQueuePanel").Visible {
		t.Fatal("the close button hides the panel")
	}

	before := len(c.ChatLines())
	c.Type("/mgm update")
	lines := unseqLines(c)[before:]
	if len(lines) != 3 || lines[2] != "[MGM_UPDATE_CHECK]" || !strings.HasPrefix(lines[0], "MGM: ") || !strings.HasPrefix(lines[1], "MGM: ") {
		t.Fatalf("/mgm update printed %q", lines)
	}

	c.loggingChat = false
	c.Type("/mgm log")
	if !c.LoggingChat() {
		t.Fatal("/mgm log should turn chat logging on")
	}
	before = len(c.ChatLines())
	c.Type("/mgm bogus")
	if lines := c.ChatLines()[before:]; len(lines) != 1 || !strings.Contains(lines[0], "/mgm update") {
		t.Fatalf("unknown subcommand should print help, got %q", lines)
	}
}

func TestLoggingTurnedOnAtLogin(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	if !c.LoggingChat() {
		t.Fatal("the addon should turn chat logging on at PLAYER_LOGIN")
	}
	if lines := c.ChatLines(); len(lines) != 1 || !strings.Contains(lines[0], "chat logging turned on") {
		t.Fatalf("the streamer should be told: %q", lines)
	}
	// Already on after a reload: nothing more is printed.
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if lines := c.ChatLines(); len(lines) != 1 {
		t.Fatalf("lines %q", lines)
	}
}

// TestCoreHelpers exercises the pure helpers directly.
func TestCoreHelpers(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	tests := []struct{ expr, want string }{
		{`Core.FoldCase("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ ABCxyz")`, "абвгдеёжзийклмнопрстуфхцчшщъыьэюя abcxyz"},
		{`Core.FoldCase("ёжик")`, "ёжик"},
		{`tostring(Core.NamesEqual("Имя","имя"))`, "true"},
		{`tostring(Core.NamesEqual("Player-Realm","PLAYER"))`, "true"},
		{`tostring(Core.NamesEqual("A","B"))`, "false"},
		{`tostring(Core.NamesEqual("",""))`, "false"},
		{`Core.ShortName(" Name-Other Realm ")`, "Name"},
		{`Core.Trim("  a b  ")`, "a b"},
		{`Core.JsonEscape('a\\b"c\n\t' .. string.char(1) .. "я")`, `a\\b\"c\n\t\u0001я`},
		{`Core.IsoUtc({year=2026,month=4,day=3,hour=9,min=5,sec=7})`, "2026-04-03T09:05:07.000Z"},
		{`Core.IsoUtc(nil)`, "1970-01-01T00:00:00.000Z"},
		{`Core.FormatMoney(10000000)`, "1000g"},
		{`Core.FormatMoney(12345)`, "1g 23s 45c"},
		{`Core.FormatMoney(0)`, "0c"},
		{`Core.ItemIdFromLink("|cff1eff00|Hitem:36913:0:0:0:0:0:0:0:80|h[Bar]|h|r")`, "36913"},
		{`Core.ItemIdFromLink("nothing")`, "0"},
		{`Core.WhoMarker('c"1', "Hé", false, "2026-01-02T03:04:05.000Z")`,
			`[MGM_WHO]{"schemaVersion":1,"spinCycleId":"c\"1","characterName":"Hé","online":false,"capturedAt":"2026-01-02T03:04:05.000Z"}`},
		{`(Core.FormatToPattern(WHO_LIST_FORMAT))`, `^|Hplayer:(.-)|h%[(.-)%]|h: Level (%-?%d+) (.-) (.-) %- (.-)$`},
		{`(Core.FormatToPattern("%d |4player:players; total"))`, `^(%-?%d+) .- total$`},
		{`select(2, Core.FormatToPattern("%2$s x %1$s"))`, "2"},
		{`(Core.FormatToPattern("100%% %s"))`, `^100%% (.-)$`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := evalString(t, c, "local Core = MimironsGoldOMaticCore; return "+tt.expr)
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWhoChatMatcher(t *testing.T) {
	t.Parallel()
	for _, locale := range []string{"enUS", "ruRU"} {
		t.Run(locale, func(t *testing.T) {
			c := newTestClient(t, func(cfg *Config) { cfg.Locale = locale })
			gs := globalStrings[locale]
			tests := []struct{ line, want string }{
				{wowFormat(gs["WHO_LIST_FORMAT"], "Hero", "Hero", 80, "Night Elf", "Druid", "Dalaran"), "row Hero"},
				{wowFormat(gs["WHO_LIST_GUILD_FORMAT"], "Рагнар", "Рагнар", 7, "Orc", "Shaman", "Horde Guild", "Orgrimmar"), "row Рагнар"},
				{resolveGrammar(wowFormat(gs["WHO_NUM_RESULTS"], 1), 1, locale), "total 1"},
				{resolveGrammar(wowFormat(gs["WHO_NUM_RESULTS"], 0), 0, locale), "total 0"},
				{resolveGrammar(wowFormat(gs["WHO_NUM_RESULTS"], 3), 3, locale), "total 3"},
				{"Something else entirely.", "none"},
			}
			for _, tt := range tests {
				got := evalString(t, c, fmt.Sprintf(`
local m = MimironsGoldOMaticCore.NewWhoChatMatcher({list = WHO_LIST_FORMAT, guild = WHO_LIST_GUILD_FORMAT, total = WHO_NUM_RESULTS})
local kind, value = m(%s)
return kind and (kind .. " " .. tostring(value)) or "none"`, luaQuote(tt.line)))
				if got != tt.want {
					t.Errorf("%q: got %q, want %q", tt.line, got, tt.want)
				}
			}
		})
	}
}

// TestDesktopReceiveGoldLineFits: the Desktop packs whole entries into lines
// of at most 254 characters; three 12-letter Cyrillic names fit one line and
// run through the 255-character chat box.
func TestDesktopReceiveGoldLineFits(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	names := []string{"Александрита", "Ёжиковоротий", "Святославище"}
	ids := []string{payout1, payout2, payout3}
	var data strings.Builder
	for i, n := range names {
		fmt.Fprintf(&data, "%s:%s:10000000;", ids[i], n)
	}
	line := `/run ReceiveGold("` + data.String() + `")`
	if n := len([]rune(line)); n > 254 {
		t.Fatalf("test line is %d characters", n)
	}
	if res := c.Type(line); res.Truncated || res.Error != "" {
		t.Fatalf("%+v", res)
	}
	var want []string
	for i, n := range names {
		want = append(want, ids[i]+":"+n+":10000000:READY")
	}
	if got := queueSummary(c); !slices.Equal(got, want) {
		t.Fatalf("queue %q, want %q", got, want)
	}
}

// TestMailedPayoutNeverMailedTwice replays the ReceiveGold line of a payout
// that was already mailed — in the same session, after a /reload and after a
// relog from the SavedVariables file — and checks that the addon refuses it
// every time with [MGM_ALREADY_MAILED] and that no second mail goes out.
func TestMailedPayoutNeverMailedTwice(t *testing.T) {
	t.Parallel()
	line := fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;")`, payout1)
	refused := "[MGM_ALREADY_MAILED:" + payout1 + "]"
	c := allOnline(newTestClient(t))
	run(t, c, line)
	c.OpenMailbox()
	click(t, c, "MGMQueuePrepareButton")
	click(t, c, "SendMailMailButton")
	c.Advance(time.Second)
	if m := c.Mails(); len(m) != 1 {
		t.Fatalf("mails %+v", m)
	}

	// tryAgain replays the line and tries to mail whatever got queued.
	tryAgain := func(t *testing.T, c *Client) {
		t.Helper()
		before := len(markers(c))
		run(t, c, line)
		if got := markers(c)[before:]; !slices.Equal(got, []string{refused}) {
			t.Fatalf("markers after the replayed line %q, want %q", got, refused)
		}
		if got := queueSummary(c); len(got) != 0 {
			t.Fatalf("a mailed payout was queued again: %q", got)
		}
		c.OpenMailbox()
		_ = c.ClickButton("MGMQueuePrepareButton") // disabled with an empty queue
		_ = c.ClickButton("SendMailMailButton")
		c.Advance(time.Second)
	}
	tryAgain(t, c)
	if res := c.Type("/reload"); res.Error != "" {
		t.Fatal(res.Error)
	}
	tryAgain(t, c)
	if m := c.Mails(); len(m) != 1 {
		t.Fatalf("mails %+v: the payout was mailed twice", m)
	}
	sv := c.SavedVariables()
	relogged := allOnline(newTestClient(t, func(cfg *Config) { cfg.SavedVariables = sv }))
	tryAgain(t, relogged)
	if m := relogged.Mails(); len(m) != 0 {
		t.Fatalf("mails after relog %+v", m)
	}
	// Another payout to the same character still goes through.
	run(t, relogged, fmt.Sprintf(`ReceiveGold("%s:Norinn:10000000;")`, payout2))
	if got := queueSummary(relogged); !slices.Equal(got, []string{payout2 + ":Norinn:10000000:READY"}) {
		t.Fatalf("queue %q", got)
	}
}

const (
	gift2        = "3d0f3c2a-7b1e-4c8d-9f2a-5e6b7c8d9e0f"
	giftSentText = "Подарок отправлен тебе на почту, проверяй ящик!"
)

// TestGiftMailFlow: a completed gift joins the mail queue; Prepare Mail
// attaches the item from its bag slot, the send takes it out of the bags into
// one mail to the winner, and [MGM_GIFT_SENT] confirms it. A replayed queue
// line, before or after a relog, never mails it again.
func TestGiftMailFlow(t *testing.T) {
	t.Parallel()
	items := []Item{
		{Bag: 0, Slot: 1, ID: 36913, Name: "Saronite Bar", Count: 17, Quality: 2},
		{Bag: 1, Slot: 5, ID: 33470, Name: "Frostweave Cloth", Count: 20, Quality: 1},
	}
	c := allOnline(newTestClient(t))
	if err := c.SetBags(items, nil); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf(`MGM_QueueGift(%q,"Norinn",1,5,33470)`, gift1)
	run(t, c, line)
	if got := queueSummary(c); len(got) != 0 {
		t.Fatalf("gold queue %q", got)
	}
	c.OpenMailbox()
	if f := c.Frame("MGMQueuePanelList"); !strings.Contains(f.Text, "Norinn") || !strings.Contains(f.Text, "Frostweave Cloth") {
		t.Fatalf("panel list %q", f.Text)
	}
	click(t, c, "MGMQueuePrepareButton")
	for name, want := range map[string]string{"SendMailNameEditBox": "Norinn", "SendMailSubjectEditBox": "Mimiron's Gold-o-Matic", "SendMailMoneyGold": "0"} {
		if got := c.Frame(name).Text; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := evalString(t, c, `local n = GetSendMailItem(1); return n or "none"`); got != "Frostweave Cloth" {
		t.Fatalf("attachment 1 = %q", got)
	}
	click(t, c, "SendMailMailButton")
	if len(markers(c)) != 0 {
		t.Fatal("nothing may be reported before the server confirms the mail")
	}
	c.Advance(time.Second)
	if got := markers(c); !slices.Equal(got, []string{"[MGM_GIFT_SENT:" + gift1 + "]"}) {
		t.Fatalf("markers %q", got)
	}
	m := c.Mails()
	if len(m) != 1 || m[0].To != "Norinn" || m[0].Copper != 0 || m[0].Result != "sent" || len(m[0].Items) != 1 || m[0].Items[0].ID != 33470 || m[0].Items[0].Count != 20 {
		t.Fatalf("mails %+v", m)
	}
	if bags := c.Items(); len(bags) != 1 || bags[0].ID != 36913 {
		t.Fatalf("the gift should have left the bags: %+v", bags)
	}
	if got := whisperTexts(c); !slices.Equal(got, []string{"Norinn: " + giftSentText}) {
		t.Fatalf("whispers %q", got)
	}

	tryAgain := func(t *testing.T, c *Client) {
		t.Helper()
		before := len(markers(c))
		run(t, c, line)
		if got := markers(c)[before:]; !slices.Equal(got, []string{"[MGM_GIFT_ALREADY_MAILED:" + gift1 + "]"}) {
			t.Fatalf("markers after the replayed line %q", got)
		}
		c.OpenMailbox()
		_ = c.ClickButton("MGMQueuePrepareButton")
		_ = c.ClickButton("SendMailMailButton")
		c.Advance(time.Second)
	}
	tryAgain(t, c)
	if m := c.Mails(); len(m) != 1 {
		t.Fatalf("mails %+v: the gift was mailed twice", m)
	}
	if res := c.Type("/reload"); res.Error != "" {
		t.Fatal(res.Error)
	}
	tryAgain(t, c)
	sv := c.SavedVariables()
	relogged := allOnline(newTestClient(t, func(cfg *Config) { cfg.SavedVariables = sv }))
	tryAgain(t, relogged)
	if m := relogged.Mails(); len(m) != 0 {
		t.Fatalf("mails after relog %+v", m)
	}
}

// TestGiftItemMoved: the item is found by id when it moved to another slot;
// an item no longer in the bags is refused with [MGM_GIFT_MISSING].
func TestGiftItemMoved(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	if err := c.SetBags([]Item{{Bag: 2, Slot: 3, ID: 33470, Name: "Frostweave Cloth", Count: 20}}, nil); err != nil {
		t.Fatal(err)
	}
	run(t, c, fmt.Sprintf(`MGM_QueueGift(%q,"Norinn",1,5,33470)`, gift1))
	run(t, c, fmt.Sprintf(`MGM_QueueGift(%q,"Arthas",0,1,99999)`, gift2))
	if got := markers(c); !slices.Equal(got, []string{"[MGM_GIFT_MISSING:" + gift2 + "]"}) {
		t.Fatalf("markers %q", got)
	}
	c.OpenMailbox()
	click(t, c, "MGMQueuePrepareButton")
	click(t, c, "SendMailMailButton")
	c.Advance(time.Second)
	if m := c.Mails(); len(m) != 1 || len(m[0].Items) != 1 || m[0].Items[0].ID != 33470 {
		t.Fatalf("mails %+v", m)
	}
}

// giftListingIDs returns the item ids of a one-line [MGM_ITEMS] answer.
func giftListingIDs(t *testing.T, c *Client) []int {
	t.Helper()
	before := len(markers(c))
	run(t, c, fmt.Sprintf(`MGM_RequestGiftItems(%q)`, gift1))
	ms := markers(c)[before:]
	prefix := "[MGM_ITEMS:" + gift1 + "]"
	if len(ms) != 1 || !strings.HasPrefix(ms[0], prefix) {
		t.Fatalf("markers %q", ms)
	}
	var got []giftItem
	if err := json.Unmarshal([]byte(ms[0][len(prefix):]), &got); err != nil {
		t.Fatal(err)
	}
	ids := []int{}
	for _, it := range got {
		ids = append(ids, it.ID)
	}
	return ids
}

func slashLines(t *testing.T, c *Client, line string) []string {
	t.Helper()
	before := len(c.ChatLines())
	if res := c.Type(line); res.Error != "" {
		t.Fatalf("%s: %s", line, res.Error)
	}
	return c.ChatLines()[before:]
}

var giftListItems = []Item{
	{Bag: 0, Slot: 1, ID: 36913, Name: "Saronite Bar", Count: 17, Quality: 2},
	{Bag: 1, Slot: 5, ID: 33470, Name: "Frostweave Cloth", Count: 20, Quality: 1},
	{Bag: 2, Slot: 3, ID: 40000, Name: "Клинок", Quality: 4},
}

// TestGiftAllowList: a non-empty allow-list limits the listing sent for a
// gift request to its items; it survives a /reload and a relog.
func TestGiftAllowList(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	if err := c.SetBags(giftListItems, nil); err != nil {
		t.Fatal(err)
	}
	if got := giftListingIDs(t, c); !slices.Equal(got, []int{36913, 33470, 40000}) {
		t.Fatalf("no lists: listing %v", got)
	}
	link := itemLink(giftListItems[1])
	if lines := slashLines(t, c, "/mgm gift allow "+link); len(lines) != 1 || !strings.HasPrefix(lines[0], "MGM: ") || !strings.Contains(lines[0], "33470") {
		t.Fatalf("/mgm gift allow <link> printed %q", lines)
	}
	slashLines(t, c, "/mgm gift allow 40000")
	if got := giftListingIDs(t, c); !slices.Equal(got, []int{33470, 40000}) {
		t.Fatalf("allow-list 33470,40000: listing %v", got)
	}
	lines := slashLines(t, c, "/mgm gift list")
	if all := strings.Join(lines, "\n"); !strings.Contains(all, "33470") || !strings.Contains(all, "40000") || strings.Contains(all, "36913") {
		t.Fatalf("/mgm gift list printed %q", lines)
	}
	if lines := slashLines(t, c, "/mgm gift allow nonsense"); len(lines) != 1 || !strings.Contains(lines[0], "/mgm gift allow") {
		t.Fatalf("a bad argument should print the usage, got %q", lines)
	}

	if res := c.Type("/reload"); res.Error != "" {
		t.Fatal(res.Error)
	}
	if got := giftListingIDs(t, c); !slices.Equal(got, []int{33470, 40000}) {
		t.Fatalf("after /reload: listing %v", got)
	}
	relogged := newTestClient(t, func(cfg *Config) { cfg.SavedVariables = c.SavedVariables() })
	if err := relogged.SetBags(giftListItems, nil); err != nil {
		t.Fatal(err)
	}
	if got := giftListingIDs(t, relogged); !slices.Equal(got, []int{33470, 40000}) {
		t.Fatalf("after relog: listing %v", got)
	}
	slashLines(t, relogged, "/mgm gift clear")
	if got := giftListingIDs(t, relogged); !slices.Equal(got, []int{36913, 33470, 40000}) {
		t.Fatalf("after clear: listing %v", got)
	}
}

// TestGiftDenyListWins: an item on the deny-list is never listed, even when
// it is on the allow-list too.
func TestGiftDenyListWins(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	if err := c.SetBags(giftListItems, nil); err != nil {
		t.Fatal(err)
	}
	slashLines(t, c, "/mgm gift deny 36913")
	if got := giftListingIDs(t, c); !slices.Equal(got, []int{33470, 40000}) {
		t.Fatalf("deny 36913: listing %v", got)
	}
	slashLines(t, c, "/mgm gift allow 36913")
	slashLines(t, c, "/mgm gift allow "+itemLink(giftListItems[2]))
	if got := giftListingIDs(t, c); !slices.Equal(got, []int{40000}) {
		t.Fatalf("allow 36913,40000 deny 36913: listing %v", got)
	}
	if res := c.Type("/reload"); res.Error != "" {
		t.Fatal(res.Error)
	}
	if got := giftListingIDs(t, c); !slices.Equal(got, []int{40000}) {
		t.Fatalf("after /reload: listing %v", got)
	}
}

// TestGiftQueueRefusesItemNotAllowed: MGM_QueueGift for an item the lists
// forbid is refused with [MGM_GIFT_NOT_ALLOWED:<giftRequestId>] and not mailed.
func TestGiftQueueRefusesItemNotAllowed(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	if err := c.SetBags(giftListItems, nil); err != nil {
		t.Fatal(err)
	}
	slashLines(t, c, "/mgm gift deny 33470")
	slashLines(t, c, "/mgm gift allow 36913")
	before := len(markers(c))
	run(t, c, fmt.Sprintf(`MGM_QueueGift(%q,"Norinn",1,5,33470)`, gift1))
	run(t, c, fmt.Sprintf(`MGM_QueueGift(%q,"Arthas",2,3,40000)`, gift2))
	want := []string{"[MGM_GIFT_NOT_ALLOWED:" + gift1 + "]", "[MGM_GIFT_NOT_ALLOWED:" + gift2 + "]"}
	if got := markers(c)[before:]; !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
	c.OpenMailbox()
	_ = c.ClickButton("MGMQueuePrepareButton")
	_ = c.ClickButton("SendMailMailButton")
	c.Advance(time.Second)
	if m := c.Mails(); len(m) != 0 {
		t.Fatalf("mails %+v: a refused gift was mailed", m)
	}
	// An allowed item is still queued and mailed.
	run(t, c, fmt.Sprintf(`MGM_QueueGift(%q,"Norinn",0,1,36913)`, payout3))
	click(t, c, "MGMQueuePrepareButton")
	click(t, c, "SendMailMailButton")
	c.Advance(time.Second)
	if m := c.Mails(); len(m) != 1 || len(m[0].Items) != 1 || m[0].Items[0].ID != 36913 {
		t.Fatalf("mails %+v", m)
	}
}
