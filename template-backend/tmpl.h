/*
 * tmpl.h - the template backend: IR block -> x86-64 machine code, directly,
 * in microseconds (TCG-style).  The runtime owns the executable memory and
 * the block table; this module only writes bytes and patches jumps.
 *
 * Usage:
 *   TmplCode out;
 *   if (!tmpl_translate(block, &buf, (uintptr_t)tb, &mem_model, &out)) ... // buffer full
 *   uintptr_t r = tmpl_enter(env, buf.base + out.entry_offset);
 *   switch (r & TMPL_RET_MASK) { case TMPL_RET_SLOT0...: chain slot (r & TMPL_RET_MASK) of
 *                                (TransBlock *)(r & ~TMPL_RET_MASK) ... }
 *
 * Generated-code conventions (valid from tmpl_enter until it returns):
 *   - env (the guest CPU state, starting with CpuCommon) is in r14, user-mode
 *     guest_base (loaded from env by tmpl_enter) in r15; rsp points at one
 *     shared spill frame made by tmpl_enter (16-byte aligned, so helper calls
 *     need no realignment); rbx rbp r12 r13 rsi rdi r8 r9 r10 hold temps
 *     inside a block, rax rcx rdx r11 are scratch;
 *   - a block entry point may be jumped to from any other block (chaining,
 *     jump cache): at entry and at every exit all globals are in env and no
 *     register carries anything;
 *   - every exit writes env->pc (CpuCommon.pc) unless it jumps straight into
 *     another block;
 *   - guest memory (TMPL_MEM_USER): each access checks alignment (if the
 *     memop asks) and addr < env->guest_limit, then touches [r15 + addr]
 *     with one instruction.  Dirty globals stay in host registers across
 *     plain loads and stores: a failed check's stub stores them, and for a
 *     host fault at the access TmplCode.wb says which registers hold which
 *     globals (tmpl_wb_apply); with the insn_map that makes it precise.
 *
 * Code buffers: tmpl_init puts an entry trampoline and the shared epilogue at
 * the start of each buffer (several buffers may be live; re-initialising one
 * replaces its entry).  exec_delta must be a multiple of 4096 so that the
 * 4-byte alignment of a chain site holds in both views.
 *
 * Chaining: TmplCode.chain_site[s] is the offset from CodeBuf.base of the
 * 4-byte-aligned rel32 of slot s's `jmp`; tmpl_chain_patch(buf, site, host)
 * points it at another block's entry (an execution address), and
 * tmpl_chain_patch(buf, site, buf->base + chain_reset[s] + buf->exec_delta)
 * points it back at the slot's exit stub (which sets env->pc = target and
 * returns tag | s).
 *
 * goto_ptr looks up env->jmp_cache itself: it reads entry.pc, compares, then
 * reads entry.host and jumps.  Writers should store host before pc (or set
 * pc to ~0 first) so a racing reader never pairs a new pc with an old host.
 */
#ifndef EMU_TEMPLATE_BACKEND_TMPL_H
#define EMU_TEMPLATE_BACKEND_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ir/ir.h"

/* Executable memory handed out by the runtime (RWX, or the write view of a
 * dual mapping: exec_delta is added to a write address to get the address
 * that executes). */
typedef struct CodeBuf {
    uint8_t *base;
    size_t size;
    size_t used;
    intptr_t exec_delta;
} CodeBuf;

/* How guest memory is reached.  User mode: host = guest_base + addr, with
 * addr < guest_limit checked (out of range -> guest SIGSEGV).  System mode
 * (softmmu TLB) will be a second kind. */
typedef enum TmplMemKind { TMPL_MEM_USER } TmplMemKind;
typedef struct TmplMemModel {
    TmplMemKind kind;
    /* Not memory, but per-translation too: when non-NULL the block adds 1
     * to *exec_counter on every entry, chained ones included (--stats). */
    uint64_t *exec_counter;
    /* --stats too: a side exit adds the instructions of the block it skips
     * (those after its branch) to *skip_counter, so that entries x insns -
     * skipped is what ran. */
    uint64_t *skip_counter;
    /* Tier-up (--tier=auto): the block subtracts 1 from env->latch_budget
     * at every entry and, when it reaches 0, returns at once (nothing of
     * the block has run) with tag | TMPL_RET_EXIT, env->exit_reason =
     * TMPL_EXIT_HOT and env->pc = the block's pc. */
    bool latch_sample;
    /* Code cache: record in TmplCode.relocs everything in the code that
     * depends on where it runs (tag, epilogue, helper addresses), so that
     * tmpl_install can place the same bytes in another process.  The
     * counters above must then lie within 4 KiB after the tag (they are
     * relocated as tag + offset). */
    bool relocatable;
    /* Bytes past guest_limit that are reserved and fault (user mode: the
     * guest reservation's guard).  An access off the same base as one
     * already checked in the same straight-line code, at most this far
     * above it, is in the guest's range or faults there: it gets no limit
     * check of its own (tmpl-gen-mem.c).  0: every access is checked. */
    uint64_t limit_guard;
} TmplMemModel;

/* exit_reason of a hot-counter exit: outside the IR's IrExitReason range. */
#define TMPL_EXIT_HOT ((uint32_t)IR_EXIT_COUNT)

/* tmpl_enter return value: tag | TMPL_RET_*.  tag is the value given to
 * tmpl_translate for the block that exited (4-byte aligned). */
enum {
    TMPL_RET_SLOT0 = 0,  /* goto_tb slot n (0 .. IR_GOTO_TB_SLOTS - 1) not chained
                            yet: returns n; env->pc = target */
    TMPL_RET_LOOKUP = IR_GOTO_TB_SLOTS, /* goto_ptr missed the jump cache; env->pc = target */
    TMPL_RET_EXIT,       /* IR exit: env->exit_reason and env->pc are set */
};
/* The low bits of a return value that hold TMPL_RET_*: tags are 8-byte aligned. */
#define TMPL_RET_MASK ((uintptr_t)7)
_Static_assert(TMPL_RET_EXIT <= TMPL_RET_MASK, "return kinds must fit the tag's low bits");

/* CpuCommon.exception_kind written by generated code before returning
 * TMPL_RET_EXIT with exit_reason IR_EXIT_EXCEPTION (same values as the
 * runtime's EXEC_EXC_SEGV/EXEC_EXC_BUS).  exception_addr = the guest address,
 * exception_code = 1 for a write access (store, cmpxchg, atomic_rmw), else 0,
 * env->pc = the faulting guest insn; globals hold the state before it. */
enum {
    TMPL_EXC_SEGV = 1,   /* addr >= guest_limit: guest SIGSEGV */
    TMPL_EXC_ALIGN = 2,  /* misaligned for IR_MO_ALIGN: guest SIGBUS */
};

/* Maps host code back to guest instructions for precise faults: entries
 * sorted by host_end; an address a in [prev.host_end, e.host_end) belongs to
 * guest insn e.insn_idx of the block. */
typedef struct TmplInsnMapEntry {
    uint32_t host_end;   /* offset from the block entry */
    uint32_t insn_idx;   /* IrBlock.insns index */
} TmplInsnMapEntry;

/* A position-dependent field of relocatable code (TmplMemModel.relocatable). */
typedef enum TmplRelocKind {
    TMPL_RELOC_TAG_ABS64 = 1,      /* imm64 = tag + arg */
    TMPL_RELOC_EPILOGUE_REL32 = 2, /* rel32 to the code buffer's shared epilogue */
    TMPL_RELOC_HELPER_REL32 = 3,   /* rel32 to ir_helper_info[arg].fn */
    TMPL_RELOC_HELPER_ABS64 = 4,   /* imm64 = ir_helper_info[arg].fn */
} TmplRelocKind;

typedef struct TmplReloc {
    uint32_t offset;   /* of the imm64/rel32, from the block entry */
    uint32_t kind;     /* TmplRelocKind */
    uint64_t arg;      /* addend or helper id */
} TmplReloc;

/* Write-back map (TmplCode.wb): for every host instruction that touches
 * guest memory while globals are dirty in registers, the words
 *   host offset (from the block entry), n, then n x TMPL_WB_PAIR(reg, bytes, env_off)
 * in increasing host offset.  reg is an x86 register number (rax = 0 ...
 * r15 = 15), bytes 1/2/4/8 of it (low bits) go to env + env_off. */
#define TMPL_WB_PAIR(reg, bytes, off) ((uint32_t)(reg) | (uint32_t)(bytes) << 8 | (uint32_t)(off) << 16)
#define TMPL_WB_MAX_PAIRS 16

/* Store the dirty globals of the access at host_off (regs: the host
 * registers at the fault, by x86 number) into env, writing only within
 * [env_lo, env_hi).  false if wb is malformed (nothing is written then). */
bool tmpl_wb_apply(const uint32_t *wb, uint32_t n_wb, uint32_t host_off, const uint64_t regs[16],
                   void *env, uint32_t env_lo, uint32_t env_hi);
/* Is wb a well-formed map for code_size bytes of code (tmpl_install)? */
bool tmpl_wb_valid(const uint32_t *wb, uint32_t n_wb, uint32_t code_size);
/* The general registers of a signal's ucontext_t, by x86 number. */
void tmpl_host_regs(const void *ucontext, uint64_t regs[16]);

typedef struct TmplCode {
    uint32_t entry_offset;        /* within CodeBuf.base */
    uint32_t size;                /* bytes of host code */
    uint32_t chain_site[IR_GOTO_TB_SLOTS]; /* offset (from base) of the rel32 of each
                                     goto_tb slot's jump; UINT32_MAX if unused */
    uint32_t chain_reset[IR_GOTO_TB_SLOTS]; /* offset of each slot's unchained exit stub */
    TmplInsnMapEntry *insn_map;   /* malloc'ed; caller frees */
    uint32_t n_insn_map;
    TmplReloc *relocs;            /* relocatable translations: malloc'ed; caller frees */
    uint32_t n_relocs;
    uint32_t *wb;                 /* write-back map (above): malloc'ed or NULL; caller frees */
    uint32_t n_wb;                /* words */
} TmplCode;

/* Relocatable code as stored by a code cache: the bytes of [entry, entry +
 * size), its relocations, its chain sites and resets and its insn map, all
 * relative to the entry (UINT32_MAX: slot unused). */
typedef struct TmplImage {
    const uint8_t *code;
    uint32_t size;
    const TmplReloc *relocs;
    uint32_t n_relocs;
    uint32_t chain_site[IR_GOTO_TB_SLOTS], chain_reset[IR_GOTO_TB_SLOTS];
    const TmplInsnMapEntry *insn_map;
    uint32_t n_insn_map;
    const uint32_t *wb;
    uint32_t n_wb;
} TmplImage;

/* Translate b into buf.  Returns false (buf unchanged apart from scratch) if
 * the buffer is too small or an op is unsupported; *why says which. */
bool tmpl_translate(const IrBlock *b, CodeBuf *buf, uintptr_t tag,
                    const TmplMemModel *mm, TmplCode *out, const char **why);

/* Place a relocatable translation (from this build of emu: the helper
 * table must match) in buf for tag; out as from tmpl_translate.  Every
 * field of img is checked (it comes from a file): false + *why if one is
 * out of range or buf is full. */
bool tmpl_install(CodeBuf *buf, uintptr_t tag, const TmplImage *img, TmplCode *out,
                  const char **why);

/* Point chain slot jump (rel32 at site) at target / back at its exit stub.
 * Atomic with respect to other threads executing the code. */
void tmpl_chain_patch(CodeBuf *buf, uint32_t site, const void *target);

/* A latch_sample block whose loop needs no more samples: its entry's
 * countdown becomes nops if alone (no other thread can be running the
 * code), else a compare that never branches (safe while other threads run
 * it).  Code at entry that is not such a countdown is left as it is. */
void tmpl_latch_off(CodeBuf *buf, const void *entry, bool alone);

/* A block-shaped entry into a C-callable function `uintptr_t fn(void *env)`
 * (LLVM tier code) that chained jumps and the jump cache can target:
 * `mov rdi, env; call fn; jmp epilogue`, so fn's return value (tag |
 * TMPL_RET_*) becomes tmpl_enter's.  Returns the stub's execution address,
 * or NULL if buf is full. */
const void *tmpl_emit_call_stub(CodeBuf *buf, uintptr_t (*fn)(void *env));

/* The way out of C-callable code entered through a call stub into another
 * block: `tramp(env, host)`, reached by a tail call from that code, drops
 * the stub's return address (so rsp is tmpl_enter's frame again; r14/r15
 * were preserved as callee-saved) and jumps to host.  NULL if buf is full. */
const void *tmpl_emit_chain_tramp(CodeBuf *buf);

/* Pin up to TMPL_MAX_PINS i64 globals (by env offset) to host registers
 * across blocks, in the code buffers tmpl_init sets up from now on (each
 * keeps its own).  The pins are part of what generated code means (cache
 * identity: tmpl_pin_id, of the set in force). */
#define TMPL_MAX_PINS 4
void tmpl_set_pins(const uint32_t *env_off, unsigned n);
uint64_t tmpl_pin_id(void);
/* A host fault at host_pc in template code: the pinned globals of its code
 * buffer from the signal context's registers (tmpl_host_regs) into env. */
void tmpl_pins_at_fault(void *env, const uint64_t regs[16], uintptr_t host_pc);

/* Generate the entry trampoline once per CodeBuf (at its start). */
bool tmpl_init(CodeBuf *buf);

/* Run generated code at host (a block entry in buf) with env.  Returns
 * tag | TMPL_RET_*.  Host SIGSEGV in generated code is the runtime's job
 * (tmpl_lookup_insn maps the host pc back). */
uintptr_t tmpl_enter(void *env, const void *host);

#endif /* EMU_TEMPLATE_BACKEND_TMPL_H */
