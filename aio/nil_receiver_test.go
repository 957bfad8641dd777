package aio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"syscall"
	"testing"
)

// nilCalls calls every exported method of a nil *Context, *Request, *File
// and *Engine, by type and method name, and returns what it returned.
func nilCalls(file *os.File) map[string]map[string]func() []any {
	var (
		c   *Context
		r   *Request
		f   *File
		e   *Engine
		buf = make([]byte, 8)
	)
	bufs := [][]byte{buf}
	ctx := context.Background()
	return map[string]map[string]func() []any{
		"Context": {
			"Kernel":      func() []any { return []any{c.Kernel()} },
			"KernelError": func() []any { return []any{c.KernelError()} },
			"MaxRequests": func() []any { return []any{c.MaxRequests()} },
			"InFlight":    func() []any { return []any{c.InFlight()} },
			"Stats":       func() []any { return []any{c.Stats()} },
			"Submit":      func() []any { n, err := c.Submit(); return []any{n, err} },
			"Wait":        func() []any { n, err := c.Wait(ctx, 0, make([]*Request, 1)); return []any{n, err} },
			"Wakeup":      func() []any { return []any{c.Wakeup()} },
			"Close":       func() []any { return []any{c.Close()} },
		},
		"Request": {
			"PrepareRead":     func() []any { return []any{r.PrepareRead(file, 0, buf, nil)} },
			"PrepareWrite":    func() []any { return []any{r.PrepareWrite(file, 0, buf, nil)} },
			"PrepareFlush":    func() []any { return []any{r.PrepareFlush(file, nil)} },
			"PrepareDataSync": func() []any { return []any{r.PrepareDataSync(file, nil)} },
			"PrepareReadv":    func() []any { return []any{r.PrepareReadv(file, 0, bufs, nil)} },
			"PrepareWritev":   func() []any { return []any{r.PrepareWritev(file, 0, bufs, nil)} },
			"User":            func() []any { return []any{r.User()} },
			"State":           func() []any { return []any{r.State()} },
			"Result":          func() []any { n, err := r.Result(); return []any{n, err} },
			"Cancel":          func() []any { return []any{r.Cancel()} },
		},
		"File": {
			"Kernel":         func() []any { return []any{f.Kernel()} },
			"Name":           func() []any { return []any{f.Name()} },
			"Stat":           func() []any { fi, err := f.Stat(); return []any{fi, err} },
			"Close":          func() []any { return []any{f.Close()} },
			"ReadAt":         func() []any { n, err := f.ReadAt(buf, 0); return []any{n, err} },
			"WriteAt":        func() []any { n, err := f.WriteAt(buf, 0); return []any{n, err} },
			"ReadAtContext":  func() []any { n, err := f.ReadAtContext(ctx, buf, 0); return []any{n, err} },
			"WriteAtContext": func() []any { n, err := f.WriteAtContext(ctx, buf, 0); return []any{n, err} },
			"ReadvAt":        func() []any { n, err := f.ReadvAt(bufs, 0); return []any{n, err} },
			"WritevAt":       func() []any { n, err := f.WritevAt(bufs, 0); return []any{n, err} },
			"Sync":           func() []any { return []any{f.Sync()} },
			"DataSync":       func() []any { return []any{f.DataSync()} },
		},
		"Engine": {
			"OpenFile":    func() []any { af, err := e.OpenFile(file.Name(), os.O_RDONLY, 0); return []any{af, err} },
			"NewFile":     func() []any { af, err := e.NewFile(file); return []any{af, err} },
			"Kernel":      func() []any { return []any{e.Kernel()} },
			"KernelError": func() []any { return []any{e.KernelError()} },
			"Stats":       func() []any { return []any{e.Stats()} },
			"Close":       func() []any { return []any{e.Close()} },
		},
	}
}

// TestNilReceivers: every exported method of a nil *Context, *Request,
// *File and *Engine returns without panicking, as *os.File's do: an error
// matching os.ErrInvalid and syscall.EINVAL where it returns one, zero
// values for the rest. The table must name every exported method of the
// four types, so that a new one without nil handling fails here.
func TestNilReceivers(t *testing.T) {
	file := smFile(t, 16)
	calls := nilCalls(file)
	types := map[string]reflect.Type{
		"Context": reflect.TypeFor[*Context](),
		"Request": reflect.TypeFor[*Request](),
		"File":    reflect.TypeFor[*File](),
		"Engine":  reflect.TypeFor[*Engine](),
	}
	errType := reflect.TypeFor[error]()
	for name, typ := range types {
		var methods, listed []string
		for i := range typ.NumMethod() {
			methods = append(methods, typ.Method(i).Name)
		}
		for m := range calls[name] {
			listed = append(listed, m)
		}
		slices.Sort(methods)
		slices.Sort(listed)
		if !slices.Equal(methods, listed) {
			t.Errorf("*%s: exported methods %v; the table calls %v", name, methods, listed)
		}
		for _, m := range methods {
			call := calls[name][m]
			if call == nil {
				continue
			}
			t.Run(name+"."+m, func(t *testing.T) {
				var out []any
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("(*%s)(nil).%s panics: %v", name, m, p)
						}
					}()
					out = call()
				}()
				mt, _ := typ.MethodByName(m)
				if got, want := len(out), mt.Type.NumOut(); got != want {
					t.Fatalf("the table gives %d results, the method has %d", got, want)
				}
				for i, v := range out {
					if mt.Type.Out(i) == errType {
						err, _ := v.(error)
						if !errors.Is(err, os.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
							t.Errorf("result %d = %v; want an error matching os.ErrInvalid and syscall.EINVAL", i, err)
						}
						continue
					}
					if v != nil && !reflect.ValueOf(v).IsZero() {
						t.Errorf("result %d = %v; want the zero value", i, v)
					}
				}
			})
		}
	}
	if _, err := file.ReadAt(make([]byte, 16), 0); err != nil {
		t.Errorf("the *os.File given to a nil Engine's NewFile: %v; want it left open", err)
	}
}

// TestNilRequestArguments: a nil *Request in Submit's list is refused with
// an error matching ErrInvalidState, os.ErrInvalid and syscall.EINVAL, and
// the call changes nothing: the other requests stay Prepared and unowned,
// nothing is in flight, and they can be submitted next. Submit on a nil
// Context leaves its requests so too.
func TestNilRequestArguments(t *testing.T) {
	c, fb := newFakeContext(t, Config{}, 16, 8)
	defer c.Close()
	fb.auto = true
	file := smFile(t, 64)
	reqs := smPrepared(t, file, 2)
	for _, list := range [][]*Request{{nil}, {reqs[0], nil, reqs[1]}, {reqs[0], reqs[1], nil}} {
		n, err := c.Submit(list...)
		if n != 0 || !errors.Is(err, ErrInvalidState) || !errors.Is(err, os.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Submit(%s) = %d, %v; want 0 and an error matching ErrInvalidState, os.ErrInvalid and syscall.EINVAL", listString(list), n, err)
		}
		checkUntouched(t, c, reqs)
	}
	var nilCtx *Context
	if n, err := nilCtx.Submit(reqs...); n != 0 || !errors.Is(err, os.ErrInvalid) {
		t.Errorf("Submit on a nil Context = %d, %v; want 0, os.ErrInvalid", n, err)
	}
	checkUntouched(t, c, reqs)
	if n, err := c.Submit(reqs...); n != 2 || err != nil {
		t.Fatalf("Submit after the refusals = %d, %v; want 2, nil", n, err)
	}
	smWaitN(t, c, 2)
}

func listString(list []*Request) string {
	s := "["
	for i, r := range list {
		if i > 0 {
			s += " "
		}
		if r == nil {
			s += "nil"
		} else {
			s += fmt.Sprint(r.State())
		}
	}
	return s + "]"
}

func checkUntouched(t *testing.T, c *Context, reqs []*Request) {
	t.Helper()
	for i, r := range reqs {
		if r.State() != Prepared || r.ownerCtx() != nil {
			t.Errorf("request %d after a refused Submit: %v, owned %v; want Prepared, unowned", i, r.State(), r.ownerCtx() != nil)
		}
	}
	if n := c.InFlight(); n != 0 {
		t.Errorf("InFlight after a refused Submit = %d, want 0", n)
	}
}
