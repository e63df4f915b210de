package receiver

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/fhir+json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func TestWaitClaimsMatchingMessage(t *testing.T) {
	r, err := Listen("127.0.0.1:0", Options{})
	require.NoError(t, err)
	defer r.Close()

	post(t, r.URL()+"/$process-message", `{"id":"first"}`)
	go func() {
		time.Sleep(50 * time.Millisecond)
		if resp, err := http.Post(r.URL()+"/Bundle", "application/fhir+json", strings.NewReader(`{"id":"second"}`)); err == nil {
			resp.Body.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m, err := r.Wait(ctx, func(m Message) bool { return bytes.Contains(m.Body, []byte("second")) })
	require.NoError(t, err)
	assert.Equal(t, "/Bundle", m.Path)
	assert.Equal(t, http.MethodPost, m.Method)

	m, err = r.Wait(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "/$process-message", m.Path)
	assert.Equal(t, 2, r.Received())

	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	_, err = r.Wait(short, nil)
	assert.ErrorIs(t, err, ErrTimeout, "claimed messages are not given twice")
}

func TestLimits(t *testing.T) {
	r, err := Listen("127.0.0.1:0", Options{MaxBodyBytes: 10, MaxMessages: 2})
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(t, r.URL(), strings.Repeat("x", 11)).StatusCode)
	for _, b := range []string{"a", "b", "c"} {
		assert.Equal(t, http.StatusOK, post(t, r.URL(), b).StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m, err := r.Wait(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "b", string(m.Body), "oldest dropped beyond MaxMessages")
}

func TestListenBadAddress(t *testing.T) {
	_, err := Listen("not-an-address", Options{})
	assert.ErrorContains(t, err, "not-an-address")
}
