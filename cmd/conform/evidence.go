package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/report/evidence"
)

func init() {
	register(&command{name: "keygen", summary: "create an Ed25519 key pair for signing evidence bundles", run: runKeygen})
	register(&command{name: "verify", summary: "check an evidence bundle's hashes and signature offline", run: runVerify})
}

func runKeygen(e *env, args []string) conformance.ExitCode {
	fs := newFlags(e, "keygen", "--out FILE", `
Writes a new Ed25519 private key to FILE (PEM, mode 0600) and its public key to
FILE.pub. Sign evidence with 'conform run --out DIR --sign-key FILE'; give
FILE.pub to whoever checks it with 'conform verify DIR --pubkey FILE.pub'.
An existing file is never overwritten.`)
	out := fs.String("out", "", "path of the private key to write (the public key goes to FILE.pub)")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if *out == "" || fs.NArg() > 0 {
		return usageError(e, "keygen", "--out FILE is required and no arguments are taken")
	}
	pub, err := evidence.GenerateKeyPair(*out)
	if err != nil {
		return failure(e, "keygen", err)
	}
	fmt.Fprintf(e.stdout, "private key: %s\npublic key:  %s.pub\nfingerprint: %s\n", *out, *out, fingerprint(pub))
	return conformance.ExitPass
}

func fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

func runVerify(e *env, args []string) conformance.ExitCode {
	fs := newFlags(e, "verify", "[--pubkey FILE] [--allow-unsigned] [-o text|json] DIR|ZIP", `
Checks an evidence bundle written by 'conform run --out DIR [--zip]': every file's
SHA-256 against the manifest, files added or removed since, and the Ed25519
signature of the manifest. With --pubkey only that key is trusted; without it
the key recorded in the bundle is used, which proves the bundle is unchanged
but not who signed it.

Exit codes: 0 intact, 1 changed, added, removed or badly signed, 2 usage,
3 the bundle could not be read.`)
	pubPath := fs.String("pubkey", "", "trusted public key (PEM) written by 'conform keygen'")
	allowUnsigned := fs.Bool("allow-unsigned", false, "accept a bundle that carries no signature (hashes are still checked)")
	format := fs.StringP("output", "o", "text", "output format: text or json")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(e, "verify", "exactly one bundle (a folder or a zip) is required")
	}
	if *format != "text" && *format != "json" {
		return usageError(e, "verify", "unknown output format %q (want text or json)", *format)
	}
	opts := evidence.VerifyOptions{AllowUnsigned: *allowUnsigned}
	if *pubPath != "" {
		pub, err := evidence.LoadPublicKey(*pubPath)
		if err != nil {
			return usageError(e, "verify", "%v", err)
		}
		opts.PublicKey = pub
	}
	v, err := evidence.Verify(fs.Arg(0), opts)
	if err != nil {
		return failure(e, "verify", err)
	}
	if *format == "json" {
		out := struct {
			*evidence.Verification
			Intact bool `json:"intact"`
		}{v, v.Intact()}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return failure(e, "verify", err)
		}
	} else {
		printVerification(e, v)
	}
	if !v.Intact() {
		return conformance.ExitFail
	}
	return conformance.ExitPass
}

func printVerification(e *env, v *evidence.Verification) {
	if v.Intact() {
		fmt.Fprintf(e.stdout, "INTACT %s: %d files match the manifest", v.Bundle, len(v.Manifest.Files))
		if v.SignatureValid {
			fmt.Fprintf(e.stdout, "; signature valid (key %s)", v.KeyFingerprint)
		}
		fmt.Fprintln(e.stdout)
		if v.KeyFromBundle {
			fmt.Fprintln(e.stdout, "note: checked with the key recorded in the bundle; pass --pubkey to check who signed it")
		}
		if !v.Signed {
			fmt.Fprintln(e.stdout, "note: the bundle is not signed; only its hashes were checked")
		}
		return
	}
	fmt.Fprintf(e.stdout, "NOT INTACT %s:\n", v.Bundle)
	for _, p := range v.Problems {
		fmt.Fprintf(e.stdout, "  %s\n", p)
	}
}
