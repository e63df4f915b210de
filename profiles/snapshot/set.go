package snapshot

import "github.com/nhsconform/conform/profiles/packages"

type generatorKey struct{}

// ForSet returns the Generator shared by every user of set, resolving
// definitions through it, so that each snapshot is generated once per set.
func ForSet(set *packages.Set) *Generator {
	return set.Shared(generatorKey{}, func() any { return &Generator{Resolve: set.ResolveJSON} }).(*Generator)
}
