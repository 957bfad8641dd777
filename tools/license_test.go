// SPDX-License-Identifier: BSD-2-Clause

package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/licensecheck"
)

// TestLicense checks that the repository's LICENSE is recognised as the
// BSD 2-Clause license, whole, by the scanner pkg.go.dev relies on, and that
// it names the project's copyright holder.
func TestLicense(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	cov := licensecheck.Scan(text)
	if len(cov.Match) != 1 || cov.Match[0].ID != "BSD-2-Clause" {
		t.Fatalf("LICENSE matches %+v, want exactly BSD-2-Clause", cov.Match)
	}
	// The title and copyright lines are not part of the license text; pkg.go.dev
	// wants at least 75% covered.
	if cov.Percent < 95 {
		t.Errorf("BSD-2-Clause covers %.1f%% of LICENSE, want all but the title and copyright lines", cov.Percent)
	}
	if !strings.Contains(string(text), "Copyright (c) 2026 The fileaio Authors") {
		t.Error("LICENSE does not name The fileaio Authors")
	}
}

// TestSPDXLines checks that every SPDX line of the module's Go files names
// the license LICENSE holds, and that each package doc of the library has
// one.
func TestSPDXLines(t *testing.T) {
	const want = "// SPDX-License-Identifier: BSD-2-Clause"
	for _, f := range []string{"aio/doc.go", "sys/doc.go"} {
		text, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(text), want+"\n") {
			t.Errorf("%s does not start with %q", f, want)
		}
	}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for line := range strings.Lines(string(text)) {
			if strings.HasPrefix(line, "// SPDX-License-Identifier:") && strings.TrimSpace(line) != want {
				t.Errorf("%s: %s", path, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
