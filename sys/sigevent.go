//go:build (freebsd || (linux && fbsdmodel)) && (amd64 || arm64)

package sys

import "unsafe"

// SetKqueue stores the kqueue descriptor that receives the completion
// (sigev_notify_kqueue, an alias of sigev_signo).
func (s *Sigevent) SetKqueue(kq int) { s.Signo = int32(kq) }

// Kqueue returns sigev_notify_kqueue.
func (s *Sigevent) Kqueue() int { return int(s.Signo) }

// ThreadID returns sigev_notify_thread_id, which shares its storage with
// KeventFlags (SIGEV_THREAD_ID only).
func (s *Sigevent) ThreadID() int32 { return *(*int32)(unsafe.Pointer(&s.KeventFlags)) }

// SetThreadID stores sigev_notify_thread_id (SIGEV_THREAD_ID only).
func (s *Sigevent) SetThreadID(tid int32) { *(*int32)(unsafe.Pointer(&s.KeventFlags)) = tid }
