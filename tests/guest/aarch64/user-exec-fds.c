/* user-exec-fds: execve in place closes every close-on-exec descriptor,
 * however it was made, and keeps the others.  emu tracks the descriptors a
 * process may have open (user/fd-track.c) instead of listing them at each
 * execve: here a forked child (which inherits the set its parent listed)
 * makes descriptors in every way the tracking follows, then execs itself to
 * see which are open; a second child also receives one through SCM_RIGHTS,
 * which the tracking does not follow (it lists the descriptors again). */
// guest-no-reference: qemu-aarch64 cannot execve a guest program (no binfmt_misc)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char args[32][48];
static char *argvv[40];
static int nargs;

static void add(const char *name, int fd)
{
    snprintf(args[nargs], sizeof args[nargs], "%s=%d", name, fd);
    argvv[2 + nargs] = args[nargs];
    nargs++;
}

/* One descriptor through SCM_RIGHTS, received close-on-exec. */
static int pass_fd(int sv0, int sv1, int fd)
{
    char c = 'x';
    struct iovec io = { &c, 1 };
    union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = u.b,
                        .msg_controllen = sizeof u.b };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    if (sendmsg(sv0, &m, 0) != 1)
        return -1;
    m.msg_controllen = sizeof u.b;
    if (recvmsg(sv1, &m, MSG_CMSG_CLOEXEC) != 1 || !CMSG_FIRSTHDR(&m))
        return -1;
    int got;
    memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof got);
    return got;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "check")) {
        for (int i = 2; i < argc; i++) {
            char *eq = strchr(argv[i], '=');
            int fd = atoi(eq + 1);
            *eq = 0;
            printf("%-10s %s\n", argv[i], fcntl(fd, F_GETFD) >= 0 ? "open" : "closed");
        }
        return 0;
    }
    for (int scm = 0; scm < 2; scm++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            int p[2], sv[2];
            add("open-ce", open("/dev/null", O_RDONLY | O_CLOEXEC));
            if (pipe2(p, O_CLOEXEC) != 0)
                return 2;
            add("pipe-r", p[0]);
            add("pipe-w", p[1]);
            int plain = dup(0);
            add("dup", plain);
            add("dupfd-ce", fcntl(plain, F_DUPFD_CLOEXEC, 40));
            add("dup3-ce", dup3(plain, 50, O_CLOEXEC));
            add("dup2", dup2(plain, 51));
            add("socket-ce", socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
                return 3;
            add("pair-0", sv[0]);
            add("pair-1", sv[1]);
            add("eventfd-ce", eventfd(0, EFD_CLOEXEC));
            add("epoll-ce", epoll_create1(EPOLL_CLOEXEC));
            add("memfd-ce", memfd_create("x", MFD_CLOEXEC));
            int later = open("/dev/null", O_RDONLY);
            fcntl(later, F_SETFD, FD_CLOEXEC);
            add("setfd-ce", later);
            int kept = open("/dev/null", O_RDONLY | O_CLOEXEC);
            fcntl(kept, F_SETFD, 0);
            add("setfd-0", kept);
            if (scm)
                add("scm-ce", pass_fd(sv[0], sv[1], plain));
            argvv[0] = argv[0];
            argvv[1] = "check";
            argvv[2 + nargs] = NULL;
            execv("/proc/self/exe", argvv);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        printf("child %d exited %d\n", scm, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    return 0;
}
