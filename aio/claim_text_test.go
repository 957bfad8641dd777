package aio

import (
	"errors"
	"strings"
	"testing"
)

// Submit of a request another goroutine is preparing is refused with an
// error that says so; "Prepared, not Prepared" tells the caller nothing.
func TestSubmitWhilePreparingMessage(t *testing.T) {
	c, err := NewContext(Config{Backend: PortableBackend})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := NewRequest()
	r.word.Store(uint64(packState(statePreparing, 0))) // a Prepare in progress
	_, err = c.Submit(r)
	if !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Submit during Prepare: %v, want ErrInvalidState", err)
	}
	if strings.Contains(err.Error(), "Prepared, not Prepared") {
		t.Errorf("Submit during Prepare: %q contradicts itself", err)
	}
}
