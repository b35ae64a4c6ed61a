/*
 * syscall-net.c - socket syscalls.  Socket address structures, socket
 * option numbers, struct msghdr and control messages have the same layout
 * on arm64 and x86-64 (LP64, asm-generic socket numbers), so calls pass
 * through once every guest pointer has been turned into a checked host
 * pointer.  Example: guest connect(fd, addr, len) ->
 *   GPTR(sa, addr, len, R);  return host_ret(connect(fd, sa, len));
 */
#define _GNU_SOURCE
#include "user/syscall-internal.h"

#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int64_t user_sys_socket(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(socket((int)a[0], (int)a[1], (int)a[2]));
}

int64_t user_sys_socketpair(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(sv, a[3], 8, W);
    return host_ret(socketpair((int)a[0], (int)a[1], (int)a[2], sv));
}

int64_t user_sys_bind(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(sa, a[1], (uint32_t)a[2], R);
    return host_ret(bind((int)a[0], sa, (socklen_t)a[2]));
}

int64_t user_sys_connect(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(sa, a[1], (uint32_t)a[2], R);
    return host_ret(connect((int)a[0], sa, (socklen_t)a[2]));
}

int64_t user_sys_listen(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(listen((int)a[0], (int)a[1]));
}

int64_t user_sys_shutdown(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return host_ret(shutdown((int)a[0], (int)a[1]));
}

/* An optional (address, length pointer) pair filled by the kernel:
 * *lenp is read, then `*lenp` bytes at addr must be writable. */
static int64_t get_addr_out(UserProcess *p, uint64_t addr, uint64_t lenp, void **sa,
                            socklen_t **len)
{
    *sa = NULL;
    *len = NULL;
    if (!addr)
        return 0;
    *len = guest_mem_ptr(p->mem, lenp, 4, RW);
    if (!*len)
        return -EFAULT;
    if ((int)**len < 0)
        return -EINVAL;
    *sa = guest_mem_ptr(p->mem, addr, **len, W);
    if (!*sa && **len)
        return -EFAULT;
    return 0;
}

int64_t user_sys_accept4(UserProcess *p, A64State *env, const uint64_t a[6])
{
    void *sa;
    socklen_t *len;
    int64_t e = get_addr_out(p, a[1], a[2], &sa, &len);
    if (e)
        return e;
    return host_ret(accept4((int)a[0], sa, len, (int)a[3]));
}

int64_t user_sys_accept(UserProcess *p, A64State *env, const uint64_t a[6])
{
    uint64_t b[6] = { a[0], a[1], a[2], 0, 0, 0 };
    return user_sys_accept4(p, env, b);
}

int64_t user_sys_getsockname(UserProcess *p, A64State *env, const uint64_t a[6])
{
    void *sa;
    socklen_t *len;
    int64_t e = get_addr_out(p, a[1], a[2], &sa, &len);
    if (e)
        return e;
    if (!sa)
        return -EFAULT;
    return host_ret(getsockname((int)a[0], sa, len));
}

int64_t user_sys_getpeername(UserProcess *p, A64State *env, const uint64_t a[6])
{
    void *sa;
    socklen_t *len;
    int64_t e = get_addr_out(p, a[1], a[2], &sa, &len);
    if (e)
        return e;
    if (!sa)
        return -EFAULT;
    return host_ret(getpeername((int)a[0], sa, len));
}

int64_t user_sys_sendto(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], a[2], R);
    GPTR_OPT(sa, a[4], (uint32_t)a[5], R);
    return host_ret(sendto((int)a[0], buf, a[2], (int)a[3], sa, (socklen_t)a[5]));
}

int64_t user_sys_recvfrom(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(buf, a[1], a[2], W);
    void *sa;
    socklen_t *len;
    int64_t e = get_addr_out(p, a[4], a[5], &sa, &len);
    if (e)
        return e;
    return host_ret(recvfrom((int)a[0], buf, a[2], (int)a[3], sa, len));
}

int64_t user_sys_setsockopt(UserProcess *p, A64State *env, const uint64_t a[6])
{
    GPTR(val, a[3], (uint32_t)a[4], R);
    return host_ret(setsockopt((int)a[0], (int)a[1], (int)a[2], val, (socklen_t)a[4]));
}

int64_t user_sys_getsockopt(UserProcess *p, A64State *env, const uint64_t a[6])
{
    void *val;
    socklen_t *len;
    if (!a[3])
        return -EFAULT;
    int64_t e = get_addr_out(p, a[3], a[4], &val, &len);
    if (e)
        return e;
    return host_ret(getsockopt((int)a[0], (int)a[1], (int)a[2], val, len));
}

/* struct msghdr (56 bytes on both LP64 ABIs). */
typedef struct GuestMsghdr {
    uint64_t name;
    uint32_t namelen, pad0;
    uint64_t iov, iovlen;
    uint64_t control, controllen;
    int32_t flags, pad1;
} GuestMsghdr;
_Static_assert(sizeof(GuestMsghdr) == 56, "struct msghdr");

static int64_t do_msg(UserProcess *p, const uint64_t a[6], bool send)
{
    GuestMsghdr *g = guest_mem_ptr(p->mem, a[1], sizeof *g, send ? R : RW);
    if (!g)
        return -EFAULT;
    GuestMsghdr m = *g, *gm = &m;   /* read once */
    if (gm->iovlen > IOV_MAX)
        return -EMSGSIZE;
    struct iovec iov[gm->iovlen ? gm->iovlen : 1];
    int64_t e = user_sys_get_iov(p, gm->iov, gm->iovlen, send ? R : W, iov);
    if (e)
        return e;
    struct msghdr hm = { .msg_iov = iov, .msg_iovlen = gm->iovlen,
                         .msg_namelen = gm->namelen, .msg_controllen = gm->controllen,
                         .msg_flags = gm->flags };
    if (gm->name) {
        hm.msg_name = guest_mem_ptr(p->mem, gm->name, gm->namelen, send ? R : W);
        if (!hm.msg_name && gm->namelen)
            return -EFAULT;
    } else {
        hm.msg_namelen = 0;
    }
    if (gm->control) {
        hm.msg_control = guest_mem_ptr(p->mem, gm->control, gm->controllen, send ? R : W);
        if (!hm.msg_control && gm->controllen)
            return -EFAULT;
    } else {
        hm.msg_controllen = 0;
    }
    long r = send ? sendmsg((int)a[0], &hm, (int)a[2]) : recvmsg((int)a[0], &hm, (int)a[2]);
    if (r < 0)
        return -errno;
    if (!send) {
        g->namelen = hm.msg_namelen;
        g->controllen = hm.msg_controllen;
        g->flags = hm.msg_flags;
    }
    return r;
}

int64_t user_sys_sendmsg(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return do_msg(p, a, true);
}

int64_t user_sys_recvmsg(UserProcess *p, A64State *env, const uint64_t a[6])
{
    return do_msg(p, a, false);
}
