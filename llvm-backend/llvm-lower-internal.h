/*
 * llvm-lower-internal.h - what the two halves of the IR -> LLVM lowering
 * share: the Lower state of one region being lowered, the small builders
 * every part uses (constants, env loads and stores), and the entry points of
 * the control-flow half.
 *
 *   llvm-lower.c      the function: entry, globals, ops, blocks, exit block
 *   llvm-lower-ctl.c  control flow: edges between region members, goto_tb,
 *                     goto_ptr (per-jump and shared switches), the exit tag
 *                     and the chained exit through the jump cache
 *
 * Private to llvm-backend/ (the module exports llvm-lower.h only).
 */
#ifndef EMU_LLVM_BACKEND_LLVM_LOWER_INTERNAL_H
#define EMU_LLVM_BACKEND_LLVM_LOWER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "llvm-backend/llvm-lower.h"

typedef struct Lower {
    LLVMContextRef C;
    LLVMModuleRef M;
    LLVMBuilderRef B;
    LLVMValueRef fn, env;
    LLVMTypeRef i1, i8, i16, i32, i64, i128, ptr, fn_ty;
    const LlvmLowerIn *in;
    const EmuLlvmRegion *r;
    const IrBlock *b;              /* block being lowered */
    uint32_t bi;                   /* its index in the region */
    uint32_t n_glob;               /* globals count (temps 1..n_glob-1) */
    LLVMValueRef gslot[IR_MAX_GLOBALS];  /* allocas of used globals */
    bool gwritten[IR_MAX_GLOBALS];       /* written anywhere in the region */
    bool dirty[IR_MAX_GLOBALS];          /* written since the last write-back */
    bool through[IR_MAX_GLOBALS];        /* every write also goes to env at once */
    bool in_env[IR_MAX_GLOBALS];         /* never written here: read from env at each use */
    LLVMValueRef *lslot;           /* per temp of the current block: locals */
    LLVMBasicBlockRef *label_bb;   /* per label of the current block */
    LLVMBasicBlockRef *block_bb;   /* per region block: its first basic block */
    LLVMValueRef guest_base, guest_limit;
    LLVMValueRef page_perm;        /* region->page_perm: env->page_perm */
    LLVMBasicBlockRef exit_bb;     /* the one exit: writes globals back, returns */
    LLVMBasicBlockRef ptr_bb;      /* shared goto_ptr dispatch (see ptr_dispatch) */
    LLVMValueRef ptr_phi;          /* ... its target pc */
    uint32_t ptr_flags;            /* ... the mode flags of its members */
    bool gmem;                     /* globals live in env (TBAA keeps them apart
                                      from guest memory), not in allocas */
    unsigned tbaa_kind;
    LLVMValueRef tbaa_env, tbaa_guest;
    LLVMValueRef trips;            /* gmem: back edges taken (an alloca) */
    LLVMValueRef ret_slot;         /* what exit_bb returns (an alloca) */
    LLVMValueRef tag_sym;          /* object mode: the symbol whose address is the tag */
    bool probe;                    /* the profitability probe is compiled in */
    /* Page-map checks shared by accesses off one base (see covered()):
     * per temp of the current block the value it holds as root + offset
     * (root 0: not known yet), valid in straight-line code only. */
    uint32_t *vroot;
    int64_t *voff;
    uint32_t next_root;
    struct { uint32_t root; int64_t off; bool write; LLVMValueRef fast; } cov[8];
    uint32_t n_cov, cov_next;
    int64_t pc_insn;               /* insn whose pc is in env->pc (-1: unknown) */
    uint32_t cur_insn;             /* insn of the op being lowered */
    uint32_t cur_op;               /* its index in the block */
    char *err;
    size_t errlen;
    bool failed;
} Lower;

/* ---- shared builders ------------------------------------------------------ */

static inline LLVMValueRef c64(Lower *L, uint64_t v) { return LLVMConstInt(L->i64, v, 0); }
static inline LLVMValueRef c32(Lower *L, uint32_t v) { return LLVMConstInt(L->i32, v, 0); }

/* Pointer env + off. */
static inline LLVMValueRef env_ptr(Lower *L, uint64_t off)
{
    if (off == 0)
        return L->env;
    LLVMValueRef idx = c64(L, off);
    return LLVMBuildGEP2(L->B, L->i8, L->env, &idx, 1, "");
}

/* TBAA: env and guest memory are different types, so LLVM may keep env
 * fields in registers across guest accesses (gmem mode). */
static inline void tbaa(Lower *L, LLVMValueRef inst, bool guest)
{
    if (L->tbaa_env)
        LLVMSetMetadata(inst, L->tbaa_kind, guest ? L->tbaa_guest : L->tbaa_env);
}

static inline LLVMValueRef env_load(Lower *L, LLVMTypeRef t, uint64_t off)
{
    LLVMValueRef v = LLVMBuildLoad2(L->B, t, env_ptr(L, off), "");
    LLVMSetAlignment(v, 1);
    tbaa(L, v, false);
    return v;
}

static inline void env_store(Lower *L, LLVMValueRef v, uint64_t off)
{
    LLVMValueRef s = LLVMBuildStore(L->B, v, env_ptr(L, off));
    LLVMSetAlignment(s, 1);
    tbaa(L, s, false);
}

/* ---- llvm-lower-ctl.c ------------------------------------------------------ */

/* tag | kind in object mode (a constant off the tag symbol). */
LLVMValueRef lower_obj_tag(Lower *L, unsigned kind);
/* Store the return value tag | kind and branch to the exit block. */
void lower_ret_tag(Lower *L, unsigned kind);
/* In the exit block: chain a TMPL_RET_LOOKUP exit through the jump cache. */
void lower_chain_out(Lower *L, LLVMValueRef rv);
/* goto_tb: an edge to a region member, or an exit. Terminates the block. */
void lower_goto_tb(Lower *L, const IrInst *op);
/* goto_ptr to target: a switch over the members, or an exit. Terminates the block. */
void lower_goto_ptr(Lower *L, LLVMValueRef target);

#endif /* EMU_LLVM_BACKEND_LLVM_LOWER_INTERNAL_H */
