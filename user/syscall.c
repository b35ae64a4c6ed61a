/*
 * syscall.c - the AArch64 Linux syscall ABI on an x86-64 Linux host.
 *
 * x8 holds the number, x0-x5 the arguments, x0 gets the result (negative
 * errno on failure).  The table is user/syscalls-aarch64.def.  Most calls
 * pass through to the host with guest pointers turned into host pointers
 * (guest_base + addr) after checking that the whole object lies in mapped
 * guest memory with the right protection: a guest can never make emu read
 * or write host memory outside the reservation.  Where the AArch64 ABI
 * differs from x86-64 (struct stat, O_* flag bits, uname machine) the value
 * is translated.  Descriptor bookkeeping (dup, fcntl, pipe2, close...) and
 * the O_* flag translation are in syscall-fd.c, sockets in syscall-net.c,
 * event fds in syscall-events.c, threads in thread.c.
 *
 * Example: guest write(1, buf, n) ->
 *   host = guest_mem_ptr(mem, buf, n, PROT_READ);  // NULL -> -EFAULT
 *   r = write(1, host, n);
 */
#define _GNU_SOURCE
#include "user/process.h"
#include "cache/cache.h"
#include "runtime/tier-llvm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "runtime/log.h"
#include "user/fd-track.h"
#include "user/stack.h"
#include "user/syscall-internal.h"
#include "user/user-cli.h"
#include "support/hostfd.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31)
#endif

int64_t user_sys_get_path(UserProcess *p, uint64_t addr, const char **out)
{
    int64_t n = guest_mem_strlen(p->mem, addr, PATH_MAX - 1);
    if (n == -1)
        return -EFAULT;
    if (n < 0)
        return -ENAMETOOLONG;
    *out = guest_mem_g2h(p->mem, addr);
    return 0;
}

const char *user_path(const UserProcess *p, const char *path, char *buf)
{
    return user_prefixed_path(p->ld_prefix, path, buf);
}

bool user_is_proc_self_exe(const char *path)
{
    char own[64];
    snprintf(own, sizeof own, "/proc/%d/exe", (int)getpid());
    return !strcmp(path, "/proc/self/exe") || !strcmp(path, own);
}

static int dirfd_arg(uint64_t v)
{
    return (int)(int32_t)v;   /* AT_FDCWD is -100 in the low 32 bits */
}

/* ---- struct stat (asm-generic layout used by arm64) -------------------- */
typedef struct A64Stat {
    uint64_t st_dev, st_ino;
    uint32_t st_mode, st_nlink, st_uid, st_gid;
    uint64_t st_rdev, pad1;
    int64_t st_size;
    int32_t st_blksize, pad2;
    int64_t st_blocks;
    int64_t st_atime_, st_atime_nsec, st_mtime_, st_mtime_nsec, st_ctime_, st_ctime_nsec;
    uint32_t unused4, unused5;
} A64Stat;
_Static_assert(sizeof(A64Stat) == 128, "arm64 struct stat is 128 bytes");

static void stat_h2g(const struct stat *h, A64Stat *g)
{
    memset(g, 0, sizeof *g);
    g->st_dev = h->st_dev;
    g->st_ino = h->st_ino;
    g->st_mode = h->st_mode;
    g->st_nlink = (uint32_t)h->st_nlink;
    g->st_uid = h->st_uid;
    g->st_gid = h->st_gid;
    g->st_rdev = h->st_rdev;
    g->st_size = h->st_size;
    g->st_blksize = (int32_t)h->st_blksize;
    g->st_blocks = h->st_blocks;
    g->st_atime_ = h->st_atim.tv_sec;
    g->st_atime_nsec = h->st_atim.tv_nsec;
    g->st_mtime_ = h->st_mtim.tv_sec;
    g->st_mtime_nsec = h->st_mtim.tv_nsec;
    g->st_ctime_ = h->st_ctim.tv_sec;
    g->st_ctime_nsec = h->st_ctim.tv_nsec;
}

static int64_t put_stat(UserProcess *p, uint64_t addr, const struct stat *st)
{
    A64Stat g;
    stat_h2g(st, &g);
    return guest_mem_write(p->mem, addr, &g, sizeof g) ? 0 : -EFAULT;
}

/* ---- file I/O ---------------------------------------------------------- */

int64_t user_sys_read(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], a[2], W);
    return host_ret(read((int)a[0], buf, a[2]));
}

int64_t user_sys_write(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], a[2], R);
    return host_ret(write((int)a[0], buf, a[2]));
}

int64_t user_sys_pread64(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], a[2], W);
    return host_ret(pread((int)a[0], buf, a[2], (off_t)a[3]));
}

int64_t user_sys_pwrite64(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], a[2], R);
    return host_ret(pwrite((int)a[0], buf, a[2], (off_t)a[3]));
}

/* Guest iovec array -> host iovecs (buffers checked for prot). */
int64_t user_sys_get_iov(UserProcess *p, uint64_t addr, uint64_t cnt, int prot,
                       struct iovec *out)
{
    if (cnt > IOV_MAX)
        return -EINVAL;
    const uint64_t *g = guest_mem_ptr(p->mem, addr, cnt * 16, R);
    if (!g && cnt)
        return -EFAULT;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t base = g[2 * i], len = g[2 * i + 1];
        if ((int64_t)len < 0)
            return -EINVAL;
        void *h = len ? guest_mem_ptr(p->mem, base, len, prot) : NULL;
        if (!h && len)
            return -EFAULT;
        out[i].iov_base = h;
        out[i].iov_len = len;
    }
    return 0;
}

static int64_t do_rwv(UserProcess *p, const uint64_t a[6], bool wr, bool pos)
{
    struct iovec iov[a[2] <= IOV_MAX ? (a[2] ? a[2] : 1) : 1];
    int64_t e = user_sys_get_iov(p, a[1], a[2], wr ? R : W, iov);
    if (e)
        return e;
    int fd = (int)a[0], n = (int)a[2];
    if (pos)
        return host_ret(wr ? pwritev(fd, iov, n, (off_t)a[3]) : preadv(fd, iov, n, (off_t)a[3]));
    return host_ret(wr ? writev(fd, iov, n) : readv(fd, iov, n));
}

int64_t user_sys_readv(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return do_rwv(p, a, false, false);
}

int64_t user_sys_writev(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return do_rwv(p, a, true, false);
}

int64_t user_sys_preadv(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return do_rwv(p, a, false, true);
}

int64_t user_sys_pwritev(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return do_rwv(p, a, true, true);
}

static bool is_proc_self(const char *path, const char *leaf)
{
    char own[64];
    snprintf(own, sizeof own, "/proc/%d/%s", (int)getpid(), leaf);
    return (!strncmp(path, "/proc/self/", 11) && !strcmp(path + 11, leaf)) ||
           !strcmp(path, own);
}

/* /proc/self/maps shows the guest's mappings (guest addresses), not emu's:
 * a memfd filled from the VMA list. */
static int64_t open_guest_maps(UserProcess *p, int flags)
{
    int fd = memfd_create("maps", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(dup(fd), "w");
    if (!f) {
        int e = errno;
        close(fd);
        return -e;
    }
    GuestVma *v;
    size_t n = guest_mem_vmas(p->mem, &v);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%08llx-%08llx %c%c%c%c %08llx 00:00 0", (unsigned long long)v[i].start,
                (unsigned long long)v[i].end, (v[i].prot & PROT_READ) ? 'r' : '-',
                (v[i].prot & PROT_WRITE) ? 'w' : '-', (v[i].prot & PROT_EXEC) ? 'x' : '-',
                (v[i].flags & MAP_SHARED) ? 's' : 'p', (unsigned long long)v[i].offset);
        if (v[i].name)
            fprintf(f, "%*s%s", 10, "", v[i].name);
        fputc('\n', f);
    }
    free(v);
    fclose(f);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* /proc/self/auxv: the guest's auxiliary vector, not emu's. */
static int64_t open_guest_auxv(UserProcess *p, int flags)
{
    int fd = memfd_create("auxv", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
    if (fd < 0)
        return -errno;
    const void *v = guest_mem_ptr(p->mem, p->auxv_addr, p->auxv_len, PROT_READ);
    if (p->auxv_len && (!v || write(fd, v, p->auxv_len) != (ssize_t)p->auxv_len)) {
        close(fd);
        return -EIO;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

int64_t user_sys_openat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[1]);
    if (is_proc_self(path, "maps"))
        return open_guest_maps(p, user_open_flags_g2h(a[2]));
    if (is_proc_self(path, "auxv"))
        return open_guest_auxv(p, user_open_flags_g2h(a[2]));
    if (user_is_proc_self_exe(path))
        path = p->exe_path;
    return host_ret(openat(dirfd_arg(a[0]), path, user_open_flags_g2h(a[2]), (mode_t)a[3]));
}

int64_t user_sys_sendfile(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(off, a[2], 8, RW);
    return host_ret(sendfile((int)a[0], (int)a[1], off, (size_t)a[3]));
}

int64_t user_sys_copy_file_range(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(off_in, a[1], 8, RW);
    GPTR_OPT(off_out, a[3], 8, RW);
    return host_ret(syscall(SYS_copy_file_range, (int)a[0], off_in, (int)a[2], off_out,
                            (size_t)a[4], (unsigned)a[5]));
}

int64_t user_sys_lseek(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(lseek((int)a[0], (off_t)a[1], (int)a[2]));
}

int64_t user_sys_fstat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    struct stat st;
    if (!guest_mem_check(p->mem, a[1], sizeof(A64Stat), W))
        return -EFAULT;
    if (fstat((int)a[0], &st) != 0)
        return -errno;
    return put_stat(p, a[1], &st);
}

int64_t user_sys_newfstatat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[1]);
    struct stat st;
    if (!guest_mem_check(p->mem, a[2], sizeof(A64Stat), W))
        return -EFAULT;
    if (user_is_proc_self_exe(path))
        path = p->exe_path;
    if (fstatat(dirfd_arg(a[0]), path, &st, (int)a[3]) != 0)
        return -errno;
    return put_stat(p, a[2], &st);
}

int64_t user_sys_statx(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[1]);
    GPTR(buf, a[4], 256, W);   /* struct statx is arch-neutral */
    if (user_is_proc_self_exe(path))
        path = p->exe_path;
    return host_ret(syscall(SYS_statx, dirfd_arg(a[0]), path, (int)a[2], (unsigned)a[3], buf));
}

int64_t user_sys_statfs(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[0]);
    GPTR(buf, a[1], 120, W);   /* struct statfs: same layout on both 64-bit ABIs */
    return host_ret(syscall(SYS_statfs, path, buf));
}

int64_t user_sys_fstatfs(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], 120, W);
    return host_ret(syscall(SYS_fstatfs, (int)a[0], buf));
}

int64_t user_sys_getdents64(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], a[2], W);  /* struct linux_dirent64 is arch-neutral */
    return host_ret(syscall(SYS_getdents64, (int)a[0], buf, (size_t)a[2]));
}

/* Terminal ioctls: the uapi structures and numbers are the same on arm64
 * and x86-64 (asm-generic termbits), so only the argument size matters. */
int64_t user_sys_ioctl(UserProcess *p, A64State *env, const uint64_t a[6])
{
    int fd = (int)a[0];
    unsigned long req = (uint32_t)a[1];
    size_t size;
    int prot;
    switch (req) {
    case TCGETS:     size = 36; prot = W; break;   /* kernel struct termios */
    case TCSETS: case TCSETSW: case TCSETSF: size = 36; prot = R; break;
    case TIOCGWINSZ: size = 8; prot = W; break;
    case TIOCSWINSZ: size = 8; prot = R; break;
    case TIOCGPGRP: case FIONREAD: case TIOCGSID: case TIOCOUTQ:
    case TIOCGPTN: case TIOCGPTLCK: case TIOCGEXCL: size = 4; prot = W; break;
    case TIOCSPGRP: case FIONBIO: case TIOCSPTLCK: size = 4; prot = R; break;
    case FIOCLEX: case FIONCLEX: case TIOCSCTTY: case TIOCNOTTY: case TIOCEXCL:
    case TIOCNXCL: case TCFLSH: case TCXONC: case TCSBRK: case TCSBRKP:
        return host_ret(ioctl(fd, req, (unsigned long)a[2]));
    case TIOCGPTPEER:   /* open the pty's other side: the argument is open flags */
        return host_ret(ioctl(fd, req, user_open_flags_g2h(a[2])));
    default:
        if (emu_log_enabled(EMU_LOG_UNIMP))
            emu_log("Unsupported ioctl: fd %d request 0x%lx\n", fd, req);
        return -ENOTTY;
    }
    GPTR(arg, a[2], size, prot);
    return host_ret(ioctl(fd, req, arg));
}

int64_t user_sys_faccessat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[1]);
    return host_ret(syscall(SYS_faccessat, dirfd_arg(a[0]), path, (int)a[2]));
}

int64_t user_sys_faccessat2(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[1]);
    return host_ret(syscall(SYS_faccessat2, dirfd_arg(a[0]), path, (int)a[2], (int)a[3]));
}

int64_t user_sys_readlinkat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[1]);
    if ((int64_t)a[3] <= 0)
        return -EINVAL;
    GPTR(buf, a[2], a[3], W);
    if (user_is_proc_self_exe(path)) {
        size_t n = strlen(p->exe_path);
        if (n > a[3])
            n = a[3];
        memcpy(buf, p->exe_path, n);
        return (int64_t)n;
    }
    return host_ret(readlinkat(dirfd_arg(a[0]), path, buf, a[3]));
}

int64_t user_sys_getcwd(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[0], a[1], W);
    return host_ret(syscall(SYS_getcwd, buf, (size_t)a[1]));
}

int64_t user_sys_chdir(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(path, a[0]);
    return host_ret(chdir(path));
}

int64_t user_sys_fchdir(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(fchdir((int)a[0]));
}

int64_t user_sys_mkdirat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(path, a[1]);
    return host_ret(mkdirat(dirfd_arg(a[0]), path, (mode_t)a[2]));
}

int64_t user_sys_unlinkat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(path, a[1]);
    return host_ret(unlinkat(dirfd_arg(a[0]), path, (int)a[2]));
}

int64_t user_sys_renameat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(from, a[1]);
    GPATH(to, a[3]);
    return host_ret(renameat(dirfd_arg(a[0]), from, dirfd_arg(a[2]), to));
}

int64_t user_sys_renameat2(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(from, a[1]);
    GPATH(to, a[3]);
    return host_ret(syscall(SYS_renameat2, dirfd_arg(a[0]), from, dirfd_arg(a[2]), to,
                            (unsigned)a[4]));
}

int64_t user_sys_symlinkat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(target, a[0]);
    GPATH(link, a[2]);
    return host_ret(symlinkat(target, dirfd_arg(a[1]), link));
}

int64_t user_sys_linkat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(from, a[1]);
    GPATH(to, a[3]);
    return host_ret(linkat(dirfd_arg(a[0]), from, dirfd_arg(a[2]), to, (int)a[4]));
}

int64_t user_sys_fchmod(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(fchmod((int)a[0], (mode_t)a[1]));
}

int64_t user_sys_fchmodat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(path, a[1]);
    return host_ret(syscall(SYS_fchmodat, dirfd_arg(a[0]), path, (mode_t)a[2]));
}

int64_t user_sys_fchownat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(path, a[1]);
    return host_ret(fchownat(dirfd_arg(a[0]), path, (uid_t)a[2], (gid_t)a[3], (int)a[4]));
}

int64_t user_sys_fchown(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(fchown((int)a[0], (uid_t)a[1], (gid_t)a[2]));
}

int64_t user_sys_utimensat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    const char *path = NULL;
    if (a[1]) {
        int64_t e = user_sys_get_path(p, a[1], &path);
        if (e)
            return e;
    }
    GPTR_OPT(times, a[2], 32, R);
    return host_ret(syscall(SYS_utimensat, dirfd_arg(a[0]), path, times, (int)a[3]));
}

int64_t user_sys_ftruncate(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(ftruncate((int)a[0], (off_t)a[1]));
}

int64_t user_sys_truncate(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH_L(path, a[0]);
    return host_ret(truncate(path, (off_t)a[1]));
}

int64_t user_sys_fsync(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(fsync((int)a[0]));
}

int64_t user_sys_fdatasync(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(fdatasync((int)a[0]));
}

int64_t user_sys_ppoll(UserProcess *p, A64State *env, const uint64_t a[6])
{
    if (a[1] > 65536)
        return -EINVAL;
    GPTR(fds, a[0], a[1] * 8, RW);   /* struct pollfd is arch-neutral */
    GPTR_OPT(tmo, a[2], 16, RW);
    /* The guest's temporary signal mask is not applied (no async guest
     * signal delivery yet). */
    return host_ret(syscall(SYS_ppoll, fds, (unsigned long)a[1], tmo, NULL, 8));
}

/* ---- system information --------------------------------------------------- */

int64_t user_sys_uname(UserProcess *p, A64State *env, const uint64_t a[6])
{
    struct utsname u;
    if (uname(&u) != 0)
        return -errno;
    snprintf(u.machine, sizeof u.machine, "aarch64");
    return guest_mem_write(p->mem, a[0], &u, sizeof u) ? 0 : -EFAULT;
}

int64_t user_sys_sysinfo(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[0], 112, W);
    return host_ret(syscall(SYS_sysinfo, buf));
}

int64_t user_sys_getrusage(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], 144, W);
    return host_ret(syscall(SYS_getrusage, (int)a[0], buf));
}

int64_t user_sys_times(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(buf, a[0], 32, W);
    return host_ret(syscall(SYS_times, buf));
}

int64_t user_sys_umask(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return umask((mode_t)a[0]);
}

int64_t user_sys_prctl(UserProcess *p, A64State *env, const uint64_t a[6])
{
    switch ((int)a[0]) {
    case PR_SET_NAME: {
        char name[16] = "";
        int64_t n = guest_mem_strlen(p->mem, a[1], 4096);
        if (n == -1)
            return -EFAULT;
        memcpy(name, guest_mem_g2h(p->mem, a[1]), n > 15 ? 15 : (size_t)n);
        return host_ret(prctl(PR_SET_NAME, name, 0, 0, 0));
    }
    case PR_GET_NAME: {
        GPTR(buf, a[1], 16, W);
        return host_ret(prctl(PR_GET_NAME, buf, 0, 0, 0));
    }
    case PR_GET_DUMPABLE: case PR_SET_DUMPABLE: case PR_SET_PDEATHSIG:
    case PR_GET_NO_NEW_PRIVS: case PR_SET_NO_NEW_PRIVS: case PR_GET_TIMERSLACK:
    case PR_SET_TIMERSLACK: case PR_GET_KEEPCAPS: case PR_SET_KEEPCAPS:
        return host_ret(prctl((int)a[0], a[1], a[2], a[3], a[4]));
    default:
        if (emu_log_enabled(EMU_LOG_UNIMP))
            emu_log("Unsupported prctl: option %d\n", (int)a[0]);
        return -EINVAL;
    }
}

int64_t user_sys_getrandom(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[0], a[1], W);
    return host_ret(syscall(SYS_getrandom, buf, (size_t)a[1], (unsigned)a[2]));
}

int64_t user_sys_prlimit64(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(newl, a[2], 16, R);
    GPTR_OPT(oldl, a[3], 16, W);
    return host_ret(syscall(SYS_prlimit64, (pid_t)a[0], (int)a[1], newl, oldl));
}

int64_t user_sys_getrlimit(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], 16, W);
    return host_ret(syscall(SYS_prlimit64, 0, (int)a[0], NULL, buf));
}

int64_t user_sys_setrlimit(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], 16, R);
    return host_ret(syscall(SYS_prlimit64, 0, (int)a[0], buf, NULL));
}

int64_t user_sys_sched_getaffinity(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(mask, a[2], a[1], W);
    return host_ret(syscall(SYS_sched_getaffinity, (pid_t)a[0], (size_t)a[1], mask));
}

int64_t user_sys_sched_setaffinity(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(mask, a[2], a[1], R);
    return host_ret(syscall(SYS_sched_setaffinity, (pid_t)a[0], (size_t)a[1], mask));
}

int64_t user_sys_sched_yield(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(sched_yield());
}

/* ---- time ------------------------------------------------------------ */
/* struct timespec / timeval are two 64-bit words on both ABIs. */

int64_t user_sys_clock_gettime(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(tp, a[1], 16, W);
    return host_ret(syscall(SYS_clock_gettime, (clockid_t)a[0], tp));
}

int64_t user_sys_clock_getres(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(tp, a[1], 16, W);
    return host_ret(syscall(SYS_clock_getres, (clockid_t)a[0], tp));
}

int64_t user_sys_gettimeofday(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(tv, a[0], 16, W);
    GPTR_OPT(tz, a[1], 8, W);
    return host_ret(syscall(SYS_gettimeofday, tv, tz));
}

int64_t user_sys_nanosleep(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(req, a[0], 16, R);
    GPTR_OPT(rem, a[1], 16, W);
    return host_ret(syscall(SYS_nanosleep, req, rem));
}

int64_t user_sys_clock_nanosleep(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(req, a[2], 16, R);
    GPTR_OPT(rem, a[3], 16, W);
    return host_ret(syscall(SYS_clock_nanosleep, (clockid_t)a[0], (int)a[1], req, rem));
}

/* ---- identity -------------------------------------------------------- */

int64_t user_sys_getpid(UserProcess *p, A64State *env, const uint64_t a[6]) { return getpid(); }
int64_t user_sys_getppid(UserProcess *p, A64State *env, const uint64_t a[6]) { return getppid(); }
int64_t user_sys_gettid(UserProcess *p, A64State *env, const uint64_t a[6]) { return gettid(); }
int64_t user_sys_getuid(UserProcess *p, A64State *env, const uint64_t a[6]) { return getuid(); }
int64_t user_sys_geteuid(UserProcess *p, A64State *env, const uint64_t a[6]) { return geteuid(); }
int64_t user_sys_getgid(UserProcess *p, A64State *env, const uint64_t a[6]) { return getgid(); }
int64_t user_sys_getegid(UserProcess *p, A64State *env, const uint64_t a[6]) { return getegid(); }

int64_t user_sys_getresuid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(r, a[0], 4, W);
    GPTR(e, a[1], 4, W);
    GPTR(s, a[2], 4, W);
    return host_ret(getresuid(r, e, s));
}

int64_t user_sys_getresgid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(r, a[0], 4, W);
    GPTR(e, a[1], 4, W);
    GPTR(s, a[2], 4, W);
    return host_ret(getresgid(r, e, s));
}

int64_t user_sys_getgroups(UserProcess *p, A64State *env, const uint64_t a[6])
{
    if ((int)a[0] < 0)
        return -EINVAL;
    GPTR(list, a[1], (uint64_t)(int)a[0] * 4, W);
    return host_ret(getgroups((int)a[0], list));
}

int64_t user_sys_getpgid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(getpgid((pid_t)a[0]));
}

int64_t user_sys_setpgid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(setpgid((pid_t)a[0], (pid_t)a[1]));
}

int64_t user_sys_getsid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(getsid((pid_t)a[0]));
}

int64_t user_sys_setsid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(setsid());
}

int64_t user_sys_set_tid_address(UserProcess *p, A64State *env, const uint64_t a[6])
{
    user_thread_self()->clear_child_tid = a[0];
    return gettid();
}

int64_t user_sys_set_robust_list(UserProcess *p, A64State *env, const uint64_t a[6])
{
    if (a[1] != 24)   /* sizeof(struct robust_list_head) */
        return -EINVAL;
    user_thread_self()->robust_list = a[0];
    user_thread_self()->robust_len = a[1];
    return 0;
}

int64_t user_sys_get_robust_list(UserProcess *p, A64State *env, const uint64_t a[6])
{
    if (a[0] && (pid_t)a[0] != gettid())
        return -EPERM;
    UserThreadState *t = user_thread_self();
    if (!guest_mem_write(p->mem, a[1], &t->robust_list, 8) ||
        !guest_mem_write(p->mem, a[2], &t->robust_len, 8))
        return -EFAULT;
    return 0;
}

int64_t user_sys_rseq(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return -ENOSYS;   /* glibc then does without restartable sequences */
}

/* ---- memory ------------------------------------------------------------ */

int64_t user_sys_brk(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return (int64_t)guest_brk(p->mem, a[0]);
}

int64_t user_sys_mmap(UserProcess *p, A64State *env, const uint64_t a[6])
{
    int flags = (int)a[3], fd = (int)a[4];
    char name[PATH_MAX], link[64];
    const char *vname = NULL;
    if (!(flags & MAP_ANONYMOUS) && hostfd_is_emu(fd))
        return -EBADF;   /* emu's own (a cache pack): not the guest's to map */
    if (!(flags & MAP_ANONYMOUS)) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, name, sizeof name - 1);
        if (n > 0) {
            name[n] = 0;
            vname = name;
        }
    } else {
        fd = -1;
    }
    return guest_mmap(p->mem, a[0], a[1], (int)a[2], flags, fd, a[5], vname);
}

int64_t user_sys_munmap(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return guest_munmap(p->mem, a[0], a[1]);
}

int64_t user_sys_mprotect(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return guest_mprotect(p->mem, a[0], a[1], (int)a[2]);
}

int64_t user_sys_mremap(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return guest_mremap(p->mem, a[0], a[1], a[2], (int)a[3], a[4]);
}

int64_t user_sys_madvise(UserProcess *p, A64State *env, const uint64_t a[6])
{
    uint64_t addr = a[0], len = guest_page_round_up(a[1]);
    int advice = (int)a[2];
    if (addr & (GUEST_PAGE_SIZE - 1))
        return -EINVAL;
    if (!guest_mem_check(p->mem, addr, len, 0))
        return -ENOMEM;
    if (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE) {
        /* Contents change: translations of those pages go first. */
        if (!guest_mem_ptr(p->mem, addr, len, 0))
            return -ENOMEM;
        if (p->mem->hooks.invalidate)
            p->mem->hooks.invalidate(p->mem->hooks.opaque, addr, len);
        return host_ret(madvise(guest_mem_g2h(p->mem, addr), len, advice));
    }
    return 0;   /* hints */
}

int64_t user_sys_msync(UserProcess *p, A64State *env, const uint64_t a[6])
{
    if (!guest_mem_check(p->mem, a[0], a[1], 0))
        return -ENOMEM;
    return host_ret(msync(guest_mem_g2h(p->mem, a[0]), a[1], (int)a[2]));
}

int64_t user_sys_mlock(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return guest_mem_check(p->mem, a[0], a[1], 0) ? 0 : -ENOMEM;
}

int64_t user_sys_munlock(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return guest_mem_check(p->mem, a[0], a[1], 0) ? 0 : -ENOMEM;
}

/* ---- futex: guest memory is host memory, so the host futex works -------- */

int64_t user_sys_futex(UserProcess *p, A64State *env, const uint64_t a[6])
{
    int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
    /* The PI operations write the futex word themselves. */
    bool pi = cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 || cmd == FUTEX_UNLOCK_PI ||
              cmd == FUTEX_TRYLOCK_PI;
    GPTR(uaddr, a[0], 4, pi ? RW : R);
    void *arg4 = (void *)(uintptr_t)a[3];   /* val2 for the requeue/wake_op family */
    void *uaddr2 = NULL;
    switch (cmd) {
    case FUTEX_WAIT: case FUTEX_WAIT_BITSET: case FUTEX_LOCK_PI: case FUTEX_LOCK_PI2:
    case FUTEX_WAIT_REQUEUE_PI:
        arg4 = NULL;
        if (a[3]) {
            arg4 = guest_mem_ptr(p->mem, a[3], 16, R);
            if (!arg4)
                return -EFAULT;
        }
        break;
    case FUTEX_WAKE: case FUTEX_WAKE_BITSET: case FUTEX_UNLOCK_PI: case FUTEX_TRYLOCK_PI:
        break;
    case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE: case FUTEX_WAKE_OP:
    case FUTEX_CMP_REQUEUE_PI:
        break;
    default:
        return -ENOSYS;
    }
    if (cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_WAKE_OP ||
        cmd == FUTEX_CMP_REQUEUE_PI || cmd == FUTEX_WAIT_REQUEUE_PI) {
        uaddr2 = guest_mem_ptr(p->mem, a[4], 4, cmd == FUTEX_WAKE_OP ? RW : R);
        if (!uaddr2)
            return -EFAULT;
    }
    return host_ret(syscall(SYS_futex, uaddr, op, (uint32_t)a[2], arg4, uaddr2,
                            (uint32_t)a[5]));
}

/* ---- signals ----------------------------------------------------------- */

int64_t user_sys_rt_sigaction(UserProcess *p, A64State *env, const uint64_t a[6])
{
    int sig = (int)a[0];
    if (a[3] != 8 || sig < 1 || sig > GUEST_NSIG)
        return -EINVAL;
    GuestSigAction act;
    if (a[1] && !guest_mem_read(p->mem, a[1], &act, sizeof act))
        return -EFAULT;
    if (a[2] && !guest_mem_check(p->mem, a[2], sizeof act, W))
        return -EFAULT;
    if (a[1] && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    if (a[2])
        guest_mem_write(p->mem, a[2], &p->sigact[sig], sizeof act);
    if (a[1]) {
        p->sigact[sig] = act;
        user_signal_mirror(p, sig);
        /* a handler will look at the registers of a faulting insn: LLVM
         * code must check its loads from now on */
        if ((sig == SIGSEGV || sig == SIGBUS) && act.handler > 1 && p->engine)
            exec_guest_fault_handler(p->engine);
    }
    return 0;
}

int64_t user_sys_rt_sigprocmask(UserProcess *p, A64State *env, const uint64_t a[6])
{
    if (a[3] != 8)
        return -EINVAL;
    uint64_t set = 0, old = user_thread_self()->sigmask;
    if (a[1] && !guest_mem_read(p->mem, a[1], &set, 8))
        return -EFAULT;
    if (a[2] && !guest_mem_check(p->mem, a[2], 8, W))
        return -EFAULT;
    if (a[1]) {
        switch ((int)a[0]) {
        case SIG_BLOCK: user_thread_self()->sigmask |= set; break;
        case SIG_UNBLOCK: user_thread_self()->sigmask &= ~set; break;
        case SIG_SETMASK: user_thread_self()->sigmask = set; break;
        default: return -EINVAL;
        }
        /* SIGKILL and SIGSTOP cannot be blocked. */
        user_thread_self()->sigmask &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
    }
    if (a[2] && !guest_mem_write(p->mem, a[2], &old, 8))
        return -EFAULT;   /* a file mapping past its end */
    return 0;   /* newly unblocked pending signals go when the syscall returns */
}

int64_t user_sys_rt_sigsuspend(UserProcess *p, A64State *env, const uint64_t a[6])
{
    uint64_t mask;
    if (a[1] != 8)
        return -EINVAL;
    if (!guest_mem_read(p->mem, a[0], &mask, 8))
        return -EFAULT;
    return user_signal_suspend(p, mask);
}

int64_t user_sys_sigaltstack(UserProcess *p, A64State *env, const uint64_t a[6])
{
    uint64_t ss[3];
    if (a[1]) {
        /* no stack recorded (size 0) reads back as SS_DISABLE */
        uint64_t old[3] = { p->altstack[0], p->altstack[2] ? p->altstack[1] : SS_DISABLE,
                            p->altstack[2] };
        if (!guest_mem_write(p->mem, a[1], old, sizeof old))
            return -EFAULT;
    }
    if (a[0]) {
        if (p->altstack[2] && env->x[A64_SP] - p->altstack[0] < p->altstack[2])
            return -EPERM;   /* running on it */
        if (!guest_mem_read(p->mem, a[0], ss, sizeof ss))
            return -EFAULT;
        int flags = (int)ss[1];
        if (flags & ~(SS_DISABLE | SS_AUTODISARM))
            return -EINVAL;
        if (!(flags & SS_DISABLE) && ss[2] < GUEST_MINSIGSTKSZ)
            return -ENOMEM;
        if (flags & SS_DISABLE)
            memset(p->altstack, 0, sizeof p->altstack);
        else
            p->altstack[0] = ss[0], p->altstack[1] = (uint64_t)flags, p->altstack[2] = ss[2];
    }
    return 0;
}

/* A signal to ourselves: pending until the syscall returns. */
static int64_t deliver_kill(UserProcess *p, int sig, int si_code)
{
    if (sig < 0 || sig > GUEST_NSIG)
        return -EINVAL;
    if (sig)
        user_signal_raise(p, sig, si_code);
    return 0;
}

int64_t user_sys_kill(UserProcess *p, A64State *env, const uint64_t a[6])
{
    pid_t pid = (pid_t)a[0];
    int sig = (int)a[1];
    if (pid == getpid())
        return deliver_kill(p, sig, SI_USER);
    return host_ret(kill(pid, sig));
}

int64_t user_sys_tgkill(UserProcess *p, A64State *env, const uint64_t a[6])
{
    pid_t tgid = (pid_t)a[0], tid = (pid_t)a[1];
    int sig = (int)a[2];
    if (tgid == getpid() && tid == gettid())
        return deliver_kill(p, sig, SI_TKILL);
    return host_ret(syscall(SYS_tgkill, tgid, tid, sig));
}

int64_t user_sys_tkill(UserProcess *p, A64State *env, const uint64_t a[6])
{
    pid_t tid = (pid_t)a[0];
    int sig = (int)a[1];
    if (tid == gettid())
        return deliver_kill(p, sig, SI_TKILL);
    return host_ret(syscall(SYS_tkill, tid, sig));
}

/* ---- processes ------------------------------------------------------- */

int64_t user_sys_rt_sigreturn(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return user_sigframe_return(p, env);
}

int64_t user_sys_exit(UserProcess *p, A64State *env, const uint64_t a[6])
{
    user_thread_exit(p, (int)(a[0] & 0xff));
}

int64_t user_sys_exit_group(UserProcess *p, A64State *env, const uint64_t a[6])
{
    user_exit(p, (int)(a[0] & 0xff));
}

int64_t user_sys_wait4(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(status, a[1], 4, W);
    GPTR_OPT(ru, a[3], 144, W);
    return host_ret(syscall(SYS_wait4, (pid_t)a[0], status, (int)a[2], ru));
}

/* clone without CLONE_VM is fork: the whole emulator is duplicated and the
 * child goes on in its own copy of the guest.  Threads: user/thread.c. */
int64_t user_sys_clone(UserProcess *p, A64State *env, const uint64_t a[6])
{
    uint64_t flags = a[0], newsp = a[1], ptid = a[2], tls = a[3], ctid = a[4];
    const uint64_t supported = CSIGNAL | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |
                               CLONE_PARENT_SETTID | CLONE_SETTLS | CLONE_VFORK | CLONE_VM;
    if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
        return user_thread_clone(p, env, flags, newsp, ptid, tls, ctid);
    if (flags & ~supported)
        return -EINVAL;
    if (emu_log_file())
        fflush(emu_log_file());
    fflush(stdout);
    fflush(stderr);
    /* vfork is done as fork: the parent does not share the child's memory,
     * which only differs for programs that break vfork's rules. */
    /* The engine's locks (and the tier-up compiler, which may be inside the
     * dynamic loader) are held across the clone so that the child never
     * inherits one taken by a thread it does not have. */
    fdtrack_before_fork(p);   /* children inherit the set of open descriptors */
    if (p->engine)
        exec_fork_prepare(p->engine);
    /* glibc's fork() also takes malloc's locks across the clone: with the
     * raw syscall a child forked while the tier-up worker was inside malloc
     * (storing a region, freeing a job) inherited a locked arena and hung
     * in its first malloc.  Only a non-default exit signal needs the raw
     * clone (which has that risk). */
    pid_t pid = (flags & CSIGNAL) == SIGCHLD
                    ? fork()
                    : (pid_t)syscall(SYS_clone, (flags & CSIGNAL), NULL, NULL, NULL, NULL);
    int saved_errno = errno;
    if (p->engine) {
        if (pid == 0)
            exec_fork_child(p->engine, user_thread_self()->cpu);
        else
            exec_fork_parent(p->engine);
    }
    if (pid < 0)
        return -saved_errno;
    if (pid == 0) {
        pid_t me = gettid();
        emu_cache_note_fork_child();   /* the parent stores what it translated */
        p->live_threads = 1;   /* only the forking thread goes on in the child */
        if (flags & CLONE_CHILD_SETTID)
            guest_mem_write(p->mem, ctid, &me, 4);
        if (flags & CLONE_CHILD_CLEARTID)
            user_thread_self()->clear_child_tid = ctid;
        if (newsp)
            env->x[A64_SP] = newsp;
        if (flags & CLONE_SETTLS)
            env->tpidr_el0 = tls;
        return 0;
    }
    if (flags & CLONE_PARENT_SETTID)
        guest_mem_write(p->mem, ptid, &pid, 4);
    return pid;
}

/* ---- more pass-throughs ------------------------------------------------ */

int64_t user_sys_waitid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(info, a[2], 128, W);   /* siginfo_t: generic layout on both */
    GPTR_OPT(ru, a[4], 144, W);
    return host_ret(syscall(SYS_waitid, (int)a[0], (id_t)a[1], info, (int)a[3], ru));
}

int64_t user_sys_pselect6(UserProcess *p, A64State *env, const uint64_t a[6])
{
    int nfds = (int)a[0];
    if (nfds < 0 || nfds > 65536)
        return -EINVAL;
    uint64_t setsz = ((uint64_t)nfds + 63) / 64 * 8;
    GPTR_OPT(rd, a[1], setsz, RW);
    GPTR_OPT(wr, a[2], setsz, RW);
    GPTR_OPT(ex, a[3], setsz, RW);
    GPTR_OPT(tmo, a[4], 16, RW);
    /* The temporary signal mask is not applied (see ppoll). */
    return host_ret(syscall(SYS_pselect6, nfds, rd, wr, ex, tmo, NULL));
}

int64_t user_sys_fallocate(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(fallocate((int)a[0], (int)a[1], (off_t)a[2], (off_t)a[3]));
}

int64_t user_sys_fadvise64(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return -posix_fadvise((int)a[0], (off_t)a[1], (off_t)a[2], (int)a[3]);
}

int64_t user_sys_flock(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(flock((int)a[0], (int)a[1]));
}

int64_t user_sys_sync(UserProcess *p, A64State *env, const uint64_t a[6])
{
    sync();
    return 0;
}

int64_t user_sys_syncfs(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(syncfs((int)a[0]));
}

int64_t user_sys_getpriority(UserProcess *p, A64State *env, const uint64_t a[6])
{
    /* The raw syscall returns 20 - nice, never negative. */
    return host_ret(syscall(SYS_getpriority, (int)a[0], (id_t)a[1]));
}

int64_t user_sys_setpriority(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(setpriority((int)a[0], (id_t)a[1], (int)a[2]));
}

int64_t user_sys_getcpu(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR_OPT(cpu, a[0], 4, W);
    GPTR_OPT(node, a[1], 4, W);
    return host_ret(syscall(SYS_getcpu, cpu, node, NULL));
}

int64_t user_sys_sched_getscheduler(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(sched_getscheduler((pid_t)a[0]));
}

int64_t user_sys_sched_getparam(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(param, a[1], 4, W);
    return host_ret(sched_getparam((pid_t)a[0], param));
}

int64_t user_sys_mknodat(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(path, a[1]);
    return host_ret(mknodat(dirfd_arg(a[0]), path, (mode_t)a[2], (dev_t)a[3]));
}

/* Timers deliver SIGALRM/SIGVTALRM/SIGPROF to the host process: with the
 * guest's default action that is the right outcome; guest handlers are
 * not run yet (see signal.c). */
int64_t user_sys_getitimer(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(val, a[1], 32, W);
    return host_ret(syscall(SYS_getitimer, (int)a[0], val));
}

int64_t user_sys_setitimer(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(val, a[1], 32, R);
    GPTR_OPT(old, a[2], 32, W);
    return host_ret(syscall(SYS_setitimer, (int)a[0], val, old));
}

int64_t user_sys_setuid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(syscall(SYS_setuid, (uid_t)a[0]));
}

int64_t user_sys_setgid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(syscall(SYS_setgid, (gid_t)a[0]));
}

int64_t user_sys_setreuid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(syscall(SYS_setreuid, (uid_t)a[0], (uid_t)a[1]));
}

int64_t user_sys_setregid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(syscall(SYS_setregid, (gid_t)a[0], (gid_t)a[1]));
}

int64_t user_sys_setresuid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(syscall(SYS_setresuid, (uid_t)a[0], (uid_t)a[1], (uid_t)a[2]));
}

int64_t user_sys_setresgid(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(syscall(SYS_setresgid, (gid_t)a[0], (gid_t)a[1], (gid_t)a[2]));
}

int64_t user_sys_chroot(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(path, a[0]);
    return host_ret(chroot(path));
}

int64_t user_sys_unimp(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return -ENOSYS;
}

/* ---- table ----------------------------------------------------------- */

typedef struct SyscallEntry {
    const char *name;
    SyscallFn *fn;
    unsigned flags;  /* USER_SYS_* */
} SyscallEntry;

static const SyscallEntry syscall_table[] = {
#define SYSCALL(nr, name, handler, flags) [nr] = { #name, user_sys_##handler, flags },
#include "user/syscalls-aarch64.def"
#undef SYSCALL
};
#define N_SYSCALLS (sizeof syscall_table / sizeof syscall_table[0])

const char *user_syscall_name(uint64_t nr)
{
    return nr < N_SYSCALLS ? syscall_table[nr].name : NULL;
}

int64_t user_syscall_args(UserProcess *p, A64State *env, uint64_t nr, const uint64_t a[6])
{
    const SyscallEntry *e = nr < N_SYSCALLS ? &syscall_table[nr] : NULL;
    if (!e || !e->fn || e->fn == user_sys_unimp) {
        if (emu_log_enabled(EMU_LOG_UNIMP)) {
            if (e && e->name)
                emu_log("Unsupported syscall: %llu (%s)\n", (unsigned long long)nr, e->name);
            else
                emu_log("Unsupported syscall: %llu\n", (unsigned long long)nr);
        }
        return -ENOSYS;
    }
    /* emu's own descriptors are not the guest's (support/hostfd.h) */
    if (((e->flags & USER_SYS_FD0) && hostfd_is_emu((int)a[0])) ||
        ((e->flags & USER_SYS_FD1) && hostfd_is_emu((int)a[1])) ||
        ((e->flags & USER_SYS_FD2) && hostfd_is_emu((int)a[2])))
        return -EBADF;
    /* calls that allocate descriptors (the table's flags column) */
    bool fds = (e->flags & USER_SYS_FD) ||
               ((e->flags & USER_SYS_FD_DUPCMD) && (a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC));
    if (fds)
        tier_llvm_fd_enter();
    int64_t r = e->fn(p, env, a);
    if (fds)
        tier_llvm_fd_leave();
    fdtrack_note(p, nr, e->flags, a, r);   /* the descriptors execve in place closes */
    return r;
}

/* Calls Linux never restarts after a handler ran, whatever SA_RESTART
 * says (sigsuspend, waits with a timeout, sleeps), and sigreturn itself. */
static bool restartable(uint64_t nr)
{
    switch (nr) {
    case 22: case 72: case 73: case 101: case 115: case 133: case 139:
        return false;
    default:
        return true;
    }
}

void user_syscall(UserProcess *p, A64State *env)
{
    uint64_t a[6];
    memcpy(a, env->x, sizeof a);
    uint64_t nr = env->x[8];
    int64_t r = user_syscall_args(p, env, nr, a);
    if (r == -EINTR && restartable(nr) && user_signal_restart_pending(p)) {
        /* SA_RESTART: run the svc again once the handler returns (the
         * frame saves pc = the svc and the original x0). */
        env->common.pc -= 4;
        return;
    }
    env->x[0] = (uint64_t)r;
}
