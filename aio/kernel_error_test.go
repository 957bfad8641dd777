package aio

import (
	"errors"
	"testing"
)

// TestKernelErrorContract: a PortableBackend context reports no kernel
// error; a DefaultBackend one reports one exactly when it runs on
// goroutines, and that error matches ErrNotSupported.
func TestKernelErrorContract(t *testing.T) {
	p := smRealContext(t, Config{Backend: PortableBackend})
	if err := p.KernelError(); err != nil {
		t.Errorf("PortableBackend context: KernelError() = %v, want nil", err)
	}
	d := smRealContext(t, Config{Backend: DefaultBackend})
	err := d.KernelError()
	switch {
	case d.Kernel() == "portable" && !errors.Is(err, ErrNotSupported):
		t.Errorf("DefaultBackend context on goroutines: KernelError() = %v, want an error matching ErrNotSupported", err)
	case d.Kernel() != "portable" && err != nil:
		t.Errorf("DefaultBackend context driving %q: KernelError() = %v, want nil", d.Kernel(), err)
	}
	t.Logf("DefaultBackend drives %q; KernelError() = %v", d.Kernel(), err)
}
