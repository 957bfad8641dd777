//go:build linux && fbsdmodel

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// File over the FreeBSD backend on the kernel model: the model holds or
// stalls jobs, so a ctx can end while the kernel owns the caller's buffer,
// and it can refuse a file as FreeBSD refuses NFS or FUSE (EOPNOTSUPP).

func kqFileOpen(t *testing.T, size int) *File {
	t.Helper()
	if modelRefusesFiles() {
		t.Skip("every file is on a non-local mount (FBSDMODEL_NONLOCAL=1): a File serves them with direct system calls, which the other File tests cover")
	}
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, filePattern(0, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if !f.async.Load() {
		t.Fatal("the File does not use the engine over the model")
	}
	return f
}

type ioResult struct {
	n   int
	err error
}

// TestFileKqueueCancelQueued: the model holds the job queued, the ctx
// ends, aio_cancel takes the job back, and only then does the call return
// ctx's error, having read nothing.
func TestFileKqueueCancelQueued(t *testing.T) {
	k := kqModel(t)
	f := kqFileOpen(t, fileBlock)
	k.Hold()
	released := false
	defer func() {
		if !released {
			k.Release()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	buf := make([]byte, fileBlock)
	done := make(chan ioResult, 1)
	go func() {
		n, err := f.ReadAtContext(ctx, buf, 0)
		done <- ioResult{n, err}
	}()
	time.Sleep(20 * time.Millisecond) // let the job reach the model
	cancel()
	res := <-done
	if res.n != 0 || !errors.Is(res.err, context.Canceled) {
		t.Fatalf("ReadAtContext = %d, %v; want 0, context.Canceled", res.n, res.err)
	}
	k.Release()
	released = true
	if !bytes.Equal(buf, make([]byte, fileBlock)) {
		t.Fatal("the canceled read wrote into the buffer")
	}
	if n, err := f.ReadAt(buf, 0); n != fileBlock || err != nil || !bytes.Equal(buf, filePattern(0, fileBlock)) {
		t.Fatalf("ReadAt after the cancel = %d, %v", n, err)
	}
}

// TestFileKqueueCancelRunning: the model has taken the job and stalls it,
// so aio_cancel cannot take it back; the call whose ctx ended waits until
// the job completes, never returning while the kernel may fill buf.
func TestFileKqueueCancelRunning(t *testing.T) {
	k := kqModel(t)
	f := kqFileOpen(t, fileBlock)
	k.Stall()
	unstalled := false
	defer func() {
		if !unstalled {
			k.Unstall()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	buf := make([]byte, fileBlock)
	done := make(chan ioResult, 1)
	go func() {
		n, err := f.ReadAtContext(ctx, buf, 0)
		done <- ioResult{n, err}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for k.Running() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the job never started")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	time.Sleep(30 * time.Millisecond) // a chance to return too early
	select {
	case res := <-done:
		t.Fatalf("ReadAtContext returned %d, %v while the kernel was running the read", res.n, res.err)
	default:
	}
	k.Unstall()
	unstalled = true
	res := <-done
	if res.err != nil || res.n != fileBlock {
		t.Fatalf("ReadAtContext = %d, %v; want %d, nil (the read completed first)", res.n, res.err, fileBlock)
	}
	if !bytes.Equal(buf, filePattern(0, fileBlock)) {
		t.Fatal("the completed read's bytes are wrong")
	}
}

// TestFileKqueueRefusedFile: the kernel refuses every job on the file with
// EOPNOTSUPP, as FreeBSD does on NFS or FUSE; the File then serves it with
// plain system calls, with the right bytes.
func TestFileKqueueRefusedFile(t *testing.T) {
	k := kqModel(t)
	f := kqFileOpen(t, 2*fileBlock)
	fd := fdNumber(t, f.f)
	k.FailFd(fd, syscall.EOPNOTSUPP)
	defer k.FailFd(fd, 0)
	buf := make([]byte, fileBlock)
	if n, err := f.ReadAt(buf, fileBlock); n != fileBlock || err != nil || !bytes.Equal(buf, filePattern(fileBlock, fileBlock)) {
		t.Fatalf("ReadAt on a refused file = %d, %v", n, err)
	}
	if f.async.Load() {
		t.Error("the File still sends its calls to the engine")
	}
	if n, err := f.WriteAt(filePattern(3, fileBlock), 0); n != fileBlock || err != nil {
		t.Fatalf("WriteAt on a refused file = %d, %v", n, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync on a refused file: %v", err)
	}
}

// TestFileKqueueIOError: an I/O error the kernel reports for a job comes
// back as *os.PathError with its errno.
func TestFileKqueueIOError(t *testing.T) {
	k := kqModel(t)
	f := kqFileOpen(t, fileBlock)
	k.FailNext(syscall.EIO)
	defer k.FailNext(0)
	_, err := f.ReadAt(make([]byte, fileBlock), 0)
	var pe *os.PathError
	if !errors.Is(err, syscall.EIO) || !errors.As(err, &pe) || pe.Op != "read" || pe.Path != f.Name() {
		t.Fatalf("ReadAt with EIO = %v, want *os.PathError read EIO", err)
	}
}
