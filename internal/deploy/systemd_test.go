package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The systemd unit is valid (systemd-analyze verify says nothing at all: it
// exits 0 even on unknown keys, so any word it prints is a failure), keeps
// the hardening the README promises, and systemd rates its exposure low.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "mgm-ebs.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"ExecStart=/usr/local/bin/mgm-ebs", "EnvironmentFile=/etc/mgm-ebs/env", "Environment=Mgm__DataDir=/var/lib/mgm-ebs",
		"DynamicUser=yes", "StateDirectory=mgm-ebs", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
		"SystemCallFilter=@system-service",
	} {
		if !strings.Contains(string(unit), "\n"+line) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(line))
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed: the unit's syntax was not verified (apt-get install systemd)")
	}
	// verify also checks that ExecStart's program exists; this machine has
	// no /usr/local/bin/mgm-ebs, so a copy points at one that does.
	dir := t.TempDir()
	path := filepath.Join(dir, "mgm-ebs.service")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copied := strings.Replace(string(unit), "ExecStart=/usr/local/bin/mgm-ebs", "ExecStart="+exe, 1)
	if err := os.WriteFile(path, []byte(copied), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command("systemd-analyze", "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for mgm-ebs.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security gave no exposure level:\n%s", out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2 {
		t.Errorf("exposure level %.1f, want at most 2 (of 10):\n%s", level, out)
	}
	t.Logf("systemd-analyze security: exposure level %s of 10", m[1])
}
