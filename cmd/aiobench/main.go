// SPDX-License-Identifier: BSD-2-Clause

// Command aiobench runs an I/O workload on a file through package aio, and
// through plain goroutines for comparison, and reports IOPS, bandwidth,
// latency percentiles and CPU per request for each backend; -backend runs
// one.
//
// Without -file it works on a file of -size random bytes that it creates
// once and keeps in os.TempDir()/fileaio-bench/ for later runs (-h names
// the directory). Bad flags (a -qd above what the system takes, a -size
// its disk cannot hold among them), a -file it cannot open or that is not
// a regular file or a device, or, without -file, a TMPDIR it cannot keep
// its cache in (missing, not a directory, not writable), end it with one
// line on stderr and exit status 2, before anything is created. Ctrl-C
// ends the run: the backends that finished are reported, then a line
// saying it was interrupted, and the exit status is 130; a second Ctrl-C,
// while the run stops, ends it at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/fileaio/fileaio/aio"
)

// usage is the -h text; it names this system's cache directory.
func usage() string {
	return `usage: aiobench [flags]

Runs an I/O workload on a file and reports IOPS, MiB/s, latency percentiles
and CPU per request for each backend in turn (goroutines, file, default,
portable), with ratios against the goroutines; -backend runs one. Without
-direct it runs buffered, then again with O_DIRECT where the file system
takes it; -direct or -direct=false runs one of the two. The buffered round
first reads the data once, so that every backend reads the page cache.

  -file path     use this file (never created, truncated or deleted). A
                 write workload (-rw randwrite, write, randrw) OVERWRITES
                 its data. Default: a cached file of -size random bytes,
                 ` + cachePath(1<<30) + ` at the default size
  -size n        data size (default 1G); with -file, at most the file's size
                 and by default all of it. Suffixes K, M, G, T (powers of 1024)
  -rw mode       randread (default), randwrite, read, write, randrw
  -bs n          request size in bytes, a multiple of 512 (default 4096;
                 suffixes allowed)
  -qd n          requests in flight (default 32)
  -duration d    how long each backend runs (default 5s)
  -direct        only O_DIRECT (aligned buffers; -bs must be a multiple of
                 the alignment); -direct=false: only buffered
  -backend name  run only this backend: default (an aio.Context routing each
                 request to the kernel's AIO or to goroutines), portable
                 (goroutines only), kernel (the kernel's AIO only), file (one
                 aio.File shared by -qd goroutines calling ReadAt/WriteAt),
                 or goroutines (-qd goroutines calling ReadAt/WriteAt on an
                 *os.File, no aio: the baseline)
  -compare       run every backend (the default; kept for old scripts)
  -json          one JSON object per line per backend run
  -seed n        seed of the offsets and of the written data (default 1)

The interface column names what served each run: os.File (the baseline),
linux-aio or freebsd-aio (the kernel's AIO), goroutines (the goroutine
engine), a mix of the two (linux-aio+goroutines), or direct (a File making
each system call in the calling goroutine).

The cached data files live in ` + cacheDir() + `; remove them with
  rm -r ` + cacheDir() + `
Ctrl-C stops the run and prints the backends that finished; a second
Ctrl-C while it stops quits at once.
`
}

var backendNames = []string{"default", "portable", "kernel", "file", "goroutines"}

// compareOrder is the order of -compare: the baseline first.
var compareOrder = []string{"goroutines", "file", "default", "portable"}

// blockUnit is what -bs must be a multiple of: the sector size every disk
// and O_DIRECT accept, so that offsets stay aligned.
const blockUnit = 512

// maxBuffers bounds qd*bs, the memory of the request buffers.
const maxBuffers = 4 << 30

type config struct {
	file     string
	size     int64
	sizeSet  bool
	rw       rwMode
	bs       int64
	qd       int
	dur      time.Duration
	direct   bool
	modes    []bool // direct or not, for each round of backends
	backends []string
	json     bool
	seed     uint64
}

// parseFlags parses and validates the command line; nothing is opened.
func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("aiobench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	size := sizeFlag{1 << 30}
	bs := sizeFlag{4096}
	cfg := &config{}
	fs.StringVar(&cfg.file, "file", "", "")
	fs.Var(&size, "size", "")
	rw := fs.String("rw", "randread", "")
	fs.Var(&bs, "bs", "")
	cfg.qd, cfg.dur, cfg.seed = 32, 5*time.Second, 1
	fs.Var(intFlag{&cfg.qd}, "qd", "")
	fs.Var(durationFlag{&cfg.dur}, "duration", "")
	fs.BoolVar(&cfg.direct, "direct", false, "")
	backend := fs.String("backend", "", "")
	compare := fs.Bool("compare", false, "")
	fs.BoolVar(&cfg.json, "json", false, "")
	fs.Var(uint64Flag{&cfg.seed}, "seed", "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.size, cfg.sizeSet, cfg.bs = size.v, set["size"], bs.v
	if set["file"] && cfg.file == "" {
		return nil, errors.New("-file \"\": empty path (leave -file out to use the cached data file)")
	}

	switch {
	case set["direct"]:
		cfg.modes = []bool{cfg.direct}
	case haveDirect:
		cfg.modes = []bool{false, true}
	default:
		cfg.modes = []bool{false}
	}
	var err error
	if cfg.rw, err = parseRW(*rw); err != nil {
		return nil, err
	}
	switch {
	case *compare && set["backend"]:
		return nil, errors.New("-compare runs every backend; drop -backend")
	case !set["backend"]:
		cfg.backends = compareOrder
	default:
		if !validBackend(*backend) {
			return nil, fmt.Errorf("-backend %q: want one of %s", *backend, strings.Join(backendNames, ", "))
		}
		cfg.backends = []string{*backend}
	}
	return cfg, cfg.validate()
}

func validBackend(name string) bool {
	for _, b := range backendNames {
		if name == b {
			return true
		}
	}
	return false
}

// validate checks what does not need the file.
func (c *config) validate() error {
	switch {
	case c.bs%blockUnit != 0:
		return fmt.Errorf("-bs %d: must be a multiple of %d bytes", c.bs, blockUnit)
	case c.qd <= 0:
		return fmt.Errorf("-qd %d: must be at least 1", c.qd)
	case c.dur <= 0:
		return fmt.Errorf("-duration %v: must be positive", c.dur)
	case c.bs > c.size && (c.file == "" || c.sizeSet):
		return fmt.Errorf("-bs %d is larger than -size %d", c.bs, c.size)
	case c.bs > maxBuffers || int64(c.qd) > maxBuffers/c.bs:
		return fmt.Errorf("-qd %d x -bs %d: the buffers would exceed %s", c.qd, c.bs, formatSize(maxBuffers))
	}
	if c.usesAIO() {
		if l, err := aio.SystemLimits(); err == nil && l.MaxOutstanding > 0 && c.qd > l.MaxOutstanding {
			return fmt.Errorf("-qd %d: this system allows at most %d requests in flight", c.qd, l.MaxOutstanding)
		}
	}
	for _, b := range c.backends {
		if limit, ok := contextLimit(b, c.qd); ok && c.qd > limit {
			return fmt.Errorf("-qd %d: the %s backend's aio.Context takes at most %d requests in flight here", c.qd, b, limit)
		}
	}
	if c.direct {
		if !haveDirect {
			return errors.New("-direct: this OS has no O_DIRECT")
		}
		if a := directAlignment(); c.bs%int64(a) != 0 {
			return fmt.Errorf("-direct needs -bs a multiple of %d, the O_DIRECT alignment here (got %d)", a, c.bs)
		}
	}
	return nil
}

// contextBackends are the backends that run on one aio.Context.
var contextBackends = map[string]aio.Backend{
	"default":  aio.DefaultBackend,
	"portable": aio.PortableBackend,
	"kernel":   aio.KernelBackend,
}

// contextLimit returns the requests in flight a Context of the named
// backend takes when asked for qd; ok is false for a backend without one,
// or one that cannot start here (its run reports why).
func contextLimit(backend string, qd int) (limit int, ok bool) {
	b, ok := contextBackends[backend]
	if !ok {
		return 0, false
	}
	ctx, err := aio.NewContext(aio.Config{MaxRequests: qd, Backend: b})
	if err != nil {
		return 0, false
	}
	defer ctx.Close()
	return ctx.MaxRequests(), true
}

func (c *config) usesAIO() bool {
	for _, b := range c.backends {
		if b != "goroutines" {
			return true
		}
	}
	return false
}

// directAlignment is the alignment of -direct buffers, offsets and sizes:
// the rule aio.AlignedBuffer follows.
func directAlignment() int {
	if l, err := aio.SystemLimits(); err == nil && l.BufferAlignment > 0 {
		return l.BufferAlignment
	}
	return 4096
}

// exitError carries the exit status of a failure.
type exitError struct {
	status int
	err    error
}

func (e *exitError) Error() string { return e.err.Error() }

func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error { return &exitError{2, err} }

func main() {
	ctx, stop := interruptContext(func(msg string) { fmt.Fprintf(os.Stderr, "aiobench: %s\n", msg) })
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr.Fd()))
	stop()
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(os.Stderr, usage())
		return
	}
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(os.Stderr, "aiobench: %s\n", msg)
		status := 1
		var e *exitError
		if errors.As(err, &e) {
			status = e.status
		}
		os.Exit(status)
	}
}

// interrupted is the error of a run stopped by ctx (Ctrl-C), returned
// after the report of what finished.
func interrupted(format string, args ...any) error {
	return &exitError{130, fmt.Errorf("interrupted: "+format, args...)}
}

// run validates everything, opens or creates the data file, and runs each
// backend in turn, writing the report to stdout. When ctx is done it stops,
// reports the backends that finished and returns an error saying so.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, stderrTTY bool) error {
	cfg, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return usageErr(err)
	}
	note := func(msg string) { fmt.Fprintf(stderr, "aiobench: %s\n", msg) }
	headed := false
	for i, direct := range cfg.modes {
		cfg.direct = direct
		err := runMode(ctx, cfg, stdout, stderr, note, stderrTTY, &headed)
		if err != nil && i > 0 && errors.Is(err, errDirectRefused) {
			note(err.Error() + "; the O_DIRECT round is skipped")
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// warmCache reads the first size bytes of f once, so that every backend of
// a buffered round reads from the page cache, the first one included.
func warmCache(ctx context.Context, f *os.File, size int64) error {
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// errDirectRefused: the file system holding the data refuses O_DIRECT.
var errDirectRefused = errors.New("the file system refuses O_DIRECT")

// runMode runs every backend on the data opened buffered or with O_DIRECT
// (cfg.direct), and reports them in one table.
func runMode(ctx context.Context, cfg *config, stdout, stderr io.Writer, note func(string), stderrTTY bool, headed *bool) error {
	f, region, err := openData(ctx, cfg, note)
	if ctx.Err() != nil {
		return interrupted("no backend ran")
	}
	if err != nil {
		if cfg.direct && errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("%w: %w", errDirectRefused, err)
		}
		return err
	}
	defer f.Close()
	if cfg.direct {
		if err := dropCache(f); err != nil {
			note(fmt.Sprintf("the data's pages stay in the page cache (%v): O_DIRECT writes over them may be served by goroutines", err))
		}
	}
	if !cfg.direct {
		if err := warmCache(ctx, f, region); err != nil {
			if ctx.Err() != nil {
				return interrupted("no backend ran")
			}
			return fmt.Errorf("reading the data into the page cache: %w", err)
		}
	}

	env := describeRun(f.Name(), region)
	spec := &runSpec{
		ctx:    ctx,
		f:      f,
		w:      newWorkload(cfg.rw, cfg.bs, region, cfg.seed),
		qd:     cfg.qd,
		direct: cfg.direct,
		dur:    cfg.dur,
	}
	if stderrTTY {
		spec.progress = stderr
	}
	if !cfg.json && !*headed {
		fmt.Fprintln(stdout, env.header(cfg.seed, cfg.dur))
		*headed = true
	}
	var results []result
	var stopped string // the backend Ctrl-C stopped
	for _, b := range cfg.backends {
		spec.backend = b
		spec.w.seq.Store(0)
		r, err := runBackend(spec)
		if ctx.Err() != nil {
			stopped = b
			break
		}
		if err != nil {
			return fmt.Errorf("%s backend: %w", b, err)
		}
		if !stderrTTY {
			note(fmt.Sprintf("%s (%s) done: %.0f IOPS over %.1fs, %s", b, r.via, r.iops(), r.elapsed.Seconds(), modeName(r.direct)))
		}
		if cfg.json {
			if err := writeJSON(stdout, &r, env); err != nil {
				return err
			}
		}
		results = append(results, r)
	}
	if !cfg.json && len(results) > 0 {
		var base *result
		if len(results) > 1 && results[0].backend == "goroutines" {
			base = &results[0]
		}
		if err := writeTable(stdout, results, base); err != nil {
			return err
		}
	}
	if stopped != "" {
		return interrupted("%d of %d backends finished; %s was stopped and is not reported", len(results), len(cfg.backends), stopped)
	}
	return nil
}

func modeName(direct bool) string {
	if direct {
		return "O_DIRECT"
	}
	return "buffered"
}

// runBackend runs the workload once on the named backend.
func runBackend(s *runSpec) (result, error) {
	runtime.GC() // start each run without the previous run's garbage
	switch s.backend {
	case "goroutines":
		return runGoroutines(s)
	case "portable":
		return runAIO(s, aio.PortableBackend)
	case "kernel":
		return runAIO(s, aio.KernelBackend)
	case "file":
		return runFile(s)
	default:
		return runAIO(s, aio.DefaultBackend)
	}
}
