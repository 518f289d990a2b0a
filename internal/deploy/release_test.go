package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the repository this package lives in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// releaseSubset is what the test builds twice: one binary of each kind
// (the EBS for Linux, the Desktop for 32-bit Windows) and both zips.
// scripts/release builds all ten binaries the same way; building them all
// twice would add minutes of compilation and test nothing more.
var releaseSubset = []string{"mgm-ebs-linux-amd64", "mgm-desktop-windows-386.exe", "MimironsGoldOMatic.zip", "mgm-extension.zip"}

// The release is reproducible: built twice — once from this tree, once from
// a copy of it in another folder without .git (given the same revision and
// time, as a source archive would be) — it has the same SHA256SUMS, which
// match the files. The EBS binary is stamped with the version and the
// revision and holds no path of the machine that built it.
func TestReleaseIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds release binaries")
	}
	need(t, "bash", "git", "python3", "sha256sum", "tar")
	subset := releaseSubset
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("MGM_REQUIRE_E2E") == "1" {
			t.Fatal("npm not found, and MGM_REQUIRE_E2E=1: the extension zip must be built")
		}
		t.Logf("npm not found: the extension zip is left out")
		subset = subset[:len(subset)-1]
	}
	root := repoRoot(t)
	const version = "1.2.3-repro.1"
	env := append(os.Environ(), "MGM_RELEASE_ONLY="+strings.Join(subset, " "))

	first := filepath.Join(t.TempDir(), "first")
	out := runRelease(t, root, version, first, env)
	m := regexp.MustCompile(`\(revision (\S+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("scripts/release did not say the revision:\n%s", out)
	}
	revision := m[1]
	epoch, err := exec.Command("git", "-C", root, "log", "-1", "--format=%ct").Output()
	if err != nil {
		t.Fatal(err)
	}

	copyRoot := filepath.Join(t.TempDir(), "elsewhere", "mgm-src")
	copyTree(t, root, copyRoot)
	second := filepath.Join(t.TempDir(), "second")
	runRelease(t, copyRoot, version, second, append(env,
		"MGM_RELEASE_REVISION="+revision, "SOURCE_DATE_EPOCH="+strings.TrimSpace(string(epoch))))

	sums1, err := os.ReadFile(filepath.Join(first, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sums2, err := os.ReadFile(filepath.Join(second, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sums1, sums2) {
		t.Fatalf("two builds of one release differ:\n%s\n---\n%s", sums1, sums2)
	}
	t.Logf("SHA256SUMS of both builds:\n%s", sums1)

	lines := strings.Split(strings.TrimSpace(string(sums1)), "\n")
	if len(lines) != len(subset) {
		t.Errorf("SHA256SUMS lists %d files, want %d", len(lines), len(subset))
	}
	for _, line := range lines {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", line)
		}
		b, err := os.ReadFile(filepath.Join(first, name))
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
			t.Errorf("%s: SHA256SUMS says %s, the file is %x", name, sum, h)
		}
		if !strings.Contains(name, version) {
			t.Errorf("%s is not named with the version", name)
		}
	}

	ebs := filepath.Join(first, "mgm-ebs-"+version+"-linux-amd64")
	bin, err := os.ReadFile(ebs)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{root, copyRoot} {
		if bytes.Contains(bin, []byte(path)) {
			t.Errorf("the EBS binary contains the build folder %s (-trimpath missing)", path)
		}
	}
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		v, err := exec.Command(ebs, "version").Output()
		want := "mgm-ebs " + version + " (" + runtime.Version() + ", linux/amd64, revision " + revision + ")\n"
		if err != nil || string(v) != want {
			t.Errorf("mgm-ebs version: %q %v, want %q", v, err, want)
		}
	}
	if exe, err := os.ReadFile(filepath.Join(first, "mgm-desktop-"+version+"-windows-386.exe")); err != nil || !bytes.HasPrefix(exe, []byte("MZ")) {
		t.Errorf("the Desktop is not a Windows executable: %v", err)
	}
}

func runRelease(t *testing.T, root, version, outdir string, env []string) string {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "release"), version, outdir)
	cmd.Dir = root
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/release in %s: %v\n%s", root, err, out)
	}
	return string(out)
}

// copyTree copies the files git would commit (tracked and new, not ignored)
// as they are in the work tree, and shares the extension's node_modules.
func copyTree(t *testing.T, root, dst string) {
	t.Helper()
	list, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if err != nil {
			continue // deleted in the work tree, not yet in the index
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	if nm := filepath.Join(root, "extension", "node_modules"); dirExists(nm) {
		if err := os.Symlink(nm, filepath.Join(dst, "extension", "node_modules")); err != nil {
			t.Fatal(err)
		}
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
