/* user-fork: fork (clone without CLONE_VM) duplicates the process; the
 * parent reads what the child wrote to a pipe and reaps its exit status
 * and its death by a signal with waitpid. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        return 2;
    int shared = 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 3;
    if (pid == 0) {
        shared = 2;   /* the parent's copy must not change */
        close(p[0]);
        char msg[32];
        int n = snprintf(msg, sizeof msg, "child %d", getppid() > 1);
        write(p[1], msg, (size_t)n);
        _exit(7);
    }
    close(p[1]);
    char buf[32] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    int st = 0;
    pid_t w = waitpid(pid, &st, 0);
    printf("read %zd bytes: %s\n", n, buf);
    printf("waitpid same pid: %d, exited: %d, status: %d, shared: %d\n", w == pid,
           WIFEXITED(st), WEXITSTATUS(st), shared);

    pid = fork();
    if (pid == 0) {
        raise(SIGTERM);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("second child killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 0;
}
