package aio_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sync"

	"github.com/fileaio/fileaio/aio"
)

// exampleFile writes size bytes of a fixed pattern to a new temporary file
// and returns its name.
func exampleFile(size int) string {
	dir, err := os.MkdirTemp("", "aio-example")
	if err != nil {
		log.Fatal(err)
	}
	name := filepath.Join(dir, "data")
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i % 251)
	}
	if err := os.WriteFile(name, b, 0o600); err != nil {
		log.Fatal(err)
	}
	return name
}

// An ordered SHA-256 of a file with 16 reads in flight: each chunk is read
// by its own goroutine, and the hash takes the chunks in file order.
func ExampleFile_ReadAt_orderedHash() {
	name := exampleFile(5<<20 + 123)
	defer os.RemoveAll(filepath.Dir(name))

	f, err := aio.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}

	const chunk, inFlight = 256 << 10, 16
	chunks := make([]chan []byte, (fi.Size()+chunk-1)/chunk)
	for i := range chunks {
		chunks[i] = make(chan []byte, 1)
	}
	slots := make(chan struct{}, inFlight)
	go func() {
		for i, c := range chunks {
			slots <- struct{}{} // at most inFlight chunks read and not yet hashed
			go func() {
				buf := make([]byte, chunk)
				n, err := f.ReadAt(buf, int64(i)*chunk)
				if err != nil && err != io.EOF {
					log.Fatal(err)
				}
				c <- buf[:n]
			}()
		}
	}()
	h := sha256.New()
	for _, c := range chunks {
		h.Write(<-c)
		<-slots
	}
	fmt.Printf("%d chunks, sha256 %x\n", len(chunks), h.Sum(nil)[:8])
	// Output: 21 chunks, sha256 0628356cd8d3d1f6
}

// A concurrent writer: 8 goroutines write interleaved records of one file
// at once, then one Sync makes them all durable.
func ExampleFile_WriteAt_concurrent() {
	dir, err := os.MkdirTemp("", "aio-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	f, err := aio.OpenFile(filepath.Join(dir, "records"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	const writers, perWriter, size = 8, 100, 32
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rec := make([]byte, size)
			for i := range perWriter {
				n := i*writers + w // record n of the file
				copy(rec, fmt.Sprintf("record %05d by writer %d\n", n, w))
				if _, err := f.WriteAt(rec, int64(n)*size); err != nil {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	if err := f.Sync(); err != nil { // covers every write that returned
		log.Fatal(err)
	}

	rec := make([]byte, size)
	for _, n := range []int{0, 1, 417, writers*perWriter - 1} {
		if _, err := f.ReadAt(rec, int64(n)*size); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\n", rec[:24])
	}
	// Output:
	// record 00000 by writer 0
	// record 00001 by writer 1
	// record 00417 by writer 1
	// record 00799 by writer 7
}
