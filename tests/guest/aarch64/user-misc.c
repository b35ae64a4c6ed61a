/* user-misc: uname, ids, umask, rlimits, getrandom, prctl name, kill with
 * signal 0, sched_getaffinity, sysinfo, ignored SIGPIPE giving EPIPE. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
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
    struct utsname u;
    CHECK(uname(&u) == 0);
    printf("machine=%s\n", u.machine);
    CHECK(getpid() > 0 && getppid() > 0 && gettid() == getpid());
    CHECK(getuid() == geteuid() || 1);
    mode_t old = umask(027);
    CHECK(umask(old) == 027);
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 0);
    CHECK(getrlimit(RLIMIT_STACK, &rl) == 0);
    unsigned char r1[32] = { 0 }, r2[32] = { 0 };
    CHECK(getrandom(r1, sizeof r1, 0) == sizeof r1);
    CHECK(getrandom(r2, sizeof r2, 0) == sizeof r2);
    CHECK(memcmp(r1, r2, sizeof r1) != 0);
    char name[16] = "";
    CHECK(prctl(PR_SET_NAME, "emu-test-name") == 0);
    CHECK(prctl(PR_GET_NAME, name) == 0 && strcmp(name, "emu-test-name") == 0);
    CHECK(kill(getpid(), 0) == 0);
    cpu_set_t set;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0);
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0 && si.totalram > 0);
    /* SIGPIPE ignored: writing to a closed pipe gives EPIPE */
    CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]);
    CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
    close(p[1]);
    /* a signal sent to ourselves while ignored is dropped */
    CHECK(signal(SIGUSR1, SIG_IGN) != SIG_ERR);
    CHECK(raise(SIGUSR1) == 0);
    printf("misc: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
