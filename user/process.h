/*
 * process.h - the state of one emulated Linux process (user mode): its
 * address space, the runtime engine running it, the guest's signal
 * dispositions and what the syscall layer needs to answer for it.
 *
 *   UserProcess *p = ...;            // built by user_run (user/user-run.c)
 *   user_syscall(p, env);            // on EXEC_EV_SYSCALL
 *   user_signal_fault(p, env, SIGSEGV, SEGV_MAPERR, addr);   // a guest fault
 */
#ifndef EMU_USER_PROCESS_H
#define EMU_USER_PROCESS_H

#include <signal.h>
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
    const char *ld_prefix;      /* -L: absolute guest paths are tried here first (or NULL) */
    uint64_t auxv_addr, auxv_len;   /* the initial auxv on the guest stack (/proc/self/auxv) */
    bool stats;                 /* --stats: print counters at exit */
    GuestSigAction sigact[GUEST_NSIG + 1];
    uint64_t sigpending;        /* raised, not yet delivered (atomic) */
    uint8_t siginfo[GUEST_NSIG + 1][128];  /* siginfo of each pending signal */
    uint64_t sigreturn_tramp;   /* guest page with rt_sigreturn, for handlers
                                   without SA_RESTORER (0: not made yet) */
    uint64_t altstack[3];       /* sigaltstack: sp, flags, size (recorded only) */
    int live_threads;           /* guest threads running (atomic) */
    const struct UserCpuModel *model;   /* -cpu: hwcaps of every image */
    uint64_t prog_entry;        /* the main program's entry point (AT_ENTRY) */
    /* For execve: how to start emu again (its own path and options). */
    char *emu_path;
    char **emu_opts;            /* NULL-terminated options placed before the program */
} UserProcess;

/* Handle the syscall in env (x8 = number, x0-x5 args); the result goes to
 * x0.  exit/exit_group do not return. */
void user_syscall(UserProcess *p, A64State *env);
/* The same without a CPU (for tests): returns the value x0 would get. */
int64_t user_syscall_args(UserProcess *p, A64State *env, uint64_t nr, const uint64_t a[6]);
/* -L: an absolute guest path names PREFIX/path if that exists, else the
 * host's path (qemu-user's rule).  Returns path or buf (PATH_MAX bytes). */
const char *user_path(const UserProcess *p, const char *path, char *buf);
/* Name of syscall nr, or NULL. */
const char *user_syscall_name(uint64_t nr);

/* Load the program at path into the empty address space p->mem and build
 * its initial stack, AT_EXECFN prog (user-run.c): the pc and sp of its
 * first instruction.  false with "prog: reason" in err. */
bool user_load_image(UserProcess *p, const char *path, const char *prog, int argc,
                     char *const *argv, char *const *envp, uint64_t *entry, uint64_t *sp,
                     char *err, size_t errlen);
/* At start: the ignored dispositions and the signal mask emu itself got
 * across execve become the guest's, as the kernel keeps both (nohup, a
 * shell's background job, a guest execve that had to start emu again). */
void user_signal_inherit(UserProcess *p);
/* This thread's (emulated) guest mask as a host set: what a guest execve
 * that starts emu again hands over to it (user_signal_inherit takes it). */
void user_signal_host_mask(sigset_t *out);
/* Signal state across execve (signal.c): handlers back to SIG_DFL (ignored
 * signals stay ignored), no alternate stack; the mask and pending signals
 * are kept. */
void user_signal_exec_reset(UserProcess *p);

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
    uint64_t sigmask;           /* this thread's blocked guest signals (bit sig-1) */
    uint64_t saved_sigmask;     /* rt_sigsuspend: the mask to restore */
    bool saved_sigmask_valid;
    volatile sig_atomic_t in_syscall; /* in user_syscall: outside generated code */
} UserThreadState;
UserThreadState *user_thread_self(void);
/* clone(CLONE_VM | CLONE_THREAD ...): the new thread's tid or -errno. */
int64_t user_thread_clone(UserProcess *p, A64State *env, uint64_t flags, uint64_t newsp,
                          uint64_t ptid, uint64_t tls, uint64_t ctid);
/* exit(): end the calling guest thread (the process with the last one). */
_Noreturn void user_thread_exit(UserProcess *p, int status);

/* ---- guest signals (signal.c, sigframe.c) ----
 * Signals are made pending (user_signal_raise, or the host handler for an
 * asynchronous signal the guest handles) and delivered by
 * user_signal_check at the next return from a syscall or from exec_run:
 * ignored ones are dropped, default actions act like Linux (emu dies by the
 * same signal), guest handlers get an AArch64 rt_sigframe. */
/* Make sig pending, sent by this process (si_code SI_USER or SI_TKILL). */
void user_signal_raise(UserProcess *p, int sig, int si_code);
/* Deliver pending, unblocked signals to the CPU state env. */
void user_signal_check(UserProcess *p, A64State *env);
/* A synchronous fault of the instruction at env->pc (SIGSEGV, SIGILL,
 * SIGBUS, SIGFPE, SIGTRAP): run the guest's handler, or die like Linux
 * when there is none or the signal is blocked or ignored. */
void user_signal_fault(UserProcess *p, A64State *env, int sig, int si_code, uint64_t addr);
_Noreturn void user_signal_fatal(UserProcess *p, int sig, uint64_t pc, uint64_t addr);
/* rt_sigsuspend: wait with mask until a signal is pending; -EINTR. */
int64_t user_signal_suspend(UserProcess *p, uint64_t mask);
/* Is a handler of a pending signal asking to restart interrupted calls? */
bool user_signal_restart_pending(UserProcess *p);
/* Build a signal frame on the guest stack and enter the handler
 * (sigframe.c).  false: the frame cannot be written (caller kills). */
bool user_sigframe_setup(UserProcess *p, A64State *env, int sig, const uint8_t info[128],
                         uint64_t fault_addr);
/* rt_sigreturn: restore the state saved by user_sigframe_setup; returns
 * the restored x0, or -1 after a bad frame (SIGSEGV delivered). */
int64_t user_sigframe_return(UserProcess *p, A64State *env);
/* Die by sig with its default action (no core dump). */
_Noreturn void user_die_by_signal(int sig);
/* Install the host SIGSEGV/SIGBUS handlers that route faults in generated
 * code to the runtime.  false + errno on failure. */
bool user_signal_install_host_handlers(UserProcess *p);
/* Give a new host thread its own alternate signal stack for them. */
bool user_signal_thread_init(void);
/* Mirror the guest's SIG_IGN / SIG_DFL of an asynchronous signal onto the
 * host (so that, e.g., an ignored SIGPIPE makes write return EPIPE). */
void user_signal_mirror(UserProcess *p, int sig);

#endif /* EMU_USER_PROCESS_H */
