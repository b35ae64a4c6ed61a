/* user-clock: clock_gettime, gettimeofday, time, nanosleep, times,
 * getrusage, clock_getres. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                               \
    do {                                                       \
        if (!(c)) {                                            \
            printf("FAIL line %d: %s\n", __LINE__, #c);        \
            failures++;                                        \
        }                                                      \
    } while (0)

static long long ns(const struct timespec *t)
{
    return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
    struct timespec a, b, res;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    struct timespec d = { 0, 20 * 1000 * 1000 };
    CHECK(nanosleep(&d, NULL) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    CHECK(ns(&b) - ns(&a) >= 20 * 1000 * 1000);
    CHECK(ns(&b) - ns(&a) < 5LL * 1000 * 1000 * 1000);
    CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL) == 0);
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && ns(&res) > 0);

    struct timespec rt;
    struct timeval tv;
    CHECK(clock_gettime(CLOCK_REALTIME, &rt) == 0);
    CHECK(gettimeofday(&tv, NULL) == 0);
    time_t t = time(NULL);
    CHECK(rt.tv_sec > 1600000000 && tv.tv_sec - rt.tv_sec < 5 && t - rt.tv_sec < 5);

    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 3000000; i++)
        x += i;
    struct timespec cpu;
    CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0 && ns(&cpu) > 0);
    struct tms tm;
    CHECK(times(&tm) != (clock_t)-1);
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss > 0);
    CHECK(sysconf(_SC_CLK_TCK) == 100);
    printf("clock: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
