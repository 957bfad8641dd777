package crossbuild

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// targets are checked with go vet, which type-checks every package and its
// tests (and so every layout assertion), plus go build of the commands.
var targets = []struct{ goos, goarch, pkgs string }{
	{"freebsd", "amd64", "./..."},
	{"freebsd", "arm64", "./..."},
	{"linux", "arm64", "./..."},
	{"darwin", "arm64", "./aio/..."},
	{"windows", "amd64", "./aio/..."},
}

func TestCrossBuild(t *testing.T) {
	root := moduleRoot(t)
	for _, tg := range targets {
		t.Run(tg.goos+"_"+tg.goarch, func(t *testing.T) {
			t.Parallel()
			env := append(os.Environ(), "CGO_ENABLED=0", "GOOS="+tg.goos, "GOARCH="+tg.goarch)
			for _, args := range [][]string{{"vet", tg.pkgs}, {"build", tg.pkgs}} {
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

func moduleRoot(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}
