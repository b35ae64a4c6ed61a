/* user-sigpending: a signal sent to ourselves while blocked stays pending
 * and kills the program (default action) once unblocked; an ignored one
 * is dropped. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    printf("ignored SIGUSR2 dropped\n");
    signal(SIGUSR2, SIG_DFL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    kill(getpid(), SIGUSR1);
    printf("SIGUSR1 blocked, still running\n");
    fflush(stdout);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("not reached\n");
    return 0;
}
