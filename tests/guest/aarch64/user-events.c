/* user-events: epoll (whose struct differs between arm64 and x86-64),
 * eventfd and timerfd. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                     \
    do {                                                             \
        if (!(c)) {                                                  \
            printf("FAIL line %d: %s (errno %d)\n", __LINE__, #c, errno); \
            failures++;                                              \
        }                                                            \
    } while (0)

int main(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    int efd = eventfd(0, EFD_NONBLOCK);
    CHECK(efd >= 0);
    int p[2];
    CHECK(pipe(p) == 0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1122334455667788ull };
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0);
    ev.data.u64 = 0xabcdef0123456789ull;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
    struct epoll_event out[4];
    CHECK(epoll_wait(ep, out, 4, 0) == 0);
    uint64_t one = 5;
    CHECK(write(efd, &one, 8) == 8);
    CHECK(write(p[1], "x", 1) == 1);
    int n = epoll_wait(ep, out, 4, 1000);
    CHECK(n == 2);
    int seen = 0;
    for (int i = 0; i < n; i++) {
        seen |= out[i].data.u64 == 0x1122334455667788ull ? 1 : 0;
        seen |= out[i].data.u64 == 0xabcdef0123456789ull ? 2 : 0;
        CHECK(out[i].events == EPOLLIN);
    }
    CHECK(seen == 3);
    uint64_t v = 0;
    CHECK(read(efd, &v, 8) == 8 && v == 5);
    CHECK(read(efd, &v, 8) == -1 && errno == EAGAIN);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL) == 0);

    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    CHECK(tfd >= 0);
    struct itimerspec its = { .it_value = { 0, 20 * 1000 * 1000 } }, cur;
    CHECK(timerfd_settime(tfd, 0, &its, NULL) == 0);
    CHECK(timerfd_gettime(tfd, &cur) == 0 && cur.it_value.tv_nsec <= 20 * 1000 * 1000);
    uint64_t expirations = 0;
    CHECK(read(tfd, &expirations, 8) == 8 && expirations == 1);
    printf("events: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
