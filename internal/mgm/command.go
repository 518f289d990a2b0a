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

// CommandMgm is the broadcaster's and moderators' control command.
const CommandMgm = "!mgm"

// ModAction is what a control command asks for.
type ModAction string

const (
	ModPause  ModAction = "pause"
	ModResume ModAction = "resume"
	ModRemove ModAction = "remove"
	ModBan    ModAction = "ban"
	ModUnban  ModAction = "unban"
)

// modArity is how many arguments each action takes.
var modArity = map[ModAction]int{ModPause: 0, ModResume: 0, ModRemove: 1, ModBan: 1, ModUnban: 1}

// ModCommand is a parsed "!mgm <action> [<name>]".
type ModCommand struct {
	Action ModAction
	// Arg is the character name for remove, ban and unban, unvalidated.
	Arg string
}

// ParseModCommand recognises "!mgm pause", "!mgm resume", "!mgm remove
// <name>", "!mgm ban <name>" and "!mgm unban <name>": words in any case,
// separated by white space, nothing else on the line. Like
// ParseChatCommand it is strict, so that chat about the command is not
// taken for one.
func ParseModCommand(text string) (ModCommand, bool) {
	words := strings.FieldsFunc(text, unicode.IsSpace)
	if len(words) < 2 || !strings.EqualFold(words[0], CommandMgm) {
		return ModCommand{}, false
	}
	a := ModAction(strings.ToLower(words[1]))
	n, known := modArity[a]
	if !known || len(words) != 2+n {
		return ModCommand{}, false
	}
	c := ModCommand{Action: a}
	if n == 1 {
		c.Arg = words[2]
	}
	return c, true
}
