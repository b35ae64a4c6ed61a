/*
 * fd-track.h - which descriptors the guest may have open, for the
 * close-on-exec pass of an execve done in place (execve.c).
 *
 * Listing /proc/self/fd cost ~45 us per execve (an inode per entry, in a
 * fresh child every time), a tenth of a shell command under emu.  Instead
 * the process keeps a superset of its open descriptors: filled by one
 * listing, then kept by the syscall layer (every call that can create a
 * descriptor adds it, or forgets the set if it cannot tell which), so that
 * the pass only asks the kernel about those.  A shell lists once, before its
 * first fork; its children inherit the set.
 *
 *   fdtrack_note(p, nr, flags, args, ret);   // after every guest syscall
 *   fdtrack_before_fork(p);           // the parent, so children inherit a set
 *   fdtrack_close_cloexec(p);         // execve in place
 */
#ifndef EMU_USER_FD_TRACK_H
#define EMU_USER_FD_TRACK_H

#include <stdint.h>

struct UserProcess;

/* flags: the call's flags column of syscalls-aarch64.def */
void fdtrack_note(struct UserProcess *p, uint64_t nr, unsigned flags, const uint64_t a[6],
                  int64_t ret);
void fdtrack_before_fork(struct UserProcess *p);
void fdtrack_close_cloexec(struct UserProcess *p);

#endif /* EMU_USER_FD_TRACK_H */
