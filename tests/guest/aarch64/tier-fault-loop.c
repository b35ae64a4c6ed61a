/* tier-fault-loop: a load fault inside a hot loop (LLVM code under
 * --tier=llvm, and under --tier=auto once the loop tiers up).  While the
 * guest has no SIGSEGV handler, LLVM loads test only the guest bound, so
 * such a fault comes from the host with imprecise registers: the process
 * must still die by SIGSEGV, with every store before the fault done and
 * none after it.  Once a handler is installed, a fault in the same loop
 * (compiled before the handler existed) must reach it precisely: si_addr,
 * the pc of the faulting load and the loop's registers as of that insn.
 * The loop runs 200k trips before it faults, so that --tier=auto gets hot. */
// guest-env: EMU_HOT_THRESHOLD=50
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGE 4096
#define TRIPS 200000L

/* sum of p[i] for i < n; progress[0] = i after each trip.  x19 holds i and
 * the load is the ldrb at the label, so a handler can check both. */
static __attribute__((noinline, noclone)) long walk(volatile long *progress, const uint8_t *p, long n)
{
    long sum = 0;
    __asm__ volatile(
        "mov x19, #0\n"
        "1: cmp x19, %[n]\n"
        "b.ge 2f\n"
        ".globl walk_load\n"
        "walk_load: ldrb w9, [%[p], x19]\n"
        "add %[sum], %[sum], x9\n"
        "str x19, [%[prog]]\n"
        "add x19, x19, #1\n"
        "b 1b\n"
        "2:\n"
        : [sum] "+r"(sum)
        : [n] "r"(n), [p] "r"(p), [prog] "r"(progress)
        : "x9", "x19", "memory", "cc");
    return sum;
}
extern const char walk_load[];

/* TRIPS readable bytes, then a PROT_NONE page */
static uint8_t *buffer(void)
{
    size_t len = (TRIPS + PAGE - 1) / PAGE * PAGE;
    uint8_t *m = mmap(NULL, len + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    memset(m, 1, len);
    mprotect(m + len, PAGE, PROT_NONE);
    return m + len - TRIPS;   /* byte TRIPS is the first of the guard page */
}

static sigjmp_buf jb;
static volatile uintptr_t got_addr, got_pc;
static volatile uint64_t got_x19;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    got_addr = (uintptr_t)si->si_addr;
    got_pc = uc->uc_mcontext.pc;
    got_x19 = uc->uc_mcontext.regs[19];
    siglongjmp(jb, 1);
}

int main(void)
{
    volatile long *shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint8_t *p = buffer();

    /* no handler: death by SIGSEGV, stores up to the trip before */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        walk(shared, p, TRIPS + 10);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("no handler: %s, last trip stored %s\n",
           WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "killed by SIGSEGV" : "not killed",
           shared[0] == TRIPS - 1 ? "TRIPS-1" : "wrong");

    /* the loop compiled first, without a handler ... */
    printf("sum %ld\n", walk(shared, p, TRIPS));
    /* ... then a handler: the same code must fault precisely */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    shared[0] = -1;
    if (sigsetjmp(jb, 1) == 0) {
        walk(shared, p, TRIPS + 10);
        printf("no fault\n");
    } else {
        printf("handler: si_addr %s, pc %s, x19 %s, last trip stored %s\n",
               got_addr == (uintptr_t)(p + TRIPS) ? "exact" : "wrong",
               got_pc == (uintptr_t)walk_load ? "the load" : "wrong",
               got_x19 == (uint64_t)TRIPS ? "exact" : "wrong",
               shared[0] == TRIPS - 1 ? "TRIPS-1" : "wrong");
    }
    return 0;
}
