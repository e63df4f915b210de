// Package scenarios holds conform's built-in workflow packs (capability,
// admission, discharge, referral) as files embedded in the binary: each
// folder a pack with its pack.json manifest, .feature files and fixtures.
package scenarios

import "embed"

// FS holds the built-in packs, one top-level folder each.
//
//go:embed capability admission discharge referral
var FS embed.FS
