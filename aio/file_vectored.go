package aio

// vecLen is the number of bytes bufs holds.
func vecLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// vecAdvance returns bufs without its first n bytes. It allocates only when
// n ends inside a buffer (a short transfer), never on a whole one.
func vecAdvance(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if n == 0 {
		return bufs
	}
	rest := make([][]byte, len(bufs))
	copy(rest, bufs)
	rest[0] = rest[0][n:]
	return rest
}
