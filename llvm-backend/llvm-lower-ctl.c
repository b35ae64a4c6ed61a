/*
 * llvm-lower-ctl.c - control flow of a lowered region (see llvm-lower.c for
 * the function as a whole, llvm-lower-internal.h for the shared state).
 *
 * Every exit of the region stores its return value (tag | TMPL_RET_*) and
 * branches to the one exit block, which writes the globals back and, for a
 * TMPL_RET_LOOKUP exit, may chain straight into the next translation through
 * the jump cache.  A direct jump (goto_tb) or an indirect one (goto_ptr) to
 * a member of the region with the same mode flags stays inside the function:
 * an internal edge, which tests the exit request where it may close a cycle,
 * so a guest looping in the region still sees signals.
 *
 *   lower_goto_tb(L, op);            // internal edge, or exit via exit_bb
 *   lower_goto_ptr(L, target);       // switch over members, or exit
 *   ...                              // later, in exit_bb:
 *   lower_chain_out(L, rv);          // jump-cache hit: tail-call onwards
 */
#include <stddef.h>
#include <stdint.h>

#include "llvm-backend/llvm-lower-internal.h"
#include "runtime/cpu.h"
#include "template-backend/tmpl.h"

/* ---- the exit tag and the exit block -------------------------------------- */

/* tag | kind as the constant &tag_sym + kind (tags are 8-byte aligned):
 * movabs (R_X86_64_64) + add: the large code model does not fold the kind
 * into the relocation; one add on exit paths only. */
LLVMValueRef lower_obj_tag(Lower *L, unsigned kind)
{
    LLVMValueRef idx = c64(L, kind);
    return LLVMConstPtrToInt(LLVMConstGEP2(L->i8, L->tag_sym, &idx, 1), L->i64);
}

/* Every exit branches to one block that writes back every global the region
 * writes and returns ret_slot: exit paths stay a store and a jump, where a
 * write-back per exit made regions mostly stores (and codegen slow). */
void lower_ret_tag(Lower *L, unsigned kind)
{
    LLVMValueRef v = L->in->object ? lower_obj_tag(L, kind)
                                   : c64(L, (uint64_t)L->r->tag | kind);
    LLVMBuildStore(L->B, v, L->ret_slot);
    LLVMBuildBr(L->B, L->exit_bb);
}

/* In exit_bb, globals written back, rv the return value: a TMPL_RET_LOOKUP
 * exit looks env->pc up in the jump cache and on a hit tail-calls the
 * trampoline with the host entry (see EmuLlvmRegion.chain_tramp).  Leaves
 * the builder in the miss block. */
void lower_chain_out(Lower *L, LLVMValueRef rv)
{
    LLVMBuilderRef B = L->B;
    LLVMBasicBlockRef on = LLVMAppendBasicBlockInContext(L->C, L->fn, "chain.on");
    LLVMBasicBlockRef look = LLVMAppendBasicBlockInContext(L->C, L->fn, "chain.look");
    LLVMBasicBlockRef hit = LLVMAppendBasicBlockInContext(L->C, L->fn, "chain.hit");
    LLVMBasicBlockRef miss = LLVMAppendBasicBlockInContext(L->C, L->fn, "chain.miss");
    LLVMValueRef kind = LLVMBuildAnd(B, rv, c64(L, 3), "");
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, kind, c64(L, TMPL_RET_LOOKUP), ""), on,
                    miss);
    LLVMPositionBuilderAtEnd(B, on);
    LLVMValueRef tramp = env_load(L, L->ptr, offsetof(CpuCommon, chain_tramp));
    LLVMBuildCondBr(B, LLVMBuildIsNull(B, tramp, ""), miss, look);
    LLVMPositionBuilderAtEnd(B, look);
    LLVMValueRef pc = env_load(L, L->i64, offsetof(CpuCommon, pc));
    LLVMValueRef jc = env_load(L, L->ptr, offsetof(CpuCommon, jmp_cache));
    /* jmp_cache_hash(pc) (runtime/cpu.h) */
    LLVMValueRef h = LLVMBuildXor(B, LLVMBuildLShr(B, pc, c64(L, 2), ""),
                                  LLVMBuildLShr(B, pc, c64(L, 2 + JMP_CACHE_BITS), ""), "");
    h = LLVMBuildAnd(B, h, c64(L, JMP_CACHE_SIZE - 1), "");
    LLVMValueRef off = LLVMBuildMul(B, h, c64(L, sizeof(JmpCacheEntry)), "");
    LLVMValueRef ep = LLVMBuildGEP2(B, L->i8, jc, &off, 1, "");
    LLVMValueRef epc = LLVMBuildLoad2(B, L->i64, ep, "");
    LLVMSetVolatile(epc, 1); /* pc before host, as writers store host first */
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, epc, pc, ""), hit, miss);
    LLVMPositionBuilderAtEnd(B, hit);
    LLVMValueRef hoff = c64(L, offsetof(JmpCacheEntry, host));
    LLVMValueRef host = LLVMBuildLoad2(B, L->ptr, LLVMBuildGEP2(B, L->i8, ep, &hoff, 1, ""), "");
    LLVMSetVolatile(host, 1);
    LLVMValueRef args[2] = { L->env, host };
    LLVMValueRef call = LLVMBuildCall2(B, L->fn_ty, tramp, args, 2, "");
    LLVMSetTailCallKind(call, LLVMTailCallKindMustTail);
    LLVMBuildRet(B, call);
    LLVMPositionBuilderAtEnd(B, miss);
}

/* ---- edges between members ------------------------------------------------- */

/* Index of the region block at pc (same mode flags), or -1. */
static int region_block_at(Lower *L, uint64_t pc)
{
    if (!L->r->internal_edges)
        return -1;
    for (uint32_t j = 0; j < L->r->n_blocks; j++)
        if (L->r->blocks[j]->pc == pc && L->r->blocks[j]->flags == L->b->flags)
            return (int)j;
    return -1;
}

/* Branch to region block j (at pc), unless the runtime wants the CPU back:
 * the exit request stops loops in the region.  Terminates the block.  Only
 * edges to a block at or before this one test it: any cycle through the
 * members has one (indices cannot grow all the way round), and a forward
 * edge inside a loop body paid a load, compare and branch for nothing. */
static void internal_edge(Lower *L, uint32_t j, uint64_t pc)
{
    LLVMBuilderRef B = L->B;
    LLVMValueRef stop;
    if (j > L->bi) {
        LLVMBuildBr(B, L->block_bb[j]);
        return;
    }
    if (L->gmem) {
        /* no memory access here (it would pin every env field in memory):
         * leave every 2^16 trips round, which also bounds how long a loop
         * may keep a guest load hoisted */
        LLVMValueRef n = LLVMBuildAdd(B, LLVMBuildLoad2(B, L->i32, L->trips, ""), c32(L, 1), "");
        LLVMBuildStore(B, n, L->trips);
        stop = LLVMBuildICmp(B, LLVMIntEQ, LLVMBuildAnd(B, n, c32(L, 0xffff), ""), c32(L, 0), "");
    } else {
        LLVMValueRef req = env_load(L, L->i32, offsetof(CpuCommon, exit_request));
        LLVMSetVolatile(req, 1);
        stop = LLVMBuildICmp(B, LLVMIntNE, req, c32(L, 0), "");
    }
    LLVMBasicBlockRef leave = LLVMAppendBasicBlockInContext(L->C, L->fn, "req");
    LLVMBuildCondBr(B, stop, leave, L->block_bb[j]);
    LLVMPositionBuilderAtEnd(B, leave);
    env_store(L, c64(L, pc), offsetof(CpuCommon, pc));
    lower_ret_tag(L, TMPL_RET_LOOKUP);
}

/* Members an indirect jump of the current block may branch to. */
static unsigned ptr_members(Lower *L)
{
    unsigned n = 0;
    if (L->r->internal_edges)
        for (uint32_t j = 0; j < L->r->n_blocks; j++)
            n += L->r->blocks[j]->flags == L->b->flags &&
                 region_block_at(L, L->r->blocks[j]->pc) == (int)j;
    return n;
}

/* Switch on target over the members, each case an internal edge; the
 * default leaves with env->pc = target. */
static void ptr_switch(Lower *L, LLVMValueRef target, unsigned n_in)
{
    LLVMBuilderRef B = L->B;
    LLVMBasicBlockRef out = LLVMAppendBasicBlockInContext(L->C, L->fn, "ptr.out");
    LLVMValueRef sw = LLVMBuildSwitch(B, target, out, n_in);
    for (uint32_t j = 0; j < L->r->n_blocks; j++) {
        const IrBlock *m = L->r->blocks[j];
        if (m->flags != L->b->flags || region_block_at(L, m->pc) != (int)j)
            continue;
        LLVMBasicBlockRef e = LLVMAppendBasicBlockInContext(L->C, L->fn, "ptr.in");
        LLVMAddCase(sw, c64(L, m->pc), e);
        LLVMPositionBuilderAtEnd(B, e);
        internal_edge(L, j, m->pc);
    }
    LLVMPositionBuilderAtEnd(B, out);
    env_store(L, target, offsetof(CpuCommon, pc));
    lower_ret_tag(L, TMPL_RET_LOOKUP);
}

/* Regions with more members than direct jumps alone bring in (an
 * interpreter's dispatch and handlers, formed through recorded goto_ptr
 * targets) share one switch: one per goto_ptr made the CFG quadratic
 * (48 members: 0.5-2 s of codegen per region instead of 0.1-0.6 s). */
#define PTR_SHARED_MIN 17

static LLVMBasicBlockRef ptr_dispatch(Lower *L, unsigned n_in)
{
    if (L->ptr_bb)
        return L->ptr_flags == L->b->flags ? L->ptr_bb : NULL;
    LLVMBuilderRef B = L->B;
    LLVMBasicBlockRef here = LLVMGetInsertBlock(B);
    L->ptr_bb = LLVMAppendBasicBlockInContext(L->C, L->fn, "ptr.disp");
    L->ptr_flags = L->b->flags;
    LLVMPositionBuilderAtEnd(B, L->ptr_bb);
    L->ptr_phi = LLVMBuildPhi(B, L->i64, "ptr.pc");
    /* every goto_ptr of the region comes here, so every case may close a
     * cycle: all test the exit request (internal_edge tests edges to
     * blocks at or before L->bi) */
    uint32_t bi = L->bi;
    L->bi = UINT32_MAX;
    ptr_switch(L, L->ptr_phi, n_in);
    L->bi = bi;
    LLVMPositionBuilderAtEnd(B, here);
    return L->ptr_bb;
}

/* ---- the jumps ------------------------------------------------------------- */

/* goto_tb: an internal edge when the target is a member, else an exit with
 * env->pc = target. */
void lower_goto_tb(Lower *L, const IrInst *op)
{
    uint64_t target = op->c[1];
    int j = region_block_at(L, target);
    if (j >= 0) {
        internal_edge(L, (uint32_t)j, target);
        return;
    }
    env_store(L, c64(L, target), offsetof(CpuCommon, pc));
    lower_ret_tag(L, L->r->goto_tb_lookup ? TMPL_RET_LOOKUP : (unsigned)op->c[0]);
}

/* An indirect jump to a block of the region (a return to the block after a
 * call, an interpreter's next handler) stays inside: a switch over the
 * members, shared by the region's goto_ptrs when there are many. */
void lower_goto_ptr(Lower *L, LLVMValueRef target)
{
    LLVMBuilderRef B = L->B;
    unsigned n_in = ptr_members(L);
    LLVMBasicBlockRef disp = n_in >= PTR_SHARED_MIN ? ptr_dispatch(L, n_in) : NULL;
    if (disp) {
        LLVMBasicBlockRef from = LLVMGetInsertBlock(B);
        LLVMAddIncoming(L->ptr_phi, &target, &from, 1);
        LLVMBuildBr(B, disp);
    } else if (n_in) {
        ptr_switch(L, target, n_in);
    } else {
        env_store(L, target, offsetof(CpuCommon, pc));
        lower_ret_tag(L, TMPL_RET_LOOKUP);
    }
}
