/*
 * exec.h - the ISA-neutral execution runtime: block table, translation,
 * chaining, jump cache, code buffer, invalidation (SMC), host-fault recovery.
 *
 * One ExecEngine per process (guest arch, tier, code buffer, block table);
 * one ExecCpu per guest thread (its CPU state "env" and jump cache).
 * exec_run() runs guest code until something needs the embedder (a syscall,
 * a guest fault, ...) and returns it as an ExecEvent.  Typical user mode:
 *
 *   ExecConfig cfg = exec_config_default(&guest_arch_aarch64);
 *   cfg.tier = EXEC_TIER_TEMPLATE;
 *   cfg.mem = (ExecMemOps){ .opaque = as, .read_code = as_read_code,
 *                           .interp_mem = as_iface,
 *                           .protect_code_page = as_protect,
 *                           .unprotect_code_page = as_unprotect };
 *   ExecEngine *eng = exec_engine_new(&cfg, err, sizeof err);
 *   ExecCpu *cpu = exec_cpu_new(eng);
 *   A64State *s = exec_cpu_env(cpu);
 *   s->common.guest_base = base; s->common.guest_limit = limit;
 *   s->common.pc = entry; s->x[31] = sp;
 *   for (;;) {
 *       ExecEvent ev = exec_run(cpu);
 *       switch (ev.kind) { case EXEC_EV_SYSCALL: do_syscall(s); break; ... }
 *   }
 *
 * Host signals: the embedder installs SIGSEGV/SIGBUS handlers (SA_SIGINFO,
 * SA_ONSTACK recommended) whose first action is
 *   exec_fault_from_host(signo, info, ucontext);
 * which does not return when the fault belongs to guest code (it unwinds to
 * exec_run), and returns EXEC_FAULT_NOT_OURS otherwise.  For a fault the
 * embedder does not recognise either, exec_host_crash() prints one line and
 * re-raises with the default action.
 *
 * Self-modifying code: when the runtime translates code from a guest page it
 * calls mem.protect_code_page(page) once; the embedder makes the host page
 * read-only.  A guest store to it from generated code faults; the runtime
 * sees the page in its code-page set, invalidates the page's blocks, calls
 * mem.unprotect_code_page(page) (the embedder restores the guest's own
 * protection) and restarts the store's instruction.  Writes the embedder
 * does itself (syscalls) must call exec_invalidate_range() first, which also
 * calls unprotect_code_page for protected pages in the range.
 */
#ifndef EMU_RUNTIME_EXEC_H
#define EMU_RUNTIME_EXEC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ir/ir.h"
#include "runtime/cpu.h"
#include "runtime/guest-arch.h"

/* Granularity of code-page tracking (host pages). */
#define EXEC_PAGE_BITS 12
#define EXEC_PAGE_SIZE ((uint64_t)1 << EXEC_PAGE_BITS)

typedef struct ExecEngine ExecEngine;
typedef struct ExecCpu ExecCpu;
typedef struct TransBlock TransBlock;
struct EmuCacheModuleId; /* cache/cache.h */

typedef enum ExecTier {
    EXEC_TIER_INTERP,   /* the reference interpreter (ir_interp_prepare/exec) */
    EXEC_TIER_TEMPLATE, /* template JIT into the code buffer */
    EXEC_TIER_LLVM,      /* every block through the LLVM module (runtime/tier-llvm.h);
                            template code when LLVM refuses */
    EXEC_TIER_AUTO,      /* template first; hot regions recompiled by LLVM on a
                            worker thread (runtime/tierup.c) */
} ExecTier;

/* CpuCommon.exception_kind, set (with exception_addr/code) by backends and
 * helpers before IR_EXIT_EXCEPTION or exec_raise(). */
enum {
    EXEC_EXC_NONE = 0,
    EXEC_EXC_SEGV,       /* exception_addr: guest data address; code: 1 = write */
    EXEC_EXC_BUS,        /* misaligned access at exception_addr */
    EXEC_EXC_UNDEF,      /* illegal instruction at env->pc */
    EXEC_EXC_BREAKPOINT, /* exception_code: immediate */
    EXEC_EXC_OTHER,      /* exception_code: arch-defined */
};

/* Why exec_run returned.  ev.pc is always env->pc at return. */
typedef enum ExecEventKind {
    EXEC_EV_SYSCALL,     /* pc: the insn after the syscall insn */
    EXEC_EV_UNDEF,       /* pc: the undefined insn (SIGILL) */
    EXEC_EV_FETCH_FAULT, /* pc = addr: code at pc is unreadable (SIGSEGV) */
    EXEC_EV_SEGV,        /* pc: faulting insn (state before it); addr: guest
                            data address; is_write when known */
    EXEC_EV_BUS,         /* misaligned access (SIGBUS); pc, addr as SEGV (the
                            interpreter tier does not report addr: 0) */
    EXEC_EV_BREAKPOINT,  /* brk/int3: pc of the insn; code: immediate (SIGTRAP) */
    EXEC_EV_HALT,        /* wfi/hlt */
    EXEC_EV_EXCEPTION,   /* other arch exception: code = env->exception_code */
    EXEC_EV_INTERRUPT,   /* exec_cpu_request_exit() was called */
    EXEC_EV_ERROR,       /* runtime failure (msg says why); not a guest event */
} ExecEventKind;

typedef struct ExecEvent {
    ExecEventKind kind;
    uint64_t pc;     /* guest pc (env->pc) */
    uint64_t addr;   /* faulting guest address (SEGV, BUS, FETCH_FAULT) */
    uint32_t code;   /* breakpoint immediate / exception code */
    bool is_write;   /* SEGV/BUS: the access was a write (if known) */
    const char *msg; /* EXEC_EV_ERROR: static text */
} ExecEvent;

const char *exec_event_name(ExecEventKind k);

/* Memory callbacks provided by the embedder.  All may be called with the
 * engine lock held; they must not call back into exec_*. */
typedef struct ExecMemOps {
    void *opaque;
    /* Read guest code for translation (false: not mapped executable). */
    bool (*read_code)(void *opaque, uint64_t pc, void *buf, size_t len);
    /* Optional: the host address of [pc, pc+len) if it is mapped executable
     * (NULL otherwise), for reading in place what read_code would copy. */
    const void *(*code_view)(void *opaque, uint64_t pc, size_t len);
    /* Optional: true if the page of addr holds the unchanged bytes of a
     * file (a clean private file mapping), with *id naming the file, its
     * state when mapped and the offset: equal ids, equal bytes.  Lets an
     * execve in place keep translations without reading the pages. */
    bool (*page_id)(void *opaque, uint64_t addr, uint8_t id[16]);
    /* Guest data accesses for the interpreter tier, for blocks the template
     * backend refuses (interpreted instead) and for re-running a store after
     * an SMC fault: required in both tiers.  Its own opaque.  Return false
     * when the access is not allowed (check the guest's protection: the
     * runtime does not); alignment and code pages (SMC) are checked before
     * these are called.  A host fault inside them is not recovered. */
    IrMemIface interp_mem;
    /* Make the host page of guest page `page` (EXEC_PAGE_SIZE aligned)
     * read-only, so that guest writes to translated code fault.  Optional
     * (NULL: no SMC detection for generated-code stores). */
    void (*protect_code_page)(void *opaque, uint64_t page);
    /* Give the page back the guest's own protection. */
    void (*unprotect_code_page)(void *opaque, uint64_t page);
    /* Optional: one byte per guest page, bit 0 readable, bit 1 writable
     * without a host fault (code pages protected for SMC not writable).
     * Given, LLVM regions test it instead of writing guest registers back
     * before every access (CpuCommon.page_perm). */
    const uint8_t *page_perm;
    /* Bytes past guest_limit that are reserved and never accessible (a host
     * fault there is a guest SIGSEGV): template code skips the limit check
     * of an access less than this above an access already checked off the
     * same base.  0: check every access. */
    uint64_t limit_guard;
} ExecMemOps;

typedef struct ExecConfig {
    const GuestArch *arch;
    ExecTier tier;
    ExecMemOps mem;
    size_t code_buf_size; /* bytes of RWX address space (0: 256 MiB) */
    unsigned max_insns;   /* per block (0: 512) */
    bool chaining;        /* direct block chaining (default true) */
    bool verify;          /* ir_verify every block (default: EMU_DEBUG builds, or
                             EMU_VERIFY=1 in the environment) */
    bool stats;           /* count for exec_stats_print (see runtime/stats.h) */
    /* Persistent code cache (--tier=auto only; runtime/tiercache.c).  LLVM
     * regions are compiled to relocatable objects, stored in the pack of the
     * guest module holding the region entry, and loaded (without LLVM)
     * when a later run translates that entry.  cache_mode: EmuCacheMode of
     * cache/cache.h (0 = off, the default); cache_dir NULL: cache.h's
     * environment rules.  module_of: which guest module holds pc (false: none,
     * e.g. anonymous code) with its identity and load bias (guest address -
     * ELF virtual address); id->path must stay valid until the engine is
     * freed.  Called under the engine lock; must not call exec_*. */
    int cache_mode;
    const char *cache_dir;
    bool (*module_of)(void *opaque, uint64_t pc, struct EmuCacheModuleId *id, uint64_t *bias);
    void *module_opaque;
} ExecConfig;

/* Defaults: template tier, chaining on, 256 MiB code buffer. */
ExecConfig exec_config_default(const GuestArch *arch);

/* Create the engine (calls arch->init()).  NULL with a message in err. */
ExecEngine *exec_engine_new(const ExecConfig *cfg, char *err, size_t errlen);
/* Only when no CPU runs.  Frees the CPUs and hands every protected code page
 * back (unprotect_code_page). */
void exec_engine_free(ExecEngine *e);
/* Pin arch's registers in template code (runtime/pins.c); exec_engine_new
 * does it, other users of the template backend call it before tmpl_init. */
void exec_setup_pins(const GuestArch *arch);
const ExecConfig *exec_engine_config(const ExecEngine *e);

/* A guest CPU: env allocated with arch->state_size/state_align, zeroed,
 * CpuCommon.jmp_cache and .runtime set.  NULL on allocation failure.
 * One per host thread; exec_run must be called from one thread at a time. */
ExecCpu *exec_cpu_new(ExecEngine *e);
void exec_cpu_free(ExecCpu *cpu);
void *exec_cpu_env(ExecCpu *cpu);
ExecEngine *exec_cpu_engine(ExecCpu *cpu);
ExecCpu *exec_cpu_from_env(void *env);
/* Copy the architectural state (everything but the runtime-owned CpuCommon
 * fields jmp_cache/runtime) from src to dst: for clone()/fork of threads. */
void exec_cpu_copy_state(ExecCpu *dst, const ExecCpu *src);
/* Drop this CPU's jump cache (e.g. after the embedder changed mode_flags;
 * exec_run also notices mode changes by itself). */
void exec_cpu_flush_jmp_cache(ExecCpu *cpu);

/* Run until an event.  See ExecEventKind for the meaning of ev.pc. */
ExecEvent exec_run(ExecCpu *cpu);

/* Async-signal-safe: make exec_run return EXEC_EV_INTERRUPT at the next
 * return to the dispatcher.  The jump cache is emptied so indirect jumps come
 * back.  When called on cpu's own thread (a host signal handler that
 * interrupted guest code), chained direct jumps are also pointed back at
 * their exit stubs, so even a tight chained loop stops within a block.  To
 * interrupt a CPU running on another thread, signal that thread (tgkill) and
 * call this from its handler; from another thread alone only the dispatcher
 * and indirect-jump paths notice. */
void exec_cpu_request_exit(ExecCpu *cpu);
/* The same for a CPU whose thread is outside exec_run (in a syscall, say):
 * its next exec_run returns EXEC_EV_INTERRUPT before it runs any code, so
 * its jump cache and chains are left alone (a shell's SIGCHLD emptied the
 * jump cache, a copy-on-write fault per page after each fork).
 * Async-signal-safe. */
void exec_cpu_request_exit_idle(ExecCpu *cpu);

/* Remove every block on the pages (EXEC_PAGE_SIZE) overlapping
 * [start, start+len): unchain jumps into them, drop them from jump caches,
 * forget the pages' code marks and call unprotect_code_page for those that
 * were protected.  Call on munmap, mprotect, mmap over code, and before the
 * embedder itself writes into a guest code page (exec_is_code_page). */
void exec_invalidate_range(ExecEngine *e, uint64_t start, uint64_t len);
/* Is guest page of addr one the runtime asked to protect? (lock-free) */
bool exec_is_code_page(ExecEngine *e, uint64_t addr);
/* Is any page of [start, start+len) one? (lock-free; len > 0) */
bool exec_any_code_page(ExecEngine *e, uint64_t start, uint64_t len);
/* Drop every translation (e.g. execve); waits for other CPUs to leave
 * generated code. */
void exec_flush_all(ExecEngine *e);
/* execve in place (user mode): exec_image_before, while the old image is
 * still mapped, notes a checksum of every guest page holding translations;
 * exec_image_after, once the new image is mapped, keeps the translations of
 * the pages whose bytes are the same and still executable and drops the
 * rest (exec-image.c).  In between the embedder replaces the mappings
 * without invalidating (the after step does it per page). */
typedef struct ExecImageSnap ExecImageSnap;
ExecImageSnap *exec_image_before(ExecEngine *e);
void exec_image_after(ExecEngine *e, ExecImageSnap *s);
/* The guest installed a handler for SIGSEGV or SIGBUS: from now on a fault
 * must reach it with the registers of the faulting insn, also in LLVM
 * code, whose loads otherwise test only the bound (a fault there kills the
 * process, which then cannot see its registers).  The first call drops
 * every translation (waits for other CPUs to leave generated code). */
void exec_guest_fault_handler(ExecEngine *e);

/* fork() of a process that may run several CPUs: call exec_fork_prepare
 * just before fork() (waits for any translation in progress and holds the
 * engine lock), then exec_fork_parent in the parent, or exec_fork_child in
 * the child with the one CPU that survives there (the others' threads are
 * gone: they are dropped and the locks re-made).  Before the fork, the
 * blocks earlier children added are added here, for the new child to
 * inherit (see "blocks children add" in exec.c). */
void exec_fork_prepare(ExecEngine *e);
void exec_fork_parent(ExecEngine *e);
void exec_fork_child(ExecEngine *e, ExecCpu *survivor);
/* A fork child's code is no longer its parent's (an execve that replaced
 * some of it): the blocks it adds from now on are not offered to the
 * parent (see "blocks children add" in exec.c). */
void exec_fork_image_changed(ExecEngine *e);

/* Raise a guest exception from a helper called by generated code or the
 * interpreter (env->pc must be the faulting insn's pc): unwinds to exec_run,
 * which returns the matching event.  kind is EXEC_EXC_*. */
_Noreturn void exec_raise(void *env, uint32_t kind, uint64_t addr, uint32_t code);

/* Host SIGSEGV/SIGBUS: call first thing in the embedder's handler. */
typedef enum ExecFaultResult {
    EXEC_FAULT_NOT_OURS, /* not from guest execution: embedder decides */
} ExecFaultResult;
/* If the faulting host pc is in generated code (or a helper it called) of the
 * CPU running on this thread, unwinds to exec_run (guest SEGV/BUS event, or
 * SMC invalidate-and-restart) and does not return. */
ExecFaultResult exec_fault_from_host(int signo, siginfo_t *info, void *ucontext);
/* A host crash: one line on stderr (signal, address, host pc), then the
 * default action (core dump). */
_Noreturn void exec_host_crash(int signo, siginfo_t *info, void *ucontext);

/* ---- introspection (tests, tools) ----------------------------------------- */
/* Find the block for (pc, flags) without translating (NULL if none). */
TransBlock *exec_lookup(ExecEngine *e, uint64_t pc, uint32_t flags);
/* Translate (or find) the block for (pc, flags); NULL on failure. */
TransBlock *exec_get_block(ExecEngine *e, uint64_t pc, uint32_t flags);
size_t exec_block_count(ExecEngine *e);
/* Guest pc of the insn containing host address `host` in generated code,
 * or false if host is not in a block. */
bool exec_host_to_guest(ExecEngine *e, uintptr_t host, uint64_t *guest_pc);

/* Stop background work (the tier-up compiler) before the process exits,
 * and write the code cache's packs (the cache's memory is left to the exit:
 * in a forked child freeing it only copied pages); later hot blocks stay in
 * the template tier.  Does not wait for a compile in progress: false when one is still
 * running, and then the process must leave with _exit() (after flushing its
 * own streams), not exit(), whose static destructors (LLVM's) would run
 * under the compiler.  Safe to call more than once. */
bool exec_engine_stop_background(ExecEngine *e);

/* --stats lines of the code cache (lookups, hit rate, load cost per region
 * and per guest block, stores); nothing when the cache is off. */
void exec_cache_stats_print(ExecEngine *e, FILE *f);

#endif /* EMU_RUNTIME_EXEC_H */
