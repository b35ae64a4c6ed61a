/*
 * signal.c - guest signals in user mode: dispositions, pending signals,
 * delivery (frames: sigframe.c) and default actions.
 *
 * A synchronous guest fault (SIGSEGV, SIGILL, ...) runs the guest's
 * handler, or, without one, acts as Linux: the default action of a
 * terminating signal kills emu with that same signal, so the parent's
 * wait() sees what it would see under qemu (no core dump is written).
 * Signals the guest sends itself and asynchronous host signals it handles
 * become pending and are delivered when the CPU next returns to the run
 * loop (after a syscall, or through exec_cpu_request_exit).  Host
 * SIGSEGV/SIGBUS go to the runtime first: faults of generated code become
 * guest events there.
 *
 * Each thread has its own signal mask (UserThreadState); the pending set
 * is the process's, taken by whichever thread has the signal unblocked
 * when it next checks (after a syscall or an exit request).  Known limits:
 * no per-thread pending set (a tgkill'd signal blocked in its target may
 * run in another thread); a signal blocked in the host thread that the
 * kernel chose waits for another thread's next check; a guest loop of
 * chained blocks that never leaves generated code delays asynchronous
 * signals.
 */
#define _GNU_SOURCE
#include "user/process.h"

#include <errno.h>
#include <pthread.h>
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

/* The process whose guest the asynchronous host handler feeds. */
static UserProcess *signal_proc;

_Noreturn void user_signal_fatal(UserProcess *p, int sig, uint64_t pc, uint64_t addr)
{
    if (emu_log_enabled(EMU_LOG_GUEST_ERRORS | EMU_LOG_UNIMP))
        emu_log("guest signal %d (%s) at pc 0x%llx, address 0x%llx\n", sig, strsignal(sig),
                (unsigned long long)pc, (unsigned long long)addr);
    /* Like qemu: one line on stderr, then die by the signal. */
    fprintf(stderr, "emu-user: uncaught target signal %d (%s) at pc 0x%llx\n", sig,
            strsignal(sig), (unsigned long long)pc);
    if (p->stats && p->engine)
        exec_stats_print(p->engine, stderr);
    user_die_by_signal(sig);
}

/* siginfo_t: si_signo, si_errno, si_code, then a union at offset 16. */
static void make_info(uint8_t info[128], int sig, int code)
{
    memset(info, 0, 128);
    int32_t hdr[3] = { sig, 0, code };
    memcpy(info, hdr, sizeof hdr);
}

void user_signal_fault(UserProcess *p, A64State *env, int sig, int si_code, uint64_t addr)
{
    const GuestSigAction *act = &p->sigact[sig];
    /* Linux forces a fault on the task: blocked or ignored means death. */
    if (act->handler > GUEST_SIG_IGN && !(user_thread_self()->sigmask & SIGBIT(sig))) {
        uint8_t info[128];
        make_info(info, sig, si_code);
        memcpy(info + 16, &addr, 8);   /* si_addr */
        if (user_sigframe_setup(p, env, sig, info, addr))
            return;
        sig = SIGSEGV;   /* no room for the frame */
    }
    user_signal_fatal(p, sig, env->common.pc, addr);
}

void user_signal_raise(UserProcess *p, int sig, int si_code)
{
    if (sig < 1 || sig > GUEST_NSIG)
        return;
    uint8_t *info = p->siginfo[sig];
    make_info(info, sig, si_code);
    int32_t who[2] = { (int32_t)getpid(), (int32_t)getuid() };   /* si_pid, si_uid */
    memcpy(info + 16, who, sizeof who);
    __atomic_or_fetch(&p->sigpending, SIGBIT(sig), __ATOMIC_RELEASE);
}

/* Default action of an undelivered signal. */
static void default_action(UserProcess *p, int sig)
{
    switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH: case SIGCONT:
        return;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
        kill(getpid(), SIGSTOP);
        return;
    default:
        fflush(stdout);
        if (p->stats && p->engine)
            exec_stats_print(p->engine, stderr);
        user_die_by_signal(sig);
    }
}

void user_signal_check(UserProcess *p, A64State *env)
{
    for (;;) {
        uint64_t pending = __atomic_load_n(&p->sigpending, __ATOMIC_ACQUIRE);
        uint64_t unblockable = SIGBIT(SIGKILL) | SIGBIT(SIGSTOP);
        uint64_t ready = pending & (~user_thread_self()->sigmask | unblockable);
        if (!ready) {
            if (user_thread_self()->saved_sigmask_valid) {   /* rt_sigsuspend woke for nothing to run */
                user_thread_self()->sigmask = user_thread_self()->saved_sigmask;
                user_thread_self()->saved_sigmask_valid = false;
            }
            return;
        }
        int sig = __builtin_ctzll(ready) + 1;
        __atomic_and_fetch(&p->sigpending, ~SIGBIT(sig), __ATOMIC_ACQ_REL);
        const GuestSigAction *act = &p->sigact[sig];
        if (sig == SIGKILL || sig == SIGSTOP || act->handler == GUEST_SIG_DFL) {
            default_action(p, sig);
        } else if (act->handler != GUEST_SIG_IGN) {
            uint8_t info[128];
            memcpy(info, p->siginfo[sig], sizeof info);
            if (!user_sigframe_setup(p, env, sig, info, 0))
                user_signal_fatal(p, SIGSEGV, env->common.pc, env->x[A64_SP]);
        }
    }
}

int64_t user_signal_suspend(UserProcess *p, uint64_t mask)
{
    user_thread_self()->saved_sigmask = user_thread_self()->sigmask;
    user_thread_self()->saved_sigmask_valid = true;
    user_thread_self()->sigmask = mask & ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
    /* Block the host signals while looking at the pending set, then wait
     * for one atomically with sigsuspend (no lost wake-up). */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGTRAP);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    while (!(__atomic_load_n(&p->sigpending, __ATOMIC_ACQUIRE) & ~user_thread_self()->sigmask))
        sigsuspend(&old);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -EINTR;
}

bool user_signal_restart_pending(UserProcess *p)
{
    uint64_t ready = __atomic_load_n(&p->sigpending, __ATOMIC_ACQUIRE) & ~user_thread_self()->sigmask;
    for (int sig = 1; sig <= GUEST_NSIG; sig++)
        if ((ready & SIGBIT(sig)) && p->sigact[sig].handler > GUEST_SIG_IGN &&
            (p->sigact[sig].flags & SA_RESTART))
            return true;
    return false;
}

/* An asynchronous host signal the guest handles: keep its siginfo (same
 * layout on both ABIs), mark it pending and make this thread's CPU leave
 * generated code so the run loop delivers it. */
static void host_async_handler(int sig, siginfo_t *info, void *uc)
{
    UserProcess *p = signal_proc;
    if (!p || sig < 1 || sig > GUEST_NSIG)
        return;
    memcpy(p->siginfo[sig], info, 128);
    __atomic_or_fetch(&p->sigpending, SIGBIT(sig), __ATOMIC_RELEASE);
    UserThreadState *t = user_thread_self();
    if (t->cpu && t->in_syscall)   /* exec_run checks before it runs code */
        exec_cpu_request_exit_idle(t->cpu);
    else if (t->cpu)
        exec_cpu_request_exit(t->cpu);
}

void user_signal_mirror(UserProcess *p, int sig)
{
    if (sig < 1 || sig > GUEST_NSIG || is_sync_signal(sig) || sig == SIGKILL ||
        sig == SIGSTOP || sig >= SIGRTMIN)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    uint64_t h = p->sigact[sig].handler;
    if (h == GUEST_SIG_IGN) {
        sa.sa_handler = SIG_IGN;
    } else if (h == GUEST_SIG_DFL) {
        sa.sa_handler = SIG_DFL;
    } else {
        /* No SA_RESTART: a blocking host call returns EINTR so that the
         * handler runs; the syscall layer restarts it if the guest asked. */
        sa.sa_sigaction = host_async_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    }
    sigaction(sig, &sa, NULL);
}

void user_signal_inherit(UserProcess *p)
{
    sigset_t cur, none;
    if (pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0) {
        uint64_t m = 0;
        for (int sig = 1; sig <= GUEST_NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP && sigismember(&cur, sig) == 1)
                m |= SIGBIT(sig);
        user_thread_self()->sigmask = m;
        sigemptyset(&none);   /* from here on the guest's mask is emulated */
        pthread_sigmask(SIG_SETMASK, &none, NULL);
    }
    for (int sig = 1; sig <= GUEST_NSIG; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP || is_sync_signal(sig))
            continue;
        if (sigaction(sig, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN)
            p->sigact[sig].handler = GUEST_SIG_IGN;
    }
}

void user_signal_host_mask(sigset_t *out)
{
    uint64_t m = user_thread_self()->sigmask;
    sigemptyset(out);
    for (int sig = 1; sig <= GUEST_NSIG; sig++)
        if ((m & SIGBIT(sig)) && sig != SIGKILL && sig != SIGSTOP)
            sigaddset(out, sig);
}

void user_signal_exec_reset(UserProcess *p)
{
    for (int sig = 1; sig <= GUEST_NSIG; sig++) {
        GuestSigAction *a = &p->sigact[sig];
        if (a->handler == GUEST_SIG_IGN)
            continue;   /* ignored stays ignored (Linux: SIGCHLD too) */
        bool had_handler = a->handler != GUEST_SIG_DFL;
        memset(a, 0, sizeof *a);
        if (had_handler)
            user_signal_mirror(p, sig);
    }
    memset(p->altstack, 0, sizeof p->altstack);
    p->sigreturn_tramp = 0;   /* it was in the old image's memory */
}

static void host_fault_handler(int sig, siginfo_t *info, void *uc)
{
    /* Note a host SIGBUS on guest memory first (runtime faults lose it),
     * and give interpreter accesses their failure. */
    if (signal_proc && info)
        guest_mem_note_host_fault(signal_proc->mem, sig, info->si_addr);
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

bool user_signal_install_host_handlers(UserProcess *p)
{
    signal_proc = p;
    if (!user_signal_thread_init())
        return false;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = host_fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSEGV, &sa, NULL) == 0 && sigaction(SIGBUS, &sa, NULL) == 0;
}
