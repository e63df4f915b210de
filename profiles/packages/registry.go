package packages

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// DefaultRegistry is the FHIR package registry used when none is given.
const DefaultRegistry = "https://packages.fhir.org"

// Registry downloads packages from an npm-compatible FHIR package registry.
type Registry struct {
	// URL is the registry's base URL, e.g. https://packages.fhir.org.
	URL string
	// Client makes the requests; nil means NewRegistryClient().
	Client *retryablehttp.Client
}

// RegistryError is a registry answer that is not a usable package: an HTTP
// status, a missing version, a checksum mismatch.
type RegistryError struct {
	// URL is the address requested, without credentials.
	URL     string
	Status  int
	Message string
}

// Error implements error.
func (e *RegistryError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("GET %s: %d %s: %s", e.URL, e.Status, http.StatusText(e.Status), e.Message)
	}
	return fmt.Sprintf("GET %s: %s", e.URL, e.Message)
}

// ErrChecksum means a downloaded tarball does not match the registry's
// shasum or integrity value.
var ErrChecksum = errors.New("tarball does not match the registry's checksum")

// NewRegistryClient returns the retrying HTTP client used for registries:
// up to 3 retries of a GET on connection errors, 429 and 5xx, with capped
// exponential back-off (a Retry-After over 5 s is capped), and no logging.
func NewRegistryClient() *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.Logger = nil
	c.RetryMax = 3
	c.RetryWaitMin = 250 * time.Millisecond
	c.RetryWaitMax = 5 * time.Second
	c.HTTPClient.Timeout = 5 * time.Minute
	c.CheckRetry = registryCheckRetry
	c.Backoff = cappedBackoff
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return c
}

func registryCheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) && strings.Contains(uerr.Err.Error(), "unsupported protocol scheme") {
			return false, err
		}
		return true, nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	}
	return false, nil
}

func cappedBackoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	d := retryablehttp.DefaultBackoff(minWait, maxWait, attempt, resp)
	if d > maxWait || d < 0 {
		d = maxWait
	}
	return d
}

// Download fetches name#version: it reads the package document
// GET {registry}/{name} (or, failing that, GET {registry}/{name}/{version},
// which may answer with the document or the tarball itself), downloads
// dist.tarball, checks it against dist.integrity and dist.shasum, and checks
// that the tarball's package.json names name#version. Verified names the
// checks made ("sha512", "sha1" ...); it is empty when the registry served
// the tarball without a checksum.
func (r Registry) Download(ctx context.Context, name, version string) (p *Package, verified []string, err error) {
	if !ValidName(name) || !ValidVersion(version) {
		return nil, nil, fmt.Errorf("download %s#%s: invalid package name or version", name, version)
	}
	p, verified, err = r.download(ctx, name, version)
	if err != nil {
		return nil, nil, fmt.Errorf("download %s#%s: %w", name, version, err)
	}
	return p, verified, nil
}

type distInfo struct {
	Tarball   string `json:"tarball"`
	Shasum    string `json:"shasum"`
	Integrity string `json:"integrity"`
}

type versionDoc struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Dist    distInfo `json:"dist"`
}

func (r Registry) client() *retryablehttp.Client {
	if r.Client != nil {
		return r.Client
	}
	return NewRegistryClient()
}

func (r Registry) base() (*url.URL, error) {
	raw := r.URL
	if raw == "" {
		raw = DefaultRegistry
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("registry URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("registry URL %s: scheme must be http or https", u.Redacted())
	}
	return u, nil
}

func (r Registry) download(ctx context.Context, name, version string) (*Package, []string, error) {
	base, err := r.base()
	if err != nil {
		return nil, nil, err
	}
	c := r.client()
	nameURL := base.JoinPath(name)
	body, ctype, status, err := get(ctx, c, nameURL, MaxManifestSize)
	if err != nil {
		return nil, nil, err
	}
	var dist distInfo
	found := false
	if status == http.StatusOK && !isGzip(body) {
		var doc struct {
			Versions map[string]versionDoc `json:"versions"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, nil, &RegistryError{URL: nameURL.Redacted(), Message: "malformed package document: " + err.Error()}
		}
		v, ok := doc.Versions[version]
		if !ok {
			return nil, nil, &RegistryError{URL: nameURL.Redacted(), Message: fmt.Sprintf("no version %s (has %s)", version, versionList(doc.Versions))}
		}
		dist, found = v.Dist, true
	}
	if !found {
		if status != http.StatusOK && status != http.StatusNotFound {
			return nil, nil, &RegistryError{URL: nameURL.Redacted(), Status: status, Message: snippet(body, ctype)}
		}
		versionURL := base.JoinPath(name, version)
		body, ctype, status, err = get(ctx, c, versionURL, MaxTarballSize)
		if err != nil {
			return nil, nil, err
		}
		if status != http.StatusOK {
			return nil, nil, &RegistryError{URL: versionURL.Redacted(), Status: status, Message: snippet(body, ctype)}
		}
		if isGzip(body) {
			p, err := r.openDownloaded(body, versionURL, name, version)
			return p, nil, err
		}
		var v versionDoc
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, nil, &RegistryError{URL: versionURL.Redacted(), Message: "neither a package document nor a tarball"}
		}
		dist = v.Dist
	}
	if dist.Tarball == "" {
		return nil, nil, &RegistryError{URL: nameURL.Redacted(), Message: "version " + version + " has no dist.tarball"}
	}
	if dist.Shasum == "" && dist.Integrity == "" {
		return nil, nil, &RegistryError{URL: nameURL.Redacted(), Message: "version " + version + " has neither dist.shasum nor dist.integrity"}
	}
	tarURL, err := base.Parse(dist.Tarball)
	if err != nil || (tarURL.Scheme != "http" && tarURL.Scheme != "https") {
		return nil, nil, &RegistryError{URL: nameURL.Redacted(), Message: "dist.tarball is not an http(s) URL"}
	}
	body, ctype, status, err = get(ctx, c, tarURL, MaxTarballSize)
	if err != nil {
		return nil, nil, err
	}
	if status != http.StatusOK {
		return nil, nil, &RegistryError{URL: tarURL.Redacted(), Status: status, Message: snippet(body, ctype)}
	}
	verified, err := verifyChecksums(body, dist)
	if err != nil {
		return nil, nil, &RegistryError{URL: tarURL.Redacted(), Message: err.Error()}
	}
	p, err := r.openDownloaded(body, tarURL, name, version)
	return p, verified, err
}

func (r Registry) openDownloaded(body []byte, u *url.URL, name, version string) (*Package, error) {
	p, err := readTarball(bytes.NewReader(body), u.Redacted())
	if err != nil {
		return nil, fmt.Errorf("read tarball from %s: %w", u.Redacted(), err)
	}
	if p.Name != name || p.Version != version {
		return nil, &RegistryError{URL: u.Redacted(), Message: "tarball holds " + p.ID()}
	}
	return p, nil
}

func get(ctx context.Context, c *retryablehttp.Client, u *url.URL, limit int64) (body []byte, contentType string, status int, err error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", 0, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	req.Header.Set("Accept", "application/json, application/gzip, application/tar+gzip, */*")
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", 0, fmt.Errorf("GET %s: %w", u.Redacted(), stripURLError(err))
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", 0, fmt.Errorf("GET %s: read body: %w", u.Redacted(), err)
	}
	if int64(len(body)) > limit {
		return nil, "", 0, &RegistryError{URL: u.Redacted(), Message: (&TooLargeError{Size: int64(len(body)), Limit: limit}).Error()}
	}
	return body, resp.Header.Get("Content-Type"), resp.StatusCode, nil
}

func stripURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

func snippet(body []byte, contentType string) string {
	if !strings.HasPrefix(contentType, "text/") && !strings.Contains(contentType, "json") {
		return fmt.Sprintf("%d bytes of %s", len(body), contentType)
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

func versionList(vs map[string]versionDoc) string {
	if len(vs) == 0 {
		return "no versions"
	}
	list := make([]string, 0, len(vs))
	for v := range vs {
		list = append(list, v)
	}
	sortVersions(list)
	if len(list) > 10 {
		list = append([]string{"..."}, list[len(list)-10:]...)
	}
	return strings.Join(list, ", ")
}

// verifyChecksums checks body against every supported integrity value and the
// sha1 shasum, and returns the names of the algorithms checked.
func verifyChecksums(body []byte, dist distInfo) ([]string, error) {
	var verified []string
	for _, item := range strings.Fields(dist.Integrity) {
		algo, b64, ok := strings.Cut(item, "-")
		if !ok {
			return nil, fmt.Errorf("malformed integrity value %q", item)
		}
		var h hash.Hash
		switch algo {
		case "sha512":
			h = sha512.New()
		case "sha384":
			h = sha512.New384()
		case "sha256":
			h = sha256.New()
		case "sha1":
			h = sha1.New()
		default:
			continue
		}
		want, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("malformed integrity value %q", item)
		}
		h.Write(body)
		if subtle.ConstantTimeCompare(h.Sum(nil), want) != 1 {
			return nil, fmt.Errorf("%w (%s)", ErrChecksum, algo)
		}
		verified = append(verified, algo)
	}
	if dist.Shasum != "" {
		want, err := hex.DecodeString(dist.Shasum)
		if err != nil {
			return nil, fmt.Errorf("malformed shasum %q", dist.Shasum)
		}
		sum := sha1.Sum(body)
		if subtle.ConstantTimeCompare(sum[:], want) != 1 {
			return nil, fmt.Errorf("%w (shasum)", ErrChecksum)
		}
		verified = append(verified, "shasum")
	}
	if len(verified) == 0 {
		return nil, errors.New("no supported checksum in dist.integrity or dist.shasum")
	}
	return verified, nil
}
