/*
 * signal.c - guest signal semantics of user mode (this issue: dispositions
 * and default actions; running guest handlers with AArch64 signal frames is
 * the next step).
 *
 * A synchronous guest fault (SIGSEGV, SIGILL, ...) or a signal the guest
 * sends itself acts as Linux would without a handler: ignored signals are
 * dropped, the default action of a terminating signal kills emu with that
 * same signal, so the parent's wait() sees what it would see under qemu
 * (no core dump is written).  Host SIGSEGV/SIGBUS go to the runtime first:
 * faults of generated code become guest events there.
 */
#define _GNU_SOURCE
#include "user/process.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "runtime/log.h"
#include "runtime/stats.h"

#define SIGBIT(s) (1ull << ((s) - 1))

_Noreturn void user_die_by_signal(int sig)
{
    fflush(stdout);
    fflush(stderr);
    emu_log_close();
    struct rlimit nocore = { 0, 0 };
    setrlimit(RLIMIT_CORE, &nocore);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    /* Signals whose default is to stop or be ignored land here. */
    _exit(128 + sig);
}

static bool is_sync_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
           sig == SIGTRAP;
}

_Noreturn void user_signal_fatal(UserProcess *p, int sig, uint64_t pc, uint64_t addr)
{
    const GuestSigAction *act = &p->sigact[sig];
    if (act->handler > GUEST_SIG_IGN)
        fprintf(stderr, "emu-user: the guest's handler for signal %d (%s) cannot be run yet "
                "(guest signal frames are not implemented); terminating\n", sig,
                strsignal(sig));
    if (emu_log_enabled(EMU_LOG_GUEST_ERRORS | EMU_LOG_UNIMP))
        emu_log("guest signal %d (%s) at pc 0x%llx, address 0x%llx\n", sig, strsignal(sig),
                (unsigned long long)pc, (unsigned long long)addr);
    /* Like qemu: one line on stderr, then die by the signal.  (Linux also
     * kills for ignored or blocked synchronous faults.) */
    fprintf(stderr, "emu-user: uncaught target signal %d (%s) at pc 0x%llx\n", sig,
            strsignal(sig), (unsigned long long)pc);
    if (p->stats && p->engine)
        exec_stats_print(p->engine, stderr);
    user_die_by_signal(sig);
}

void user_signal_self(UserProcess *p, int sig)
{
    if (sig < 1 || sig > GUEST_NSIG)
        return;
    bool unblockable = sig == SIGKILL || sig == SIGSTOP;
    if (!unblockable && (p->sigmask & SIGBIT(sig))) {
        p->sigpending |= SIGBIT(sig);
        return;
    }
    const GuestSigAction *act = &p->sigact[sig];
    if (!unblockable && act->handler == GUEST_SIG_IGN)
        return;
    if (!unblockable && act->handler > GUEST_SIG_IGN) {
        fprintf(stderr, "emu-user: the guest's handler for signal %d (%s) cannot be run yet "
                "(guest signal frames are not implemented); terminating\n", sig,
                strsignal(sig));
        user_die_by_signal(sig);
    }
    switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH: case SIGCONT:
        return;   /* default: ignore */
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
        kill(getpid(), SIGSTOP);
        return;
    default:
        fflush(stdout);
        user_die_by_signal(sig);
    }
}

void user_signal_unblocked(UserProcess *p)
{
    uint64_t ready;
    while ((ready = p->sigpending & ~p->sigmask) != 0) {
        int sig = __builtin_ctzll(ready) + 1;
        p->sigpending &= ~SIGBIT(sig);
        user_signal_self(p, sig);
    }
}

void user_signal_mirror(UserProcess *p, int sig)
{
    if (sig < 1 || sig > GUEST_NSIG || is_sync_signal(sig) || sig == SIGKILL ||
        sig == SIGSTOP || sig >= SIGRTMIN)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* A guest handler cannot run yet: the host default is the closest. */
    sa.sa_handler = p->sigact[sig].handler == GUEST_SIG_IGN ? SIG_IGN : SIG_DFL;
    sigaction(sig, &sa, NULL);
}

static void host_fault_handler(int sig, siginfo_t *info, void *uc)
{
    exec_fault_from_host(sig, info, uc);   /* does not return for guest faults */
    exec_host_crash(sig, info, uc);
}

#define HOST_ALTSTACK_SIZE (64 * 1024)

bool user_signal_thread_init(void)
{
    /* Never freed: a thread's stack may be in use until it is gone. */
    void *stack = malloc(HOST_ALTSTACK_SIZE);
    if (!stack)
        return false;
    stack_t ss = { .ss_sp = stack, .ss_size = HOST_ALTSTACK_SIZE, .ss_flags = 0 };
    return sigaltstack(&ss, NULL) == 0;
}

bool user_signal_install_host_handlers(void)
{
    if (!user_signal_thread_init())
        return false;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = host_fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSEGV, &sa, NULL) == 0 && sigaction(SIGBUS, &sa, NULL) == 0;
}
