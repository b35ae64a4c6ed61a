/* user-fileat: the *at file syscalls relative to a directory fd (openat,
 * mkdirat, mknodat-free set: symlinkat, readlinkat, linkat, renameat2,
 * fchmodat, faccessat, fstatat with AT_SYMLINK_NOFOLLOW, utimensat,
 * unlinkat with AT_REMOVEDIR), raw getdents64, pipe2/dup3 with O_CLOEXEC,
 * fcntl (O_NONBLOCK, F_DUPFD_CLOEXEC), ppoll/pselect6, terminal ioctls on
 * a pseudo-terminal and ENOTTY on a pipe, prlimit64, and /proc/self/exe
 * and /proc/self/maps naming the guest program. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#define CHECK(what, cond) printf("%-34s %s\n", what, (cond) ? "ok" : "FAILED")

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void at_family(void)
{
    char dir[] = "/tmp/emu-fileat-XXXXXX";
    if (!mkdtemp(dir)) {
        puts("mkdtemp failed");
        return;
    }
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK("open O_DIRECTORY", d >= 0);
    CHECK("mkdirat", mkdirat(d, "sub", 0750) == 0);
    int f = openat(d, "sub/file", O_CREAT | O_WRONLY | O_EXCL, 0640);
    CHECK("openat create", f >= 0 && write(f, "hello at\n", 9) == 9);
    CHECK("openat O_EXCL again", openat(d, "sub/file", O_CREAT | O_EXCL | O_WRONLY, 0640) == -1 && errno == EEXIST);
    close(f);
    CHECK("symlinkat", symlinkat("sub/file", d, "link") == 0);
    char buf[64] = {0};
    ssize_t n = readlinkat(d, "link", buf, sizeof buf);
    CHECK("readlinkat", n == 8 && memcmp(buf, "sub/file", 8) == 0);
    CHECK("linkat", linkat(d, "sub/file", d, "hard", 0) == 0);
    struct stat st, lst;
    CHECK("fstatat follows", fstatat(d, "link", &st, 0) == 0 && S_ISREG(st.st_mode) &&
                             st.st_size == 9 && st.st_nlink == 2);
    CHECK("fstatat AT_SYMLINK_NOFOLLOW", fstatat(d, "link", &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
                                         S_ISLNK(lst.st_mode) && lst.st_size == 8);
    CHECK("fchmodat", fchmodat(d, "hard", 0600, 0) == 0 &&
                      fstatat(d, "sub/file", &st, 0) == 0 && (st.st_mode & 0777) == 0600);
    CHECK("faccessat R_OK", faccessat(d, "hard", R_OK, 0) == 0);
    CHECK("faccessat missing", faccessat(d, "nope", F_OK, 0) == -1 && errno == ENOENT);
    struct timespec ts[2] = { { 1000000000, 0 }, { 1234567890, 500 } };
    CHECK("utimensat", utimensat(d, "hard", ts, 0) == 0 && fstatat(d, "hard", &st, 0) == 0 &&
                       st.st_mtim.tv_sec == 1234567890 && st.st_mtim.tv_nsec == 500 &&
                       st.st_atim.tv_sec == 1000000000);
    CHECK("renameat", renameat(d, "hard", d, "sub/moved") == 0 &&
                      faccessat(d, "sub/moved", F_OK, 0) == 0);
    CHECK("renameat2 RENAME_NOREPLACE",
          syscall(SYS_renameat2, d, "sub/moved", d, "sub/file", 1 /* RENAME_NOREPLACE */) == -1 &&
          errno == EEXIST);

    /* getdents64 by hand: the names in sub/ */
    int sd = openat(d, "sub", O_RDONLY | O_DIRECTORY);
    char dents[1024];
    long got = syscall(SYS_getdents64, sd, dents, sizeof dents);
    char *names[8];
    int nn = 0;
    for (long off = 0; off < got && nn < 8;) {
        struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *e =
            (void *)(dents + off);
        if (strcmp(e->name, ".") && strcmp(e->name, ".."))
            names[nn++] = strdup(e->name);
        off += e->reclen;
    }
    qsort(names, nn, sizeof *names, cmp_str);
    printf("getdents64 sub/:");
    for (int i = 0; i < nn; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    CHECK("getdents64 at end", syscall(SYS_getdents64, sd, dents, sizeof dents) == 0);
    close(sd);

    CHECK("unlinkat non-empty dir", unlinkat(d, "sub", AT_REMOVEDIR) == -1 && errno == ENOTEMPTY);
    CHECK("unlinkat files", unlinkat(d, "sub/file", 0) == 0 && unlinkat(d, "sub/moved", 0) == 0 &&
                            unlinkat(d, "link", 0) == 0);
    CHECK("unlinkat AT_REMOVEDIR", unlinkat(d, "sub", AT_REMOVEDIR) == 0);
    close(d);
    CHECK("rmdir", rmdir(dir) == 0);
}

static void fds(void)
{
    int p[2];
    CHECK("pipe2 O_CLOEXEC", pipe2(p, O_CLOEXEC) == 0 && (fcntl(p[0], F_GETFD) & FD_CLOEXEC));
    int hi = 57;
    CHECK("dup3 O_CLOEXEC", dup3(p[1], hi, O_CLOEXEC) == hi && (fcntl(hi, F_GETFD) & FD_CLOEXEC));
    CHECK("dup3 same fd EINVAL", dup3(hi, hi, 0) == -1 && errno == EINVAL);
    int c = fcntl(p[0], F_DUPFD_CLOEXEC, 70);
    CHECK("F_DUPFD_CLOEXEC", c >= 70 && (fcntl(c, F_GETFD) & FD_CLOEXEC));
    close(c);
    CHECK("F_SETFL O_NONBLOCK", fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 &&
                                (fcntl(p[0], F_GETFL) & O_NONBLOCK));
    char b[8];
    CHECK("nonblocking read EAGAIN", read(p[0], b, sizeof b) == -1 && errno == EAGAIN);

    struct pollfd pf = { .fd = p[0], .events = POLLIN };
    struct timespec zero = { 0, 0 }, short_wait = { 0, 20 * 1000 * 1000 };
    CHECK("ppoll empty pipe times out", ppoll(&pf, 1, &short_wait, NULL) == 0);
    write(hi, "xyz", 3);
    CHECK("ppoll readable", ppoll(&pf, 1, &zero, NULL) == 1 && (pf.revents & POLLIN));
    int avail = -1;
    CHECK("ioctl FIONREAD", ioctl(p[0], FIONREAD, &avail) == 0 && avail == 3);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    sigset_t none;
    sigemptyset(&none);
    CHECK("pselect readable", pselect(p[0] + 1, &rd, NULL, NULL, &zero, &none) == 1 &&
                              FD_ISSET(p[0], &rd));
    struct termios t;
    CHECK("tcgetattr on a pipe ENOTTY", tcgetattr(p[0], &t) == -1 && errno == ENOTTY);
    CHECK("isatty on a pipe", !isatty(p[0]));
    close(p[0]);
    close(p[1]);
    close(hi);
}

static void terminal(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        puts("no pseudo-terminal here");   /* same under the reference */
        return;
    }
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    struct termios t;
    CHECK("isatty on a pty", s >= 0 && isatty(s));
    CHECK("tcgetattr", tcgetattr(s, &t) == 0);
    t.c_lflag &= ~(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    cfsetospeed(&t, B38400);
    struct termios back;
    CHECK("tcsetattr raw", tcsetattr(s, TCSANOW, &t) == 0 && tcgetattr(s, &back) == 0 &&
                           !(back.c_lflag & (ICANON | ECHO)) && cfgetospeed(&back) == B38400);
    struct winsize w = { .ws_row = 33, .ws_col = 101 }, r = {0};
    CHECK("TIOCSWINSZ/TIOCGWINSZ", ioctl(m, TIOCSWINSZ, &w) == 0 && ioctl(s, TIOCGWINSZ, &r) == 0 &&
                                   r.ws_row == 33 && r.ws_col == 101);
    write(m, "q", 1);
    char c = 0;
    CHECK("raw read through the pty", read(s, &c, 1) == 1 && c == 'q');
    close(s);
    close(m);
}

static void limits_and_proc(const char *argv0)
{
    struct rlimit old, now;
    CHECK("prlimit get", prlimit(0, RLIMIT_NOFILE, NULL, &old) == 0 && old.rlim_cur > 0);
    struct rlimit lower = { old.rlim_cur > 64 ? 64 : old.rlim_cur, old.rlim_max };
    CHECK("prlimit set+get", prlimit(0, RLIMIT_NOFILE, &lower, &now) == 0 &&
                             now.rlim_cur == old.rlim_cur &&
                             getrlimit(RLIMIT_NOFILE, &now) == 0 && now.rlim_cur == lower.rlim_cur);
    setrlimit(RLIMIT_NOFILE, &old);

    char exe[PATH_MAX] = {0}, want[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK("/proc/self/exe is the guest", n > 0 && realpath(argv0, want) && strcmp(exe, want) == 0);
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int exe_x = 0, stack = 0, lines = 0;
    unsigned long lo, hi, main_addr = (unsigned long)(uintptr_t)&limits_and_proc, in_exe = 0;
    while (f && fgets(line, sizeof line, f)) {
        char perm[8];
        lines++;
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) != 3)
            continue;
        if (strstr(line, want) && perm[2] == 'x') {
            exe_x = 1;
            in_exe |= main_addr >= lo && main_addr < hi;
        }
        stack |= strstr(line, "[stack]") != NULL && perm[0] == 'r' && perm[1] == 'w';
    }
    if (f)
        fclose(f);
    CHECK("/proc/self/maps: exe text", exe_x && in_exe);
    CHECK("/proc/self/maps: [stack]", stack && lines >= 3);
}

int main(int argc, char **argv)
{
    (void)argc;
    at_family();
    fds();
    terminal();
    limits_and_proc(argv[0]);
    return 0;
}
