//go:build linux || freebsd || darwin || dragonfly

package main

import "golang.org/x/sys/unix"

// freeSpace is how many bytes an unprivileged user may still write on the
// file system holding dir; ok is false when the system does not say.
func freeSpace(dir string) (free int64, ok bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return max(int64(st.Bavail), 0) * int64(st.Bsize), true
}
