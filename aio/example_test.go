package aio_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// scratchFile returns a new temporary file and a function that closes and
// removes it.
func scratchFile() (*os.File, func()) {
	f, err := os.CreateTemp("", "aio-example-*")
	if err != nil {
		log.Fatal(err)
	}
	return f, func() { f.Close(); os.Remove(f.Name()) }
}

// A write, then a read of the same bytes, each submitted to a Context and
// collected with Wait.
func Example() {
	f, done := scratchFile()
	defer done()

	c, err := aio.NewContext(aio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	r := aio.NewRequest()
	out := make([]*aio.Request, 1)
	do := func() int {
		if _, err := c.Submit(r); err != nil {
			log.Fatal(err)
		}
		if _, err := c.Wait(context.Background(), 1, out); err != nil {
			log.Fatal(err)
		}
		n, err := r.Result()
		if err != nil {
			log.Fatal(err)
		}
		return n
	}

	if err := r.PrepareWrite(f, 0, []byte("hello, world"), nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", do(), "bytes")

	buf := make([]byte, 64)
	if err := r.PrepareRead(f, 0, buf, nil); err != nil { // a completed request is prepared again
		log.Fatal(err)
	}
	n := do()
	fmt.Printf("read %d bytes: %q\n", n, buf[:n])
	// Output:
	// wrote 12 bytes
	// read 12 bytes: "hello, world"
}

// A batch larger than the context's bound: Submit takes what fits, the
// rest stay Prepared with an error matching ErrAgain, and go in again as
// completions make room.
func ExampleContext_Submit_batch() {
	f, done := scratchFile()
	defer done()
	const blocks, size = 64, 4096
	if err := f.Truncate(blocks * size); err != nil {
		log.Fatal(err)
	}

	c, err := aio.NewContext(aio.Config{MaxRequests: 8})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	pending := make([]*aio.Request, blocks)
	for i := range pending {
		pending[i] = aio.NewRequest()
		if err := pending[i].PrepareRead(f, int64(i*size), make([]byte, size), i); err != nil {
			log.Fatal(err)
		}
	}
	out := make([]*aio.Request, blocks)
	inFlight, total := 0, 0
	for len(pending) > 0 || inFlight > 0 {
		if len(pending) > 0 {
			n, err := c.Submit(pending...)
			inFlight += n
			if err != nil && !errors.Is(err, aio.ErrAgain) {
				log.Fatal(err)
			}
			kept := pending[:0] // those still Prepared were refused for now
			for _, r := range pending {
				if r.State() == aio.Prepared {
					kept = append(kept, r)
				}
			}
			pending = kept
		}
		n, err := c.Wait(context.Background(), 1, out)
		inFlight -= n
		for _, r := range out[:n] {
			got, err := r.Result()
			if err != nil {
				log.Fatalf("block %v: %v", r.User(), err)
			}
			total += got
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("read", total, "bytes in", blocks, "requests")
	// Output: read 262144 bytes in 64 requests
}

// Wait with a deadline: it returns the context's error once the deadline
// passes, with whatever completed before it in out[:n].
func ExampleContext_Wait_deadline() {
	c, err := aio.NewContext(aio.Config{WaitWithoutPending: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	n, err := c.Wait(ctx, 1, make([]*aio.Request, 1))
	fmt.Println(n, errors.Is(err, context.DeadlineExceeded))
	// Output: 0 true
}

// Cancel asks the kernel to drop a submitted request. Whatever the kernel
// answers, the request comes back from Wait exactly once: canceled (its
// Result is ErrCanceled) or with its normal result.
func ExampleRequest_Cancel() {
	f, done := scratchFile()
	defer done()

	c, err := aio.NewContext(aio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	r := aio.NewRequest()
	if err := r.PrepareWrite(f, 0, make([]byte, 1<<20), nil); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Submit(r); err != nil {
		log.Fatal(err)
	}
	switch err := r.Cancel(); {
	case err == nil:
		// canceled: Wait returns it with ErrCanceled
	case errors.Is(err, aio.ErrInProgress), errors.Is(err, aio.ErrAlreadyCompleted):
		// too late (on Linux, always): it completes normally
	default:
		log.Fatal(err)
	}
	out := make([]*aio.Request, 1)
	if _, err := c.Wait(context.Background(), 1, out); err != nil {
		log.Fatal(err)
	}
	n, err := r.Result()
	if !errors.Is(err, aio.ErrCanceled) && (err != nil || n != 1<<20) {
		log.Fatal(n, err) // neither canceled nor complete
	}
	fmt.Println("collected:", out[0] == r, r.State() == aio.Completed)
	// Output: collected: true true
}

// Wakeup from another goroutine ends a blocked Wait with ErrInterrupted;
// a Wakeup that comes before the Wait is kept for it, so none is lost.
func ExampleContext_Wakeup() {
	c, err := aio.NewContext(aio.Config{WaitWithoutPending: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	go func() {
		time.Sleep(10 * time.Millisecond)
		if err := c.Wakeup(); err != nil {
			log.Fatal(err)
		}
	}()
	n, err := c.Wait(context.Background(), 1, make([]*aio.Request, 1))
	fmt.Println(n, errors.Is(err, aio.ErrInterrupted))
	// Output: 0 true
}
