//go:build unix

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

// Draining a context before Close, after a Wait that ended early (here its
// deadline passed while a read of an empty pipe was in flight): cancel
// what should not finish, then collect until nothing is in flight. A
// request the kernel cannot cancel any more must be let finish (here, by
// giving the pipe its data).
func ExampleContext_Close_drain() {
	pr, pw, err := os.Pipe()
	if err != nil {
		log.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()

	c, err := aio.NewContext(aio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	r := aio.NewRequest()
	if err := r.PrepareRead(pr, 0, make([]byte, 4), nil); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Submit(r); err != nil {
		log.Fatal(err)
	}
	out := make([]*aio.Request, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	_, err = c.Wait(ctx, 1, out)
	cancel()
	fmt.Println("wait:", errors.Is(err, context.DeadlineExceeded), "close:", errors.Is(c.Close(), aio.ErrBusy))

	// The drain.
	if err := r.Cancel(); errors.Is(err, aio.ErrInProgress) {
		pw.Write([]byte("data")) // running: it ends once it has its data
	}
	for c.InFlight() > 0 {
		if _, err := c.Wait(context.Background(), 1, out); err != nil && !errors.Is(err, aio.ErrInterrupted) {
			log.Fatal(err)
		}
	}
	fmt.Println("in flight:", c.InFlight(), "close:", c.Close())
	// Output:
	// wait: true close: true
	// in flight: 0 close: <nil>
}
