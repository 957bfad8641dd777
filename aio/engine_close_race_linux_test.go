package aio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// engineFds counts the process's open descriptors.
func engineFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("/proc/self/fd: %v", err)
	}
	return len(ents)
}

// waitForStack waits until some goroutine's stack holds every one of frames.
func waitForStack(t *testing.T, what string, frames ...string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	waitFor(t, what, func() bool {
		n := runtime.Stack(buf, true)
		for g := range strings.SplitSeq(string(buf[:n]), "\n\n") {
			all := true
			for _, f := range frames {
				all = all && strings.Contains(g, f)
			}
			if all {
				return true
			}
		}
		return false
	})
}

// TestEngineOpenFileOvertakenByClose: an OpenFile of a FIFO waits in the
// open for a writer while the engine's Close runs and returns. Once the
// writer comes, the OpenFile fails with an *os.PathError matching
// ErrClosed and leaves no descriptor open: no File of a closed engine.
func TestEngineOpenFileOvertakenByClose(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	e, err := NewEngine(Config{Backend: PortableBackend})
	if err != nil {
		t.Fatal(err)
	}
	base := engineFds(t)
	type opened struct {
		f   *File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := e.OpenFile(fifo, os.O_RDONLY, 0)
		done <- opened{f, err}
	}()
	// Past Close's check: inside the open, waiting for a writer.
	waitForStack(t, "OpenFile to wait in the open", "aio.(*Engine).OpenFile", "os.OpenFile")
	if err := e.Close(); err != nil {
		t.Fatalf("Engine.Close: %v", err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // lets the open go on
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got := <-done
	var pe *os.PathError
	if got.err == nil || !errors.Is(got.err, ErrClosed) || !errors.As(got.err, &pe) {
		if got.f != nil {
			got.f.Close()
		}
		t.Fatalf("OpenFile overtaken by Close = (File %v), %v; want an *os.PathError matching ErrClosed", got.f != nil, got.err)
	}
	if got.f != nil {
		t.Errorf("OpenFile returned a File with its error %v", got.err)
	}
	if n := engineFds(t) - 1; n != base { // less the writer's
		t.Errorf("%d descriptors open after the refused OpenFile, %d before it", n, base)
	}
}

// TestEngineNewFileOvertakenByClose: a Close that begins while NewFile
// looks at the file makes NewFile fail with ErrClosed and leave the file
// open; a File it returns is one made before Close began.
func TestEngineNewFileOvertakenByClose(t *testing.T) {
	e, err := NewEngine(Config{Backend: PortableBackend})
	if err != nil {
		t.Fatal(err)
	}
	osf := smFile(t, 16)
	engineOpenHook = func() {
		if err := e.Close(); err != nil {
			t.Errorf("Engine.Close: %v", err)
		}
	}
	defer func() { engineOpenHook = nil }()
	f, err := e.NewFile(osf)
	if f != nil || !errors.Is(err, ErrClosed) {
		if f != nil {
			f.Close()
		}
		t.Fatalf("NewFile overtaken by Close = (File %v), %v; want no File and an error matching ErrClosed", f != nil, err)
	}
	if _, err := osf.ReadAt(make([]byte, 16), 0); err != nil {
		t.Errorf("the *os.File after the refused NewFile: ReadAt = %v, want it open", err)
	}
}

// TestEngineOpenRacingClose: many goroutines open files of an engine (by
// OpenFile and NewFile, with O_CREATE) while it closes. Each call either
// fails with an error matching ErrClosed, having left nothing open but the
// *os.File given to NewFile, or returns a File whose Close closes its
// descriptor; a call of a File of the closing engine works or fails with
// ErrClosed. Once all is closed, the process has the descriptors it had.
func TestEngineOpenRacingClose(t *testing.T) {
	dir := t.TempDir()
	total := 0
	defer func() { t.Logf("%d Files made before the engines closed", total) }()
	for round := range 20 {
		base := engineFds(t)
		e, err := NewEngine(Config{Backend: PortableBackend})
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		var files []*File
		var given []*os.File
		opened, refused := 0, 0
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; ; i++ {
					name := filepath.Join(dir, fmt.Sprintf("r%d-g%d-%d", round, g, i))
					var f *File
					var err error
					if i%2 == 0 {
						f, err = e.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
					} else {
						osf, oerr := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
						if oerr != nil {
							t.Error(oerr)
							return
						}
						mu.Lock()
						given = append(given, osf)
						mu.Unlock()
						f, err = e.NewFile(osf)
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) || f != nil {
							t.Errorf("open of an engine while it closes = (File %v), %v; want no File and ErrClosed", f != nil, err)
						}
						mu.Lock()
						refused++
						mu.Unlock()
						return
					}
					if _, werr := f.WriteAt([]byte("x"), 0); werr != nil && !errors.Is(werr, ErrClosed) {
						t.Errorf("WriteAt on a File of a closing engine = %v; want success or ErrClosed", werr)
					}
					mu.Lock()
					files = append(files, f)
					opened++
					mu.Unlock()
				}
			}()
		}
		close(start)
		for range round { // from at once to after some Files
			runtime.Gosched()
		}
		if err := e.Close(); err != nil {
			t.Fatalf("Engine.Close: %v", err)
		}
		wg.Wait()
		for _, f := range files {
			if err := f.Close(); err != nil {
				t.Errorf("File.Close: %v", err)
			}
		}
		for _, osf := range given {
			osf.Close() // a second close of one a File closed: os.ErrClosed
		}
		if n := engineFds(t); n != base {
			t.Fatalf("round %d: %d descriptors open after all was closed, %d before (%d Files, %d refused)", round, n, base, opened, refused)
		}
		total += opened
		if refused != 8 {
			t.Fatalf("round %d: %d goroutines saw the engine closed, want 8", round, refused)
		}
	}
}
