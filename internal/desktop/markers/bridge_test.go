package markers

import "testing"

func TestBridgeMarkers(t *testing.T) {
	const acc = "[MGM_ACCEPT:0123abcd-0000-4000-8000-00000000000a]"
	tests := []struct {
		name  string
		line  string
		kinds []Kind
		ids   []string
		pay   []string
		trust []bool
	}{
		{"seq then marker", "11/29 21:20:01.123  [MGM_SEQ:k3f9:12]" + acc,
			[]Kind{Seq, Accept}, []string{"k3f9:12", "0123abcd-0000-4000-8000-00000000000a"}, []string{"", ""}, []bool{true, true}},
		{"pong", "[MGM_SEQ:a:1][MGM_PONG:n0nce:Стример]",
			[]Kind{Seq, Pong}, []string{"a:1", "n0nce"}, []string{"", "Стример"}, []bool{true, true}},
		{"ack", "[MGM_SEQ:a:2][MGM_ACK:c7:whispered]",
			[]Kind{Seq, Ack}, []string{"a:2", "c7"}, []string{"", "whispered"}, []bool{true, true}},
		{"typed by a player", "Voljin: [MGM_SEQ:a:3]" + acc,
			[]Kind{Seq, Accept}, []string{"a:3", "0123abcd-0000-4000-8000-00000000000a"}, []string{"", ""}, []bool{false, false}},
		{"upper-case epoch refused", "[MGM_SEQ:A:1]", nil, nil, nil, nil},
		{"leading zero refused", "[MGM_SEQ:a:01]", nil, nil, nil, nil},
		{"zero refused", "[MGM_SEQ:a:0]", nil, nil, nil, nil},
		{"long token refused", "[MGM_ACK:0123456789abcdefg:ok]", nil, nil, nil, nil},
		{"pong name with a space refused", "[MGM_PONG:n:Two Words]", nil, nil, nil, nil},
		{"unterminated", "[MGM_SEQ:a:1", nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := Parse(tt.line)
			if len(ms) != len(tt.kinds) {
				t.Fatalf("Parse(%q) = %+v, want kinds %v", tt.line, ms, tt.kinds)
			}
			for i, m := range ms {
				if m.Kind != tt.kinds[i] || m.ID != tt.ids[i] || m.Payload != tt.pay[i] || m.Trusted != tt.trust[i] {
					t.Errorf("marker %d = %+v, want %v %q %q trusted=%v", i, m, tt.kinds[i], tt.ids[i], tt.pay[i], tt.trust[i])
				}
			}
		})
	}
}

func TestParseRelayed(t *testing.T) {
	const tail = "[MGM_SEQ:e1:4][MGM_PONG:abc:Streamer]"
	tests := []struct {
		line, self string
		ok         bool
	}{
		{"11/29 21:20:01.123  Streamer whispers: " + tail, "Streamer", true},
		{"11/29 21:20:01.123  streamer whispers: " + tail, "Streamer", true},
		{"11/29 21:20:01.123  To Streamer: " + tail, "Streamer", true},
		{"11/29 21:20:01.123  [Streamer] whispers: " + tail, "Streamer", true},
		{"11/29 21:20:01.123  |Hplayer:Streamer:42|h[Streamer]|h whispers: " + tail, "Streamer", true},
		{"11/29 21:20:01.123  Стример шепчет: " + tail, "Стример", true},
		{"11/29 21:20:01.123  Вы шепчете Стример: " + tail, "Стример", true},
		{"11/29 21:20:01.123  Streamerx whispers: " + tail, "Streamer", false},
		{"11/29 21:20:01.123  Voljin whispers: " + tail, "Streamer", false},
		{"11/29 21:20:01.123  Voljin whispers: Streamer whispers: " + tail, "Streamer", false},
		{"11/29 21:20:01.123  Streamer says: " + tail, "Streamer", false},
		{"11/29 21:20:01.123  Streamer whispers: " + tail, "", false},
		{"11/29 21:20:01.123  Streamer whispers: [MGM_PONG:abc:Streamer]", "Streamer", false},
	}
	for _, tt := range tests {
		ms, ok := ParseRelayed(tt.line, tt.self)
		if ok != tt.ok {
			t.Errorf("ParseRelayed(%q, %q) ok = %v, want %v", tt.line, tt.self, ok, tt.ok)
			continue
		}
		for _, m := range ms {
			if m.Trusted != ok {
				t.Errorf("ParseRelayed(%q): %v trusted = %v, want %v", tt.line, m.Kind, m.Trusted, ok)
			}
		}
	}
	// A printed (trusted) bridge line is not a relayed one.
	if _, ok := ParseRelayed("11/29 21:20:01.123  "+tail, "Streamer"); ok {
		t.Error("a printed line was taken for a relayed whisper")
	}
}
