/*
 * fd-track.c - a superset of the guest's open descriptors (fd-track.h).
 *
 * The set is a bitmap, valid or not.  A listing of /proc/self/fd makes it
 * valid; every guest syscall then either leaves it alone (it creates no
 * descriptor: USER_SYS_NOFD in the syscall table), adds what it created, removes what
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
#include "user/syscall-internal.h"

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

/* What a successful syscall nr did to the descriptor table: nothing for
 * calls the table marks USER_SYS_NOFD; anything not known forgets the set. */
static int fd_effect(uint64_t nr, unsigned flags, const uint64_t a[6])
{
    if (flags & USER_SYS_NOFD)
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

void fdtrack_note(UserProcess *p, uint64_t nr, unsigned flags, const uint64_t a[6], int64_t ret)
{
    if (ret < 0)
        return;
    int eff = fd_effect(nr, flags, a);
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
