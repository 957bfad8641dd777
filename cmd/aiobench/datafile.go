package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// The data file of a run is either the user's -file, which is opened as it
// is and never created, truncated or deleted, or a file of -size random
// bytes cached between runs in os.TempDir()/fileaio-bench/.

const cacheDirName = "fileaio-bench"

func cacheDir() string { return filepath.Join(os.TempDir(), cacheDirName) }

func cachePath(size int64) string {
	return filepath.Join(cacheDir(), fmt.Sprintf("data-%d.bin", size))
}

// checkCacheDir accepts a missing cache directory, or one that is a real
// directory of this user (nobody else can then plant files or links in it).
func checkCacheDir() error {
	dir := cacheDir()
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("cache %s is not a directory", dir)
	case !ownedBySelf(fi):
		return fmt.Errorf("cache directory %s belongs to another user (use -file)", dir)
	}
	return nil
}

// openFlags are the open flags of a run's data file.
func openFlags(write, direct bool) int {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	if direct {
		flag |= oDirect
	}
	return flag
}

// openUserFile opens -file for the run and returns it with its size. It
// must be a regular file or a device; it is never created. Its kind is
// checked before the open too, since opening a FIFO waits for a writer.
func openUserFile(path string, write, direct bool) (*os.File, int64, error) {
	if fi, err := os.Stat(path); err == nil && !usableKind(fi) {
		return nil, 0, fmt.Errorf("%s is not a regular file or a device", path)
	}
	f, err := os.OpenFile(path, openFlags(write, direct), 0)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && !usableKind(fi) {
		err = fmt.Errorf("%s is not a regular file or a device", path)
	}
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekEnd) // a device's size, too
		if err != nil {
			err = fmt.Errorf("%s: cannot tell its size: %w", path, err)
		}
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, size, nil
}

// usableKind reports whether fi is a regular file or a device.
func usableKind(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() || fi.Mode()&fs.ModeDevice != 0
}

// staleAfter is how long a temporary data file may go unmodified before it
// is taken for the leftover of a run that died while creating it (one that
// is still being written is modified all the time).
const staleAfter = time.Minute

// removeStaleTemps removes the temporaries of creations that did not finish.
func removeStaleTemps(dir string, note func(string)) {
	tmps, _ := filepath.Glob(filepath.Join(dir, "data-*.tmp"))
	for _, tmp := range tmps {
		fi, err := os.Lstat(tmp)
		if err != nil || !fi.Mode().IsRegular() || time.Since(fi.ModTime()) < staleAfter {
			continue
		}
		if os.Remove(tmp) == nil {
			note(fmt.Sprintf("removed %s, left by a run that was stopped while creating it (%s)", tmp, formatSize(fi.Size())))
		}
	}
}

// errNoRoom: the cache's file system cannot hold the data file.
var errNoRoom = errors.New("not enough free space")

// checkRoom fails with errNoRoom when path, the cache file of size bytes
// in dir, is still to be made and the file system holding dir (or the
// temporary directory, before dir exists) has less room than that.
func checkRoom(dir, path string, size int64) error {
	if fi, err := os.Lstat(path); err == nil && fi.Size() == size {
		return nil
	}
	where := dir
	if _, err := os.Stat(dir); err != nil {
		where = filepath.Dir(dir)
	}
	if free, ok := freeSpace(where); ok && free < size {
		return fmt.Errorf("-size %s: %w: %s has %.1f GiB free", formatSize(size), errNoRoom, where, float64(free)/(1<<30))
	}
	return nil
}

// ensureCacheFile returns the path of the cached data file of size bytes,
// creating it (random data, written to a temporary name and renamed into
// place) unless a file of that size is there. note is told when it creates
// or cleans up. When ctx is done during the creation, the temporary file
// is removed and ctx's error returned.
func ensureCacheFile(ctx context.Context, size int64, note func(string)) (string, error) {
	dir := cacheDir()
	path := cachePath(size)
	if err := checkRoom(dir, path, size); err != nil {
		return "", err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", cacheDirErr(err)
	}
	if err := checkCacheDir(); err != nil {
		return "", usageErr(err)
	}
	removeStaleTemps(dir, note)
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
		return path, nil
	}
	note(fmt.Sprintf("creating %s (%s of random data, kept for later runs)", path, formatSize(size)))
	tmp, err := os.CreateTemp(dir, "data-*.tmp")
	if err != nil {
		return "", cacheDirErr(err)
	}
	err = fillRandom(ctx, tmp, size)
	if err == nil {
		err = tmp.Sync() // so that -direct runs do not pay for the writeback
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name()) // our own temporary file, never the user's
		return "", err
	}
	return path, nil
}

// cacheDirErr is the usage error (exit status 2) of a cache directory that
// cannot be made or written in: the environment's TMPDIR is missing, not a
// directory, or not writable. A failure while the data is written (EIO,
// ENOSPC past checkRoom) stays a run's failure (status 1).
func cacheDirErr(err error) error {
	return usageErr(fmt.Errorf("%w (the data file is cached in TMPDIR: set TMPDIR to a directory you can write, or use -file)", err))
}

// fillRandom writes size pseudo-random bytes to f, or stops with ctx's
// error. The stream is the same on every run: the content does not depend
// on -seed, so the cache serves every seed.
func fillRandom(ctx context.Context, f *os.File, size int64) error {
	rng := rand.NewChaCha8([32]byte{'f', 'i', 'l', 'e', 'a', 'i', 'o'})
	buf := make([]byte, 1<<20)
	for size > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(min(size, int64(len(buf))))
		rng.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
		size -= int64(n)
	}
	return nil
}

// openData opens the run's data file and returns it with the size of the
// region the workload covers. The user's -file is opened first, so that a
// bad one fails before anything is created; the cache file is created last.
func openData(ctx context.Context, cfg *config, note func(string)) (*os.File, int64, error) {
	write := cfg.rw.writes()
	if cfg.file != "" {
		f, size, err := openUserFile(cfg.file, write, cfg.direct)
		if err != nil {
			return nil, 0, usageErr(err)
		}
		region := size
		if cfg.sizeSet {
			if cfg.size > size {
				f.Close()
				return nil, 0, usageErr(fmt.Errorf("-size %d is larger than %s (%d bytes)", cfg.size, cfg.file, size))
			}
			region = cfg.size
		}
		if region < cfg.bs {
			f.Close()
			return nil, 0, usageErr(fmt.Errorf("-bs %d is larger than %s (%d bytes)", cfg.bs, cfg.file, region))
		}
		return f, region / cfg.bs * cfg.bs, nil
	}
	if err := checkCacheDir(); err != nil {
		return nil, 0, usageErr(err)
	}
	path, err := ensureCacheFile(ctx, cfg.size, note)
	var status *exitError
	switch {
	case errors.Is(err, errNoRoom):
		return nil, 0, usageErr(err)
	case errors.As(err, &status):
		return nil, 0, err // the cache directory's
	case err != nil:
		return nil, 0, fmt.Errorf("data file: %w", err)
	}
	f, err := os.OpenFile(path, openFlags(write, cfg.direct), 0)
	if err != nil {
		return nil, 0, usageErr(err)
	}
	return f, cfg.size / cfg.bs * cfg.bs, nil
}
