package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/packages"
)

func init() {
	register(&command{name: "packages", summary: "install, list and show FHIR packages", run: runPackages})
}

// cacheFlag is the --fhir-cache flag shared by every command that reads the
// FHIR package cache.
type cacheFlag struct{ dir string }

func addCacheFlag(fs *pflag.FlagSet) *cacheFlag {
	c := &cacheFlag{}
	fs.StringVar(&c.dir, "fhir-cache", "", "FHIR package cache `DIR` (default $CONFORM_FHIR_CACHE, else ~/.fhir/packages)")
	return c
}

func (c *cacheFlag) cache(e *env) packages.Cache {
	if c.dir != "" {
		return packages.Cache{Dir: c.dir}
	}
	return packages.DefaultCache(e.getenv)
}

// packageFlags are the flags of every command that loads FHIR packages:
// --ig SRC (repeatable) and --fhir-cache DIR.
type packageFlags struct {
	cacheFlag
	command string
	igs     []string
}

// addPackageFlags adds --ig and --fhir-cache to a command's flags.
func addPackageFlags(fs *pflag.FlagSet) *packageFlags {
	pf := &packageFlags{command: fs.Name()}
	fs.StringVar(&pf.dir, "fhir-cache", "", "FHIR package cache `DIR` (default $CONFORM_FHIR_CACHE, else ~/.fhir/packages)")
	fs.StringArrayVar(&pf.igs, "ig", nil, "load an implementation guide `SRC`: package tarball, package folder, IG source folder, folder of loose resources, resource file or name#version from the cache (repeatable)")
	return pf
}

// load reads hl7.fhir.r4.core from the cache, each --ig source and their
// dependencies; dependency problems are printed to stderr as warnings.
func (pf *packageFlags) load(e *env) (*packages.Set, error) {
	s, err := packages.Load(e.ctx, packages.LoadOptions{Cache: pf.cache(e), IGs: pf.igs})
	if err != nil {
		return nil, err
	}
	for _, w := range s.Warnings() {
		if w.Kind == packages.WarnUnresolvedDependency || w.Kind == packages.WarnSkippedDependency {
			fmt.Fprintf(e.stderr, "conform %s: warning: %s\n", pf.command, w)
		}
	}
	return s, nil
}

// loadModel loads the packages as load does and returns them with their R4
// type model, failing when they do not define the base types.
func (pf *packageFlags) loadModel(e *env) (*packages.Set, *model.Model, error) {
	set, err := pf.load(e)
	if err != nil {
		return nil, nil, err
	}
	m := set.Model()
	if m == nil {
		return nil, nil, errors.New("load type model: no R4 base definitions in the loaded packages")
	}
	return set, m, nil
}

const packagesUsage = `Usage: conform packages SUBCOMMAND [flags] [args]

Subcommands:
  install SRC...|name#version...  put package tarballs, package folders and IG source
                                  folders into the FHIR package cache, or download
                                  name#version from a package registry
  list                            print the installed packages, name#version one a line
  show SRC|name#version           print a package's identity, resource counts by type
                                  and unresolved dependencies

Run 'conform packages SUBCOMMAND --help' for a subcommand's flags.
`

func runPackages(e *env, args []string) conformance.ExitCode {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, packagesUsage)
		return conformance.ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, packagesUsage)
		return conformance.ExitPass
	case "install":
		return runPackagesInstall(e, args[1:])
	case "list":
		return runPackagesList(e, args[1:])
	case "show":
		return runPackagesShow(e, args[1:])
	}
	return usageError(e, "packages", "unknown subcommand %q", args[0])
}

func runPackagesInstall(e *env, args []string) conformance.ExitCode {
	const name = "packages install"
	fs := newFlags(e, name, "[flags] SRC...|name#version...", `
Install FHIR packages into the FHIR package cache as name#version/package.

SRC is a package tarball, an unpacked package folder or an IG source folder
(package.json at the top, JSON or XML resources in any sub-folder); its
identity comes from its package.json. XML resources are written as JSON when
hl7.fhir.r4.core#4.0.1 is in the cache (install it first), else kept as XML.
A .index.json is generated so later loads are fast.

name#version (when no such file exists) is downloaded from the registry:
GET {registry}/{name} gives versions[version].dist.tarball with its sha1
shasum and/or sha512 integrity, which must match; the dependencies named in
its package.json that are not installed are downloaded too (--no-deps: not).
Writes go to a temporary folder in the cache, renamed into place.`)
	cf := addCacheFlag(fs)
	registry := fs.String("registry", packages.DefaultRegistry, "npm-compatible FHIR package registry `URL`")
	force := fs.Bool("force", false, "replace a package that is already installed")
	noDeps := fs.Bool("no-deps", false, "do not download the dependencies of registry packages")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(e, name, "no package to install")
	}
	cache := cf.cache(e)
	reg := packages.Registry{URL: *registry}
	inst := installer{e: e, cache: cache, reg: reg, force: *force, deps: !*noDeps, done: map[string]bool{}}
	for _, src := range fs.Args() {
		if _, err := os.Stat(src); err == nil {
			if err := inst.installSource(src); err != nil {
				return failure(e, name, err)
			}
			continue
		}
		pname, version, err := packages.ParseRef(src)
		if err != nil {
			return usageError(e, name, "%s: no such file or folder, and not name#version", src)
		}
		if err := inst.installRemote(pname, version, true); err != nil {
			return failure(e, name, err)
		}
	}
	return conformance.ExitPass
}

type installer struct {
	e     *env
	cache packages.Cache
	reg   packages.Registry
	force bool
	deps  bool
	done  map[string]bool
}

func (in *installer) installSource(src string) error {
	p, err := packages.Open(src)
	if err != nil {
		return err
	}
	if hasXML(p) {
		set := packages.NewSet()
		if core, err := in.cache.Open(packages.CoreName, packages.CoreVersion); err == nil && p.Name != packages.CoreName {
			set.Add(core)
		}
		set.Add(p)
	}
	return in.install(p, nil)
}

func hasXML(p *packages.Package) bool {
	for _, r := range p.Resources {
		if r.Format == packages.FormatXML {
			return true
		}
	}
	return false
}

func (in *installer) installRemote(name, version string, explicit bool) error {
	ref := name + "#" + version
	if in.done[ref] {
		return nil
	}
	in.done[ref] = true
	if !explicit && in.cache.Has(name, version) {
		return nil
	}
	if explicit && in.cache.Has(name, version) && !in.force {
		fmt.Fprintf(in.e.stdout, "%s already installed in %s (--force replaces it)\n", ref, in.cache.Dir)
		return in.installDeps(name, version)
	}
	p, verified, err := in.reg.Download(in.e.ctx, name, version)
	if err != nil {
		return err
	}
	if verified == nil {
		verified = []string{}
	}
	if err := in.install(p, verified); err != nil {
		return err
	}
	return in.installDeps(name, version)
}

func (in *installer) installDeps(name, version string) error {
	if !in.deps {
		return nil
	}
	p, err := in.cache.Open(name, version)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(p.Dependencies))
	for k := range p.Dependencies {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, dep := range keys {
		v := p.Dependencies[dep]
		if !packages.ValidVersion(v) || strings.HasSuffix(v, ".x") {
			fmt.Fprintf(in.e.stderr, "conform packages install: warning: dependency %s#%s of %s: not an exact version; not downloaded\n", dep, v, p.ID())
			continue
		}
		if err := in.installRemote(dep, v, false); err != nil {
			fmt.Fprintf(in.e.stderr, "conform packages install: warning: dependency of %s: %v\n", p.ID(), err)
		}
	}
	return nil
}

// install writes p into the cache; verified is nil for a local source, else
// the checksums checked on download (empty when the registry gave none).
func (in *installer) install(p *packages.Package, verified []string) error {
	res, err := in.cache.Install(p, packages.InstallOptions{Replace: in.force})
	if err != nil {
		return err
	}
	if res.AlreadyInstalled {
		fmt.Fprintf(in.e.stdout, "%s already installed in %s (--force replaces it)\n", res.Ref, in.cache.Dir)
		return nil
	}
	var notes []string
	switch {
	case verified == nil:
	case len(verified) == 0:
		notes = append(notes, "registry published no checksum")
	default:
		notes = append(notes, "checksum "+strings.Join(verified, "+")+" verified")
	}
	if res.Converted > 0 {
		notes = append(notes, fmt.Sprintf("%d converted from XML", res.Converted))
	}
	if res.KeptXML > 0 {
		notes = append(notes, fmt.Sprintf("%d kept as XML", res.KeptXML))
	}
	extra := ""
	if len(notes) > 0 {
		extra = "; " + strings.Join(notes, ", ")
	}
	fmt.Fprintf(in.e.stdout, "installed %s (%d resources%s) into %s\n", res.Ref, res.Resources, extra, in.cache.Dir)
	return nil
}

func runPackagesList(e *env, args []string) conformance.ExitCode {
	const name = "packages list"
	fs := newFlags(e, name, "[flags]", "Print the packages installed in the FHIR package cache, name#version one a line.")
	cf := addCacheFlag(fs)
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, name, "unexpected argument %q", fs.Arg(0))
	}
	refs, err := cf.cache(e).List()
	if err != nil {
		return failure(e, name, err)
	}
	for _, r := range refs {
		fmt.Fprintln(e.stdout, r)
	}
	return conformance.ExitPass
}

// packageSummary is the JSON form of 'conform packages show -o json'.
type packageSummary struct {
	Name       string         `json:"name"`
	Version    string         `json:"version"`
	Counts     map[string]int `json:"counts"`
	Unresolved []string       `json:"unresolved"`
}

func runPackagesShow(e *env, args []string) conformance.ExitCode {
	const name = "packages show"
	fs := newFlags(e, name, "[flags] SRC|name#version", `
Print a package's identity, its resource counts by type and the dependencies
(transitively) that cannot be found in the FHIR package cache; the text form
also lists skipped files and canonical URLs defined twice. SRC is a
package tarball, package folder, IG source folder or resource file;
name#version is read from the cache. With -o json the output is
{"name": ..., "version": ..., "counts": {"StructureDefinition": 153, ...}, "unresolved": [...]}.`)
	cf := addCacheFlag(fs)
	output := fs.StringP("output", "o", "text", "output `FORMAT`: text or json")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if *output != "text" && *output != "json" {
		return usageError(e, name, "unknown output format %q (want text or json)", *output)
	}
	if fs.NArg() != 1 {
		return usageError(e, name, "want exactly one SRC or name#version")
	}
	cache := cf.cache(e)
	p, err := packages.OpenSource(cache, fs.Arg(0))
	if err != nil {
		var ni *packages.NotInstalledError
		if errors.As(err, &ni) {
			return usageError(e, name, "%v", err)
		}
		return failure(e, name, err)
	}
	set := packages.NewSet(p)
	if err := packages.AddDependencies(e.ctx, set, cache); err != nil {
		return failure(e, name, err)
	}
	sum := packageSummary{Name: p.Name, Version: p.Version, Counts: map[string]int{}, Unresolved: []string{}}
	for _, r := range p.Resources {
		sum.Counts[r.ResourceType]++
	}
	for _, w := range set.Warnings() {
		if w.Kind == packages.WarnUnresolvedDependency {
			sum.Unresolved = append(sum.Unresolved, w.Subject)
		}
	}
	sort.Strings(sum.Unresolved)
	if *output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return failure(e, name, err)
		}
		return conformance.ExitPass
	}
	var notes []packages.Warning
	for _, w := range set.Warnings() {
		if w.Kind != packages.WarnUnresolvedDependency {
			notes = append(notes, w)
		}
	}
	printSummary(e, p, sum, notes)
	return conformance.ExitPass
}

func printSummary(e *env, p *packages.Package, sum packageSummary, notes []packages.Warning) {
	fmt.Fprintf(e.stdout, "%s#%s\n", sum.Name, sum.Version)
	fmt.Fprintf(e.stdout, "source: %s\n", p.Source)
	if len(p.FHIRVersions) > 0 {
		fmt.Fprintf(e.stdout, "fhirVersions: %s\n", strings.Join(p.FHIRVersions, ", "))
	}
	fmt.Fprintf(e.stdout, "resources: %d\n", len(p.Resources))
	types := make([]string, 0, len(sum.Counts))
	for t := range sum.Counts {
		types = append(types, t)
	}
	sort.Strings(types)
	width := 0
	for _, t := range types {
		width = max(width, len(t))
	}
	for _, t := range types {
		fmt.Fprintf(e.stdout, "  %-*s %6d\n", width, t, sum.Counts[t])
	}
	if len(sum.Unresolved) == 0 {
		fmt.Fprintln(e.stdout, "unresolved dependencies: none")
	} else {
		fmt.Fprintln(e.stdout, "unresolved dependencies:")
		for _, u := range sum.Unresolved {
			fmt.Fprintf(e.stdout, "  %s\n", u)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(e.stdout, "warnings:")
		for _, w := range notes {
			fmt.Fprintf(e.stdout, "  %s\n", w)
		}
	}
}
