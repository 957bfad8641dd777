//go:build linux && fbsdmodel

package tests

import (
	"testing"

	"github.com/fileaio/fileaio/internal/fbsdmodel"
)

// checkKernelModel fails t if the FreeBSD kernel model recorded a rule that
// FreeBSD would punish silently (unpinned memory, a resubmitted aiocb, a
// completion never collected with aio_return, ...). Under -tags fbsdmodel
// the FreeBSD backend runs over fbsdmodel.Default().
func checkKernelModel(t *testing.T) {
	t.Helper()
	k := fbsdmodel.Default()
	if err := k.Check(); err != nil {
		t.Errorf("kernel model: %v", err)
		k.ResetViolations()
	}
}

// kernelServesFiles reports whether the kernel's AIO serves regular files:
// not when the model puts every file on a non-local mount
// (FBSDMODEL_NONLOCAL=1), where DefaultBackend serves them all with
// goroutines and KernelBackend fails them all with EOPNOTSUPP.
func kernelServesFiles() bool { return !fbsdmodel.Default().Config().NonLocal }
