package aio

// vecLen is the number of bytes bufs holds, or -1 if that number
// overflows int (which buffers in memory can make only where int has 32
// bits, by listing a buffer many times).
func vecLen(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		if len(b) > maxInt-n {
			return -1
		}
		n += len(b)
	}
	return n
}

const maxInt = int(^uint(0) >> 1)

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
