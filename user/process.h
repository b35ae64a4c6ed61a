/*
 * process.h - the state of one emulated Linux process (user mode): its
 * address space, the runtime engine running it, the guest's signal
 * dispositions and what the syscall layer needs to answer for it.
 *
 *   UserProcess *p = ...;            // built by user_run (user/user-run.c)
 *   user_syscall(p, env);            // on EXEC_EV_SYSCALL
 *   user_signal_fatal(p, SIGSEGV, pc, addr);   // a guest fault
 */
#ifndef EMU_USER_PROCESS_H
#define EMU_USER_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include "frontend/aarch64/a64-cpu.h"
#include "runtime/exec.h"
#include "user/guest-mem.h"

#define GUEST_NSIG 64   /* signals 1..64 */

/* struct sigaction as the AArch64 kernel sees it (rt_sigaction). */
typedef struct GuestSigAction {
    uint64_t handler;   /* 0 = SIG_DFL, 1 = SIG_IGN, else a guest address */
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
} GuestSigAction;

#define GUEST_SIG_DFL 0
#define GUEST_SIG_IGN 1

typedef struct UserProcess {
    GuestMem *mem;
    ExecEngine *engine;         /* NULL in unit tests */
    char *exe_path;             /* absolute path of the guest program (/proc/self/exe) */
    bool stats;                 /* --stats: print counters at exit */
    GuestSigAction sigact[GUEST_NSIG + 1];
    uint64_t sigmask;           /* guest's blocked set (bit sig-1) */
    uint64_t sigpending;        /* raised while blocked */
    uint64_t altstack[3];       /* sigaltstack: sp, flags, size (recorded only) */
    int live_threads;           /* guest threads running (atomic) */
    /* For execve: how to start emu again (its own path and options). */
    char *emu_path;
    char **emu_opts;            /* NULL-terminated options placed before the program */
} UserProcess;

/* Handle the syscall in env (x8 = number, x0-x5 args); the result goes to
 * x0.  exit/exit_group do not return. */
void user_syscall(UserProcess *p, A64State *env);
/* The same without a CPU (for tests): returns the value x0 would get. */
int64_t user_syscall_args(UserProcess *p, A64State *env, uint64_t nr, const uint64_t a[6]);
/* Name of syscall nr, or NULL. */
const char *user_syscall_name(uint64_t nr);

/* End the process: print stats if asked, flush the log, exit(status). */
_Noreturn void user_exit(UserProcess *p, int status);
/* Run guest code on cpu (this host thread) until the process or the thread
 * ends: syscalls, guest faults (user-run.c). */
_Noreturn void user_cpu_loop(UserProcess *p, ExecCpu *cpu);

/* Threads (user/thread.c): one host thread and one ExecCpu per guest
 * thread.  Per-thread kernel state lives in host thread-local storage. */
typedef struct UserThreadState {
    ExecCpu *cpu;               /* the CPU this host thread runs */
    uint64_t clear_child_tid;   /* set_tid_address / CLONE_CHILD_CLEARTID */
    uint64_t robust_list, robust_len;
} UserThreadState;
UserThreadState *user_thread_self(void);
/* clone(CLONE_VM | CLONE_THREAD ...): the new thread's tid or -errno. */
int64_t user_thread_clone(UserProcess *p, A64State *env, uint64_t flags, uint64_t newsp,
                          uint64_t ptid, uint64_t tls, uint64_t ctid);
/* exit(): end the calling guest thread (the process with the last one). */
_Noreturn void user_thread_exit(UserProcess *p, int status);

/* A synchronous guest signal (SIGSEGV, SIGILL, SIGBUS, SIGFPE, SIGTRAP)
 * from guest execution.  Guest handlers are not run yet: emu dies by the
 * signal, as Linux kills a process without a handler. */
_Noreturn void user_signal_fatal(UserProcess *p, int sig, uint64_t pc, uint64_t addr);
/* kill/tgkill to ourselves: act on the guest's disposition of sig (returns
 * when ignored or blocked; blocked signals are kept pending). */
void user_signal_self(UserProcess *p, int sig);
/* Deliver pending signals that are no longer blocked. */
void user_signal_unblocked(UserProcess *p);
/* Die by sig with its default action (no core dump). */
_Noreturn void user_die_by_signal(int sig);
/* Install the host SIGSEGV/SIGBUS handlers that route faults in generated
 * code to the runtime.  false + errno on failure. */
bool user_signal_install_host_handlers(void);
/* Give a new host thread its own alternate signal stack for them. */
bool user_signal_thread_init(void);
/* Mirror the guest's SIG_IGN / SIG_DFL of an asynchronous signal onto the
 * host (so that, e.g., an ignored SIGPIPE makes write return EPIPE). */
void user_signal_mirror(UserProcess *p, int sig);

#endif /* EMU_USER_PROCESS_H */
