package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// runVersion is `ciphemic version`: what an operator quotes in a bug report or checks
// after an upgrade. The module version and VCS revision are the ones the go command
// stamped into the binary; a build from a source tree without them says "(devel)".
func runVersion(_ context.Context, args []string, e env) error {
	fs := newFlagSet("version")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, versionLine())
	return nil
}

func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "ciphemic (unknown version)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	line := "ciphemic " + version
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if revision != "" {
		line += " " + revision + modified
	}
	return line + " " + info.GoVersion
}
