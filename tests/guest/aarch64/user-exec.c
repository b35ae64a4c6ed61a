/* user-exec: execve of a guest program, which emu does in the same host
 * process for a one-thread guest.  The new image gets the arguments and
 * environment it was given and fresh memory; descriptors marked
 * close-on-exec are closed and the others kept; caught signals go back to
 * the default action, ignored ones stay ignored, and the signal mask stays.
 * A failing execve returns to the old image.  Then a forked child runs
 * another program (user-args, beside this one: other code at the same
 * addresses), and the image execs itself once more. */
// guest-no-reference: qemu-aarch64 cannot execve a guest program (no binfmt_misc)
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int counter = 5;   /* the old image's write must not show */

static void on_usr1(int s)
{
    (void)s;
}

static void self_path(char *buf, size_t n)
{
    ssize_t l = readlink("/proc/self/exe", buf, n - 1);
    buf[l > 0 ? l : 0] = 0;
}

int main(int argc, char **argv, char **envp)
{
    char exe[4096];
    self_path(exe, sizeof exe);
    if (argc == 1) {
        int keep = open("/dev/null", O_RDONLY), gone = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (dup2(keep, 20) != 20 || dup3(gone, 21, O_CLOEXEC) != 21)
            return 2;
        signal(SIGUSR1, on_usr1);
        signal(SIGUSR2, SIG_IGN);
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGHUP);
        sigprocmask(SIG_BLOCK, &m, NULL);
        counter = 99;
        char *nargv[] = { "renamed", "phase2", "x y", NULL };
        char *nenv[] = { "EXEC_TEST=1", "SECOND=two", NULL };
        execve("/nonexistent/prog", nargv, nenv);
        printf("missing program: %s, still here: %d\n", strerror(errno), counter);
        fflush(stdout);
        execve("/proc/self/exe", nargv, nenv);
        perror("execve");
        return 1;
    }
    printf("argc %d: %s %s \"%s\"\n", argc, argv[0], argv[1], argc > 2 ? argv[2] : "");
    printf("env: %s %s %s\n", envp[0], envp[1] ? envp[1] : "-", envp[1] && envp[2] ? envp[2] : "-");
    printf("counter %d\n", counter);
    if (!strcmp(argv[1], "phase3")) {
        printf("phase3 done\n");
        return 0;
    }
    printf("fd 20 %s, fd 21 %s\n", fcntl(20, F_GETFD) >= 0 ? "open" : "closed",
           fcntl(21, F_GETFD) >= 0 ? "open" : "closed");
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    printf("SIGUSR1 %s\n", sa.sa_handler == SIG_DFL ? "default" : "still caught");
    sigaction(SIGUSR2, NULL, &sa);
    printf("SIGUSR2 %s\n", sa.sa_handler == SIG_IGN ? "ignored" : "not ignored");
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("SIGHUP blocked: %d\n", sigismember(&cur, SIGHUP));
    const char *base = strrchr(exe, '/');
    printf("/proc/self/exe: %s\n", base ? base + 1 : exe);
    /* a heap and mappings in the new image work */
    char *big = malloc(1 << 20);
    memset(big, 7, 1 << 20);
    printf("malloc: %d\n", big[12345]);
    free(big);
    /* a forked child runs another program: its code at the same addresses */
    char other[4096];
    snprintf(other, sizeof other, "%.*s/user-args", (int)(base ? base - exe : 0), exe);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *a[] = { "user-args", "one", "two words", "3", "", NULL };
        execv(other, a);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("user-args exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    fflush(stdout);
    char *nargv[] = { "again", "phase3", NULL };
    execv("/proc/self/exe", nargv);
    perror("execv");
    return 1;
}
