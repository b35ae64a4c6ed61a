/*
 * exec-fault.c - host faults in generated code: which block and guest
 * instruction a host pc belongs to, the guest state at the fault (dirty
 * registers from the write-back map, pinned ones from the signal context),
 * and the way back to exec_run (siglongjmp) or, for emu's own crashes, a
 * one-line report naming the guest pc.
 */
#define _GNU_SOURCE /* REG_RIP, REG_ERR */
#include "runtime/exec.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "runtime/exec-internal.h"
#include "support/hostfd.h"

/* ---- host pc -> guest pc ------------------------------------------------ */

static TransBlock *block_at_host(ExecEngine *e, uintptr_t host)
{
    if (!e->buf.base) return NULL;
    uintptr_t base = (uintptr_t)e->buf.base + e->buf.exec_delta;
    if (host < base || host >= base + e->buf.size) return NULL;
    size_t lo = 0, hi = __atomic_load_n(&e->n_by_host, __ATOMIC_ACQUIRE);
    while (lo < hi) { /* first block whose entry is above host */
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)e->by_host[mid]->host <= host)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return NULL;
    TransBlock *tb = e->by_host[lo - 1];
    return host < (uintptr_t)tb->host + tb->code.size ? tb : NULL;
}

static bool host_to_guest(TransBlock *tb, uintptr_t host, uint64_t *pc)
{
    uint32_t off = (uint32_t)(host - (uintptr_t)tb->host);
    for (uint32_t i = 0; i < tb->code.n_insn_map; i++) {
        if (off < tb->code.insn_map[i].host_end) {
            uint32_t k = tb->code.insn_map[i].insn_idx;
            *pc = k >= tb->n_insns ? tb->pc : tb->pc + (tb->insn_off ? tb->insn_off[k] : 4ull * k);
            return true;
        }
    }
    return false;
}

bool exec_host_to_guest(ExecEngine *e, uintptr_t host, uint64_t *guest_pc)
{
    TransBlock *tb = block_at_host(e, host);
    return tb && host_to_guest(tb, host, guest_pc);
}

/* ---- host faults ------------------------------------------------------- */

/* Template code keeps dirty guest registers in host registers across
 * loads and stores: a fault at one stores them from the signal context
 * (TmplCode.wb names them), so env holds the state before the access. */
static void write_back_at_fault(const ExecEngine *e, CpuCommon *env, const TransBlock *tb,
                               uintptr_t hpc, const ucontext_t *uc)
{
    uint64_t regs[16];
    tmpl_host_regs(uc, regs);
    tmpl_wb_apply(tb->code.wb, tb->code.n_wb, (uint32_t)(hpc - (uintptr_t)tb->host), regs,
                  env, (uint32_t)sizeof(CpuCommon),
                  (uint32_t)e->cfg.arch->state_size);
}

/* Pinned guest registers live in host registers in template code. */
static void pins_at_fault(CpuCommon *env, const ucontext_t *uc, uintptr_t hpc)
{
    uint64_t regs[16];
    tmpl_host_regs(uc, regs);
    tmpl_pins_at_fault(env, regs, hpc);
}

ExecFaultResult exec_fault_from_host(int signo, siginfo_t *info, void *ucontext)
{
    ExecCpu *cpu = exec_tls_cpu;
    if (!cpu || cpu->in_code != 1 || !cpu->jb_valid || !info || !ucontext)
        return EXEC_FAULT_NOT_OURS;
    if (signo != SIGSEGV && signo != SIGBUS) return EXEC_FAULT_NOT_OURS;
    ucontext_t *uc = ucontext;
    uintptr_t hpc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    bool write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
    CpuCommon *env = cpu->env;
    uintptr_t a = (uintptr_t)info->si_addr;
    /* The guest reservation plus a guard of up to 4 GiB beyond the limit. */
    uint64_t span = env->guest_limit + ((uint64_t)4 << 30);
    if (a < env->guest_base || a - env->guest_base >= span) return EXEC_FAULT_NOT_OURS;
    uint64_t gaddr = a - env->guest_base;
    TransBlock *tb = block_at_host(cpu->e, hpc);
    uint64_t gpc;
    if (tb) env->pc = host_to_guest(tb, hpc, &gpc) ? gpc : tb->pc;
    if (tb && tb->code.n_wb) write_back_at_fault(cpu->e, env, tb, hpc, uc);
    if (tb) pins_at_fault(env, uc, hpc);
    /* else: a helper called from generated code; the backend stored the
     * insn's pc in env->pc before the call. */
    if (signo == SIGSEGV && write && info->si_code == SEGV_ACCERR &&
        tb_test_code_page(cpu->e, gaddr >> EXEC_PAGE_BITS)) {
        cpu->fault_kind = CPU_FAULT_SMC;
        cpu->fault_addr = gaddr;
    } else {
        cpu->fault_kind = CPU_FAULT_NONE;
        cpu->pending = (ExecEvent){.kind = signo == SIGBUS ? EXEC_EV_BUS : EXEC_EV_SEGV,
                                   .pc = env->pc,
                                   .addr = gaddr,
                                   .is_write = write};
    }
    /* exec_run's jump buffer holds no mask (saving one cost a syscall at
     * every entry, i.e. at every guest syscall): put back the mask the code
     * ran with, which the handler's entry added this signal to. */
    pthread_sigmask(SIG_SETMASK, &uc->uc_sigmask, NULL);
    siglongjmp(cpu->jb, 1);
}

_Noreturn void exec_host_crash(int signo, siginfo_t *info, void *ucontext)
{
    char line[256];
    uintptr_t hpc = 0;
    if (ucontext) hpc = (uintptr_t)((ucontext_t *)ucontext)->uc_mcontext.gregs[REG_RIP];
    ExecCpu *cpu = exec_tls_cpu;
    const char *where = "outside generated code";
    uint64_t gpc = 0;
    if (cpu && block_at_host(cpu->e, hpc)) {
        where = "in generated code";
        exec_host_to_guest(cpu->e, hpc, &gpc);
    }
    int n = snprintf(line, sizeof line,
                     "emu: host crash: signal %d (%s) at address %p, host pc 0x%" PRIxPTR
                     " %s (guest pc 0x%" PRIx64 ")\n",
                     signo, strsignal(signo), info ? info->si_addr : NULL, hpc, where,
                     cpu ? (gpc ? gpc : cpu->env->pc) : 0);
    if (n > 0) (void)!write(hostfd_stderr(), line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    signal(signo, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, signo);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    raise(signo);
    abort();
}
