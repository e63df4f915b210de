// Package conformance is the shared vocabulary of conform: statuses, criterion
// levels, exit codes, validation issues and the interfaces that join the
// profile validator, the runner and the reports. It imports no other conform
// package; every other package may import it.
package conformance

// ExitCode is the process exit status of a conform command.
type ExitCode int

// Exit codes shared by every conform command.
const (
	// ExitPass means every check passed (or, for validate, no error was found).
	ExitPass ExitCode = 0
	// ExitFail means a conformance failure: a check ran and did not hold.
	ExitFail ExitCode = 1
	// ExitUsage means the command line or configuration was wrong.
	ExitUsage ExitCode = 2
	// ExitIncomplete means the command could not complete (target unreachable,
	// undefined steps, I/O failure): no verdict can be drawn.
	ExitIncomplete ExitCode = 3
)

// Status is the outcome of a step, scenario or criterion.
type Status string

// Statuses. Error is not Fail: Error means the check could not be made.
const (
	StatusPass      Status = "pass"
	StatusFail      Status = "fail"
	StatusError     Status = "error"
	StatusSkipped   Status = "skipped"
	StatusUndefined Status = "undefined"
	StatusWaived    Status = "waived"
)

// Level is the strength of an acceptance criterion (RFC 2119 terms).
type Level string

// Criterion levels.
const (
	LevelMust   Level = "MUST"
	LevelShould Level = "SHOULD"
	LevelMay    Level = "MAY"
)
