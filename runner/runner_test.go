package runner

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/runner/auth"
	"github.com/nhsconform/conform/runner/receiver"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/runner/runnertest"
	"github.com/nhsconform/conform/runner/steps"
)

const secretToken = "tok-RUNNER-SECRET-7781"

// nameValidator is a test validator: a Patient without a name is an error.
type nameValidator struct{}

func (nameValidator) Validate(_ context.Context, resource []byte, profiles ...string) (conformance.Outcome, error) {
	var r map[string]any
	if err := json.Unmarshal(resource, &r); err != nil {
		return conformance.Outcome{}, err
	}
	out := conformance.Outcome{Profiles: profiles, Issues: []conformance.Issue{}}
	if r["resourceType"] == "Patient" && r["name"] == nil {
		out.Issues = append(out.Issues, conformance.Issue{Severity: conformance.SeverityError, Code: "required", Expression: "Patient.name", Message: "minimum required = 1, but only found 0"})
	}
	return out, nil
}

func testConfig(t *testing.T, target string, paths ...string) Config {
	t.Helper()
	red := redact.New()
	bearer, err := auth.NewBearer(secretToken, red)
	require.NoError(t, err)
	return Config{
		Target:    target,
		Features:  os.DirFS("../testdata/features"),
		Paths:     paths,
		Timeout:   time.Second,
		Auth:      bearer,
		Redactor:  red,
		Validator: nameValidator{},
		FHIRPath:  steps.NewEngine(fhirpath.NewEngine(fhirpath.Options{})),
	}
}

func TestRunPassingFeatures(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	cfg := testConfig(t, srv.URL, "pass")
	cfg.Concurrency = 4
	rec, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	for _, s := range rec.Scenarios {
		for _, st := range s.Steps {
			assert.Equal(t, conformance.StatusPass, st.Status, "%s: %s %s: %s", s.Name, st.Keyword, st.Text, st.Error)
		}
	}
	assert.Equal(t, conformance.ExitPass, rec.ExitCode())
	require.Len(t, rec.Scenarios, 7)

	first := rec.Scenarios[0]
	assert.Equal(t, "Create then read a patient", first.Name)
	assert.Equal(t, "pass/patient.feature", first.URI)
	assert.Equal(t, "Patient and Encounter interactions", first.Feature)
	assert.Equal(t, 8, first.Line)
	assert.Equal(t, []string{"@CRUD", "@MUST", "@CRUD-01"}, first.Tags)
	assert.Equal(t, "Given", first.Steps[0].Keyword, "background step first")
	assert.Equal(t, 5, first.Steps[0].Line)
	post := first.Steps[2]
	assert.Equal(t, "When", post.Keyword)
	require.Len(t, post.Exchanges, 1)
	ex := post.Exchanges[0]
	assert.Equal(t, "POST", ex.Method)
	assert.Equal(t, 201, ex.Status)
	assert.Equal(t, []string{redact.Mask}, ex.RequestHeaders["Authorization"])
	assert.Contains(t, ex.RequestBody, `"family": "Smith"`)
	assert.Len(t, ex.Attempts, 1)

	var conform *Step
	for i := range first.Steps {
		if strings.Contains(first.Steps[i].Text, "conform to") {
			conform = &first.Steps[i]
		}
	}
	require.NotNil(t, conform)
	require.Len(t, conform.Outcomes, 1)
	assert.Equal(t, []string{"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"}, conform.Outcomes[0].Profiles)

	outline := rec.Scenarios[2]
	assert.Equal(t, "Read a resource that does not exist", outline.Name)
	assert.Equal(t, lineOf(t, "pass/patient.feature", "| Patient   |"), outline.Line, "outline rows carry their own line")

	rule := rec.Scenarios[6]
	assert.Equal(t, "The CapabilityStatement is FHIR R4", rule.Name)
	assert.Equal(t, "pass/rules.feature", rule.URI)
	assert.Equal(t, lineOf(t, "pass/rules.feature", "Example:"), rule.Line)
	assert.Equal(t, []string{"@CAP-01"}, rule.Tags)
	require.Len(t, rule.Steps, 6)
	assert.Equal(t, "Given", rule.Steps[0].Keyword, "the rule's background")
	assert.Equal(t, lineOf(t, "pass/rules.feature", "Given I set"), rule.Steps[0].Line)
	assert.Equal(t, "But", rule.Steps[5].Keyword)

	data, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.NotContains(t, string(data), secretToken)
}

func TestMisbehavingServerEndsInClearFailures(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	cfg := testConfig(t, srv.URL, "fail")
	cfg.Timeout = time.Second
	cfg.Concurrency = 3
	reported := map[string]conformance.Status{}
	cfg.OnScenario = func(s Scenario) { reported[s.Name] = s.Status }
	start := time.Now()
	rec, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, reported, len(rec.Scenarios), "each scenario reported once it finished")
	for _, s := range rec.Scenarios {
		assert.Equal(t, s.Status, reported[s.Name], s.Name)
	}
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Equal(t, conformance.ExitFail, rec.ExitCode())
	want := map[string]string{
		"Internal server error": "expected status 200, got 500",
		"Too slow":              "timeout",
		"Connection reset":      "connection",
		"Wrong content type":    "is not JSON (Content-Type \"text/html\"",
		"Ten megabyte body":     "exceeds the limit",
		"Redirect loop":         "redirect-loop",
		"Not conformant":        "Patient.name: minimum required = 1",
	}
	require.Len(t, rec.Scenarios, len(want))
	for _, s := range rec.Scenarios {
		assert.Equal(t, conformance.StatusFail, s.Status, s.Name)
		var msgs []string
		for _, st := range s.Steps {
			msgs = append(msgs, st.Error)
		}
		assert.Contains(t, strings.Join(msgs, "\n"), want[s.Name], s.Name)
	}
	assert.Equal(t, 1, srv.Count("POST", "/slow"), "a timed-out POST is never sent twice")
	assert.Equal(t, 1, srv.Count("POST", "/reset"), "a reset POST is never sent twice")
	assert.Equal(t, 1, srv.Count("POST", "/Patient"))
}

func TestBadInput(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		return "http://" + ln.Addr().String()
	}()
	tests := []struct {
		name      string
		target    string
		paths     []string
		tags      string
		noFHIR    bool
		wantErr   any
		errText   string
		wantExit  conformance.ExitCode
		stepError string
	}{
		{name: "syntax error names the line", paths: []string{"bad/syntax.feature"}, wantErr: new(*FeatureError), errText: "bad/syntax.feature:6:3: expected: #EOF"},
		{name: "missing feature path", paths: []string{"bad/nowhere.feature"}, wantErr: new(*FeatureError), errText: "bad/nowhere.feature"},
		{name: "escaping path", paths: []string{"../x"}, wantErr: new(*ConfigError), errText: "relative"},
		{name: "bad tag expression", paths: []string{"pass"}, tags: "@a,,@b", wantErr: new(*ConfigError), errText: "is not a tag"},
		{name: "no scenario selected", paths: []string{"pass"}, tags: "@nothing-has-this", errText: "no scenario selected"},
		{name: "undefined step suggests", paths: []string{"bad/undefined.feature"}, wantExit: conformance.ExitIncomplete, stepError: "undefined step"},
		{name: "missing fixture", paths: []string{"bad/missing-fixture.feature"}, wantExit: conformance.ExitIncomplete, stepError: `read fixture "fixtures/nowhere.json" (looked for bad/fixtures/nowhere.json)`},
		{name: "value never stored", paths: []string{"bad/unstored.feature"}, wantExit: conformance.ExitIncomplete, stepError: "{{patientId}} was never stored"},
		{name: "unreachable target", target: closed, paths: []string{"bad/unstored.feature", "bad/undefined.feature"}, wantExit: conformance.ExitIncomplete, stepError: "unreachable"},
		{name: "FHIRPath syntax error", paths: []string{"bad/fhirpath-syntax.feature"}, wantExit: conformance.ExitIncomplete, stepError: `evaluate FHIRPath "CapabilityStatement.status = "`},
		{name: "no FHIRPath engine", paths: []string{"fail/misbehaving.feature:21"}, noFHIR: true, wantExit: conformance.ExitIncomplete, stepError: "no FHIRPath engine configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := srv.URL
			if tc.target != "" {
				target = tc.target
			}
			cfg := testConfig(t, target, tc.paths...)
			cfg.Tags = tc.tags
			if tc.noFHIR {
				cfg.FHIRPath = nil
			}
			rec, err := Run(context.Background(), cfg)
			if tc.errText != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.errText)
				switch want := tc.wantErr.(type) {
				case **FeatureError:
					assert.True(t, errors.As(err, want))
				case **ConfigError:
					assert.True(t, errors.As(err, want))
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantExit, rec.ExitCode())
			var msgs []string
			for _, s := range rec.Scenarios {
				for _, st := range s.Steps {
					msgs = append(msgs, st.Error)
				}
			}
			assert.Contains(t, strings.Join(msgs, "\n"), tc.stepError)
		})
	}
}

func TestUndefinedStepHasSuggestion(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	rec, err := Run(context.Background(), testConfig(t, srv.URL, "bad/undefined.feature"))
	require.NoError(t, err)
	st := rec.Scenarios[0].Steps[1]
	assert.Equal(t, conformance.StatusUndefined, st.Status)
	assert.Equal(t, "Then the response status should be CODE", st.Suggestion)
	assert.Equal(t, conformance.StatusUndefined, rec.Scenarios[0].Status)
}

func TestNoValidatorIsAnErrorNotAPass(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	cfg := testConfig(t, srv.URL, "fail/misbehaving.feature:34")
	cfg.Validator = nil
	rec, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, rec.Scenarios, 1)
	assert.Equal(t, conformance.StatusError, rec.Scenarios[0].Status)
	assert.Contains(t, rec.Scenarios[0].Steps[1].Error, "no validator configured")
	assert.Equal(t, conformance.ExitIncomplete, rec.ExitCode())
}

func TestPushedMessages(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	cfg := testConfig(t, srv.URL, "push/discharge.feature")
	cfg.Listen = "127.0.0.1:0"
	cfg.Concurrency = 2
	rec, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, rec.Scenarios, 2)
	got := rec.Scenarios[0]
	assert.Equal(t, conformance.StatusPass, got.Status, "%+v", got.Steps)
	require.Len(t, got.Steps[3].Received, 1)
	assert.Equal(t, "/$process-message", got.Steps[3].Received[0].Path)
	late := rec.Scenarios[1]
	assert.Equal(t, conformance.StatusFail, late.Status)
	assert.Contains(t, late.Steps[0].Error, "no message at /never arrived within 1 seconds")
	assert.NotEmpty(t, rec.Receiver)
}

func TestPreStartedReceiver(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	r, err := receiver.Listen("127.0.0.1:0", receiver.Options{})
	require.NoError(t, err)
	defer r.Close()
	cfg := testConfig(t, srv.URL, "push/discharge.feature:3")
	cfg.Receiver = r
	rec, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, conformance.ExitPass, rec.ExitCode())
	assert.Equal(t, r.URL(), rec.Receiver)
	assert.Equal(t, 1, r.Received())
}

func TestCancelledRun(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec, err := Run(ctx, testConfig(t, srv.URL, "pass"))
	require.Error(t, err)
	require.NotNil(t, rec)
	assert.Equal(t, conformance.ExitIncomplete, rec.ExitCode())
}

func TestGodogFormatterGetsExchangesAsAttachments(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	cfg := testConfig(t, srv.URL, "bad/undefined.feature")
	var out strings.Builder
	cfg.GodogFormat = "cucumber"
	cfg.GodogOutput = &out
	_, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Contains(t, out.String(), `"mime_type": "application/json"`)
	assert.NotContains(t, out.String(), secretToken)

	cfg.GodogFormat = "nonsense"
	_, err = Run(context.Background(), cfg)
	var ce *ConfigError
	assert.ErrorAs(t, err, &ce)
}

func TestOversizedFeatureRefused(t *testing.T) {
	big := strings.Repeat("# comment line\n", maxFeatureBytes/15+10)
	cfg := Config{Target: "http://127.0.0.1:1", Features: fstest.MapFS{"big/a.feature": {Data: []byte("Feature: a\n" + big)}}, Paths: []string{"big"}}
	_, err := Run(context.Background(), cfg)
	var fe *FeatureError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, err.Error(), "big/a.feature is larger than")
}

func TestAnyPushedMessage(t *testing.T) {
	srv := runnertest.New(secretToken)
	defer srv.Close()
	cfg := testConfig(t, srv.URL, "push/any.feature")
	cfg.Listen = "127.0.0.1:0"
	rec, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, conformance.ExitPass, rec.ExitCode(), "%+v", rec.Scenarios)
	assert.Equal(t, "/inbox", rec.Scenarios[0].Steps[1].Received[0].Path)
}

// lineOf returns the 1-based line of the first line containing text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "features", filepath.FromSlash(file)))
	require.NoError(t, err)
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, text)
	return 0
}

// TestEveryStepIsExercised proves the test features use every step of the
// catalogue at least once, so no step ships untested.
func TestEveryStepIsExercised(t *testing.T) {
	var lines []string
	root := filepath.Join("..", "testdata", "features")
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".feature") {
			return err
		}
		data, err := os.ReadFile(p)
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			for _, kw := range []string{"Given ", "When ", "Then ", "And ", "But "} {
				if strings.HasPrefix(l, kw) {
					lines = append(lines, strings.TrimPrefix(l, kw))
				}
			}
		}
		return err
	}))
	for _, d := range steps.Catalogue() {
		re := regexp.MustCompile(d.Pattern)
		used := false
		for _, l := range lines {
			if re.MatchString(l) {
				used = true
				break
			}
		}
		assert.True(t, used, "no test feature uses %q", d.Phrase)
	}
}

func TestRecordTargetHidesURLPassword(t *testing.T) {
	srv := runnertest.New("")
	defer srv.Close()
	cfg := testConfig(t, strings.Replace(srv.URL, "http://", "http://user:pw-SECRET-7@", 1), "pass")
	cfg.Auth = nil
	rec, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.NotContains(t, rec.Target, "pw-SECRET-7")
	assert.Contains(t, rec.Target, srv.Listener.Addr().String())
}
