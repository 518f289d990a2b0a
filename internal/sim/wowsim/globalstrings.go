package wowsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// globalStrings are the localized GlobalStrings the addon and the simulated
// server use. enUS holds the 3.3.5a client's texts. ruRU is a test locale
// shaped like a Russian client — Cyrillic texts, positional arguments, three
// plural forms — to prove the addon derives its patterns from the globals
// instead of hard-coding English; its texts are not verbatim client strings.
var globalStrings = map[string]map[string]string{
	"enUS": {
		"WHO_LIST_FORMAT":             "|Hplayer:%s|h[%s]|h: Level %d %s %s - %s",
		"WHO_LIST_GUILD_FORMAT":       "|Hplayer:%s|h[%s]|h: Level %d %s %s <%s> - %s",
		"WHO_NUM_RESULTS":             "%d |4player:players; total",
		"WHO_TAG_NAME":                "n-",
		"ERR_CHAT_PLAYER_NOT_FOUND_S": "No player named '%s' is currently playing.",
		"ERR_NOT_ENOUGH_MONEY":        "You don't have enough money.",
		"ERR_MAIL_TO_NO_RECIPIENT":    "You must enter a recipient.",
		"ERR_MAIL_BOUND_ITEM":         "You can't mail soulbound items.",
		"ITEM_SOULBOUND":              "Soulbound",
		"ITEM_BIND_QUEST":             "Quest Item",
		"ITEM_CONJURED":               "Conjured Item",
		"ITEM_ACCOUNTBOUND":           "Account Bound",
		"ITEM_BIND_ON_PICKUP":         "Binds when picked up",
		"CHAT_WHISPER_GET":            "%s whispers: ",
		"CHAT_WHISPER_INFORM_GET":     "To %s: ",
		"CHAT_SAY_GET":                "%s says: ",
		"CHATLOGENABLED":              "Chat being logged to Logs\\WoWChatLog.txt",
		"CHATLOGDISABLED":             "Chat log disabled.",
		"HELP_TEXT_SIMPLE":            "Type '/help' for a listing of a few commands.",
	},
	"ruRU": {
		"WHO_LIST_FORMAT":             "|Hplayer:%1$s|h[%2$s]|h: %4$s %5$s, %3$d-й уровень - %6$s",
		"WHO_LIST_GUILD_FORMAT":       "|Hplayer:%1$s|h[%2$s]|h: %4$s %5$s, %3$d-й уровень <%6$s> - %7$s",
		"WHO_NUM_RESULTS":             "Всего найдено: %d |4игрок:игрока:игроков;",
		"WHO_TAG_NAME":                "n-",
		"ERR_CHAT_PLAYER_NOT_FOUND_S": "Персонаж по имени \"%s\" в игре не найден.",
		"ERR_NOT_ENOUGH_MONEY":        "У вас недостаточно денег.",
		"ERR_MAIL_TO_NO_RECIPIENT":    "Укажите получателя.",
		"ERR_MAIL_BOUND_ITEM":         "Персональные предметы нельзя отправлять по почте.",
		"ITEM_SOULBOUND":              "Персональный предмет",
		"ITEM_BIND_QUEST":             "Предмет, необходимый для задания",
		"ITEM_CONJURED":               "Сотворенный предмет",
		"ITEM_ACCOUNTBOUND":           "Привязано к учетной записи",
		"ITEM_BIND_ON_PICKUP":         "Становится персональным при получении",
		"CHAT_WHISPER_GET":            "%s шепчет: ",
		"CHAT_WHISPER_INFORM_GET":     "Вы шепчете %s: ",
		"CHAT_SAY_GET":                "%s говорит: ",
		"CHATLOGENABLED":              "Запись чата в файл Logs\\WoWChatLog.txt",
		"CHATLOGDISABLED":             "Запись чата отключена.",
		"HELP_TEXT_SIMPLE":            "Введите /help для получения списка команд.",
	},
}

// wowFormat formats like the client's string.format for the global strings:
// %s and %d, positional %n$s / %n$d, and %%.
func wowFormat(format string, args ...any) string {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch != '%' || i+1 >= len(format) {
			b.WriteByte(ch)
			continue
		}
		j := i + 1
		if format[j] == '%' {
			b.WriteByte('%')
			i = j
			continue
		}
		k := j
		for k < len(format) && format[k] >= '0' && format[k] <= '9' {
			k++
		}
		arg := -1
		if k < len(format) && format[k] == '$' && k > j {
			n, _ := strconv.Atoi(format[j:k])
			arg = n - 1
			k++
		}
		if k >= len(format) || (format[k] != 's' && format[k] != 'd') {
			b.WriteByte(ch)
			continue
		}
		if arg < 0 {
			arg = next
			next++
		}
		if arg < len(args) {
			fmt.Fprint(&b, args[arg])
		}
		i = k
	}
	return b.String()
}

// resolveGrammar resolves the client's "|4one:few:many;" plural escape for n.
func resolveGrammar(s string, n int, locale string) string {
	for {
		i := strings.Index(s, "|4")
		if i < 0 {
			return s
		}
		end := strings.IndexByte(s[i:], ';')
		if end < 0 {
			return s
		}
		forms := strings.Split(s[i+2:i+end], ":")
		pick := 0
		if locale == "ruRU" {
			switch {
			case n%10 == 1 && n%100 != 11:
				pick = 0
			case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
				pick = 1
			default:
				pick = 2
			}
		} else if n != 1 {
			pick = 1
		}
		if pick >= len(forms) {
			pick = len(forms) - 1
		}
		s = s[:i] + forms[pick] + s[i+end+1:]
	}
}

// strftime implements the C strftime conversions date() supports.
func strftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'c':
			b.WriteString(t.Format("01/02/06 15:04:05"))
		case 'x':
			b.WriteString(t.Format("01/02/06"))
		case 'X':
			b.WriteString(t.Format("15:04:05"))
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday()))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}
