package wowsim

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAddonReleaseScript builds the release zip with scripts/addon-release and
// checks its layout, the stamped version, that the source tree is untouched
// and that the zipped addon loads in the simulator.
func TestAddonReleaseScript(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "scripts", "addon-release"))
	if err != nil {
		t.Fatal(err)
	}
	srcTOC, err := os.ReadFile(filepath.Join(addonDir, "MimironsGoldOMatic.toc"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", script, "v1.2.3-rc.1", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("addon-release: %v\n%s", err, stderr.String())
	}
	zipPath := filepath.Join(out, "MimironsGoldOMatic-1.2.3-rc.1.zip")
	if strings.TrimSpace(string(stdout)) != zipPath {
		t.Fatalf("printed %q, want %q", stdout, zipPath)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()

	extracted := filepath.Join(t.TempDir(), "MimironsGoldOMatic")
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimPrefix(f.Name, "MimironsGoldOMatic/")
		if err := os.MkdirAll(extracted, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(extracted, base), b, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(filepath.Join(addonDir, base))
		if err != nil {
			t.Fatalf("%s is not in the addon folder: %v", f.Name, err)
		}
		if base == "MimironsGoldOMatic.toc" {
			want := strings.Replace(string(src), "## Version: dev", "## Version: 1.2.3-rc.1", 1)
			if string(b) != want {
				t.Fatalf("zipped .toc:\n%s\nwant\n%s", b, want)
			}
		} else if !bytes.Equal(b, src) {
			t.Errorf("%s differs from the source", f.Name)
		}
	}
	want := []string{
		"MimironsGoldOMatic/",
		"MimironsGoldOMatic/MimironsGoldOMatic.lua",
		"MimironsGoldOMatic/MimironsGoldOMatic.toc",
		"MimironsGoldOMatic/MimironsGoldOMatic_Core.lua",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("entries %q, want %q", names, want)
	}
	if after, _ := os.ReadFile(filepath.Join(addonDir, "MimironsGoldOMatic.toc")); !bytes.Equal(after, srcTOC) {
		t.Fatal("the source .toc must not change")
	}

	c := newTestClient(t, func(cfg *Config) { cfg.AddonDir = extracted })
	run(t, c, `ReceiveGold("p-1:Norinn:5;")`)
	if len(c.QueueRows()) != 1 {
		t.Fatal("the released addon should work")
	}

	for _, bad := range []string{"", "1.0/evil", "-x"} {
		if err := exec.Command("bash", script, bad, out).Run(); err == nil {
			t.Errorf("version %q should be refused", bad)
		}
	}
}
