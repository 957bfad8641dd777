package tests

import (
	"errors"
	"os"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// syncAfterWrites is FreeBSD's aio_fsync_test through the context: the file
// is truncated to 16 blocks, 16 block-sized writes are submitted in one
// batch, every one is waited for (each exactly once, each a full block),
// and then the sync is submitted and must complete with 0. The file then
// holds what was written. It runs a few rounds on the same file.
func syncAfterWrites(t *testing.T, b aio.Backend, dataSync bool) {
	c := newContext(t, b, aio.Config{})
	f := tempFile(t)
	rng := newRand(t)
	blk := blockSize(t, f)
	const writes = 16
	if err := f.Truncate(int64(blk * writes)); err != nil {
		t.Fatal(err)
	}
	reqs := make([]*aio.Request, writes)
	for i := range reqs {
		reqs[i] = aio.NewRequest()
	}
	sync := aio.NewRequest()
	want := make([]byte, blk*writes)
	for round := range 4 {
		fillRand(rng, want)
		for i, r := range reqs {
			mustPrepare(t, r.PrepareWrite(f, int64(i*blk), want[i*blk:(i+1)*blk], i))
		}
		submitAll(t, c, reqs...)
		done := make([]bool, writes)
		for _, r := range waitN(t, c, writes) {
			i := r.User().(int)
			if done[i] {
				t.Fatalf("round %d: write %d delivered twice", round, i)
			}
			done[i] = true
			expectResult(t, r, blk)
		}
		if dataSync {
			mustPrepare(t, sync.PrepareDataSync(f, "sync"))
		} else {
			mustPrepare(t, sync.PrepareFlush(f, "sync"))
		}
		run(t, c, sync)
		if sync.User() != "sync" {
			t.Fatalf("User() = %v, want sync", sync.User())
		}
		expectResult(t, sync, 0)
		compare(t, "file after the sync", readFile(t, f.Name()), want)
	}
}

// TestFlushAfterWrites is aio_fsync_sync_test (O_SYNC) through the context.
func TestFlushAfterWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) { syncAfterWrites(t, b, false) })
}

// TestDataSyncAfterWrites is aio_fsync_dsync_test (O_DSYNC) through the
// context.
func TestDataSyncAfterWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) { syncAfterWrites(t, b, true) })
}

// TestSyncManyAtOnce submits flushes and data syncs of several files, and
// of the same file many times, in one batch; each completes once with 0.
func TestSyncManyAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		files := make([]*os.File, 4)
		for i := range files {
			files[i] = tempFile(t)
			if _, err := files[i].WriteAt([]byte("dirty data"), 0); err != nil {
				t.Fatal(err)
			}
		}
		reqs := make([]*aio.Request, 64)
		for i := range reqs {
			reqs[i] = aio.NewRequest()
			f := files[i%len(files)]
			if i%2 == 0 {
				mustPrepare(t, reqs[i].PrepareFlush(f, i))
			} else {
				mustPrepare(t, reqs[i].PrepareDataSync(f, i))
			}
		}
		seen := make([]bool, len(reqs))
		for _, r := range run(t, c, reqs...) {
			i := r.User().(int)
			if seen[i] {
				t.Fatalf("sync %d delivered twice", i)
			}
			seen[i] = true
			expectResult(t, r, 0)
		}
	})
}

// TestSyncEmptyAndReadOnly: syncs of an empty file and of a file opened
// read-only succeed too (on Windows, which syncs only handles open for
// writing, the read-only ones fail with ERROR_ACCESS_DENIED).
func TestSyncEmptyAndReadOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b aio.Backend) {
		c := newContext(t, b, aio.Config{})
		empty := tempFile(t)
		ro := openFile(t, empty.Name(), os.O_RDONLY)
		reqs := []*aio.Request{aio.NewRequest(), aio.NewRequest(), aio.NewRequest(), aio.NewRequest()}
		mustPrepare(t, reqs[0].PrepareFlush(empty, nil))
		mustPrepare(t, reqs[1].PrepareDataSync(empty, nil))
		mustPrepare(t, reqs[2].PrepareFlush(ro, nil))
		mustPrepare(t, reqs[3].PrepareDataSync(ro, nil))
		if syncNeedsWrite {
			for _, r := range run(t, c, reqs[2:]...) {
				if _, err := r.Result(); !errors.Is(err, errWrongAccess) {
					t.Fatalf("sync of a read-only file: %v, want %v", err, errWrongAccess)
				}
			}
			reqs = reqs[:2]
		}
		for _, r := range run(t, c, reqs...) {
			expectResult(t, r, 0)
		}
	})
}
