package main

import (
	"context"
	"fmt"

	"github.com/ciphemic/ciphemic/internal/token"
)

// runKeys is `ciphemic keys <subcommand>`.
func runKeys(ctx context.Context, args []string, e env) error {
	switch {
	case len(args) > 0 && args[0] == "generate":
		return runKeysGenerate(args[1:], e)
	case len(args) > 0 && args[0] == "rotate":
		return runKeysRotate(args[1:], e)
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help"):
		// Asking for help is not a failure: print the subcommands, exit 0.
		fmt.Fprintln(e.stdout, keysUsage)
		return nil
	}
	return usagef("%s", keysUsage)
}

// keysUsage lists the subcommands of keys.
const keysUsage = "usage: ciphemic keys generate --algorithm ALG --out FILE | keys rotate --signing-key-file FILE [--algorithm ALG] (keys generate -h, keys rotate -h: their flags)"

// runKeysGenerate writes a new signing key with mode 0600, refusing to overwrite a file, so
// a key in use is never replaced by accident.
func runKeysGenerate(args []string, e env) error {
	var alg, out string
	fs := newFlagSet("keys generate")
	fs.StringVar(&alg, "algorithm", "HS256", "HS256, HS384, HS512, RS256, ES256 or EdDSA")
	fs.StringVar(&out, "out", "", "file to write (must not exist)")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	if !token.ValidAlgorithm(alg) {
		return invalid("algorithm", "%q is not one of HS256, HS384, HS512, RS256, ES256, EdDSA", alg)
	}
	if out == "" {
		return invalid("out", "a file name is required")
	}
	content, err := token.GenerateKey(alg)
	if err != nil {
		return fmt.Errorf("generate %s key: %w", alg, err)
	}
	key, err := token.ParseKey(alg, content)
	if err != nil {
		return fmt.Errorf("generate %s key: %w", alg, err)
	}
	if err := token.WriteKeyFile(out, content); err != nil {
		return invalid("out", "%v", err)
	}
	fmt.Fprintf(e.stdout, "Wrote a new %s key to %s (kid %s).\n", alg, out, key.ID)
	return nil
}
