package runner_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/runnertest"
)

func ExampleRun() {
	srv := runnertest.New("")
	defer srv.Close()
	features := fstest.MapFS{
		"capability.feature": {Data: []byte(`Feature: Capability
  @CAP-01 @MUST
  Scenario: The server answers /metadata
    When I send a GET request to "metadata"
    Then the response status should be 200
    And the response should be a "CapabilityStatement" resource
`)},
	}
	rec, err := runner.Run(context.Background(), runner.Config{Target: srv.URL, Features: features})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range rec.Scenarios {
		fmt.Println(s.Status, s.Name, s.Tags, len(s.Steps[0].Exchanges), "exchange")
	}
	fmt.Println("exit code", rec.ExitCode())
	// Output:
	// pass The server answers /metadata [@CAP-01 @MUST] 1 exchange
	// exit code 0
}
