package main

import (
	"runtime"
	"runtime/debug"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; "devel" otherwise.
var version = "devel"

// buildInfo names this binary: version, the VCS revision the Go toolchain stamped (with
// "-dirty" for a modified tree), and the Go version.
func buildInfo() httpapi.BuildInfo {
	b := httpapi.BuildInfo{Version: version, GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && b.Revision != "" {
		b.Revision += "-dirty"
	}
	return b
}
