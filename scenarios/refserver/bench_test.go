package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkCreateRead measures one create and one read through the handler.
func BenchmarkCreateRead(b *testing.B) {
	e := newEnv(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := e.do("POST", "/fhir/Patient", patient(strconv.Itoa(i)), nil)
		if c.status != 201 {
			b.Fatalf("create answered %d", c.status)
		}
		if r := e.do("GET", "/fhir/Patient/"+c.str("id"), nil, nil); r.status != 200 {
			b.Fatalf("read answered %d", r.status)
		}
	}
}

// BenchmarkUpsertSearch measures the admission pattern: conditional upsert
// then search by identifier, against a store of 1,000 Encounters.
func BenchmarkUpsertSearch(b *testing.B) {
	e := newEnv(b)
	for i := range 1000 {
		e.do("POST", "/fhir/Encounter", encounter("seed"+strconv.Itoa(i), "in-progress", "Patient/p"), nil)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := "E" + strconv.Itoa(i%50)
		if r := e.do("PUT", "/fhir/Encounter?identifier=https://trust.example/encounter|"+id, encounter(id, "in-progress", "Patient/p"), nil); r.status >= 300 {
			b.Fatalf("upsert answered %d", r.status)
		}
		if r := e.do("GET", "/fhir/Encounter?identifier=https://trust.example/encounter|"+id, nil, nil); r.status != 200 {
			b.Fatalf("search answered %d", r.status)
		}
	}
}

// BenchmarkProcessMessage measures a BaRS referral including its pushed response.
func BenchmarkProcessMessage(b *testing.B) {
	e := newEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		if r := e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), barsHeaders()); r.status != 200 {
			b.Fatalf("referral answered %d", r.status)
		}
	}
	e.srv.Wait()
}

// BenchmarkHTTPThroughput measures parallel create requests over TCP.
func BenchmarkHTTPThroughput(b *testing.B) {
	srv, err := New(Options{Validator: &fakeValidator{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(patient("9449305552"))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(base+"/Patient", "application/fhir+json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				b.Errorf("create answered %d", resp.StatusCode)
				return
			}
		}
	})
}
