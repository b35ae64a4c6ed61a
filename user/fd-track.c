/*
 * fd-track.c - a superset of the guest's open descriptors (fd-track.h).
 *
 * The set is a bitmap, valid or not.  A listing of /proc/self/fd makes it
 * valid; every guest syscall then either leaves it alone (it creates no
 * descriptor: the list in fd_effect), adds what it created, removes what
 * close closed, or, for anything else, makes it invalid until the next
 * listing.  A descriptor's flags are read from the kernel at the pass, so
 * the set only has to hold every open one.  Shared by the process's
 * threads (a mutex); fork copies it.
 */
#define _GNU_SOURCE
#include "user/fd-track.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/tier-llvm.h"
#include "support/hostfd.h"
#include "user/process.h"

static pthread_mutex_t fdt_lock = PTHREAD_MUTEX_INITIALIZER;
static bool fdt_valid;   /* written under fdt_lock, read without it too */
static uint64_t *fdt_bits;
static size_t fdt_words;

/* Under fdt_lock.  false (set invalid) when out of memory. */
static bool set_bit(long fd)
{
    if (fd < 0 || fd > (1l << 24))
        return false;
    size_t w = (size_t)fd / 64;
    if (w >= fdt_words) {
        size_t n = fdt_words ? fdt_words : 4;
        while (n <= w)
            n *= 2;
        uint64_t *b = realloc(fdt_bits, n * sizeof *b);
        if (!b)
            return false;
        memset(b + fdt_words, 0, (n - fdt_words) * sizeof *b);
        fdt_bits = b, fdt_words = n;
    }
    fdt_bits[w] |= 1ull << (fd % 64);
    return true;
}

static void clear_bit(long fd)
{
    if (fd >= 0 && (size_t)fd / 64 < fdt_words)
        fdt_bits[fd / 64] &= ~(1ull << (fd % 64));
}

/* Under fdt_lock: the set from /proc/self/fd (emu's own left out). */
static void list_fds(void)
{
    __atomic_store_n(&fdt_valid, false, __ATOMIC_RELAXED);
    memset(fdt_bits, 0, fdt_words * sizeof *fdt_bits);
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int dfd = dirfd(d);
    bool ok = true;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end || fd == dfd || hostfd_is_emu((int)fd))
            continue;
        ok &= set_bit(fd);
    }
    closedir(d);
    __atomic_store_n(&fdt_valid, ok, __ATOMIC_RELAXED);
}

enum { FD_NONE, FD_ADD_RET, FD_ADD_PAIR0, FD_ADD_PAIR3, FD_CLOSE, FD_FORGET };

/* Calls (AArch64 numbers) that make, change or close no descriptor. */
static const uint16_t no_fd_calls[] = {
    17, 21, 22, 27, 28,          /* getcwd epoll_ctl epoll_pwait inotify_add/rm_watch */
    32, 33, 34, 35, 36, 37, 38,  /* flock mknodat mkdirat unlinkat symlinkat linkat renameat */
    43, 44, 45, 46, 47, 48, 49, 50,   /* statfs fstatfs truncate ftruncate fallocate
                                         faccessat chdir fchdir */
    52, 53, 54, 55,              /* fchmod fchmodat fchownat fchown */
    61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73,   /* getdents64 lseek read write
        readv writev pread64 pwrite64 preadv pwritev sendfile pselect6 ppoll */
    78, 79, 80, 81, 82, 83, 86, 87, 88,   /* readlinkat newfstatat fstat sync fsync
        fdatasync timerfd_settime timerfd_gettime utimensat */
    93, 94, 95, 96, 98, 99, 101, 102, 103,   /* exit exit_group waitid set_tid_address
        futex set_robust_list nanosleep getitimer setitimer */
    113, 114, 115, 124, 129, 130, 131,   /* clock_gettime clock_getres clock_nanosleep
        sched_yield kill tkill tgkill */
    132, 133, 134, 135, 136, 137, 139,   /* sigaltstack rt_sigsuspend rt_sigaction
        rt_sigprocmask rt_sigpending rt_sigtimedwait rt_sigreturn */
    153, 154, 155, 156, 157, 160, 163, 164, 165, 166, 167, 169,   /* times setpgid getpgid
        getsid setsid uname getrlimit setrlimit getrusage umask prctl gettimeofday */
    172, 173, 174, 175, 176, 177, 178, 179,   /* getpid getppid getuid geteuid getgid
        getegid gettid sysinfo */
    200, 201, 203, 204, 205, 206, 207, 208, 209, 210, 211,   /* bind listen connect
        getsockname getpeername sendto recvfrom setsockopt getsockopt shutdown sendmsg */
    214, 215, 216, 220, 221, 222, 226, 233,   /* brk munmap mremap clone (CLONE_PIDFD is
        refused) execve mmap mprotect madvise */
    260, 261, 278, 291, 293,     /* wait4 prlimit64 getrandom statx rseq */
};
static uint64_t no_fd_bits[8];
static pthread_once_t no_fd_once = PTHREAD_ONCE_INIT;

static void no_fd_init(void)
{
    for (size_t i = 0; i < sizeof no_fd_calls / sizeof no_fd_calls[0]; i++)
        no_fd_bits[no_fd_calls[i] / 64] |= 1ull << (no_fd_calls[i] % 64);
}

/* What a successful syscall nr did to the descriptor table.  Anything not
 * known forgets the set. */
static int fd_effect(uint64_t nr, const uint64_t a[6])
{
    pthread_once(&no_fd_once, no_fd_init);
    if (nr < 512 && (no_fd_bits[nr / 64] >> (nr % 64)) & 1)
        return FD_NONE;
    switch (nr) {
    case 19: case 20: case 23: case 24: case 26: case 56: case 74: case 85:   /* eventfd2
        epoll_create1 dup dup3 inotify_init1 openat signalfd4 timerfd_create */
    case 198: case 202: case 242: case 279:   /* socket accept accept4 memfd_create */
        return FD_ADD_RET;
    case 25:   /* fcntl: only F_DUPFD and F_DUPFD_CLOEXEC make one */
        return a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC ? FD_ADD_RET : FD_NONE;
    case 59:   /* pipe2: int[2] at a[0] */
        return FD_ADD_PAIR0;
    case 199:   /* socketpair: int[2] at a[3] */
        return FD_ADD_PAIR3;
    case 57:
        return FD_CLOSE;
    case 29:   /* ioctl: a shell's terminal calls make none (TIOCGPTPEER would) */
        switch (a[1]) {
        case 0x5401: case 0x5402: case 0x5403: case 0x5404: case 0x540f: case 0x5410:
        case 0x5413: case 0x5414: case 0x541b: case 0x5421: case 0x5429:
            return FD_NONE;
        default:
            return FD_FORGET;
        }
    default:
        return FD_FORGET;   /* recvmsg (SCM_RIGHTS), clone3, anything new */
    }
}

void fdtrack_note(UserProcess *p, uint64_t nr, const uint64_t a[6], int64_t ret)
{
    if (ret < 0)
        return;
    int eff = fd_effect(nr, a);
    if (eff == FD_NONE)
        return;
    int pair[2] = { -1, -1 };
    if (eff == FD_ADD_PAIR0 || eff == FD_ADD_PAIR3) {
        uint64_t at = eff == FD_ADD_PAIR0 ? a[0] : a[3];
        if (!guest_mem_read(p->mem, at, pair, sizeof pair))
            eff = FD_FORGET;
    }
    /* validity under the lock: a listing racing with this call either saw
     * the new descriptor or comes after this note */
    pthread_mutex_lock(&fdt_lock);
    switch (fdt_valid ? eff : FD_NONE) {
    case FD_NONE:
        break;
    case FD_ADD_RET:
        __atomic_store_n(&fdt_valid, set_bit((long)ret), __ATOMIC_RELAXED);
        break;
    case FD_ADD_PAIR0: case FD_ADD_PAIR3:
        __atomic_store_n(&fdt_valid, set_bit(pair[0]) && set_bit(pair[1]), __ATOMIC_RELAXED);
        break;
    case FD_CLOSE:
        clear_bit((long)(int)a[0]);
        break;
    default:
        __atomic_store_n(&fdt_valid, false, __ATOMIC_RELAXED);
        break;
    }
    pthread_mutex_unlock(&fdt_lock);
}

void fdtrack_before_fork(UserProcess *p)
{
    (void)p;
    if (__atomic_load_n(&fdt_valid, __ATOMIC_RELAXED))
        return;
    tier_llvm_fd_enter();   /* no transient file of LLVM's in the listing */
    pthread_mutex_lock(&fdt_lock);   /* after LLVM's fd lock, as fdtrack_close_cloexec */
    if (!fdt_valid)
        list_fds();
    pthread_mutex_unlock(&fdt_lock);
    tier_llvm_fd_leave();
}

/* The kernel's close-on-exec pass over the guest's descriptors (emu's own,
 * hostfd.h, stay).  Not while LLVM's loader holds transient files. */
void fdtrack_close_cloexec(UserProcess *p)
{
    (void)p;
    tier_llvm_fd_enter();
    pthread_mutex_lock(&fdt_lock);
    if (!fdt_valid)
        list_fds();
    for (size_t w = 0; w < fdt_words; w++) {
        for (uint64_t bits = fdt_bits[w]; bits; bits &= bits - 1) {
            int fd = (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
            if (hostfd_is_emu(fd))
                continue;
            int fl = fcntl(fd, F_GETFD);
            if (fl < 0 || (fl & FD_CLOEXEC)) {
                if (fl >= 0)
                    close(fd);
                clear_bit(fd);
            }
        }
    }
    pthread_mutex_unlock(&fdt_lock);
    tier_llvm_fd_leave();
}
