package settings

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestLoadSaveRoundtrip(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "cfg"))
	v, ok, err := s.Load()
	if ok || err != nil || v != Defaults() {
		t.Fatalf("first run: %+v %v %v", v, ok, err)
	}
	want := Settings{BaseURL: "https://ebs.example/", PollIntervalSeconds: 42, InjectionStrategy: "sendinput",
		WoWInstallDirectory: ` C:\WoW `, WoWChatLogPathOverride: `D:\Logs`, WoWProcess: "pid:12"}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load()
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if got.BaseURL != "https://ebs.example" || got.PollIntervalSeconds != 42 || got.InjectionStrategy != StrategySendInput ||
		got.WoWInstallDirectory != `C:\WoW` || got.WoWChatLogPathOverride != `D:\Logs` || got.WoWProcess != "pid:12" {
		t.Fatalf("%+v", got)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(s.Path()); fi.Mode().Perm() != 0o600 {
			t.Fatalf("settings mode %v", fi.Mode())
		}
	}
	os.WriteFile(s.Path(), []byte("{ not json"), 0o600)
	if v, _, err := s.Load(); err == nil || v != Defaults() {
		t.Fatal("corrupt settings must give defaults and an error")
	}
	// The predecessor's file (PascalCase, HttpRetryCount) still loads.
	os.WriteFile(s.Path(), []byte(`{"BaseUrl":"https://localhost:5001","PollIntervalSeconds":15,"HttpRetryCount":3,"InjectionStrategy":"PostMessage"}`), 0o600)
	if v, _, err := s.Load(); err != nil || v.BaseURL != "https://localhost:5001" || v.PollIntervalSeconds != 15 {
		t.Fatalf("%+v %v", v, err)
	}
}

func TestNormalizeAndValidate(t *testing.T) {
	for in, want := range map[int]int{0: 5, -3: 1, 1: 1, 15: 15, 600: 600, 601: 600, 9000: 600} {
		if got := (Settings{PollIntervalSeconds: in}).Normalize().PollIntervalSeconds; got != want {
			t.Errorf("poll %d → %d, want %d", in, got, want)
		}
	}
	if (Settings{InjectionStrategy: "bogus"}).Normalize().InjectionStrategy != StrategyPostMessage {
		t.Error("unknown strategy")
	}
	if err := (Settings{BaseURL: "localhost:8080"}).Validate(); err == nil {
		t.Error("URL without scheme accepted")
	}
	if err := (Settings{BaseURL: "http://127.0.0.1:8080", WoWSimulatorURL: "ftp://x"}).Validate(); err == nil {
		t.Error("bad simulator URL accepted")
	}
	if err := (Settings{BaseURL: "http://127.0.0.1:8080"}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestSecretStore(t *testing.T) {
	dir := t.TempDir()
	s := NewSecretStore(dir)
	if k, err := s.Load(); k != "" || err != nil {
		t.Fatalf("empty: %q %v", k, err)
	}
	if err := s.Save("mgm_secret-key"); err != nil {
		t.Fatal(err)
	}
	if k, err := s.Load(); k != "mgm_secret-key" || err != nil {
		t.Fatalf("load: %q %v", k, err)
	}
	if s.Describe() == "" {
		t.Fatal("no description")
	}
	if runtime.GOOS != "windows" {
		p := filepath.Join(dir, "api-key")
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v %v", fi, err)
		}
		// A key file others can read is refused rather than used.
		os.Chmod(p, 0o644)
		if _, err := s.Load(); err == nil {
			t.Fatal("world-readable key accepted")
		}
		os.Chmod(p, 0o600)
	}
	if err := s.Clear(); err != nil {
		t.Fatal(err)
	}
	if k, err := s.Load(); k != "" || err != nil {
		t.Fatalf("after clear: %q %v", k, err)
	}
	if err := s.Clear(); err != nil {
		t.Fatal("clearing twice", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files left after clear: %v", ents)
	}
}
