/* user-sighandler: guest signal handlers on AArch64 signal frames:
 * SIGSEGV with siglongjmp recovery and si_addr/si_code, SIGILL, raise()
 * with SA_SIGINFO (si_pid), registers and FP/SIMD state restored by
 * rt_sigreturn, sa_mask/SA_NODEFER/SA_RESETHAND, sigaltstack, a handler
 * without SA_RESTORER, SIGALRM from a timer interrupting a blocking read
 * with and without SA_RESTART, a spinning loop interrupted by a timer, and
 * sigsuspend. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile void *fault_addr;
static volatile int fault_code, hits, nested, on_alt;
static char altstack[64 * 1024];

static void segv(int sig, siginfo_t *si, void *uc)
{
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(jb, sig);
}

static void count(int sig, siginfo_t *si, void *uc)
{
    hits++;
    if (si->si_pid != getpid() || si->si_signo != sig)
        hits += 1000;
}

static void clobber(int sig)
{
    /* Scribble over registers and vector state; rt_sigreturn must undo it. */
    __asm__ volatile("mov x19, #1\n mov x20, #2\n movi v8.16b, #0x55\n fmov d9, #1.0\n"
                     ::: "x19", "x20", "v8", "v9");
    hits++;
}

static void alt(int sig)
{
    char here;
    on_alt = &here >= altstack && &here < altstack + sizeof altstack;
}

static void inner(int sig)
{
    nested++;
}

static void outer(int sig)
{
    raise(SIGUSR2);   /* blocked by sa_mask: runs after we return */
    nested = nested * 10;
}

static void alarm_handler(int sig)
{
    hits++;
}

static volatile int flag;
static void set_flag(int sig)
{
    flag = sig;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);

    int sig;
    if ((sig = sigsetjmp(jb, 1)) == 0)
        *(volatile int *)0x1234 = 1;
    printf("1. SIGSEGV caught: sig=%d addr=%p code=%d\n", sig, fault_addr, fault_code);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if ((sig = sigsetjmp(jb, 1)) == 0)
        ro[8] = 1;
    printf("2. write to read-only page: sig=%d offset=%ld code=%d\n", sig,
           (long)((char *)fault_addr - ro), fault_code);
    if ((sig = sigsetjmp(jb, 1)) == 0)
        __asm__ volatile(".inst 0x00000000");
    printf("3. SIGILL caught: sig=%d\n", sig);   /* si_code: Linux 1, qemu 2 */

    sa.sa_sigaction = count;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    printf("4. SIGUSR1 handled %d times\n", hits);

    hits = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = clobber;
    sigaction(SIGUSR1, &sa, NULL);
    register long r19 __asm__("x19") = 1919;
    double d = 2.5;
    __asm__ volatile("" : "+r"(r19));
    raise(SIGUSR1);
    __asm__ volatile("" : "+r"(r19));
    volatile double dd = d * 2;
    printf("5. registers kept across a handler: x19=%ld fp=%.1f hits=%d\n", r19, dd, hits);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = inner;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = outer;
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    nested = 1;
    raise(SIGUSR1);
    printf("6. sa_mask defers the nested signal: %d\n", nested);

    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = alt;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("7. handler ran on the alternate stack: %d, reset to default: %d\n", on_alt,
           now.sa_handler == SIG_DFL);

    /* a raw rt_sigaction without SA_RESTORER: emu provides the return path */
    struct { void (*h)(int); unsigned long flags; void *restorer; uint64_t mask; } raw = {
        inner, 0, NULL, 0 };
    nested = 0;
    syscall(SYS_rt_sigaction, SIGUSR2, &raw, NULL, 8);
    raise(SIGUSR2);
    printf("8. handler without SA_RESTORER returned: %d\n", nested);

    int p[2];
    pipe(p);
    hits = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = alarm_handler;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { .it_value = { 0, 50000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    char c;
    ssize_t n = read(p[0], &c, 1);
    printf("9. SIGALRM interrupts read: n=%zd errno=%s hits=%d\n", n,
           errno == EINTR ? "EINTR" : "other", hits);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &it, NULL);
    if (fork() == 0) {
        usleep(500000);   /* well after the 50 ms alarm */
        write(p[1], "z", 1);
        _exit(0);
    }
    n = read(p[0], &c, 1);
    printf("10. with SA_RESTART the read goes on: n=%zd c=%c hits=%d\n", n, c, hits);

    signal(SIGALRM, set_flag);
    setitimer(ITIMER_REAL, &it, NULL);
    unsigned long spins = 0;
    while (!flag)
        spins++;
    printf("11. a spinning loop sees the timer's handler: flag=%d\n", flag);

    sigset_t block, empty, now_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    sigprocmask(SIG_BLOCK, &block, NULL);
    signal(SIGUSR1, set_flag);
    flag = 0;
    pid_t parent = getpid();
    if (fork() == 0) {
        usleep(50000);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    int r = sigsuspend(&empty);
    sigprocmask(SIG_BLOCK, NULL, &now_mask);
    printf("12. sigsuspend: r=%d errno=%s flag=%d, SIGUSR1 blocked again: %d\n", r,
           errno == EINTR ? "EINTR" : "other", flag, sigismember(&now_mask, SIGUSR1));
    return 0;
}
