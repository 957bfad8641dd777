//go:build linux

package fbsdmodel

import (
	"fmt"
	"os"
	"strconv"
)

// The environment variables ConfigFromEnv reads, so that a whole test run
// (go test -tags fbsdmodel ./...) plays one FreeBSD.
const (
	// EnvOsreldate selects kern.osreldate, e.g. 1302000 for 13.2 or
	// 1500000 for 15.0 (Config.Osreldate).
	EnvOsreldate = "FBSDMODEL_OSRELDATE"
	// EnvNonLocal set to 1 puts every regular file and directory on a
	// non-local mount (Config.NonLocal); 0 or unset keeps them local.
	EnvNonLocal = "FBSDMODEL_NONLOCAL"
)

// ConfigFromEnv returns the Config the environment selects through
// EnvOsreldate and EnvNonLocal; unset variables leave their fields zero
// (the defaults). A value it cannot read is left out and reported in err.
func ConfigFromEnv() (cfg Config, err error) {
	if v, ok := os.LookupEnv(EnvOsreldate); ok {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			err = fmt.Errorf("fbsdmodel: %s=%q is not a kern.osreldate such as 1302000 or 1500000", EnvOsreldate, v)
		} else {
			cfg.Osreldate = n
		}
	}
	switch v := os.Getenv(EnvNonLocal); v {
	case "", "0":
	case "1":
		cfg.NonLocal = true
	default:
		err = fmt.Errorf("fbsdmodel: %s=%q, want 1 or 0", EnvNonLocal, v)
	}
	return cfg, err
}
