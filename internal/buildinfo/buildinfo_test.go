package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestRead(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "4406918c1f2e"}, {Key: "vcs.time", Value: "2026-11-30T01:02:03Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, c := range []struct {
		name, version, revision string
		bi                      *debug.BuildInfo
		want                    string
	}{
		{"unstamped go build", "", "", vcs, "dev (go1.26.8, " + platform + ", revision 4406918c1f2e, 2026-11-30T01:02:03Z, modified)"},
		// A release's stamped revision wins over anything git said.
		{"release", "1.2.0", "abc123", vcs, "1.2.0 (go1.26.8, " + platform + ", revision abc123)"},
		{"no vcs", " 1.2.0 ", "", &debug.BuildInfo{GoVersion: "go1.26.8"}, "1.2.0 (go1.26.8, " + platform + ")"},
		{"no build info", "", "", nil, "dev (" + runtime.Version() + ", " + platform + ")"},
	} {
		if got := read(c.version, c.revision, c.bi).String(); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
