// SPDX-License-Identifier: BSD-2-Clause

// Package fbsdmodel is a model of FreeBSD's POSIX AIO and kqueue, the kernel
// the FreeBSD backend runs over when built for Linux with the fbsdmodel tag.
//
// It behaves like the kernel described in freebsd-aio-semantics.md (beside
// DESIGN.md); each rule in the code cites the section it follows. Like a
// kernel it sees user memory only through the addresses it is given, with
// its own view of FreeBSD's layouts, and it does real I/O on the host's
// descriptors. Errors are the host's errno values, so errors.Is(err,
// syscall.EBADF) holds for the program running over it. On top of the
// kernel's answers it records every rule a program breaks that FreeBSD would
// punish silently (unpinned memory, a resubmitted aiocb, a kqueue closed with
// unreturned jobs, uncollected completions, interfaces the project must not
// use); Violations and Check report them. Exit plays the process's exit,
// which runs its AIO state down.
//
// It plays one FreeBSD release (Config.Osreldate, kern.osreldate): 13.x
// below 1400000, which refuses vectored lio_listio entries and lacks
// kqueuex, else 14.0 and later; from 1500000 on it no longer writes the
// aiocb's kernelinfo word, and the process's first AIO call can fail as a
// whole when no AIO daemon can be started (FailAIOInit). Default takes the
// release, and whether files are on non-local mounts, from the environment
// (ConfigFromEnv). Tests can also make a file's writes stop partway as a
// full device stops them (StopWritesAt), and make disks count their bio
// buffers against vfs.aio.max_buf_aio (SetMappedDisks).
//
// The model needs 64-bit little-endian pointers (amd64, arm64), as the
// layouts it reads do.
package fbsdmodel
