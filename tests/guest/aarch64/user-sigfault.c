/* user-sigfault: synchronous faults and directed signals beyond
 * user-sighandler: SIGBUS from touching a file mapping past its end (and
 * from a misaligned exclusive load), with si_addr/si_code and siglongjmp
 * out; a fault inside a signal handler (the signal blocked there, or a
 * different one with no handler) ends in the default death by that
 * signal, seen by the parent through waitpid (also when SA_NODEFER lets
 * the faults nest until the stack is full); SIGSEGV on a write to a
 * read-only page (SEGV_ACCERR); kill() to the process and tgkill() to one
 * thread, whose handler runs in that thread; signal masks per thread (a
 * new thread inherits its creator's, blocking in one thread does not
 * block in another). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static void *volatile got_addr;

static void catch(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(jb, 1);
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void sigbus_past_eof(void)
{
    char path[] = "/tmp/emu-sigfault-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    long pg = sysconf(_SC_PAGESIZE);
    if (fd < 0 || ftruncate(fd, 100) != 0) {
        puts("temp file failed");
        return;
    }
    volatile char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        puts("mmap failed");
        return;
    }
    m[50] = 'x';   /* inside the file: fine */
    on(SIGBUS, catch, 0);
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0)
        m[pg + 8] = 1;   /* second page lies wholly past EOF */
    printf("past EOF: %s, si_code %s, si_addr %s\n",
           got_sig == SIGBUS ? "SIGBUS" : got_sig ? "other signal" : "no signal",
           got_code == BUS_ADRERR ? "BUS_ADRERR" : "other",
           got_addr == (void *)(m + pg + 8) ? "exact" : "wrong");
    munmap((void *)m, 2 * pg);
}

static void sigbus_misaligned_exclusive(void)
{
    static uint64_t words[4];
    char *p = (char *)words + 3;
    on(SIGBUS, catch, 0);
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) {
        uint64_t v;
        __asm__ volatile("ldxr %0, [%1]\n clrex" : "=r"(v) : "r"(p) : "memory");
    }
    printf("misaligned ldxr: %s, si_code %s, si_addr %s\n",
           got_sig == SIGBUS ? "SIGBUS" : got_sig ? "other signal" : "no signal",
           got_code == BUS_ADRALN ? "BUS_ADRALN" : "other",
           got_addr == (void *)p ? "exact" : "wrong");
}

static void segv_readonly(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    volatile char *m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    on(SIGSEGV, catch, 0);
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0)
        m[123] = 1;
    printf("write to read-only: %s, si_code %s, si_addr %s, page %s\n",
           got_sig == SIGSEGV ? "SIGSEGV" : "other",
           got_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other",
           got_addr == (void *)(m + 123) ? "exact" : "wrong",
           m[123] == 0 ? "unchanged" : "changed");
    munmap((void *)m, pg);
}

/* Handlers that fault again. */
static void segv_again(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si; (void)uc;
    *(volatile int *)16 = 1;   /* SIGSEGV is blocked in its own handler */
}

static void segv_then_ill(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si; (void)uc;
    __asm__ volatile("udf #7");   /* SIGILL, which has no handler */
}

static void usr1_then_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si; (void)uc;
    write(1, "in SIGUSR1 handler\n", 19);
    *(volatile long *)8 = 2;   /* SIGSEGV with a handler installed that faults again */
}

static void child_status(const char *what, int how)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (how == 0) {
            on(SIGSEGV, segv_again, 0);
            *(volatile int *)0 = 1;
        } else if (how == 1) {
            on(SIGSEGV, segv_then_ill, 0);
            *(volatile int *)0 = 1;
        } else if (how == 2) {
            on(SIGSEGV, segv_again, 0);
            on(SIGUSR1, usr1_then_segv, 0);
            kill(getpid(), SIGUSR1);
        } else {
            /* SA_NODEFER: each fault nests another frame until the stack
             * has no room for one; then the fault is fatal. */
            on(SIGSEGV, segv_again, SA_NODEFER);
            *(volatile int *)0 = 1;
        }
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
    else
        printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

/* tgkill to one thread: the handler runs there. */
static volatile pid_t handler_tid;
static volatile int thread_ready, thread_done;

static void note_tid(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si; (void)uc;
    handler_tid = (pid_t)syscall(SYS_gettid);
}

static pid_t worker_tid;

static void *worker(void *arg)
{
    (void)arg;
    worker_tid = (pid_t)syscall(SYS_gettid);
    __atomic_store_n(&thread_ready, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&thread_done, __ATOMIC_ACQUIRE))
        usleep(1000);
    return NULL;
}

/* Per-thread signal masks. */
static volatile int usr1_ran;
static void count_usr1(int sig) { (void)sig; usr1_ran++; }
static volatile int mask_step;

static void *masker(void *arg)
{
    (void)arg;
    sigset_t cur, b;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    int inherited = sigismember(&cur, SIGUSR2);
    sigemptyset(&b);
    sigaddset(&b, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &b, NULL);
    __atomic_store_n(&mask_step, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&mask_step, __ATOMIC_ACQUIRE) != 2)
        usleep(1000);
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return (void *)(long)(inherited * 2 + sigismember(&cur, SIGUSR1));
}

static void per_thread_masks(void)
{
    signal(SIGUSR1, count_usr1);
    sigset_t b, cur;
    sigemptyset(&b);
    sigaddset(&b, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &b, NULL);
    pthread_t t;
    pthread_create(&t, NULL, masker, NULL);
    pthread_sigmask(SIG_UNBLOCK, &b, NULL);
    while (!__atomic_load_n(&mask_step, __ATOMIC_ACQUIRE))
        usleep(1000);
    raise(SIGUSR1);   /* blocked in the other thread only */
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    int main_blocked = sigismember(&cur, SIGUSR1);
    __atomic_store_n(&mask_step, 2, __ATOMIC_RELEASE);
    void *r;
    pthread_join(t, &r);
    long bits = (long)r;
    printf("masks: thread inherited creator's %s, its block stays its own %s, "
           "main not blocked %s, raise in main handled %d\n",
           bits & 2 ? "yes" : "no", bits & 1 ? "yes" : "no", main_blocked ? "no" : "yes",
           usr1_ran);
}

int main(void)
{
    sigbus_past_eof();
    sigbus_past_eof();   /* again: the first must not leave SIGBUS blocked in emu */
    sigbus_misaligned_exclusive();
    segv_readonly();
    child_status("SIGSEGV inside SIGSEGV handler", 0);
    child_status("SIGILL inside SIGSEGV handler", 1);
    child_status("SIGSEGV inside SIGUSR1 handler", 2);
    child_status("SA_NODEFER SIGSEGV recursion", 3);

    on(SIGUSR2, note_tid, 0);
    handler_tid = 0;
    kill(getpid(), SIGUSR2);
    printf("kill self: handler in main thread %s\n",
           handler_tid == (pid_t)syscall(SYS_gettid) ? "yes" : "no");

    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    while (!__atomic_load_n(&thread_ready, __ATOMIC_ACQUIRE))
        usleep(1000);
    handler_tid = 0;
    syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR2);
    for (int i = 0; i < 2000 && !handler_tid; i++)
        usleep(1000);
    printf("tgkill thread: handler in that thread %s\n",
           handler_tid == worker_tid ? "yes" : handler_tid ? "wrong thread" : "never ran");
    __atomic_store_n(&thread_done, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    per_thread_masks();
    return 0;
}
