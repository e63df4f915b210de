package runner

import (
	"io"

	"github.com/cucumber/godog"
	"github.com/cucumber/godog/formatters"
	messages "github.com/cucumber/messages/go/v21"
)

// discardFormat is a godog formatter that writes nothing: the Record is
// built from step hooks instead.
const discardFormat = "conform-discard"

func init() {
	godog.Format(discardFormat, "writes nothing", func(string, io.Writer) formatters.Formatter { return discardFormatter{} })
}

type discardFormatter struct{}

func (discardFormatter) TestRunStarted()                                                            {}
func (discardFormatter) Feature(*messages.GherkinDocument, string, []byte)                          {}
func (discardFormatter) Pickle(*messages.Pickle)                                                    {}
func (discardFormatter) Defined(*messages.Pickle, *messages.PickleStep, *formatters.StepDefinition) {}
func (discardFormatter) Failed(*messages.Pickle, *messages.PickleStep, *formatters.StepDefinition, error) {
}
func (discardFormatter) Passed(*messages.Pickle, *messages.PickleStep, *formatters.StepDefinition)  {}
func (discardFormatter) Skipped(*messages.Pickle, *messages.PickleStep, *formatters.StepDefinition) {}
func (discardFormatter) Undefined(*messages.Pickle, *messages.PickleStep, *formatters.StepDefinition) {
}
func (discardFormatter) Pending(*messages.Pickle, *messages.PickleStep, *formatters.StepDefinition) {}
func (discardFormatter) Ambiguous(*messages.Pickle, *messages.PickleStep, *formatters.StepDefinition, error) {
}
func (discardFormatter) Summary() {}
