//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFOFile: -file naming a FIFO is refused at once, without waiting in
// open for a writer that never comes.
func TestFIFOFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	type outcome struct {
		err    error
		status int
	}
	done := make(chan outcome, 1)
	go func() {
		status, err := runInProcess(context.Background(), "-file", fifo, "-duration", "10ms", "-direct=false")
		done <- outcome{err, status}
	}()
	select {
	case o := <-done:
		if o.status != 2 || !strings.Contains(o.err.Error(), "not a regular file") {
			t.Errorf("-file FIFO: %v, exit status %d; want status 2 and \"not a regular file\"", o.err, o.status)
		}
	case <-time.After(5 * time.Second):
		// Release the open with a writer, so the goroutine ends.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("-file FIFO: still inside open after 5s, waiting for a writer")
	}
}
