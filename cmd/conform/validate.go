package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/terminology"
	"github.com/nhsconform/conform/profiles/validate"
)

func init() {
	register(&command{name: "validate", summary: "validate FHIR resources against their base definitions and profiles", run: runValidate})
}

// maxValidateInput bounds one input file or standard input.
const maxValidateInput = 256 << 20

var validateOutputs = []string{"text", "json", "operationoutcome", "junit"}

// validateInput is one resource to validate: a file, an NDJSON line or stdin.
type validateInput struct {
	source string
	data   []byte
	// err is set when the input could not be read.
	err error
}

func runValidate(e *env, args []string) conformance.ExitCode {
	const name = "validate"
	fs := newFlags(e, name, "[--ig SRC]... [--profile URL]... [--tx URL] [--level SEVERITY] [-o FORMAT] PATH...|-", `
Validate FHIR R4 resources (JSON, XML or NDJSON files, folders searched
recursively for .json, .xml and .ndjson files, or '-' for standard input)
against their base definition, the profiles in their meta.profile (an
unresolvable one is a warning) and each --profile. Bundles are validated entry
by entry, references resolved by fullUrl.

hl7.fhir.r4.core#4.0.1 (and hl7.terminology.r4 when installed) are read from
the FHIR package cache; --ig adds implementation guides such as UK Core. Value
sets that cannot be expanded offline (SNOMED CT filters ...) give an
information issue saying the code was not checked, unless --tx names a
terminology server to ask.

Outputs: text (default), json (conform's outcomes), operationoutcome (one
OperationOutcome, or a Bundle of them naming each file), junit. --level
warning leaves information issues (Must Support coverage, codes not
checked ...) out of the output; --level error leaves warnings out too.

Exit codes: 0 no errors, 1 errors found, 2 usage or configuration (an unknown
--profile), 3 an input or package could not be read.

Examples:
  conform validate --ig fhir.r4.ukcore.stu2#2.0.2 patient.json
  conform validate --ig fhir.r4.ukcore.stu2#2.0.2 \
    --profile https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient -o junit examples/ > validate.xml
  curl -s https://server.example/fhir/Patient/1 | conform validate --level error -`)
	pf := addPackageFlags(fs)
	profiles := fs.StringArray("profile", nil, "also validate against the profile `URL` (repeatable)")
	tx := fs.String("tx", "", "terminology server base `URL` for value sets that cannot be expanded offline")
	output := fs.StringP("output", "o", "text", "output `FORMAT`: "+strings.Join(validateOutputs, ", "))
	nhsSeverity := fs.String("nhs-number-severity", "error", "severity of an NHS Number failing its check digit: error, warning or information")
	level := fs.String("level", "information", "least severe issues to show: error, warning or information (the exit code is the same)")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	least := conformance.Severity(*level).Rank()
	switch conformance.Severity(*level) {
	case conformance.SeverityError, conformance.SeverityWarning, conformance.SeverityInformation:
	default:
		return usageError(e, name, "unknown --level %q (want error, warning or information)", *level)
	}
	if !contains(validateOutputs, *output) {
		return usageError(e, name, "unknown output format %q (want %s)", *output, strings.Join(validateOutputs, ", "))
	}
	if fs.NArg() == 0 {
		return usageError(e, name, "no file, folder or '-' to validate")
	}
	sev := conformance.Severity(*nhsSeverity)
	switch sev {
	case conformance.SeverityError, conformance.SeverityWarning, conformance.SeverityInformation:
	default:
		return usageError(e, name, "unknown --nhs-number-severity %q (want error, warning or information)", *nhsSeverity)
	}
	set, err := pf.load(e)
	if err != nil {
		return failure(e, name, err)
	}
	var server *terminology.Server
	if *tx != "" {
		server, err = terminology.NewServer(*tx, 30*time.Second)
		if err != nil {
			return usageError(e, name, "%v", err)
		}
	}
	v, err := validate.FromPackages(set, validate.Options{
		Terminology:       terminology.New(set.ResolveJSON, server),
		NHSNumberSeverity: sev,
	})
	if err != nil {
		return failure(e, name, err)
	}
	for _, p := range *profiles {
		sd, ok := set.ResolveJSON(p)
		if !ok {
			return usageError(e, name, "unknown profile %s: no StructureDefinition with that URL in the loaded packages", p)
		}
		if rt, _ := sd["resourceType"].(string); rt != "StructureDefinition" {
			return usageError(e, name, "%s is a %s, not a StructureDefinition", p, rt)
		}
	}
	sources, err := collectSources(e, fs.Args())
	if err != nil {
		return failure(e, name, err)
	}
	// Files are read one at a time as the workers take their resources, so
	// a large folder is never held in memory whole.
	type job struct {
		at int
		in validateInput
	}
	var (
		mu         sync.Mutex
		outcomes   []conformance.Outcome
		readFailed bool
		wg         sync.WaitGroup
	)
	jobs := make(chan job)
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				o := validateOne(e, v, j.in, *profiles)
				mu.Lock()
				outcomes[j.at] = o
				mu.Unlock()
			}
		}()
	}
	for _, src := range sources {
		if e.ctx.Err() != nil {
			break
		}
		for _, in := range src.inputs() {
			mu.Lock()
			at := len(outcomes)
			outcomes = append(outcomes, conformance.Outcome{})
			readFailed = readFailed || in.err != nil
			mu.Unlock()
			jobs <- job{at, in}
		}
	}
	close(jobs)
	wg.Wait()
	if err := e.ctx.Err(); err != nil {
		return failure(e, name, err)
	}
	failed := false
	for _, o := range outcomes {
		failed = failed || o.HasErrors()
	}
	for i := range outcomes {
		outcomes[i].Issues = atLeast(outcomes[i].Issues, least)
	}
	if err := writeOutcomes(e.stdout, *output, outcomes); err != nil {
		return failure(e, name, fmt.Errorf("write output: %w", err))
	}
	if readFailed {
		return conformance.ExitIncomplete
	}
	if failed {
		return conformance.ExitFail
	}
	return conformance.ExitPass
}

// atLeast keeps the issues ranked least or above (conformance.Severity.Rank).
func atLeast(issues []conformance.Issue, least int) []conformance.Issue {
	kept := issues[:0]
	for _, is := range issues {
		if is.Severity.Rank() <= least {
			kept = append(kept, is)
		}
	}
	return kept
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func validateOne(e *env, v *validate.Validator, in validateInput, profiles []string) conformance.Outcome {
	if in.err != nil {
		return conformance.Outcome{Source: in.source, Issues: []conformance.Issue{{
			Severity: conformance.SeverityFatal, Code: "exception", MessageID: "input-unreadable", Message: in.err.Error(),
		}}}
	}
	out, err := v.Validate(e.ctx, in.data, profiles...)
	if err != nil {
		out = conformance.Outcome{Issues: []conformance.Issue{{
			Severity: conformance.SeverityFatal, Code: "exception", MessageID: "validation-failed", Message: err.Error(),
		}}}
	}
	out.Source = in.source
	return out
}

// inputSource is one argument's file, or standard input already read.
type inputSource struct {
	path  string
	stdin bool
	data  []byte
	err   error
}

// inputs reads the source and splits it into resources to validate.
func (s inputSource) inputs() []validateInput {
	if s.stdin {
		return splitInput("-", s.data, s.err)
	}
	return readInputFile(s.path)
}

// collectSources expands the command's arguments into the files to
// validate (folders searched recursively, in name order) and standard input.
func collectSources(e *env, args []string) ([]inputSource, error) {
	var sources []inputSource
	for _, arg := range args {
		if arg == "-" {
			data, err := readBounded(e.stdin, "standard input")
			sources = append(sources, inputSource{stdin: true, data: data, err: err})
			continue
		}
		info, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", arg, err)
		}
		if !info.IsDir() {
			sources = append(sources, inputSource{path: arg})
			continue
		}
		var files []string
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != arg {
				return filepath.SkipDir
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".json", ".xml", ".ndjson":
				if !d.IsDir() {
					files = append(files, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", arg, err)
		}
		sort.Strings(files)
		for _, f := range files {
			sources = append(sources, inputSource{path: f})
		}
	}
	return sources, nil
}

func readInputFile(path string) []validateInput {
	f, err := os.Open(path)
	if err != nil {
		return []validateInput{{source: path, err: fmt.Errorf("read %s: %w", path, err)}}
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > maxValidateInput {
		return []validateInput{{source: path, err: fmt.Errorf("read %s: larger than the %d MiB limit for one input", path, maxValidateInput>>20)}}
	}
	data, err := readBounded(f, path)
	return splitInput(path, data, err)
}

func readBounded(r io.Reader, name string) ([]byte, error) {
	return readLimited(r, name, maxValidateInput)
}

// readLimited reads r whole, failing once it holds more than limit bytes.
func readLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: larger than the %d MiB limit for one input", name, limit>>20)
	}
	return data, nil
}

// splitInput turns one input into resources: NDJSON (a .ndjson file, or
// several JSON objects one per line) gives one per line.
func splitInput(source string, data []byte, err error) []validateInput {
	if err != nil {
		return []validateInput{{source: source, err: err}}
	}
	if !strings.HasSuffix(strings.ToLower(source), ".ndjson") && !looksLikeNDJSON(data) {
		return []validateInput{{source: source, data: data}}
	}
	var out []validateInput
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), maxValidateInput)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		out = append(out, validateInput{source: fmt.Sprintf("%s:%d", source, line), data: append([]byte(nil), text...)})
	}
	if err := sc.Err(); err != nil {
		out = append(out, validateInput{source: fmt.Sprintf("%s:%d", source, line+1), err: fmt.Errorf("read %s: %w", source, err)})
	}
	return out
}

// looksLikeNDJSON reports whether data is two or more JSON objects, one per line.
func looksLikeNDJSON(data []byte) bool {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return false
	}
	lines := bytes.Split(trimmed, []byte("\n"))
	if len(lines) < 2 {
		return false
	}
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && (l[0] != '{' || l[len(l)-1] != '}' || !json.Valid(l)) {
			return false
		}
	}
	return true
}

func writeOutcomes(w io.Writer, format string, outcomes []conformance.Outcome) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(outcomes)
	case "operationoutcome":
		var res map[string]any
		if len(outcomes) == 1 {
			res = validate.OperationOutcome(outcomes[0])
		} else {
			res = validate.OutcomeBundle(outcomes)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "junit":
		return writeJUnit(w, outcomes)
	}
	return writeText(w, outcomes)
}

func counts(o conformance.Outcome) (errs, warns, infos int) {
	for _, is := range o.Issues {
		switch is.Severity {
		case conformance.SeverityError, conformance.SeverityFatal:
			errs++
		case conformance.SeverityWarning:
			warns++
		default:
			infos++
		}
	}
	return
}

func writeText(w io.Writer, outcomes []conformance.Outcome) error {
	bw := bufio.NewWriter(w)
	failed := 0
	for _, o := range outcomes {
		errs, warns, infos := counts(o)
		verdict := "PASS"
		if errs > 0 {
			verdict = "FAIL"
			failed++
		}
		fmt.Fprintf(bw, "%s %s: %d errors, %d warnings, %d information\n", verdict, o.Source, errs, warns, infos)
		for _, is := range o.Issues {
			pos := ""
			if is.Line > 0 {
				pos = fmt.Sprintf(" [%d:%d]", is.Line, is.Column)
			}
			fmt.Fprintf(bw, "  %-11s %s%s: %s (%s)\n", is.Severity, is.Expression, pos, is.Message, is.MessageID)
		}
	}
	fmt.Fprintf(bw, "%d resources validated, %d with errors\n", len(outcomes), failed)
	return bw.Flush()
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, outcomes []conformance.Outcome) error {
	s := junitSuite{Name: "conform validate", Tests: len(outcomes)}
	for _, o := range outcomes {
		c := junitCase{Name: o.Source, Classname: "validate"}
		var b strings.Builder
		errs, _, _ := counts(o)
		for _, is := range o.Issues {
			fmt.Fprintf(&b, "%s %s: %s\n", is.Severity, is.Expression, is.Message)
		}
		if errs > 0 {
			s.Failures++
			c.Failure = &junitFailure{Message: fmt.Sprintf("%d errors", errs), Text: b.String()}
		} else {
			c.SystemOut = b.String()
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
