/*
 * syscall-fd.c - descriptor bookkeeping: the calls that make, copy or drop
 * guest file descriptors (dup, dup3, fcntl and its F_DUPFD*, pipe2,
 * memfd_create, close, close_range) and the O_* flag translation they share
 * with openat.  Guest fds are host fds: no table, only the flags differ.
 *
 * The calls that allocate a descriptor (flagged USER_SYS_FD in
 * syscalls-aarch64.def) run under the fd read lock (see
 * user_syscall_args in syscall.c), so the LLVM loader's transient host fds
 * never take a number the guest expects next.
 *
 *   int h = user_open_flags_g2h(a[2]);    // arm64 O_* bits -> host bits
 */
#define _GNU_SOURCE
#include "user/syscall-internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "runtime/log.h"
#include "support/hostfd.h"

/* ---- O_* flags: arm64 and x86-64 differ in four bits ------------------- */
#define A64_O_DIRECTORY 0040000
#define A64_O_NOFOLLOW  0100000
#define A64_O_DIRECT    0200000
#define A64_O_LARGEFILE 0400000
#define A64_O_DIFF (A64_O_DIRECTORY | A64_O_NOFOLLOW | A64_O_DIRECT | A64_O_LARGEFILE)
#define HOST_O_DIFF (O_DIRECTORY | O_NOFOLLOW | O_DIRECT | 0100000 /* O_LARGEFILE */)

int user_open_flags_g2h(uint64_t g)
{
    int h = (int)(g & ~(uint64_t)A64_O_DIFF);
    if (g & A64_O_DIRECTORY) h |= O_DIRECTORY;
    if (g & A64_O_NOFOLLOW)  h |= O_NOFOLLOW;
    if (g & A64_O_DIRECT)    h |= O_DIRECT;
    if (g & A64_O_LARGEFILE) h |= 0100000;
    return h;
}

uint64_t user_open_flags_h2g(int h)
{
    uint64_t g = (uint64_t)(h & ~HOST_O_DIFF);
    if (h & O_DIRECTORY) g |= A64_O_DIRECTORY;
    if (h & O_NOFOLLOW)  g |= A64_O_NOFOLLOW;
    if (h & O_DIRECT)    g |= A64_O_DIRECT;
    if (h & 0100000)     g |= A64_O_LARGEFILE;
    return g;
}

int64_t user_sys_close(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(close((int)a[0]));
}

/* close_range around emu's own descriptors: the pieces of [lo, hi] between
 * them, in order (a shell's closefrom(3) must not close emu's cache). */
int64_t user_sys_close_range(UserProcess *p, A64State *env, const uint64_t a[6])
{
    unsigned lo = (unsigned)a[0], hi = (unsigned)a[1], flags = (unsigned)a[2];
    if (lo > hi)
        return -EINVAL;
    unsigned from = lo;
    for (unsigned fd = lo; fd <= hi; fd++) {
        if (!hostfd_is_emu(fd)) {
            if (fd > (unsigned)hostfd_base() + HOSTFD_MAX)
                break;   /* past the reserved range: one call for the rest */
            continue;
        }
        if (fd > from) {
            int64_t r = host_ret(syscall(SYS_close_range, from, fd - 1, flags));
            if (r < 0)
                return r;
        }
        from = fd + 1;
        if (fd == hi)
            return 0;
    }
    return host_ret(syscall(SYS_close_range, from, hi, flags));
}

int64_t user_sys_fcntl(UserProcess *p, A64State *env, const uint64_t a[6])
{
    int fd = (int)a[0], cmd = (int)a[1];
    switch (cmd) {
    case F_DUPFD: case F_DUPFD_CLOEXEC: case F_GETFD: case F_SETFD:
    case F_SETOWN: case F_GETOWN: case F_SETPIPE_SZ: case F_GETPIPE_SZ:
    case F_ADD_SEALS: case F_GET_SEALS: case F_SETLEASE: case F_GETLEASE:
        return host_ret(fcntl(fd, cmd, (long)a[2]));
    case F_GETFL: {
        int r = fcntl(fd, F_GETFL);
        return r < 0 ? -errno : (int64_t)user_open_flags_h2g(r);
    }
    case F_SETFL:
        return host_ret(fcntl(fd, F_SETFL, user_open_flags_g2h(a[2])));
    case F_GETLK: case F_SETLK: case F_SETLKW:
    case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW: {
        /* struct flock: same 32-byte layout on both 64-bit ABIs */
        GPTR(fl, a[2], 32, (cmd == F_GETLK || cmd == F_OFD_GETLK) ? RW : R);
        return host_ret(fcntl(fd, cmd, fl));
    }
    default:
        if (emu_log_enabled(EMU_LOG_UNIMP))
            emu_log("Unsupported fcntl: cmd %d\n", cmd);
        return -EINVAL;
    }
}

int64_t user_sys_dup(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(dup((int)a[0]));
}

int64_t user_sys_dup3(UserProcess *p, A64State *env, const uint64_t a[6])
{
    if (hostfd_is_emu((int)a[1]))
        return -EBADF;   /* would close one of emu's own */
    return host_ret(dup3((int)a[0], (int)a[1], user_open_flags_g2h(a[2])));
}

int64_t user_sys_pipe2(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(fds, a[0], 8, W);
    int h[2];
    if (pipe2(h, user_open_flags_g2h(a[1])) != 0)
        return -errno;
    memcpy(fds, h, sizeof h);
    return 0;
}

int64_t user_sys_memfd_create(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(name, a[0]);
    return host_ret(syscall(SYS_memfd_create, name, (unsigned)a[1]));
}
