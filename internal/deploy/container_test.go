package deploy

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/config"
)

// envExample reads .env.example's KEY=value lines in order.
func envExample(t *testing.T) [][2]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	var kv [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(v, "#\"'") {
			// systemd's EnvironmentFile would keep a trailing comment or
			// quotes in the value.
			t.Errorf(".env.example: %q is not a plain KEY=value line", line)
		}
		kv = append(kv, [2]string{k, v})
	}
	return kv
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// .env.example names real settings only, and exactly the ones a Production
// EBS cannot start without: as it is (empty values) the EBS refuses, naming
// each; with every empty value filled in it starts (the settings load).
func TestEnvExampleCoversProduction(t *testing.T) {
	usage := config.Usage()
	kv := envExample(t)
	env := map[string]string{
		"Mgm__Environment":              "Production", // as compose.yaml and the README's recipes set it
		"ConnectionStrings__PostgreSQL": "Host=db;Port=5432;Database=mgm;Username=mgm;Password=" + randomText(12),
	}
	for _, p := range kv {
		if strings.Contains(p[0], "__") && !strings.Contains(usage, "\n  "+p[0]+" ") {
			t.Errorf(".env.example sets %s, which is not a setting", p[0])
		}
		env[p[0]] = p[1]
	}
	_, err := config.Load(func(k string) string { return env[k] }, nil)
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("the example's empty values loaded: %v", err)
	}
	for _, key := range []string{"Twitch__ExtensionSecret", "Twitch__EventSubSecret", "Mgm__ApiKey"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("with the example as it is, the refusal does not name %s:\n%v", key, err)
		}
	}
	for _, p := range kv {
		if p[1] != "" {
			continue
		}
		switch p[0] {
		case "Twitch__ExtensionSecret", "Twitch__TokenEncryptionKey":
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			env[p[0]] = base64.StdEncoding.EncodeToString(b)
		case "Mgm__PublicUrl":
			env[p[0]] = "https://ebs.test.invalid"
		case "Twitch__BroadcasterUserId":
			env[p[0]] = "123456789"
		default:
			env[p[0]] = randomText(16)
		}
	}
	if _, err := config.Load(func(k string) string { return env[k] }, nil); err != nil {
		t.Errorf("the example filled in does not load:\n%v", err)
	}
}

// The Dockerfile and compose.yaml say what the README promises; the image
// built from them is checked in TestContainerImage where a builder exists.
func TestContainerFiles(t *testing.T) {
	root := repoRoot(t)
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nFROM scratch\n", "\nUSER 65532:65532\n", "\nEXPOSE 8080\n", "\nVOLUME [\"/data\"]\n",
		"CMD [\"/mgm-ebs\", \"healthcheck\"]\n", "\nENTRYPOINT [\"/mgm-ebs\"]\n", "Mgm__DataDir=/data", "Mgm__Listen=0.0.0.0:8080"} {
		if !strings.Contains(string(dockerfile), want) {
			t.Errorf("Dockerfile lacks %q", strings.TrimSpace(want))
		}
	}
	compose, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"image: docker.io/library/postgres:15\n", "condition: service_healthy\n", "test: [\"CMD\", \"pg_isready\"",
		"- pg-data:/var/lib/postgresql/data\n", "- mgm-data:/data\n", "env_file: .env\n", "Mgm__Environment: Production\n",
		"ConnectionStrings__PostgreSQL: \"Host=db;Port=5432;Database=mgm;Username=mgm;Password=${POSTGRES_PASSWORD}\"",
		"\nvolumes:\n  pg-data:\n  mgm-data:\n"} {
		if !strings.Contains(string(compose), want) {
			t.Errorf("compose.yaml lacks %q", strings.TrimSpace(want))
		}
	}
	if strings.Contains(string(compose), "\t") {
		t.Error("compose.yaml has a tab: YAML indents with spaces")
	}
}

// builder is the first container builder that works here, as
// scripts/container-image chooses it, or "".
func builder() string {
	for _, b := range []string{"podman", "buildah", "docker"} {
		if _, err := exec.LookPath(b); err != nil {
			continue
		}
		if b == "docker" && exec.Command("docker", "info").Run() != nil {
			continue // a client without a daemon builds nothing
		}
		return b
	}
	return ""
}

// The image, built with scripts/container-image from a release binary:
// its configuration (non-root user, entrypoint, health check, port, volume,
// the data folder and listen settings) and its files (the release binary
// byte for byte, the CA bundle, /data owned by the user, nothing else).
func TestContainerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary and an image")
	}
	b := builder()
	if b == "" {
		t.Skip("no container builder (podman, buildah or docker): image not built")
	}
	need(t, "bash", "sha256sum")
	root := repoRoot(t)
	arch := runtime.GOARCH
	if arch != "amd64" && arch != "arm64" {
		t.Skipf("no release binary for linux/%s", arch)
	}
	const version = "1.2.3-image.1"
	dist := filepath.Join(t.TempDir(), "dist")
	runRelease(t, root, version, dist, append(os.Environ(), "MGM_RELEASE_ONLY=mgm-ebs-linux-"+arch))
	name := "mgm-ebs-test-" + randomText(4)
	image := name + ":" + version
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "container-image"), version, dist)
	cmd.Env = append(os.Environ(), "MGM_IMAGE="+name, "MGM_CONTAINER_BUILDER="+b, "MGM_IMAGE_ARCH="+arch)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/container-image with %s: %v\n%s", b, err, out)
	}
	t.Cleanup(func() { _ = exec.Command(b, "rmi", "-f", image).Run() })

	inspect := exec.Command(b, "image", "inspect", image)
	if b == "buildah" {
		inspect = exec.Command(b, "inspect", "--type", "image", image)
	}
	raw, err := inspect.Output()
	if err != nil {
		t.Fatalf("%s image inspect: %v", b, err)
	}
	cfg := imageConfig(t, raw)
	if cfg.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (not root)", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/mgm-ebs"}) || len(cfg.Cmd) != 0 {
		t.Errorf("entrypoint %q, cmd %q", cfg.Entrypoint, cfg.Cmd)
	}
	if cfg.Healthcheck == nil || !slices.Equal(cfg.Healthcheck.Test, []string{"CMD", "/mgm-ebs", "healthcheck"}) {
		t.Errorf("health check %+v, want CMD /mgm-ebs healthcheck", cfg.Healthcheck)
	}
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok || len(cfg.ExposedPorts) != 1 {
		t.Errorf("exposed ports %v, want 8080/tcp", cfg.ExposedPorts)
	}
	if _, ok := cfg.Volumes["/data"]; !ok || len(cfg.Volumes) != 1 {
		t.Errorf("volumes %v, want /data", cfg.Volumes)
	}
	for _, want := range []string{"Mgm__DataDir=/data", "Mgm__Listen=0.0.0.0:8080"} {
		if !slices.Contains(cfg.Env, want) {
			t.Errorf("environment %q lacks %s", cfg.Env, want)
		}
	}

	release, err := os.ReadFile(filepath.Join(dist, "mgm-ebs-"+version+"-linux-"+arch))
	if err != nil {
		t.Fatal(err)
	}
	files := imageFiles(t, b, image)
	want := map[string]bool{"data": true, "etc": true, "etc/group": true, "etc/passwd": true, "etc/ssl": true,
		"etc/ssl/certs": true, "etc/ssl/certs/ca-certificates.crt": true, "mgm-ebs": true}
	for p, f := range files {
		if !want[p] {
			t.Errorf("the image holds %s, which it should not", p)
		}
		switch p {
		case "mgm-ebs":
			if sha256.Sum256(f.data) != sha256.Sum256(release) || f.mode&0o111 == 0 {
				t.Error("/mgm-ebs is not the release binary, executable")
			}
		case "data":
			if f.uid != 65532 || f.typ != tar.TypeDir {
				t.Errorf("/data: uid %d, type %c; want a directory the user owns", f.uid, f.typ)
			}
		case "etc/passwd":
			if !bytes.Contains(f.data, []byte(":65532:65532:")) {
				t.Errorf("/etc/passwd does not name the user: %q", f.data)
			}
		case "etc/ssl/certs/ca-certificates.crt":
			if !bytes.Contains(f.data, []byte("BEGIN CERTIFICATE")) {
				t.Error("the CA bundle holds no certificate")
			}
		}
	}
	for p := range want {
		if _, ok := files[p]; !ok {
			t.Errorf("the image lacks /%s", p)
		}
	}
}

type imageCfg struct {
	User         string
	Entrypoint   []string
	Cmd          []string
	Env          []string
	ExposedPorts map[string]struct{}
	Volumes      map[string]struct{}
	Healthcheck  *struct{ Test []string }
}

// imageConfig reads the image's configuration from an inspect answer:
// docker and podman put it under Config (podman's health check also at the
// top as HealthCheck), buildah under Docker.config.
func imageConfig(t *testing.T, raw []byte) imageCfg {
	t.Helper()
	var doc struct {
		Config      imageCfg
		HealthCheck *struct{ Test []string }
		Docker      struct{ Config imageCfg }
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err == nil && len(list) > 0 {
		raw = list[0]
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("inspect answer: %v\n%s", err, raw)
	}
	cfg := doc.Config
	if cfg.Entrypoint == nil {
		cfg = doc.Docker.Config
	}
	if cfg.Healthcheck == nil {
		cfg.Healthcheck = doc.HealthCheck
	}
	return cfg
}

type imageFile struct {
	typ  byte
	mode int64
	uid  int
	data []byte
}

// imageFiles unpacks the image as the builder saves it (docker-archive:
// manifest.json naming the layer tarballs, applied in order).
func imageFiles(t *testing.T, b, image string) map[string]imageFile {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	save := exec.Command(b, "save", "-o", archive, image)
	if b != "docker" {
		save = exec.Command(b, "save", "--format", "docker-archive", "-o", archive, image)
	}
	if b == "buildah" {
		save = exec.Command(b, "push", image, "docker-archive:"+archive)
	}
	if out, err := save.CombinedOutput(); err != nil {
		t.Fatalf("%s save: %v\n%s", b, err, out)
	}
	outer := readTar(t, archive)
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(outer["manifest.json"].data, &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v", err)
	}
	files := map[string]imageFile{}
	for _, layer := range manifest[0].Layers {
		l, ok := outer[layer]
		if !ok {
			t.Fatalf("layer %s missing from the archive", layer)
		}
		for p, f := range readTarBytes(t, l.data) {
			files[p] = f
		}
	}
	return files
}

func readTar(t *testing.T, file string) map[string]imageFile {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return readTarBytes(t, b)
}

func readTarBytes(t *testing.T, b []byte) map[string]imageFile {
	t.Helper()
	files := map[string]imageFile{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		p := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		files[p] = imageFile{typ: h.Typeflag, mode: h.Mode, uid: h.Uid, data: data}
	}
}
