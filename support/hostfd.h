/*
 * hostfd.h - emu's own host descriptors, kept apart from the guest's.
 *
 * In user mode guest descriptors are host descriptors (no table), so a
 * guest that closes fd 2, runs `exec 3>file` (dup2 onto 3) or calls
 * close_range(3, ~0) would close or overwrite whatever emu had there.
 * emu's long-lived descriptors (code cache packs, the -D log, the perf map,
 * its own stderr) therefore move to the top of the usual descriptor range,
 * [hostfd_base(), hostfd_base() + HOSTFD_MAX), close-on-exec, and are
 * marked; the guest's calls on a marked descriptor fail with EBADF
 * (user/syscall-fd.c).
 *
 *   int fd = hostfd_keep(open(path, O_RDONLY | O_CLOEXEC));
 *   ...
 *   hostfd_close(fd);
 */
#ifndef EMU_SUPPORT_HOSTFD_H
#define EMU_SUPPORT_HOSTFD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HOSTFD_MAX 64

/* First reserved number: min(soft RLIMIT_NOFILE at first use, 1024) - 64
 * (guests that select() need their descriptors below 1024). */
int hostfd_base(void);
/* Move fd (>= 0) into the reserved range and mark it; returns the new
 * descriptor, or fd itself (unmarked) if the range is full.  Negative fd:
 * returned as is, so a failed open() passes through. */
int hostfd_keep(int fd);
/* Unmark and close a descriptor hostfd_keep returned. */
int hostfd_close(int fd);
/* True if fd is one of emu's marked descriptors. */
bool hostfd_is_emu(int64_t fd);
/* fopen() whose descriptor is kept (NULL + errno on failure). */
FILE *hostfd_fopen(const char *path, const char *mode);
/* Point stderr at a kept duplicate of fd 2 (unbuffered), so that emu's own
 * messages still reach the terminal after the guest closes or redirects
 * its fd 2.  Call first thing in main. */
void hostfd_own_stderr(void);
/* The descriptor emu's messages go to (async-signal-safe). */
int hostfd_stderr(void);

#endif /* EMU_SUPPORT_HOSTFD_H */
