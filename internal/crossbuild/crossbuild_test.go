package crossbuild

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// targets are checked with go vet, which type-checks every package and its
// tests (and so every layout assertion), plus go build of the commands:
// FreeBSD first, then the systems where the portable backend serves
// (README's test command must compile there), and 32-bit Linux.
var targets = []struct{ goos, goarch string }{
	{"freebsd", "amd64"},
	{"freebsd", "arm64"},
	{"linux", "arm64"},
	{"linux", "386"},
	{"linux", "arm"},
	{"darwin", "arm64"},
	{"windows", "amd64"},
	{"openbsd", "amd64"},
}

func TestCrossBuild(t *testing.T) {
	root := moduleRoot(t)
	consultSources(t, root)
	for _, tg := range targets {
		t.Run(tg.goos+"_"+tg.goarch, func(t *testing.T) {
			t.Parallel()
			env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+tg.goos, "GOARCH="+tg.goarch)
			for _, args := range [][]string{{"vet", "./..."}, {"build", "./..."}} {
				cmd := exec.Command("go", args...)
				cmd.Dir = root
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("CGO_ENABLED=0 GOOS=%s GOARCH=%s go %s: %v\n%s", tg.goos, tg.goarch, strings.Join(args, " "), err, out)
				}
			}
		})
	}
}

// consultSources reads every Go source and module file of the module. The
// go command caches a test's result keyed by the files the test itself
// opened; the checks run in subprocesses, so without this a changed layout
// file would be answered from the cache.
func consultSources(t *testing.T, root string) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum" {
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func moduleRoot(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}
