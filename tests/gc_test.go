package tests

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// gcStorm sets GOGC to 1 and runs runtime.GC in a loop, with some garbage
// to collect, until the test ends.
func gcStorm(t *testing.T) {
	old := debug.SetGCPercent(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var cycles atomic.Int64
	wg.Go(func() {
		var sink [][]byte
		for {
			select {
			case <-stop:
				return
			default:
			}
			sink = append(sink, make([]byte, 64<<10))
			if len(sink) > 16 {
				sink = nil
			}
			runtime.GC()
			cycles.Add(1)
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		debug.SetGCPercent(old)
		t.Logf("%d forced GC cycles", cycles.Load())
	})
}

// pattern fills b with bytes derived from id, so a buffer can be checked
// without keeping a copy.
func pattern(b []byte, id int) {
	x := uint32(id)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
}

func checkPattern(t *testing.T, what string, b []byte, id int) {
	t.Helper()
	want := make([]byte, len(b))
	pattern(want, id)
	compare(t, what, b, want)
}

// gcRead is the user value of a read under GC pressure: it holds the
// buffer, so the buffer is reachable only through the request.
type gcRead struct {
	id   int
	bufs [][]byte
}

// submitGCWrites allocates the requests and their buffers and submits them;
// it keeps no reference, so while they are in flight the requests and
// buffers are reachable only through the context.
//
//go:noinline
func submitGCWrites(t *testing.T, c *aio.Context, f *os.File, first, count, size int, vectored bool) {
	reqs := make([]*aio.Request, count)
	for k := range reqs {
		id := first + k
		buf := make([]byte, size)
		pattern(buf, id)
		r := aio.NewRequest()
		if vectored {
			mustPrepare(t, r.PrepareWritev(f, int64(id*size), [][]byte{buf[:size/3], buf[size/3 : size/2], buf[size/2:]}, id))
		} else {
			mustPrepare(t, r.PrepareWrite(f, int64(id*size), buf, id))
		}
		reqs[k] = r
	}
	submitAll(t, c, reqs...)
	clear(reqs)
}

//go:noinline
func submitGCReads(t *testing.T, c *aio.Context, f *os.File, first, count, size int, vectored bool) {
	reqs := make([]*aio.Request, count)
	for k := range reqs {
		id := first + k
		r := aio.NewRequest()
		if vectored {
			bufs := [][]byte{make([]byte, size/4), make([]byte, size-size/4)}
			mustPrepare(t, r.PrepareReadv(f, int64(id*size), bufs, &gcRead{id, bufs}))
		} else {
			buf := make([]byte, size)
			mustPrepare(t, r.PrepareRead(f, int64(id*size), buf, &gcRead{id, [][]byte{buf}}))
		}
		reqs[k] = r
	}
	submitAll(t, c, reqs...)
	clear(reqs)
}

// gcRounds writes then reads back rounds of requests whose buffers only
// the requests reference, while the garbage collector runs continuously.
func gcRounds(t *testing.T, b aio.Backend, vectored bool) {
	c := newContext(t, b, aio.Config{MaxRequests: 128})
	f := tempFile(t)
	gcStorm(t)
	const rounds, size = 20, 8192
	count := c.MaxRequests()
	for round := range rounds {
		first := round * count
		submitGCWrites(t, c, f, first, count, size, vectored)
		runtime.GC()
		for _, r := range waitN(t, c, count) {
			expectResult(t, r, size)
		}
		submitGCReads(t, c, f, first, count, size, vectored)
		runtime.GC()
		seen := map[int]bool{}
		for _, r := range waitN(t, c, count) {
			expectResult(t, r, size)
			u := r.User().(*gcRead)
			if seen[u.id] {
				t.Fatalf("read %d delivered twice", u.id)
			}
			seen[u.id] = true
			var got []byte
			for _, p := range u.bufs {
				got = append(got, p...)
			}
			checkPattern(t, user("read %d under GC pressure", u.id), got, u.id)
		}
	}
	whole := readFile(t, f.Name())
	for id := range rounds * count {
		checkPattern(t, user("file block %d", id), whole[id*size:(id+1)*size], id)
	}
}

// TestGCPressureReadWrite: plain reads and writes with GOGC=1 and
// runtime.GC in a loop while their buffers are in flight.
func TestGCPressureReadWrite(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) { gcRounds(t, b, false) })
}

// TestGCPressureVectored: the same with readv and writev, whose slices of
// buffers are also referenced only by the requests.
func TestGCPressureVectored(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) { gcRounds(t, b, true) })
}
