/*
 * sigframe.c - AArch64 Linux signal frames: what the kernel pushes on the
 * user stack to run a handler, and rt_sigreturn taking it down again.
 *
 *   sp of the handler -> struct rt_sigframe { siginfo (128 bytes);
 *                                             ucontext (uc_mcontext at +176) }
 *                        struct frame_record { x29, x30 }  (the caller's)
 *   x0 = signal, x1 = &info, x2 = &uc, x29 = &frame_record,
 *   x30 = sa_restorer (or a guest page with "mov x8, #139; svc #0").
 * uc_mcontext.__reserved holds an fpsimd_context (V0-V31, FPSR, FPCR) and
 * the zero terminator.
 */
#define _GNU_SOURCE
#include "user/process.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#define A64_SA_RESTORER 0x04000000u
#define FPSIMD_MAGIC 0x46508001u

typedef struct A64SigContext {
    uint64_t fault_address;
    uint64_t regs[31];
    uint64_t sp, pc, pstate;
    uint64_t pad;                  /* __reserved is 16-byte aligned */
    uint8_t reserved[4096];
} A64SigContext;

typedef struct A64FpsimdContext {
    uint32_t magic, size;
    uint32_t fpsr, fpcr;
    uint8_t vregs[32][16];
} A64FpsimdContext;

typedef struct A64UContext {
    uint64_t uc_flags, uc_link;
    uint64_t ss_sp;
    int32_t ss_flags, ss_pad;
    uint64_t ss_size;
    uint64_t sigmask;
    uint8_t unused[120];           /* sigset_t is 1024 bits in the uapi */
    uint64_t pad;                  /* uc_mcontext is 16-byte aligned */
    A64SigContext mc;
} A64UContext;

typedef struct A64RtSigframe {
    uint8_t info[128];
    A64UContext uc;
} A64RtSigframe;

_Static_assert(offsetof(A64SigContext, reserved) == 288, "sigcontext layout");
_Static_assert(offsetof(A64UContext, mc) == 176, "ucontext layout");
_Static_assert(sizeof(A64FpsimdContext) == 528, "fpsimd_context");
_Static_assert(sizeof(A64RtSigframe) == 4688, "rt_sigframe");

static uint64_t get_pstate(A64State *s)
{
    a64_flags_sync_state(s); /* lazy flags (a64-cpu.h) */
    return (uint64_t)(s->nf >> 31) << 31 | (uint64_t)(s->zf == 0) << 30 |
           (uint64_t)(s->cf & 1) << 29 | (uint64_t)(s->vf >> 31) << 28;
}

static void set_pstate(A64State *s, uint64_t ps)
{
    s->nf = (ps >> 31) & 1 ? 0x80000000u : 0;
    s->zf = (ps >> 30) & 1 ? 0 : 1;
    s->cf = (ps >> 29) & 1;
    s->vf = (ps >> 28) & 1 ? 0x80000000u : 0;
    s->cc_op = A64_CC_EAGER;
}

/* A guest page holding "mov x8, #139; svc #0" for handlers installed
 * without SA_RESTORER (Linux would use its vDSO trampoline). */
static uint64_t sigreturn_tramp(UserProcess *p)
{
    if (p->sigreturn_tramp)
        return p->sigreturn_tramp;
    int64_t a = guest_mmap(p->mem, 0, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, "[sigpage]");
    if (a < 0)
        return 0;
    static const uint32_t code[2] = { 0xd2801168u, 0xd4000001u };
    memcpy(guest_mem_g2h(p->mem, (uint64_t)a), code, sizeof code);
    guest_mprotect(p->mem, (uint64_t)a, GUEST_PAGE_SIZE, PROT_READ | PROT_EXEC);
    p->sigreturn_tramp = (uint64_t)a;
    return p->sigreturn_tramp;
}

static bool on_altstack(const UserProcess *p, uint64_t sp)
{
    return p->altstack[2] && sp - p->altstack[0] < p->altstack[2];
}

bool user_sigframe_setup(UserProcess *p, A64State *env, int sig, const uint8_t info[128],
                         uint64_t fault_addr)
{
    GuestSigAction act = p->sigact[sig];
    uint64_t sp = env->x[A64_SP];
    if ((act.flags & SA_ONSTACK) && p->altstack[2] && !on_altstack(p, sp))
        sp = p->altstack[0] + p->altstack[2];
    uint64_t rec = (sp - 16) & ~15ull;
    uint64_t fa = (rec - sizeof(A64RtSigframe)) & ~15ull;
    if (rec > sp || fa > rec)
        return false;
    A64RtSigframe *f = guest_mem_ptr(p->mem, fa, rec + 16 - fa, PROT_READ | PROT_WRITE);
    uint64_t restorer = (act.flags & A64_SA_RESTORER) ? act.restorer : sigreturn_tramp(p);
    if (!f || !restorer)
        return false;

    memset(f, 0, sizeof *f);
    memcpy(f->info, info, sizeof f->info);
    A64UContext *uc = &f->uc;
    uc->ss_sp = p->altstack[0];
    uc->ss_size = p->altstack[2];
    uc->ss_flags = !p->altstack[2] ? SS_DISABLE
                   : on_altstack(p, env->x[A64_SP]) ? SS_ONSTACK : (int32_t)p->altstack[1];
    /* After rt_sigsuspend the handler returns to the mask from before it. */
    uc->sigmask = user_thread_self()->saved_sigmask_valid ? user_thread_self()->saved_sigmask : user_thread_self()->sigmask;
    uc->mc.fault_address = fault_addr;
    memcpy(uc->mc.regs, env->x, sizeof uc->mc.regs);
    uc->mc.sp = env->x[A64_SP];
    uc->mc.pc = env->common.pc;
    uc->mc.pstate = get_pstate(env);
    A64FpsimdContext *fp = (A64FpsimdContext *)uc->mc.reserved;
    fp->magic = FPSIMD_MAGIC;
    fp->size = sizeof *fp;
    fp->fpsr = env->fpsr;
    fp->fpcr = env->fpcr;
    memcpy(fp->vregs, env->v, sizeof fp->vregs);
    /* the terminator {0, 0} after it is already zero */
    uint64_t *frame_record = guest_mem_g2h(p->mem, rec);
    frame_record[0] = env->x[29];
    frame_record[1] = env->x[30];

    env->x[0] = (uint64_t)sig;
    env->x[1] = fa + offsetof(A64RtSigframe, info);
    env->x[2] = fa + offsetof(A64RtSigframe, uc);
    env->x[29] = rec;
    env->x[30] = restorer;
    env->x[A64_SP] = fa;
    env->common.pc = act.handler;
    env->excl_addr = ~0ull;   /* an exception clears the exclusive monitor */
    /* FPCR/FPSR as the kernel leaves them: unchanged. */

    user_thread_self()->sigmask |= act.mask | ((act.flags & SA_NODEFER) ? 0 : 1ull << (sig - 1));
    user_thread_self()->saved_sigmask_valid = false;
    user_thread_self()->sigmask &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
    if (act.flags & SA_RESETHAND) {
        p->sigact[sig].handler = GUEST_SIG_DFL;
        p->sigact[sig].flags &= ~(uint64_t)SA_SIGINFO;
        user_signal_mirror(p, sig);
    }
    return true;
}

int64_t user_sigframe_return(UserProcess *p, A64State *env)
{
    uint64_t fa = env->x[A64_SP];
    A64RtSigframe f;
    const A64FpsimdContext *fp = (const A64FpsimdContext *)f.uc.mc.reserved;
    if ((fa & 15) || !guest_mem_read(p->mem, fa, &f, sizeof f) || fp->magic != FPSIMD_MAGIC ||
        fp->size != sizeof *fp) {
        user_signal_fault(p, env, SIGSEGV, SEGV_MAPERR, fa);   /* like a bad frame on Linux */
        return (int64_t)env->x[0];
    }
    memcpy(env->x, f.uc.mc.regs, sizeof f.uc.mc.regs);
    env->x[A64_SP] = f.uc.mc.sp;
    env->common.pc = f.uc.mc.pc;
    set_pstate(env, f.uc.mc.pstate);
    env->fpsr = fp->fpsr;
    env->fpcr = fp->fpcr;
    memcpy(env->v, fp->vregs, sizeof fp->vregs);
    env->excl_addr = ~0ull;
    user_thread_self()->sigmask = f.uc.sigmask & ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
    return (int64_t)env->x[0];
}
