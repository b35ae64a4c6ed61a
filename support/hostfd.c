/*
 * hostfd.c - emu's own host descriptors at the top of the descriptor
 * range, marked so that guest calls cannot touch them (hostfd.h).
 */
#define _GNU_SOURCE
#include "support/hostfd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

static int s_base = -1;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static uint64_t s_marked;          /* bit i: base + i is emu's */
static int s_stderr = 2;
_Static_assert(HOSTFD_MAX == 64, "one 64-bit mask of marks");

static void init_base(void)
{
    struct rlimit rl;
    rlim_t soft = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        soft = rl.rlim_cur;
    if (soft > 1024)
        soft = 1024;
    /* a tiny limit: share it, the guest keeps the lower half */
    s_base = soft >= 2 * HOSTFD_MAX ? (int)soft - HOSTFD_MAX : (int)soft / 2;
}

int hostfd_base(void)
{
    pthread_once(&s_once, init_base);
    return s_base;
}

static void mark(int fd, bool on)
{
    int i = fd - hostfd_base();
    if (i < 0 || i >= HOSTFD_MAX)
        return;
    if (on)
        __atomic_or_fetch(&s_marked, 1ull << i, __ATOMIC_RELEASE);
    else
        __atomic_and_fetch(&s_marked, ~(1ull << i), __ATOMIC_RELEASE);
}

int hostfd_keep(int fd)
{
    if (fd < 0)
        return fd;
    int base = hostfd_base();
    if (fd >= base && fd < base + HOSTFD_MAX) {
        mark(fd, true);
        return fd;
    }
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
    if (nfd < 0 || nfd >= base + HOSTFD_MAX) {
        if (nfd >= 0)
            close(nfd);
        return fd;     /* range full: keep the low number rather than fail */
    }
    int e = errno;
    close(fd);
    errno = e;
    mark(nfd, true);
    return nfd;
}

int hostfd_close(int fd)
{
    mark(fd, false);
    return close(fd);
}

bool hostfd_is_emu(int64_t fd)
{
    int64_t i = fd - hostfd_base();
    return i >= 0 && i < HOSTFD_MAX && ((__atomic_load_n(&s_marked, __ATOMIC_ACQUIRE) >> i) & 1);
}

FILE *hostfd_fopen(const char *path, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f)
        return NULL;
    int fd = hostfd_keep(fcntl(fileno(f), F_DUPFD_CLOEXEC, 0));
    if (fd < 0)
        return f;
    FILE *k = fdopen(fd, mode);
    if (!k) {
        hostfd_close(fd);
        return f;
    }
    fclose(f);
    return k;
}

void hostfd_own_stderr(void)
{
    int fd = fcntl(2, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return;    /* no stderr at all: nothing to keep */
    fd = hostfd_keep(fd);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        hostfd_close(fd);
        return;
    }
    setvbuf(f, NULL, _IONBF, 0);
    stderr = f;
    s_stderr = fd;
}

int hostfd_stderr(void)
{
    return s_stderr;
}
