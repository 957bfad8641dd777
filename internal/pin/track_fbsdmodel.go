//go:build fbsdmodel

package pin

import (
	"sync"
	"unsafe"
)

// Under the fbsdmodel build every pinned region is recorded, so that the
// FreeBSD model can check that each address its "kernel" touches is pinned.
var regions struct {
	sync.Mutex
	m map[uintptr]region // start address -> region
}

type region struct {
	size  uintptr
	count int // Sets pinning a region that starts here
}

// tracked lists the start addresses one Set recorded.
type tracked struct{ starts []uintptr }

func (t *tracked) add(p unsafe.Pointer, size uintptr) {
	a := uintptr(p)
	regions.Lock()
	if regions.m == nil {
		regions.m = make(map[uintptr]region)
	}
	r := regions.m[a]
	r.count++
	r.size = max(r.size, size)
	regions.m[a] = r
	regions.Unlock()
	t.starts = append(t.starts, a)
}

func (t *tracked) clear() {
	regions.Lock()
	for _, a := range t.starts {
		r := regions.m[a]
		if r.count--; r.count <= 0 {
			delete(regions.m, a)
		} else {
			regions.m[a] = r
		}
	}
	regions.Unlock()
	t.starts = t.starts[:0]
}

// Covers reports whether [addr, addr+n) lies inside one region pinned
// through this package.
func Covers(addr, n uintptr) bool {
	regions.Lock()
	defer regions.Unlock()
	for a, r := range regions.m {
		if addr >= a && addr+n <= a+r.size {
			return true
		}
	}
	return false
}
