//go:build linux && !fbsdmodel

package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// straceChildEnv names the directory TestStraceRoutingChild works in when
// TestStraceRouting runs it.
const straceChildEnv = "FILEAIO_STRACE_CHILD"

// TestStraceRouting runs TestStraceRoutingChild under strace and reads from
// the trace which system calls served its reads: with DefaultBackend, the
// buffered file's reads and the pipe's must never be given to io_submit,
// and the buffered file's must be read with pread64 or preadv2; where the
// context drives kernel AIO, every O_DIRECT read must go to io_submit and
// none be read by a goroutine.
func TestStraceRouting(t *testing.T) {
	if os.Getenv(straceChildEnv) != "" {
		t.Skip("the child of TestStraceRouting runs only TestStraceRoutingChild")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (.ci/run installs it)")
	}
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=io_submit,pread64,preadv2", "-e", "signal=none",
		"-o", trace, os.Args[0], "-test.run", "^TestStraceRoutingChild$", "-test.v", "-test.count", "1")
	cmd.Env = append(os.Environ(), straceChildEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("ptrace")) && bytes.Contains(out, []byte("not permitted")) {
			t.Skipf("strace may not trace here: %s", out)
		}
		t.Fatalf("the child under strace: %v\n%s", err, out)
	}
	var buffered, direct, pipe int
	var kernel string
	m := regexp.MustCompile(`routing: buffered=(-?\d+) direct=(-?\d+) pipe=(-?\d+) kernel=(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the child did not report its descriptors:\n%s", out)
	}
	buffered, _ = strconv.Atoi(string(m[1]))
	direct, _ = strconv.Atoi(string(m[2]))
	pipe, _ = strconv.Atoi(string(m[3]))
	kernel = string(m[4])

	log, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	submitted, read := straceReads(string(log))
	t.Logf("child: buffered fd %d, O_DIRECT fd %d, pipe fd %d, %s; io_submit reads by fd %v, pread64/preadv2 by fd %v",
		buffered, direct, pipe, kernel, submitted, read)
	if submitted[buffered] != 0 || submitted[pipe] != 0 {
		t.Errorf("io_submit was given %d reads of the buffered file and %d of the pipe; want none", submitted[buffered], submitted[pipe])
	}
	if read[buffered] == 0 {
		t.Errorf("no pread64 or preadv2 of the buffered file (fd %d) in the trace", buffered)
	}
	switch {
	case direct < 0:
		t.Log("the scratch file system refuses O_DIRECT: its half is not checked")
	case kernel != "linux-aio":
		t.Logf("the context drives %q, not kernel AIO: the O_DIRECT half is not checked", kernel)
	default:
		if submitted[direct] != straceReadsEach || read[direct] != 0 {
			t.Errorf("O_DIRECT reads: %d given to io_submit and %d to pread64/preadv2; want %d and 0",
				submitted[direct], read[direct], straceReadsEach)
		}
	}
}

// straceReadsEach is how many reads the child makes of each file.
const straceReadsEach = 8

var (
	straceSubmittedRead = regexp.MustCompile(`aio_lio_opcode=IOCB_CMD_PREAD, aio_fildes=(\d+)`)
	straceSyncRead      = regexp.MustCompile(`^\d+\s+(?:pread64|preadv2)\((\d+),`)
)

// straceReads counts, by descriptor, the reads of an strace -f log given
// to io_submit and those made with pread64 or preadv2.
func straceReads(log string) (submitted, read map[int]int) {
	submitted, read = map[int]int{}, map[int]int{}
	for line := range strings.Lines(log) {
		if strings.Contains(line, " io_submit(") {
			for _, m := range straceSubmittedRead.FindAllStringSubmatch(line, -1) {
				fd, _ := strconv.Atoi(m[1])
				submitted[fd]++
			}
			continue
		}
		if m := straceSyncRead.FindStringSubmatch(line); m != nil {
			fd, _ := strconv.Atoi(m[1])
			read[fd]++
		}
	}
	return submitted, read
}

// TestStraceRoutingChild is TestStraceRouting's child: in one Submit to a
// DefaultBackend context it reads a buffered file, the same file opened
// with O_DIRECT, and a pipe, checks every result, and prints the
// descriptors for the parent to find in the trace.
func TestStraceRoutingChild(t *testing.T) {
	dir := os.Getenv(straceChildEnv)
	if dir == "" {
		t.Skip("run by TestStraceRouting, as its child under strace")
	}
	const bs = 4096
	want := randBytes(newRand(t), straceReadsEach*bs)
	name := filepath.Join(dir, "data")
	if err := os.WriteFile(name, want, 0o600); err != nil {
		t.Fatal(err)
	}
	buffered := openFile(t, name, os.O_RDONLY)
	direct, err := os.OpenFile(name, os.O_RDONLY|oDirect, 0)
	switch {
	case errors.Is(err, syscall.EINVAL):
		direct = nil
	case err != nil:
		t.Fatal(err)
	default:
		t.Cleanup(func() { direct.Close() })
	}
	pr, pw := streamPair(t, "pipe")
	if _, err := pw.Write(want[:bs]); err != nil {
		t.Fatal(err)
	}

	c := newContext(t, aio.DefaultBackend, aio.Config{})
	type read struct{ buf, want []byte }
	var reqs []*aio.Request
	for i := range straceReadsEach {
		for _, f := range []*os.File{buffered, direct} {
			if f == nil {
				continue
			}
			r := aio.NewRequest()
			rd := &read{aio.AlignedBuffer(bs), want[i*bs : (i+1)*bs]}
			mustPrepare(t, r.PrepareRead(f, int64(i*bs), rd.buf, rd))
			reqs = append(reqs, r)
		}
	}
	r := aio.NewRequest()
	rd := &read{make([]byte, bs), want[:bs]}
	mustPrepare(t, r.PrepareRead(pr, 0, rd.buf, rd))
	reqs = append(reqs, r)
	for _, r := range runAll(t, c, reqs) {
		rd := r.User().(*read)
		if n, err := r.Result(); err != nil || n != bs || !bytes.Equal(rd.buf, rd.want) {
			t.Fatalf("read = %d, %v (data equal: %v); want %d, nil", n, err, bytes.Equal(rd.buf, rd.want), bs)
		}
	}
	fmt.Printf("routing: buffered=%d direct=%d pipe=%d kernel=%s\n", fdOf(t, buffered), fdOf(t, direct), fdOf(t, pr), c.Kernel())
}

// fdOf is f's descriptor, read without changing its blocking mode, or -1
// for a nil f.
func fdOf(t *testing.T, f *os.File) int {
	if f == nil {
		return -1
	}
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := rc.Control(func(d uintptr) { fd = int(d) }); err != nil {
		t.Fatal(err)
	}
	return fd
}
