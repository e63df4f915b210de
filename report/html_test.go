package report

import (
	"context"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

// chromium returns the headless browser, failing the test in CI when it is
// missing (.ci/run installs Debian's chromium package).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not on PATH; .ci/run installs it with apt-get install -y chromium")
	}
	t.Skip("chromium is not on PATH (install Debian's chromium package to run this test)")
	return ""
}

func runChromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	require.NoError(t, cmd.Run(), "chromium %v", args)
	return stdout.String()
}

func TestHTMLRendersInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	rec, err := fixtureRecord(conformance.Waiver{Criterion: "ADM-02", Reason: "server move agreed with the trust", By: "assurance lead", Expires: "2026-06-30"})
	require.NoError(t, err)
	data, err := Render("html", rec, Options{}, nil)
	require.NoError(t, err)
	assert.NotRegexp(t, `(?i)<(script|link|img)[^>]+(src|href)=`, string(data), "the page loads nothing from outside")
	page := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, os.WriteFile(page, data, 0o644))
	pageURL := (&url.URL{Scheme: "file", Path: page}).String()

	scenario := regexp.MustCompile(`<details class="scenario" id="(scenario-\d)"[^>]*?( hidden="")?>`)
	visible := func(dom string) []string {
		var ids []string
		for _, m := range scenario.FindAllStringSubmatch(dom, -1) {
			if m[2] == "" {
				ids = append(ids, m[1])
			}
		}
		return ids
	}
	tests := []struct {
		name     string
		fragment string
		want     []string
		shown    string
	}{
		{name: "no filter", fragment: "", want: []string{"scenario-1", "scenario-2", "scenario-3", "scenario-4"}, shown: "4"},
		{name: "failures", fragment: "#status=fail", want: []string{"scenario-1"}, shown: "1"},
		{name: "one criterion", fragment: "#criterion=ADM-02", want: []string{"scenario-2"}, shown: "1"},
		{name: "one pack", fragment: "#pack=discharge", want: []string{"scenario-3", "scenario-4"}, shown: "2"},
		{name: "text", fragment: "#text=metadata", want: []string{"scenario-2"}, shown: "1"},
		{name: "nothing matches", fragment: "#status=pass&pack=admission", want: nil, shown: "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dom := runChromium(t, bin, "--dump-dom", pageURL+tc.fragment)
			assert.Contains(t, dom, `id="verdict" class="s-fail" data-status="fail">Overall: FAIL`)
			assert.Contains(t, dom, `data-shown="`+tc.shown+`"`, "the filter script ran")
			assert.Equal(t, tc.want, visible(dom))
			assert.Contains(t, dom, "Waived by assurance lead until 2026-06-30")
		})
	}

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(t.TempDir(), "report.png")
		runChromium(t, bin, "--window-size=1280,1600", "--screenshot="+shot, pageURL)
		f, err := os.Open(shot)
		require.NoError(t, err)
		defer f.Close()
		img, err := png.Decode(f)
		require.NoError(t, err)
		b := img.Bounds()
		assert.Equal(t, 1280, b.Dx())
		red, blue := 0, 0
		for y := b.Min.Y; y < b.Max.Y; y += 4 {
			for x := b.Min.X; x < b.Max.X; x += 4 {
				r, g, bl, _ := img.At(x, y).RGBA()
				r, g, bl = r>>8, g>>8, bl>>8
				switch {
				case r > 200 && g < 60 && bl < 50:
					red++
				case r < 20 && g > 80 && g < 110 && bl > 170:
					blue++
				}
			}
		}
		assert.Greater(t, red, 500, "the FAIL verdict banner is drawn in red")
		assert.Greater(t, blue, 500, "the header is drawn in NHS blue")
	})
}

func TestPrettyJSONKeepsTheBodyAsReceived(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "property order and decimal text kept", body: `{"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"mg"},"id":"o1"}`,
			want: "{\n  \"resourceType\": \"Observation\",\n  \"valueQuantity\": {\n    \"value\": 1.50,\n    \"unit\": \"mg\"\n  },\n  \"id\": \"o1\"\n}"},
		{name: "large integer kept", body: `{"n":12345678901234567890}`, want: "{\n  \"n\": 12345678901234567890\n}"},
		{name: "not JSON returned as is", body: `<Patient/>`, want: `<Patient/>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, prettyJSON(tc.body))
		})
	}
}
