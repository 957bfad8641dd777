package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// buildBinary builds aiobench into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "aiobench")
	out, err := exec.Command(gocmd, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs bin with args and TMPDIR set to tmp, and returns its
// stdout, stderr and exit status.
func runBinary(t *testing.T, bin, tmp string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %v: %v", args, err)
	}
	return out.String(), errOut.String(), status
}

var jsonFields = []string{
	"backend", "interface", "rw", "bs", "qd", "direct", "ops", "seconds", "iops", "mib_per_s",
	"lat_p50_us", "lat_p99_us", "lat_p999_us", "cpu_us_per_op",
	"kernel", "file", "size", "go_version", "gomaxprocs",
}

// wantInterface is the interface column of each backend's rows; the
// default backend's depends on the system, and is never "default".
var wantInterface = map[string][]string{
	"goroutines": {"os.File"},
	"portable":   {"goroutines"},
	"default":    {"linux-aio", "freebsd-aio", "goroutines", "linux-aio+goroutines", "freebsd-aio+goroutines"},
	"kernel":     {"linux-aio", "freebsd-aio"},
	"file":       {"direct", "linux-aio", "freebsd-aio", "goroutines"},
}

// parseJSONLines decodes stdout as one JSON object per line with exactly
// the documented fields.
func parseJSONLines(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for line := range strings.Lines(stdout) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := slices.Sorted(slices.Values(jsonFields))
		if !slices.Equal(keys, want) {
			t.Fatalf("JSON fields %v, want exactly %v", keys, want)
		}
		objs = append(objs, m)
	}
	return objs
}

func TestCLI(t *testing.T) {
	bin := buildBinary(t)

	t.Run("bad input", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "small")
		if err := os.WriteFile(file, make([]byte, 8192), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		for _, args := range [][]string{
			{"-bs", "0"},
			{"-bs", "3"},
			{"-bs", "1000"},
			{"-qd", "0"},
			{"-qd", "-5"},
			{"-rw", "nope"},
			{"-backend", "nope"},
			{"-size", "-1"},
			{"-size", "0"},
			{"-size", "12X"},
			{"-file", "/nonexistent/x"},
			{"-file", dir},
			{"-file", file, "-size", "1M"},
			{"-file", file, "-bs", "16K"},
			{"-direct", "-bs", "100"},
			{"-duration", "0s"},
			{"-duration", "soon"},
			{"-bs", "8M", "-size", "4M"},
			{"-compare", "-backend", "portable"},
			{"-nope"},
			{"extra"},
		} {
			stdout, stderr, status := runBinary(t, bin, tmp, args...)
			if status != 2 {
				t.Errorf("%v: exit status %d, want 2 (stderr %q)", args, status, stderr)
			}
			if stdout != "" {
				t.Errorf("%v: wrote %q to stdout", args, stdout)
			}
			if !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("%v: stderr %q is not one line", args, stderr)
			}
		}
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			t.Errorf("bad input created %v in TMPDIR", entries)
		}
	})

	t.Run("unusable TMPDIR", func(t *testing.T) {
		// The cache lives in TMPDIR: one that is missing, not a directory
		// or not writable is the environment's fault, reported as a usage
		// error (2), as a cache directory of another user is, before
		// anything is created.
		dir := t.TempDir()
		file := filepath.Join(dir, "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		dangling := filepath.Join(dir, "dangling")
		if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
			t.Fatal(err)
		}
		cacheIsFile := filepath.Join(dir, "cache-is-file")
		if err := os.Mkdir(cacheIsFile, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cacheIsFile, "fileaio-bench"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		cases := map[string]string{
			"missing":                  filepath.Join(dir, "missing"),
			"missing parent":           filepath.Join(dir, "missing", "tmp"),
			"a dangling symlink":       dangling,
			"a regular file":           file,
			"holding a file for cache": cacheIsFile,
		}
		if os.Geteuid() != 0 { // root writes anywhere
			readOnly := filepath.Join(dir, "read-only")
			if err := os.Mkdir(readOnly, 0o500); err != nil {
				t.Fatal(err)
			}
			cases["not writable"] = readOnly
		}
		for what, tmpdir := range cases {
			stdout, stderr, status := runBinary(t, bin, tmpdir, "-size", "1M", "-duration", "10ms", "-backend", "goroutines")
			if status != 2 {
				t.Errorf("TMPDIR %s: exit status %d, want 2 (stderr %q)", what, status, stderr)
			}
			if stdout != "" {
				t.Errorf("TMPDIR %s: wrote %q to stdout", what, stdout)
			}
			if !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("TMPDIR %s: stderr %q is not one line", what, stderr)
			}
		}
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{"cache-is-file", "dangling", "file"}
		if _, ok := cases["not writable"]; ok {
			want = append(want, "read-only")
		}
		if !slices.Equal(names, want) {
			t.Errorf("the refused runs left %v in the test's directory", names)
		}
	})

	// One temporary directory for the runs, so the cached file is made once.
	tmp := t.TempDir()
	for _, backend := range backendNames {
		t.Run("json "+backend, func(t *testing.T) {
			stdout, stderr, status := runBinary(t, bin, tmp, "-size", "8M", "-duration", "300ms", "-json", "-direct=false", "-backend", backend)
			if status != 0 {
				t.Fatalf("exit status %d, stderr %q", status, stderr)
			}
			objs := parseJSONLines(t, stdout)
			if len(objs) != 1 {
				t.Fatalf("%d JSON lines, want 1", len(objs))
			}
			m := objs[0]
			if !slices.Contains(wantInterface[backend], m["interface"].(string)) {
				t.Errorf("%s ran on interface %q, want one of %v", backend, m["interface"], wantInterface[backend])
			}
			if m["kernel"] == "" || m["go_version"] != runtime.Version() || m["gomaxprocs"].(float64) < 1 ||
				m["size"] != 8.0*(1<<20) || !strings.HasSuffix(m["file"].(string), "data-8388608.bin") {
				t.Errorf("run environment %v", m)
			}
			if m["backend"] != backend || m["rw"] != "randread" || m["bs"] != 4096.0 || m["qd"] != 32.0 || m["direct"] != false {
				t.Errorf("run description %v", m)
			}
			if m["ops"].(float64) <= 0 || m["iops"].(float64) <= 0 || m["mib_per_s"].(float64) <= 0 {
				t.Errorf("no work measured: %v", m)
			}
			if s := m["seconds"].(float64); s < 0.3 || s > 5 {
				t.Errorf("seconds = %v for a 300ms run", s)
			}
			p50, p99, p999 := m["lat_p50_us"].(float64), m["lat_p99_us"].(float64), m["lat_p999_us"].(float64)
			if p50 <= 0 || p50 > p99 || p99 > p999 {
				t.Errorf("latency percentiles %v, %v, %v", p50, p99, p999)
			}
			if m["cpu_us_per_op"].(float64) < 0 {
				t.Errorf("negative CPU per op: %v", m)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(tmp, cacheDirName, "data-8388608.bin")); err != nil {
		t.Errorf("the cached data file is not where it belongs: %v", err)
	}

	t.Run("compare json", func(t *testing.T) {
		stdout, stderr, status := runBinary(t, bin, tmp, "-size", "8M", "-duration", "100ms", "-json", "-direct=false", "-rw", "randrw", "-bs", "8K", "-qd", "4")
		if status != 0 {
			t.Fatalf("exit status %d, stderr %q", status, stderr)
		}
		objs := parseJSONLines(t, stdout)
		var got []string
		for _, m := range objs {
			got = append(got, m["backend"].(string))
			if m["rw"] != "randrw" || m["bs"] != 8192.0 || m["qd"] != 4.0 {
				t.Errorf("run description %v", m)
			}
		}
		if !slices.Equal(got, compareOrder) {
			t.Errorf("backends %v, want %v", got, compareOrder)
		}
	})

	// Workload flags keep the comparison: every backend runs unless
	// -backend names one; -compare is still accepted.
	for _, extra := range [][]string{{"-rw", "read", "-direct=false"}, {"-rw", "read", "-compare", "-direct=false"}} {
		t.Run("compare table "+strings.Join(extra, " "), func(t *testing.T) {
			args := append([]string{"-size", "8M", "-duration", "100ms"}, extra...)
			stdout, stderr, status := runBinary(t, bin, tmp, args...)
			if status != 0 {
				t.Fatalf("exit status %d, stderr %q", status, stderr)
			}
			header, table, _ := strings.Cut(stdout, "\n")
			for _, want := range []string{runtime.GOOS + "/" + runtime.GOARCH, runtime.Version(), "GOMAXPROCS", "data-8388608.bin", "8 MiB used"} {
				if !strings.Contains(header, want) {
					t.Errorf("header %q lacks %q", header, want)
				}
			}
			for _, want := range []string{"interface", "IOPS", "MiB/s", "p99.9 µs", "CPU µs/op", "vs goroutines", "baseline", "x IOPS", "os.File"} {
				if !strings.Contains(table, want) {
					t.Errorf("table lacks %q:\n%s", want, table)
				}
			}
			for _, b := range compareOrder {
				row := tableRow(t, table, b)
				if !slices.Contains(wantInterface[b], row[1]) {
					t.Errorf("row %v: interface %q, want one of %v", row, row[1], wantInterface[b])
				}
			}
			if strings.Contains(stderr, "\r") {
				t.Errorf("progress line written to a stderr that is not a terminal: %q", stderr)
			}
			// Instead, one line per finished backend.
			var done []string
			for line := range strings.Lines(stderr) {
				if b, _, ok := strings.Cut(strings.TrimPrefix(line, "aiobench: "), " "); ok && strings.Contains(line, " done: ") {
					done = append(done, b)
				}
			}
			if !slices.Equal(done, compareOrder) {
				t.Errorf("stderr reports %v finished, want %v:\n%s", done, compareOrder, stderr)
			}
		})
	}

	// Without -direct the run is buffered, then O_DIRECT where the file
	// system takes it, each round against its own baseline.
	t.Run("buffered then O_DIRECT", func(t *testing.T) {
		stdout, stderr, status := runBinary(t, bin, tmp, "-size", "8M", "-duration", "100ms", "-json")
		if status != 0 {
			t.Fatalf("exit status %d, stderr %q", status, stderr)
		}
		objs := parseJSONLines(t, stdout)
		var got []string
		for _, m := range objs {
			got = append(got, fmt.Sprintf("%s/%v", m["backend"], m["direct"]))
		}
		var want []string
		for _, direct := range []bool{false, true} {
			for _, b := range compareOrder {
				want = append(want, fmt.Sprintf("%s/%v", b, direct))
			}
		}
		if strings.Contains(stderr, "refuses O_DIRECT") {
			want = want[:len(compareOrder)]
		}
		if !slices.Equal(got, want) {
			t.Errorf("runs %v, want %v (stderr %q)", got, want, stderr)
		}
	})

	t.Run("user file survives writes", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "mine")
		if err := os.WriteFile(file, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, backend := range backendNames {
			_, stderr, status := runBinary(t, bin, tmp, "-file", file, "-rw", "write", "-duration", "100ms", "-json", "-backend", backend)
			if status != 0 {
				t.Fatalf("%s: exit status %d, stderr %q", backend, status, stderr)
			}
		}
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatalf("the user's file is gone: %v", err)
		}
		if fi.Size() != 1<<20 {
			t.Errorf("the user's file changed size: %d bytes", fi.Size())
		}
		data, _ := os.ReadFile(file)
		if bytes.Equal(data, make([]byte, 1<<20)) {
			t.Error("a write workload wrote nothing to the file")
		}
	})
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "4k": 4096, "64M": 64 << 20, "1G": 1 << 30, "1GiB": 1 << 30, "2gb": 2 << 30, "1T": 1 << 40,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5G", "G", "12X", "99999999999T", "1I", "1B", "GiB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
	if got := formatSize(1 << 30); got != "1 GiB" {
		t.Errorf("formatSize(1<<30) = %q", got)
	}
}

// tableRow returns the fields of the table row of backend.
func tableRow(t *testing.T, table, backend string) []string {
	t.Helper()
	for line := range strings.Lines(table) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == backend {
			return f
		}
	}
	t.Fatalf("no row for %s in\n%s", backend, table)
	return nil
}

func TestCLIHelp(t *testing.T) {
	bin := buildBinary(t)
	tmp := t.TempDir()
	stdout, stderr, status := runBinary(t, bin, tmp, "-h")
	if status != 0 || stdout != "" {
		t.Fatalf("-h: exit status %d, stdout %q", status, stdout)
	}
	dir := filepath.Join(tmp, cacheDirName)
	for _, want := range []string{"rm -r " + dir, filepath.Join(dir, "data-1073741824.bin"), "OVERWRITES", "multiple of 512"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-h does not say %q:\n%s", want, stderr)
		}
	}
}

// TestCLIStaleTemporaries: a temporary data file left by a run that died
// while creating the cache is removed by the next run; one that is still
// being written (recently modified) is left alone.
func TestCLIStaleTemporaries(t *testing.T) {
	bin := buildBinary(t)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, cacheDirName)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(dir, "data-111.tmp"), filepath.Join(dir, "data-222.tmp")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, make([]byte, 4096), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAfter)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	_, stderr, status := runBinary(t, bin, tmp, "-size", "1M", "-duration", "50ms", "-backend", "goroutines")
	if status != 0 {
		t.Fatalf("exit status %d, stderr %q", status, stderr)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale temporary is still there: %v", err)
	}
	if !strings.Contains(stderr, "removed "+stale) {
		t.Errorf("stderr does not report the removal: %q", stderr)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary being written was removed: %v", err)
	}
}
