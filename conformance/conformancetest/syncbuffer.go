package conformancetest

import (
	"strings"
	"sync"
)

// SyncBuffer is an io.Writer that goroutines may write to and read from at
// once, for capturing the output of a server or command running in the
// background of a test.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
