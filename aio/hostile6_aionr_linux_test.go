//go:build linux && !fbsdmodel && (amd64 || arm64)

package aio

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// aioNrPath holds fs.aio-nr, the requests the kernel AIO contexts of the
// whole machine have reserved.
const aioNrPath = "/proc/sys/fs/aio-nr"

// h6WriteAioMaxNr sets fs.aio-max-nr.
func h6WriteAioMaxNr(t *testing.T, n int) {
	t.Helper()
	if err := os.WriteFile(aioMaxNrPath, []byte(strconv.Itoa(n)+"\n"), 0); err != nil {
		t.Fatalf("writing %s: %v", aioMaxNrPath, err)
	}
}

// h6NoAioRoom lowers fs.aio-max-nr to what the machine's contexts hold
// already, so that no io_setup has room, runs fn, and restores it (also
// if fn fails). fs.aio-max-nr is the whole machine's: fn is kept short, so
// that other processes creating contexts meanwhile are unlikely to meet
// the low limit.
func h6NoAioRoom(t *testing.T, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("lowering fs.aio-max-nr needs root")
	}
	orig, err := readSysInt(aioMaxNrPath)
	if err != nil {
		t.Skipf("no %s: %v", aioMaxNrPath, err)
	}
	used, err := readSysInt(aioNrPath)
	if err != nil {
		t.Skipf("no %s: %v", aioNrPath, err)
	}
	if err := os.WriteFile(aioMaxNrPath, []byte(strconv.Itoa(used)+"\n"), 0); err != nil {
		t.Skipf("cannot lower %s (a read-only /proc/sys in a container?): %v", aioMaxNrPath, err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			h6WriteAioMaxNr(t, orig)
		}
	}
	t.Cleanup(restore)
	fn()
	restore()
}

// TestH6AioMaxNrFull: with no room left under fs.aio-max-nr, NewContext
// with DefaultBackend or KernelBackend, and NewEngine, fail with an error
// matching ErrAgain and EAGAIN that names the limit, leaving no descriptor,
// goroutine or kernel context behind; PortableBackend still works. Once
// the limit is back, DefaultBackend drives kernel AIO again, and closing
// its contexts destroys their kernel contexts (the process maps no more
// AIO rings than before).
func TestH6AioMaxNrFull(t *testing.T) {
	smSkipWithoutKernelAIO(t, Config{Backend: KernelBackend})
	runtime.GC() // contexts earlier tests dropped, reclaimed now rather than during the test
	fds0, g0, rings0 := h3Fds(t), runtime.NumGoroutine(), h5Rings(t)
	nr0, err := readSysInt(aioNrPath)
	if err != nil {
		t.Skip(err)
	}
	var errs [3]error
	var portable *Context
	h6NoAioRoom(t, func() {
		var c *Context
		c, errs[0] = NewContext(Config{})
		if c != nil {
			c.Close()
		}
		c, errs[1] = NewContext(Config{Backend: KernelBackend, MaxRequests: 1})
		if c != nil {
			c.Close()
		}
		var e *Engine
		e, errs[2] = NewEngine(Config{})
		if e != nil {
			e.Close()
		}
		portable, err = NewContext(Config{Backend: PortableBackend})
	})
	for i, what := range []string{"NewContext(DefaultBackend)", "NewContext(KernelBackend)", "NewEngine"} {
		if err := errs[i]; !errors.Is(err, ErrAgain) || !errors.Is(err, syscall.EAGAIN) || !strings.Contains(err.Error(), "aio-max-nr") {
			t.Errorf("%s with fs.aio-max-nr full: %v; want an error matching ErrAgain and EAGAIN naming fs.aio-max-nr", what, err)
		}
	}
	if err != nil {
		t.Fatalf("NewContext(PortableBackend) with fs.aio-max-nr full: %v", err)
	}
	f, want := h3DataFile(t, t.TempDir(), 4096, os.O_RDONLY)
	r, buf := NewRequest(), make([]byte, 4096)
	if err := r.PrepareRead(f, 0, buf, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := h3RunOne(t, portable, r); n != len(want) || err != nil || string(buf) != string(want) {
		t.Fatalf("read on the portable context = %d, %v", n, err)
	}
	if err := portable.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if n := h3Fds(t); n > fds0 {
		t.Errorf("%d descriptors after the refused contexts, %d before", n, fds0)
	}
	h3Goroutines(t, g0)
	if n := h5Rings(t); n != rings0 {
		t.Errorf("%d AIO rings mapped after the refused contexts, %d before", n, rings0)
	}

	cs := make([]*Context, 4)
	for i := range cs {
		if cs[i], err = NewContext(Config{MaxRequests: 64}); err != nil {
			t.Fatalf("NewContext with fs.aio-max-nr restored: %v", err)
		}
		if k := cs[i].Kernel(); k != "linux-aio" {
			t.Fatalf("DefaultBackend with fs.aio-max-nr restored drives %q", k)
		}
	}
	df := linuxDirectFile(t)
	dbuf := AlignedBuffer(4096)
	if err := r.PrepareRead(df, 0, dbuf, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := h3RunOne(t, cs[0], r); n != 0 || err != nil {
		t.Fatalf("O_DIRECT read past the end = %d, %v", n, err)
	}
	if st := cs[0].Stats(); st.Kernel != 1 {
		t.Fatalf("Stats = %+v: the O_DIRECT read not served by kernel AIO", st)
	}
	rings := h5Rings(t)
	nrOpen, _ := readSysInt(aioNrPath)
	if rings != rings0+len(cs) {
		t.Fatalf("%d AIO rings mapped with %d contexts open, %d before", rings, len(cs), rings0)
	}
	for _, c := range cs {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	nr1, _ := readSysInt(aioNrPath)
	// fs.aio-nr is the machine's, which other processes change meanwhile:
	// logged only.
	t.Logf("fs.aio-nr: %d at the start, %d with %d contexts open, %d after their Close", nr0, nrOpen, len(cs), nr1)
	if n := h5Rings(t); n != rings0 {
		t.Errorf("%d AIO rings mapped after Close of the contexts, %d before them", n, rings0)
	}
}

// h6ChildEnv marks the child process TestH6SharedEngineNoAioRoom runs.
const h6ChildEnv = "FILEAIO_TEST_H6_CHILD"

// TestH6SharedEngineNoAioRoom: the shared engine of File, first needed
// while fs.aio-max-nr has no room, cannot start; that call is done in the
// caller's goroutine instead, and the next call, once there is room, starts
// the engine: the failure is not kept. It runs in a child process, whose shared
// engine is not started yet.
func TestH6SharedEngineNoAioRoom(t *testing.T) {
	if os.Getenv(h6ChildEnv) == "" {
		if os.Geteuid() != 0 {
			t.Skip("lowering fs.aio-max-nr needs root")
		}
		smSkipWithoutKernelAIO(t, Config{Backend: KernelBackend})
		cmd := exec.Command(os.Args[0], "-test.run=^TestH6SharedEngineNoAioRoom$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), h6ChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestH6SharedEngineNoAioRoom") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	if shared.e.Load() != nil {
		t.Fatal("the child's shared engine is started before its first File call")
	}
	path := filepath.Join(t.TempDir(), "d")
	if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path, os.O_RDWR|O_DIRECT, 0)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("%s refuses O_DIRECT", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := AlignedBuffer(4096)
	var n int
	h6NoAioRoom(t, func() { n, err = f.ReadAt(buf, 0) })
	if n != len(buf) || err != nil {
		t.Fatalf("ReadAt of an O_DIRECT File, the shared engine refused by fs.aio-max-nr = %d, %v; want the read done in the caller's goroutine", n, err)
	}
	if shared.e.Load() != nil {
		t.Fatal("the shared engine started although fs.aio-max-nr had no room")
	}
	if n, err := f.ReadAt(buf, 4096); n != len(buf) || err != nil {
		t.Fatalf("ReadAt once fs.aio-max-nr has room = %d, %v", n, err)
	}
	if k := f.Kernel(); k != "linux-aio" {
		t.Fatalf("the O_DIRECT File is served by %q once the shared engine started", k)
	}
}
