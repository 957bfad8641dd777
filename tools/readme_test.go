// SPDX-License-Identifier: BSD-2-Clause

package tools

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goBlocks returns the ```go blocks of a Markdown text.
func goBlocks(md string) []string {
	var blocks []string
	var cur *strings.Builder
	for line := range strings.Lines(md) {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = new(strings.Builder)
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line)
		}
	}
	return blocks
}

// TestREADMEGoBlocks compiles and vets every Go block of README.md as
// written, each as a program of its own in a module that requires the
// library, so that the README cannot drift from the API. It also checks
// that the README shows how to get the module.
func TestREADMEGoBlocks(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(text)
	if n := strings.Count(md, "go get github.com/fileaio/fileaio"); n != 1 {
		t.Errorf("README shows `go get github.com/fileaio/fileaio` %d times, want once", n)
	}
	blocks := goBlocks(md)
	if len(blocks) == 0 {
		t.Fatal("README has no ```go block")
	}
	files := map[string]string{}
	for i, b := range blocks {
		if !strings.HasPrefix(b, "package ") {
			t.Errorf("README's Go block %d is not a whole file (it must start with a package clause):\n%s", i+1, b)
			continue
		}
		files[fmt.Sprintf("block%d/main.go", i+1)] = b
	}
	im := newImporter(t, files)
	im.goCmd(t, "vet", "./...")
}
