// SPDX-License-Identifier: BSD-2-Clause

package tools

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// importer is a throwaway module that requires the library through a
// replace directive pointing at this checkout, as a new user's would.
type importer struct {
	dir      string
	modcache string // its own module cache
	env      []string
}

// newImporter writes the module with files (path: content) into a temporary
// directory. Its go commands run offline, serving modules from this
// machine's module cache into a fresh cache of their own, so that what
// they fetch can be inspected.
func newImporter(t *testing.T, files map[string]string) *importer {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	shared := strings.TrimSpace(goOut(t, "", nil, "env", "GOMODCACHE"))
	im := &importer{dir: t.TempDir(), modcache: filepath.Join(t.TempDir(), "modcache")}
	im.env = append(os.Environ(),
		"GOFLAGS=-mod=mod",
		"GOPROXY=file://"+filepath.ToSlash(filepath.Join(shared, "cache", "download")),
		"GOSUMDB=off",
		"GOTOOLCHAIN=local",
		"GOMODCACHE="+im.modcache,
	)
	files["go.mod"] = "module example.com/importer\n\ngo 1.25.0\n\n" +
		"require github.com/fileaio/fileaio v0.0.0\n\n" +
		"replace github.com/fileaio/fileaio => " + filepath.ToSlash(root) + "\n"
	for name, content := range files {
		path := filepath.Join(im.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { goOut(t, im.dir, im.env, "clean", "-modcache") }) // its files are read-only
	return im
}

func (im *importer) goCmd(t *testing.T, args ...string) string {
	t.Helper()
	return goOut(t, im.dir, im.env, args...)
}

func goOut(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestImporterModuleGraph builds a program that imports package aio and
// checks what the library brings into its module graph: the library,
// golang.org/x/sys, and go-cmp. go-cmp is there only because the library's
// go.mod requires it for the tests of internal/fbsdmodel (which package sys
// imports under the fbsdmodel tag); the go command lists every requirement
// of a dependency's go.mod, and go mod tidy, which considers every build
// tag and tests of dependencies, records its checksum. Building the
// importer never compiles or downloads it: the fresh module cache holds no
// go-cmp source after the build.
func TestImporterModuleGraph(t *testing.T) {
	im := newImporter(t, map[string]string{
		"main.go": "package main\n\nimport \"github.com/fileaio/fileaio/aio\"\n\nfunc main() { _ = aio.NewRequest() }\n",
	})
	im.goCmd(t, "build", "./...")
	if deps := im.goCmd(t, "list", "-deps", "-test", "./..."); strings.Contains(deps, "go-cmp") {
		t.Errorf("the importer's build needs go-cmp:\n%s", deps)
	}
	zips, err := filepath.Glob(filepath.Join(im.modcache, "cache", "download", "github.com", "google", "go-cmp", "@v", "*.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if len(zips) > 0 {
		t.Errorf("building the importer downloaded go-cmp's source: %v", zips)
	}

	var mods []string
	for line := range strings.Lines(im.goCmd(t, "list", "-m", "-f", "{{.Path}}", "all")) {
		mods = append(mods, strings.TrimSpace(line))
	}
	want := []string{"example.com/importer", "github.com/fileaio/fileaio", "github.com/google/go-cmp", "golang.org/x/sys"}
	if !slices.Equal(mods, want) {
		t.Errorf("the importer's module graph is %v, want %v", mods, want)
	}
}
