// SPDX-License-Identifier: BSD-2-Clause

// Package sys is the raw kernel ABI fileaio uses: hand-laid structures with
// compile-time layout checks and thin system call wrappers, nothing more.
// Errors are unix.Errno values. Callers own every structure they pass; each
// wrapper's comment says what the kernel may still read or write after it
// returns.
package sys
