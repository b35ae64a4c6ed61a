/*
 * syscall-internal.h - shared by the syscall files of user/ (syscall.c:
 * table, files, memory, time, signals, processes; syscall-fd.c: descriptor
 * bookkeeping and O_* flags; syscall-net.c: sockets; syscall-events.c:
 * event fds).
 * Not for other modules.
 *
 * A handler takes the raw argument registers and returns the value for x0
 * (negative errno on failure):
 *
 *   int64_t user_sys_write(UserProcess *p, A64State *env, const uint64_t a[6])
 *   {
 *       GPTR(buf, a[1], a[2], R);          // -EFAULT unless readable guest memory
 *       return host_ret(write((int)a[0], buf, a[2]));
 *   }
 */
#ifndef EMU_USER_SYSCALL_INTERNAL_H
#define EMU_USER_SYSCALL_INTERNAL_H

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include "user/process.h"

typedef int64_t SyscallFn(UserProcess *p, A64State *env, const uint64_t a[6]);

/* The flags column of syscalls-aarch64.def (see there). */
#define USER_SYS_FD        1u  /* allocates a descriptor: under the fd read lock */
#define USER_SYS_FD_DUPCMD 2u  /* ... only for fcntl F_DUPFD / F_DUPFD_CLOEXEC */
#define USER_SYS_FD0       4u  /* x0 is a descriptor: emu's own get EBADF */
#define USER_SYS_FD1       8u  /* ... x1 too (sendfile's in_fd) */
#define USER_SYS_FD2      16u  /* ... x2 too (epoll_ctl's fd, copy_file_range's fd_out) */
#define USER_SYS_NOFD     32u  /* makes, changes or closes no descriptor (fd-track.c) */

/* One prototype per handler named in the table. */
#define SYSCALL(nr, name, handler, flags) SyscallFn user_sys_##handler;
#include "user/syscalls-aarch64.def"
#undef SYSCALL

#define R  PROT_READ
#define W  PROT_WRITE
#define RW (PROT_READ | PROT_WRITE)

/* Host pointer for a guest object, or return -EFAULT from the handler. */
#define GPTR(var, addr, len, prot)                                          \
    void *var = guest_mem_ptr(p->mem, (addr), (len), (prot));               \
    if (!var && (len) != 0)                                                 \
        return -EFAULT
/* Same, but guest NULL stays NULL (optional arguments). */
#define GPTR_OPT(var, addr, len, prot)                                      \
    void *var = NULL;                                                       \
    if (addr) {                                                             \
        var = guest_mem_ptr(p->mem, (addr), (len), (prot));                 \
        if (!var)                                                           \
            return -EFAULT;                                                 \
    }
/* A NUL-terminated path argument (at most PATH_MAX bytes). */
#define GPATH(var, addr)                                                    \
    const char *var;                                                        \
    do {                                                                    \
        int64_t e_ = user_sys_get_path(p, (addr), &var);                    \
        if (e_)                                                             \
            return e_;                                                      \
    } while (0)

/* A host call's result as the guest sees it: -errno on failure. */
static inline int64_t host_ret(long r)
{
    return r < 0 ? -errno : r;
}

/* Path argument: 0, -EFAULT or -ENAMETOOLONG; *out points into guest memory. */
int64_t user_sys_get_path(UserProcess *p, uint64_t addr, const char **out);
/* GPATH, then the -L prefix applied (needs a PATH_MAX buffer). */
#define GPATH_L(var, addr)                                                  \
    GPATH(var##_raw_, addr);                                                \
    char var##_buf_[PATH_MAX];                                              \
    const char *var = user_path(p, var##_raw_, var##_buf_)
/* /proc/self/exe (or /proc/<our pid>/exe): names the guest program, not emu. */
bool user_is_proc_self_exe(const char *path);
/* Guest iovec array (cnt entries at addr) -> host iovecs whose buffers are
 * accessible with prot.  0, -EINVAL or -EFAULT. */
int64_t user_sys_get_iov(UserProcess *p, uint64_t addr, uint64_t cnt, int prot,
                         struct iovec *out);
/* O_* flags: arm64 and x86-64 differ in four bits (syscall-fd.c). */
int user_open_flags_g2h(uint64_t g);
uint64_t user_open_flags_h2g(int h);

#endif /* EMU_USER_SYSCALL_INTERNAL_H */
