/*
 * syscall-events.c - event file descriptors: epoll, eventfd, timerfd,
 * inotify.  Only epoll needs translation: struct epoll_event is packed on
 * x86-64 (12 bytes) but naturally aligned on arm64 (16 bytes:
 * u32 events, 4 bytes padding, u64 data).
 */
#define _GNU_SOURCE
#include "user/syscall-internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

typedef struct GuestEpollEvent {
    uint32_t events, pad;
    uint64_t data;
} GuestEpollEvent;
_Static_assert(sizeof(GuestEpollEvent) == 16, "arm64 struct epoll_event");

int64_t user_sys_epoll_create1(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(epoll_create1((int)a[0]));
}

int64_t user_sys_epoll_ctl(UserProcess *p, A64State *env, const uint64_t a[6])
{
    struct epoll_event ev, *evp = NULL;
    if ((int)a[1] != EPOLL_CTL_DEL || a[3]) {
        GuestEpollEvent g;
        if (!guest_mem_read(p->mem, a[3], &g, sizeof g))
            return -EFAULT;
        ev.events = g.events;
        ev.data.u64 = g.data;
        evp = &ev;
    }
    return host_ret(epoll_ctl((int)a[0], (int)a[1], (int)a[2], evp));
}

int64_t user_sys_epoll_pwait(UserProcess *p, A64State *env, const uint64_t a[6])
{
    int max = (int)a[2];
    if (max <= 0 || max > 65536)
        return -EINVAL;
    GuestEpollEvent *g = guest_mem_ptr(p->mem, a[1], (uint64_t)max * sizeof *g, W);
    if (!g)
        return -EFAULT;
    struct epoll_event *ev = malloc((size_t)max * sizeof *ev);
    if (!ev)
        return -ENOMEM;
    /* The temporary signal mask (a[4]) is not applied (see ppoll). */
    int n = epoll_wait((int)a[0], ev, max, (int)a[3]);
    int64_t r = n < 0 ? -errno : n;
    for (int i = 0; i < n; i++)
        g[i] = (GuestEpollEvent){ .events = ev[i].events, .data = ev[i].data.u64 };
    free(ev);
    return r;
}

int64_t user_sys_eventfd2(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(eventfd((unsigned)a[0], (int)a[1]));
}

/* struct itimerspec is four 64-bit words on both ABIs. */
int64_t user_sys_timerfd_create(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(timerfd_create((int)a[0], (int)a[1]));
}

int64_t user_sys_timerfd_settime(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(val, a[2], 32, R);
    GPTR_OPT(old, a[3], 32, W);
    return host_ret(timerfd_settime((int)a[0], (int)a[1], val, old));
}

int64_t user_sys_timerfd_gettime(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(cur, a[1], 32, W);
    return host_ret(timerfd_gettime((int)a[0], cur));
}

int64_t user_sys_inotify_init1(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(inotify_init1((int)a[0]));
}

int64_t user_sys_inotify_add_watch(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPATH(path, a[1]);
    return host_ret(inotify_add_watch((int)a[0], path, (uint32_t)a[2]));
}

int64_t user_sys_inotify_rm_watch(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(inotify_rm_watch((int)a[0], (int)a[1]));
}
