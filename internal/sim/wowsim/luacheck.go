package wowsim

import (
	"fmt"
	"strings"
)

// LuaIssue is a construct in addon source that the 3.3.5a client cannot run.
type LuaIssue struct {
	Line int
	Msg  string
}

func (i LuaIssue) String() string { return fmt.Sprintf("line %d: %s", i.Line, i.Msg) }

// CheckLua51 scans Lua source for what Lua 5.1 and the 3.3.5a API reject but
// gopher-lua (which accepts some Lua 5.2 syntax, such as goto) would let
// through: goto and ::labels::, integer division //, the bitwise operators
// & | ~ << >>, 5.2+ string escapes (\x, \z, \u{}), hex floats, _ENV, the utf8
// library, Button:SetEnabled (5.0+) and the protected RunMacroText. Strings
// and comments are skipped, so the words may appear in text.
func CheckLua51(src string) []LuaIssue {
	var issues []LuaIssue
	line := 1
	add := func(format string, args ...any) {
		issues = append(issues, LuaIssue{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	prev := "" // previous significant token, for "utf8 ." and ": SetEnabled"
	i, n := 0, len(src)
	for i < n {
		ch := src[i]
		switch {
		case ch == '\n':
			line++
			i++
		case ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v':
			i++
		case ch == '-' && i+1 < n && src[i+1] == '-':
			i += 2
			if level, ok := longBracket(src, i); ok {
				i = skipLong(src, i, level, &line)
			} else {
				for i < n && src[i] != '\n' {
					i++
				}
			}
		case ch == '[':
			if level, ok := longBracket(src, i); ok {
				i = skipLong(src, i, level, &line)
				prev = "string"
			} else {
				i++
				prev = "["
			}
		case ch == '"' || ch == '\'':
			i = scanString(src, i, &line, add)
			prev = "string"
		case isNameStart(ch):
			j := i
			for j < n && (isNameStart(src[j]) || (src[j] >= '0' && src[j] <= '9')) {
				j++
			}
			word := src[i:j]
			switch {
			case word == "goto":
				add("goto is Lua 5.2+")
			case word == "_ENV":
				add("_ENV is Lua 5.2+")
			case word == "RunMacroText":
				add("RunMacroText is protected: addons cannot call it")
			case word == "SetEnabled" && (prev == ":" || prev == "."):
				add("Button:SetEnabled does not exist on 3.3.5a (use Enable/Disable)")
			}
			if word == "utf8" {
				k := j
				for k < n && (src[k] == ' ' || src[k] == '\t') {
					k++
				}
				if k < n && (src[k] == '.' || src[k] == ':') {
					add("the utf8 library is Lua 5.3+")
				}
			}
			prev = word
			i = j
		case ch >= '0' && ch <= '9' || (ch == '.' && i+1 < n && src[i+1] >= '0' && src[i+1] <= '9'):
			j := i
			hex := ch == '0' && i+1 < n && (src[i+1] == 'x' || src[i+1] == 'X')
			if hex {
				j += 2
			}
			for j < n && (isNameStart(src[j]) || (src[j] >= '0' && src[j] <= '9') || src[j] == '.' ||
				((src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E' || (hex && (src[j-1] == 'p' || src[j-1] == 'P'))))) {
				j++
			}
			if hex && strings.ContainsAny(src[i+2:j], "pP.") {
				add("hexadecimal float %s is Lua 5.2+", src[i:j])
			}
			prev = "number"
			i = j
		default:
			two := ""
			if i+1 < n {
				two = src[i : i+2]
			}
			switch {
			case two == "::":
				add("::label:: is Lua 5.2+")
				i += 2
				// Skip the label's name and closing "::" so it is reported once.
				j := i
				for j < n && (src[j] == ' ' || src[j] == '\t') {
					j++
				}
				k := j
				for k < n && (isNameStart(src[k]) || (src[k] >= '0' && src[k] <= '9')) {
					k++
				}
				if k > j && strings.HasPrefix(src[k:], "::") {
					i = k + 2
				}
			case two == "//":
				add("integer division // is Lua 5.3+")
				i += 2
			case two == "<<" || two == ">>":
				add("bitwise shift %s is Lua 5.3+", two)
				i += 2
			case two == "~=" || two == "==" || two == "<=" || two == ">=" || two == "..":
				i += 2
				if two == ".." && i < n && src[i] == '.' {
					i++
				}
			case ch == '&' || ch == '|' || ch == '~':
				add("bitwise operator %c is Lua 5.3+", ch)
				i++
			default:
				i++
			}
			prev = string(ch)
		}
	}
	return issues
}

func isNameStart(ch byte) bool {
	return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
}

// longBracket reports whether src[i:] opens a long bracket [[ or [==[ and its level.
func longBracket(src string, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	if j < len(src) && src[j] == '[' {
		return j - i - 1, true
	}
	return 0, false
}

// skipLong skips a long string or comment opened at src[i], counting lines.
func skipLong(src string, i, level int, line *int) int {
	closer := "]" + strings.Repeat("=", level) + "]"
	start := i + level + 2
	end := strings.Index(src[start:], closer)
	if end < 0 {
		*line += strings.Count(src[start:], "\n")
		return len(src)
	}
	*line += strings.Count(src[start:start+end], "\n")
	return start + end + len(closer)
}

// scanString skips a quoted string, reporting escapes Lua 5.1 does not know.
func scanString(src string, i int, line *int, add func(string, ...any)) int {
	quote := src[i]
	i++
	for i < len(src) {
		ch := src[i]
		switch {
		case ch == quote:
			return i + 1
		case ch == '\n':
			*line++ // unfinished string; the parser reports it
			return i + 1
		case ch == '\\' && i+1 < len(src):
			e := src[i+1]
			switch {
			case strings.IndexByte("abfnrtv\\\"'", e) >= 0:
			case e == '\n':
				*line++
			case e >= '0' && e <= '9':
			default:
				add("string escape \\%c is not Lua 5.1", e)
			}
			i += 2
			continue
		}
		i++
	}
	return i
}
