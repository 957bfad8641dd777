//go:build linux && fbsdmodel

package aio

import "github.com/fileaio/fileaio/internal/fbsdmodel"

// modelRefusesFiles reports a run whose model puts every file on a
// non-local mount (FBSDMODEL_NONLOCAL=1): the kernel's AIO then refuses
// them all, so tests of the kernel serving files do not apply.
func modelRefusesFiles() bool { return fbsdmodel.Default().Config().NonLocal }
