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
