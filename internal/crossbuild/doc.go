// SPDX-License-Identifier: BSD-2-Clause

// Package crossbuild holds only a test: it builds and vets every package of
// the module, tests included, for the targets this machine cannot run
// (FreeBSD amd64 and arm64 first, then darwin, windows, openbsd and 32-bit
// Linux), so that the compile-time layout checks of package sys run on
// every `go test ./...` and the suite compiles wherever the library builds.
package crossbuild
