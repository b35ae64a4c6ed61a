/*
 * user_hostfd_test.c - emu's own descriptors (support/hostfd.h) against
 * the guest's descriptor calls (user/syscall-fd.c, the USER_SYS_FD0 rule of
 * the syscall table): the guest cannot close, overwrite, read or dup them,
 * and close_range closes everything else.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include "support/hostfd.h"
#include "user/process.h"

/* asm-generic syscall numbers (the guest's) */
enum { NR_DUP = 23, NR_DUP3 = 24, NR_CLOSE = 57, NR_READ = 63, NR_SENDFILE = 71, NR_MMAP = 222,
       NR_CLOSE_RANGE = 436 };

static int64_t guest6(uint64_t nr, const uint64_t a[6])
{
    return user_syscall_args(NULL, NULL, nr, a);
}

static int64_t guest(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
    const uint64_t a[6] = {a0, a1, a2, 0, 0, 0};
    return guest6(nr, a);
}

static bool open_fd(int fd) { return fcntl(fd, F_GETFD) >= 0; }

START_TEST(kept_descriptors_move_up_and_are_marked)
{
    int base = hostfd_base();
    ck_assert_int_gt(base, 2);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    int k = hostfd_keep(p[0]);
    ck_assert_int_ge(k, base);
    ck_assert_int_lt(k, base + HOSTFD_MAX);
    ck_assert(!open_fd(p[0]));        /* moved, not copied */
    ck_assert(hostfd_is_emu(k));
    ck_assert(!hostfd_is_emu(p[1]));
    ck_assert(fcntl(k, F_GETFD) & FD_CLOEXEC);
    ck_assert_int_eq(hostfd_keep(-1), -1);
    ck_assert_int_eq(hostfd_close(k), 0);
    ck_assert(!hostfd_is_emu(k));
    close(p[1]);
}
END_TEST

START_TEST(guest_calls_cannot_touch_them)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    int k = hostfd_keep(p[0]);
    ck_assert(hostfd_is_emu(k));
    ck_assert_int_eq(guest(NR_CLOSE, (uint64_t)k, 0, 0), -EBADF);
    ck_assert_int_eq(guest(NR_READ, (uint64_t)k, 0, 0), -EBADF);
    ck_assert_int_eq(guest(NR_DUP, (uint64_t)k, 0, 0), -EBADF);
    ck_assert_int_eq(guest(NR_DUP3, (uint64_t)p[1], (uint64_t)k, 0), -EBADF);
    ck_assert_int_eq(guest(NR_SENDFILE, (uint64_t)p[1], (uint64_t)k, 0), -EBADF);
    /* mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, k, 0) */
    ck_assert_int_eq(guest6(NR_MMAP, (const uint64_t[6]){0, 4096, 1, 2, (uint64_t)k, 0}), -EBADF);
    ck_assert(open_fd(k));
    /* the guest's own: dup3 onto a free number next to emu's works */
    ck_assert_int_eq(guest(NR_DUP3, (uint64_t)p[1], (uint64_t)k - 1, 0), k - 1);
    ck_assert_int_eq(guest(NR_CLOSE, (uint64_t)k - 1, 0, 0), 0);
    hostfd_close(k);
    close(p[1]);
}
END_TEST

START_TEST(close_range_goes_around_them)
{
    int p[2], q[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(pipe(q), 0);
    int k = hostfd_keep(p[0]);
    /* a guest fd above emu's range and one just below it */
    int above = fcntl(q[0], F_DUPFD, hostfd_base() + HOSTFD_MAX + 5);
    int below = fcntl(q[1], F_DUPFD, k - 1);
    ck_assert_int_ge(above, 0);
    ck_assert_int_eq(below, k - 1);
    /* not from 3: Check's own descriptors live there */
    ck_assert_int_eq(guest(NR_CLOSE_RANGE, (uint64_t)below, ~0u, 0), 0);
    ck_assert(open_fd(k));
    ck_assert(!open_fd(below));
    ck_assert(!open_fd(above));
    close(p[1]);
    close(q[0]);
    close(q[1]);
    /* a range that is all emu's: nothing to do, no error */
    ck_assert_int_eq(guest(NR_CLOSE_RANGE, (uint64_t)k, (uint64_t)k, 0), 0);
    ck_assert(open_fd(k));
    ck_assert_int_eq(guest(NR_CLOSE_RANGE, 10, 5, 0), -EINVAL);
    hostfd_close(k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("user_hostfd");
    TCase *tc = tcase_create("hostfd");
    tcase_add_test(tc, kept_descriptors_move_up_and_are_marked);
    tcase_add_test(tc, guest_calls_cannot_touch_them);
    tcase_add_test(tc, close_range_goes_around_them);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
