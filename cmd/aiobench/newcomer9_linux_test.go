package main

import (
	"context"
	"strings"
	"testing"
)

// TestUnseekableFile: a -file whose size cannot be learned (a procfs file,
// which refuses lseek to its end) is refused with a message that says so,
// not with a bare "seek ...: invalid argument".
func TestUnseekableFile(t *testing.T) {
	status, err := runInProcess(context.Background(), "-file", "/proc/self/status", "-duration", "10ms", "-direct=false")
	if status != 2 || err == nil || !strings.Contains(err.Error(), "cannot tell its size") {
		t.Fatalf("-file /proc/self/status: %v, exit status %d; want status 2 and \"cannot tell its size\"", err, status)
	}
}
