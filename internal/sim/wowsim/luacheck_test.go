package wowsim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yuin/gopher-lua/parse"
)

func TestCheckLua51(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string // substring of the single issue; "" = no issue
	}{
		{"plain 5.1", "local a = 1 ~= 2 and #t .. 'x' or ...\nlocal s = [[goto // & | ~]] -- goto :: //", ""},
		{"words in strings", `print("goto x // a & b | c ~ d << e >> f ::l:: utf8.char :SetEnabled RunMacroText")`, ""},
		{"long comment", "--[==[ goto\n x // y ]==] local a = 1", ""},
		{"decimal escape", `local s = "\065\10\\"`, ""},
		{"not-equal", "if a ~= b then end", ""},
		{"varargs", "local function f(...) return select('#', ...) end", ""},
		{"hex int", "local x = 0xFF + 1e-3 + 2.5E+2", ""},
		{"goto", "goto continue", "goto"},
		{"label", "::continue::", "::label::"},
		{"integer division", "local x = 7 // 2", "//"},
		{"band", "local x = a & b", "&"},
		{"bor", "local x = a | b", "|"},
		{"bxor/bnot", "local x = ~a", "~"},
		{"shl", "local x = a << 2", "<<"},
		{"shr", "local x = a >> 2", ">>"},
		{"utf8 lib", "local n = utf8.len(s)", "utf8"},
		{"utf8 method", "local n = utf8 . char(65)", "utf8"},
		{"hex escape", `local s = "\x41"`, `\x`},
		{"z escape", `local s = "a\z  b"`, `\z`},
		{"unicode escape", `local s = "\u{41}"`, `\u`},
		{"hex float", "local x = 0x1p4", "hexadecimal float"},
		{"_ENV", "local _ENV = {}", "_ENV"},
		{"SetEnabled", "button:SetEnabled(true)", "SetEnabled"},
		{"RunMacroText", "RunMacroText('/who x')", "protected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issues := CheckLua51(tt.src)
			if tt.want == "" {
				if len(issues) != 0 {
					t.Fatalf("unexpected issues: %v", issues)
				}
				return
			}
			if len(issues) != 1 || !strings.Contains(issues[0].Msg, tt.want) {
				t.Fatalf("want one issue about %q, got %v", tt.want, issues)
			}
		})
	}
}

func TestCheckLua51CountsLines(t *testing.T) {
	t.Parallel()
	issues := CheckLua51("local a = [[\n\n]]\n-- c\n--[[\n]]\nlocal s = 'x'\nx = a // 2")
	if len(issues) != 1 || issues[0].Line != 8 {
		t.Fatalf("got %v, want one issue on line 8", issues)
	}
}

// TestAddonFilesAreLua51 runs the checker over every addon Lua file and
// parses each with gopher-lua (a Lua 5.1 parser), so syntax errors fail too.
func TestAddonFilesAreLua51(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(addonDir, "*.lua"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no addon Lua files found in %s (%v)", addonDir, err)
	}
	toc, err := ReadTOC(addonDir)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, f := range toc.Files {
		listed[f] = true
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, issue := range CheckLua51(string(src)) {
			t.Errorf("%s: %s", filepath.Base(f), issue)
		}
		if _, err := parse.Parse(strings.NewReader(string(src)), filepath.Base(f)); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not listed in the .toc", filepath.Base(f))
		}
	}
}

func TestTOC(t *testing.T) {
	t.Parallel()
	toc, err := ReadTOC(addonDir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Interface": "30300", "Version": "dev", "SavedVariables": "MimironsGoldOMaticDB"}
	for k, v := range want {
		if toc.Meta[k] != v {
			t.Errorf("## %s: got %q, want %q", k, toc.Meta[k], v)
		}
	}
	if toc.Meta["Title"] == "" || toc.Meta["Notes"] == "" {
		t.Errorf("Title and Notes must be set: %v", toc.Meta)
	}
	if got := strings.Join(toc.Files, ","); got != "MimironsGoldOMatic_Core.lua,MimironsGoldOMatic.lua" {
		t.Errorf("load order %s: the pure helpers must load first", got)
	}
}
