package refserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/nhsconform/conform/scenarios/refserver"
)

// The server is an http.Handler answering under /fhir; Start serves it on a
// TCP address instead.
func ExampleNew() {
	srv, err := refserver.New(refserver.Options{Faults: []string{refserver.FaultNoETag}})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := httptest.NewRequest(http.MethodPost, "/fhir/Patient", strings.NewReader(`{"resourceType":"Patient"}`))
	req.Header.Set("Content-Type", "application/fhir+json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("ETag") == "")
	// Output: 201 application/fhir+json; charset=utf-8 true
}

func ExampleServer_Start() {
	srv, err := refserver.New(refserver.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	base, done, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.Get(base + "/metadata")
	if err == nil {
		resp.Body.Close()
		fmt.Println(strings.HasSuffix(base, "/fhir"), resp.StatusCode)
	}
	stop()
	fmt.Println(<-done)
	// Output:
	// true 200
	// <nil>
}
