package aio

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// Attacks on File's call gate (file_calls.go): Close racing writers and
// other Closes, and calls whose goroutine's stack moves while they run.

// h8CloseWithin runs close and fails if it has not returned within d.
func h8CloseWithin(t *testing.T, d time.Duration, close func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- close() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(d):
		t.Fatalf("Close has not returned after %v", d)
		return nil
	}
}

// TestH8CloseRacesWriters: goroutines each write versions of their own
// block while four goroutines Close the File at once. Exactly one Close
// succeeds, the others fail matching os.ErrClosed; every failed write fails
// so; once a call failed so, every later one does; the file read right
// after the successful Close returned holds in each block the last version
// whose WriteAt succeeded (a write that began before Close landed before
// it returned, one refused did not land), and nothing changes it after.
func TestH8CloseRacesWriters(t *testing.T) {
	forEachSetup(t, 16*fileBlock, func(t *testing.T, s fileSetup, f *File) {
		const writers = 16
		last := make([]int, writers) // the last version that succeeded, 0: none
		var wg sync.WaitGroup
		var started sync.WaitGroup
		started.Add(writers)
		for i := range writers {
			wg.Go(func() {
				buf, rbuf := AlignedBuffer(fileBlock), AlignedBuffer(fileBlock)
				off := int64(i) * fileBlock
				refused := false
				for v := 1; ; v++ {
					for j := range buf {
						buf[j] = byte(v*13 + i)
					}
					n, err := f.WriteAt(buf, off)
					if v == 1 {
						started.Done()
					}
					switch {
					case err == nil && n == fileBlock && !refused:
						last[i] = v
					case errors.Is(err, os.ErrClosed):
						if refused {
							return
						}
						refused = true // once more, to see it refused again
					default:
						t.Errorf("writer %d: WriteAt = %d, %v (refused before: %v)", i, n, err, refused)
						return
					}
					// Also a read and a sync in between, which must
					// fail the same way once closed.
					if _, err := f.ReadAt(rbuf, off); err != nil && !errors.Is(err, os.ErrClosed) {
						t.Errorf("writer %d: ReadAt = %v", i, err)
					}
					if v%8 == 0 {
						if err := f.DataSync(); err != nil && !errors.Is(err, os.ErrClosed) {
							t.Errorf("writer %d: DataSync = %v", i, err)
						}
					}
				}
			})
		}
		started.Wait()
		var okCloses atomic.Int32
		var closers sync.WaitGroup
		var snapshot []byte
		var snapErr error
		for range 4 {
			closers.Go(func() {
				err := h8CloseWithin(t, 30*time.Second, f.Close)
				switch {
				case err == nil:
					okCloses.Add(1)
					snapshot, snapErr = os.ReadFile(f.Name())
				case !errors.Is(err, os.ErrClosed):
					t.Errorf("concurrent Close = %v", err)
				}
			})
		}
		closers.Wait()
		wg.Wait()
		if n := okCloses.Load(); n != 1 {
			t.Fatalf("%d Closes succeeded, want exactly 1", n)
		}
		if snapErr != nil {
			t.Fatal(snapErr)
		}
		after, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(snapshot, after) {
			t.Errorf("the file changed after Close returned")
		}
		for i, v := range last {
			if v == 0 {
				t.Errorf("writer %d: no write succeeded before Close", i)
				continue
			}
			want := bytes.Repeat([]byte{byte(v*13 + i)}, fileBlock)
			if got := snapshot[i*fileBlock : (i+1)*fileBlock]; !bytes.Equal(got, want) {
				t.Errorf("writer %d: the block right after Close is not the last version that succeeded (%d): starts %d, want %d", i, v, got[0], want[0])
			}
		}
	})
}

// h8Deep recurses depth times, with some stack per frame, then makes one
// ReadAt and reports whether the stack moved while it ran (the address of
// a local of the caller changed) and whether its shard (as enter picks it)
// changed with it.
//
//go:noinline
func h8Deep(depth int, f *File, buf []byte) (moved, otherShard bool, err error) {
	var pad [192]byte
	if depth > 0 {
		moved, otherShard, err = h8Deep(depth-1, f, buf)
		pad[depth%len(pad)]++
		if pad[0] == 255 {
			err = errors.New("unreachable")
		}
		return moved, otherShard, err
	}
	var here byte
	before := uintptr(unsafe.Pointer(&here))
	_, err = f.ReadAt(buf, 0)
	after := uintptr(unsafe.Pointer(&here))
	shard := func(sp uintptr) uintptr { return (sp>>13 ^ sp>>17) & (gateShards - 1) }
	return before != after, shard(before) != shard(after), err
}

// TestH8CallWhoseStackMoves: calls made at every depth of a recursion, each
// on a goroutine of its own (so its stack starts small), so that for some
// of them the stack is grown, and copied elsewhere, inside the call: the
// gate counts each call out of the shard it counted it into, so that after
// all returned every shard is at 0 and Close returns at once.
func TestH8CallWhoseStackMoves(t *testing.T) {
	forEachSetup(t, fileBlock, func(t *testing.T, s fileSetup, f *File) {
		moved, otherShard := 0, 0
		for depth := range 320 {
			var m, o bool
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				m, o, err = h8Deep(depth, f, AlignedBuffer(fileBlock))
			}()
			<-done
			if err != nil {
				t.Fatalf("depth %d: ReadAt = %v", depth, err)
			}
			if m {
				moved++
			}
			if o {
				otherShard++
			}
		}
		if moved == 0 {
			t.Fatal("no call had its stack moved while it ran: the test tests nothing")
		}
		t.Logf("%d calls had their stack moved while they ran, %d of them to another shard's address", moved, otherShard)
		for i := range f.calls.shards {
			if n := f.calls.shards[i].n.Load(); n != 0 {
				t.Errorf("shard %d counts %d calls after all returned", i, n)
			}
		}
		if err := h8CloseWithin(t, 2*time.Second, f.Close); err != nil {
			t.Fatalf("Close = %v", err)
		}
	})
}
