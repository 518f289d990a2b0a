package mgm

import (
	"strings"
	"unicode"
)

// ChatCommand is a chat command the bot answers.
type ChatCommand string

const (
	// CommandTwGold enrolls the sender in the pool under a character name.
	CommandTwGold ChatCommand = "!twgold"
	// CommandTwGift requests a gift for a character name.
	CommandTwGift ChatCommand = "!twgift"
)

var chatCommands = []ChatCommand{CommandTwGold, CommandTwGift}

// ParseChatCommand recognises "<command> <name>": the command word in any case,
// white space, then exactly one token, which is returned as arg unvalidated so
// the caller can answer a bad name with the name rules rather than silence.
//
// The grammar is strict on purpose: a message that merely mentions a command
// ("prefix !twgold Abcd") or carries more than one word ("!twgold A B") is chat,
// not a request, and acting on a guess could enroll the wrong name.
func ParseChatCommand(text string) (cmd ChatCommand, arg string, ok bool) {
	// unicode.IsSpace rather than ASCII blanks: chat clients insert NBSP and
	// other Unicode spaces, and a regexp `\s` would miss them.
	s := strings.TrimFunc(text, unicode.IsSpace)
	sep := strings.IndexFunc(s, unicode.IsSpace)
	if sep < 0 {
		return "", "", false
	}
	word, rest := s[:sep], strings.TrimLeftFunc(s[sep:], unicode.IsSpace)
	// s is trimmed, so anything after the separator ends in a non-space: rest is
	// never empty here.
	if strings.IndexFunc(rest, unicode.IsSpace) >= 0 {
		return "", "", false
	}
	for _, c := range chatCommands {
		if strings.EqualFold(word, string(c)) {
			return c, rest, true
		}
	}
	return "", "", false
}
