package tests

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/fileaio/fileaio/aio"
)

// The soak works on a file of soakSlots slots of soakSlot bytes. Each slot
// holds a known version of its data; no two requests in flight touch the
// same slot, so every read can be checked against the last completed write.
const (
	soakSlots = 1024
	soakSlot  = 4096
	soakDepth = 128 // requests kept in flight
	soakBatch = 32  // requests per Submit call
)

type soakKind uint8

const (
	soakRead soakKind = iota
	soakWrite
	soakReadv
	soakWritev
	soakFlush
	soakDataSync
)

// soakReq is a reusable request with its buffer.
type soakReq struct {
	r     *aio.Request
	buf   []byte
	parts [][]byte // buf in three pieces for readv/writev
}

// soakJob is one submission; its index is the request's user value.
type soakJob struct {
	kind     soakKind
	slot     int
	ver      uint32
	canceled bool // Cancel answered nil
	req      int  // index in the pool
}

// soakData fills b with version ver of slot's data: a window of src chosen
// by a hash of both, stamped with slot and version.
func soakData(b, src []byte, slot int, ver uint32) {
	h := uint64(slot)*0x9e3779b97f4a7c15 ^ uint64(ver)*0xc2b2ae3d27d4eb4f
	h ^= h >> 29
	off := int(h % uint64(len(src)-soakSlot))
	copy(b, src[off:off+soakSlot])
	binary.LittleEndian.PutUint32(b[0:], uint32(slot))
	binary.LittleEndian.PutUint32(b[4:], ver)
}

// TestSoakMixed runs 200,000 mixed requests (20,000 with -short) per
// backend: reads, writes, readv, writev, flushes and data syncs, about 1%
// of them canceled, submitted in batches with up to 128 in flight and
// collected with Waits of varying min and out sizes. Every submission is
// delivered exactly once (by its user value), every result is right for
// what Cancel answered, every read sees the data of the last completed
// write to its slot, and the file ends as the model says.
func TestSoakMixed(t *testing.T) {
	total := 200_000
	if testing.Short() {
		total = 20_000
	}
	forEachBackend(t, func(t *testing.T, b aio.Backend) { soak(t, b, total) })
}

func soak(t *testing.T, b aio.Backend, total int) {
	c := newContext(t, b, aio.Config{MaxRequests: 256})
	f := tempFile(t)
	rng := newRand(t)
	src := randBytes(rng, 64<<10)

	version := make([]uint32, soakSlots) // last completed write
	nextVer := make([]uint32, soakSlots)
	busy := make([]bool, soakSlots)
	initial := make([]byte, soakSlots*soakSlot)
	for s := range soakSlots {
		soakData(initial[s*soakSlot:(s+1)*soakSlot], src, s, 0)
	}
	if _, err := f.WriteAt(initial, 0); err != nil {
		t.Fatal(err)
	}

	pool := make([]soakReq, soakDepth)
	free := make([]int, 0, soakDepth)
	byReq := make(map[*aio.Request]int, soakDepth)
	for i := range pool {
		buf := make([]byte, soakSlot)
		pool[i] = soakReq{r: aio.NewRequest(), buf: buf, parts: [][]byte{buf[:1000], buf[1000:1096], buf[1096:]}}
		byReq[pool[i].r] = i
		free = append(free, i)
	}
	jobs := make([]soakJob, total)
	delivered := make([]bool, total)
	want := make([]byte, soakSlot)

	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	var (
		batch    = make([]*aio.Request, 0, soakDepth)
		refused  []*aio.Request
		out      = make([]*aio.Request, 64)
		prepared int // submissions prepared so far (the next user value)
		inflight int
		finished int
		counts   [6]int
		canceled int
	)
	pickSlot := func() int {
		s := rng.IntN(soakSlots)
		for busy[s] {
			s = (s + 1) % soakSlots
		}
		return s
	}
	for finished < total {
		// Prepare a batch: first the requests refused last time.
		batch = append(batch[:0], refused...)
		refused = refused[:0]
		for inflight+len(batch) < soakDepth && prepared < total && len(batch) < soakBatch {
			pi := free[len(free)-1]
			free = free[:len(free)-1]
			sr := &pool[pi]
			seq := prepared
			prepared++
			job := soakJob{req: pi, slot: -1}
			var err error
			switch p := rng.IntN(100); {
			case p < 38:
				job.kind = soakRead
			case p < 73:
				job.kind = soakWrite
			case p < 84:
				job.kind = soakReadv
			case p < 95:
				job.kind = soakWritev
			case p < 98:
				job.kind = soakFlush
			default:
				job.kind = soakDataSync
			}
			switch job.kind {
			case soakRead, soakReadv:
				job.slot = pickSlot()
				busy[job.slot] = true
				job.ver = version[job.slot]
				clear(sr.buf)
				off := int64(job.slot * soakSlot)
				if job.kind == soakRead {
					err = sr.r.PrepareRead(f, off, sr.buf, seq)
				} else {
					err = sr.r.PrepareReadv(f, off, sr.parts, seq)
				}
			case soakWrite, soakWritev:
				job.slot = pickSlot()
				busy[job.slot] = true
				nextVer[job.slot]++
				job.ver = nextVer[job.slot]
				soakData(sr.buf, src, job.slot, job.ver)
				off := int64(job.slot * soakSlot)
				if job.kind == soakWrite {
					err = sr.r.PrepareWrite(f, off, sr.buf, seq)
				} else {
					err = sr.r.PrepareWritev(f, off, sr.parts, seq)
				}
			case soakFlush:
				err = sr.r.PrepareFlush(f, seq)
			case soakDataSync:
				err = sr.r.PrepareDataSync(f, seq)
			}
			mustPrepare(t, err)
			jobs[seq] = job
			counts[job.kind]++
			batch = append(batch, sr.r)
		}
		if len(batch) > 0 {
			n, err := c.Submit(batch...)
			if err != nil && !errors.Is(err, aio.ErrAgain) {
				t.Fatalf("Submit: %v", err)
			}
			accepted := 0
			for _, r := range batch {
				switch r.State() {
				case aio.Submitted:
					accepted++
					if rng.IntN(100) == 0 {
						cerr := r.Cancel()
						checkCancelAnswer(t, cerr)
						jobs[r.User().(int)].canceled = cerr == nil
					}
				case aio.Prepared:
					if err == nil {
						t.Fatalf("Submit returned nil but left a request Prepared")
					}
					refused = append(refused, r)
				default:
					t.Fatalf("request is %v after Submit", r.State())
				}
			}
			if accepted != n {
				t.Fatalf("Submit returned %d, but %d requests are Submitted", n, accepted)
			}
			inflight += n
		}
		if inflight == 0 {
			if len(refused) > 0 {
				t.Fatalf("Submit refused %d requests with nothing in flight", len(refused))
			}
			continue
		}

		// Collect, with a min and an out size that vary.
		size := min(len(out), inflight)
		if rng.IntN(2) == 0 {
			size = 1 + rng.IntN(size)
		}
		least := 1
		switch rng.IntN(8) {
		case 0:
			least = 0 // poll
		case 1:
			least = size
		}
		k, err := c.Wait(ctx, least, out[:size])
		if err != nil || k < least || k > size {
			t.Fatalf("Wait(min %d, len(out) %d) with %d in flight = %d, %v", least, size, inflight, k, err)
		}
		for _, r := range out[:k] {
			seq, ok := r.User().(int)
			if !ok || seq < 0 || seq >= prepared {
				t.Fatalf("Wait returned a request with user %v, which names no submission", r.User())
			}
			if delivered[seq] {
				t.Fatalf("submission %d delivered twice", seq)
			}
			delivered[seq] = true
			job := &jobs[seq]
			if pi := byReq[r]; pi != job.req {
				t.Fatalf("submission %d came back on pool request %d, submitted on %d", seq, pi, job.req)
			}
			sr := &pool[job.req]
			n, rerr := r.Result()
			wantN := soakSlot
			if job.kind == soakFlush || job.kind == soakDataSync {
				wantN = 0
			}
			switch {
			case job.canceled:
				canceled++
				if !errors.Is(rerr, aio.ErrCanceled) {
					t.Fatalf("submission %d (kind %d): Cancel answered nil but Result() = %d, %v", seq, job.kind, n, rerr)
				}
				if job.kind == soakWrite || job.kind == soakWritev {
					nextVer[job.slot]-- // never happened; the next write reuses the version
				}
			case rerr != nil || n != wantN:
				t.Fatalf("submission %d (kind %d, slot %d): Result() = %d, %v; want %d, nil", seq, job.kind, job.slot, n, rerr, wantN)
			case job.kind == soakRead || job.kind == soakReadv:
				soakData(want, src, job.slot, job.ver)
				compare(t, user("submission %d: read of slot %d at version %d", seq, job.slot, job.ver), sr.buf, want)
			case job.kind == soakWrite || job.kind == soakWritev:
				version[job.slot] = job.ver
			}
			if job.slot >= 0 {
				busy[job.slot] = false
			}
			free = append(free, job.req)
		}
		inflight -= k
		finished += k
	}
	for seq, d := range delivered {
		if !d {
			t.Fatalf("submission %d never delivered", seq)
		}
	}
	whole := readFile(t, f.Name())
	for s := range soakSlots {
		soakData(want, src, s, version[s])
		compare(t, user("slot %d at version %d in the file", s, version[s]), whole[s*soakSlot:(s+1)*soakSlot], want)
	}
	t.Logf("%d requests: %d reads, %d writes, %d readv, %d writev, %d flushes, %d data syncs; %d canceled",
		total, counts[soakRead], counts[soakWrite], counts[soakReadv], counts[soakWritev], counts[soakFlush], counts[soakDataSync], canceled)
	if sz := fileSize(t, f); sz != soakSlots*soakSlot {
		t.Fatalf("file size %d, want %d", sz, soakSlots*soakSlot)
	}
}
