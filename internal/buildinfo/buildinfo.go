// Package buildinfo says which build a binary is: the version stamped at
// release (-ldflags "-X main.version=…"), the Go toolchain and platform, and
// the source revision, so that `mgm-ebs version` and a bug report name the
// exact build.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Info describes one build.
type Info struct {
	// Version is the stamped version, "dev" when the binary was not stamped.
	Version string
	// Revision is the source commit: stamped by scripts/release (which
	// builds with -buildvcs=false so that the binary does not depend on the
	// work tree's state), else what `go build` recorded from git; "" when
	// neither knows it.
	Revision string
	// Time is the commit's time as go build recorded it; "" for releases.
	Time string
	// Modified says go build saw uncommitted changes.
	Modified bool
	// Go and Platform are the toolchain and GOOS/GOARCH.
	Go, Platform string
}

// Read describes the running binary from its stamps and the build
// information the Go toolchain embedded.
func Read(version, revision string) Info {
	bi, _ := debug.ReadBuildInfo()
	return read(version, revision, bi)
}

func read(version, revision string, bi *debug.BuildInfo) Info {
	in := Info{Version: Version(version), Revision: strings.TrimSpace(revision),
		Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return in
	}
	if bi.GoVersion != "" {
		in.Go = bi.GoVersion
	}
	if in.Revision != "" {
		return in // a release: what git said at build time does not apply
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// Version is the stamped version, or "dev" for a binary built without one.
func Version(stamped string) string {
	if v := strings.TrimSpace(stamped); v != "" {
		return v
	}
	return "dev"
}

// String is one line for people and bug reports:
// "1.2.0 (go1.26.8, linux/amd64, revision 4406918c…, 2026-11-30T01:02:03Z, modified)".
func (in Info) String() string {
	parts := []string{in.Go, in.Platform}
	if in.Revision != "" {
		parts = append(parts, "revision "+in.Revision)
	}
	if in.Time != "" {
		parts = append(parts, in.Time)
	}
	if in.Modified {
		parts = append(parts, "modified")
	}
	return in.Version + " (" + strings.Join(parts, ", ") + ")"
}
