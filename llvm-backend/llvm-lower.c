/*
 * llvm-lower.c - lowering of IR blocks to LLVM IR through the LLVM C API,
 * with the meaning of ir/ir-interp.c (ir/ir-eval.h) for every op.
 *
 * Shape of the generated function `i64 f(ptr env)`:
 *   entry:  load guest_base/guest_limit and every global the region uses
 *           from env into allocas (mem2reg makes them SSA values);
 *   body:   one LLVM basic block per IR label, locals in allocas too;
 *   exits:  write dirty globals back to env, set env->pc (and exit_reason),
 *           return tag | TMPL_RET_*.
 * Values: i8..i64 as iN, i128/v128 as i128, f32/f64 as i32/i64 bits.
 *
 * Precise exceptions: before the first op that can fault in a guest insn
 * (memory ops, faulting helpers) the dirty globals are stored to env and
 * env->pc is set to the insn's pc; a guest-visible fault (bound or
 * alignment check) then only adds exception_* and returns.  "Dirty" is
 * tracked while walking the ops in order: at a label every global written
 * anywhere in the region counts as dirty (a conservative merge).
 *
 * Control flow between region members, the exit tag and the chained exit
 * are in llvm-lower-ctl.c; the Lower state and the small builders both
 * files use in llvm-lower-internal.h.
 */
#include "llvm-backend/llvm-lower-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cpu.h"
#include "template-backend/tmpl.h"

/* Arity of every op, from the one table (the module links no emu library). */
static const struct {
    uint8_t n_out, n_in;
} op_arity[IR_OP_COUNT] = {
#define DEF(name, o, i, c, f) [IR_OP_##name] = {o, i},
#include "ir/ir-ops.def"
#undef DEF
};
static const uint32_t op_flags[IR_OP_COUNT] = {
#define DEF(name, o, i, c, f) [IR_OP_##name] = (f),
#include "ir/ir-ops.def"
#undef DEF
};

static void lfail(Lower *L, const char *fmt, ...)
{
    if (L->failed)
        return;
    L->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err, L->errlen, fmt, ap);
    va_end(ap);
}

/* ---- types and constants ------------------------------------------------- */

static unsigned type_bits(IrType t)
{
    switch (t) {
    case IR_I8: return 8;
    case IR_I16: return 16;
    case IR_I32: case IR_F32: return 32;
    case IR_I64: case IR_F64: return 64;
    case IR_I128: case IR_V128: return 128;
    default: return 0;
    }
}

static LLVMTypeRef ty(Lower *L, IrType t)
{
    switch (type_bits(t)) {
    case 8: return L->i8;
    case 16: return L->i16;
    case 32: return L->i32;
    case 64: return L->i64;
    case 128: return L->i128;
    default: return L->i64; /* void: never a value */
    }
}

static LLVMTypeRef ty_bits(Lower *L, unsigned bits)
{
    return LLVMIntTypeInContext(L->C, bits);
}

static LLVMValueRef cty(LLVMTypeRef t, uint64_t v) { return LLVMConstInt(t, v, 0); }

static unsigned llvm_bits(LLVMValueRef v)
{
    return LLVMGetIntTypeWidth(LLVMTypeOf(v));
}

/* Zero-extend or truncate v to `bits`. */
static LLVMValueRef resize(Lower *L, LLVMValueRef v, unsigned bits)
{
    unsigned have = llvm_bits(v);
    if (have == bits)
        return v;
    if (have < bits)
        return LLVMBuildZExt(L->B, v, ty_bits(L, bits), "");
    return LLVMBuildTrunc(L->B, v, ty_bits(L, bits), "");
}

static LLVMValueRef sresize(Lower *L, LLVMValueRef v, unsigned bits)
{
    unsigned have = llvm_bits(v);
    if (have == bits)
        return v;
    if (have < bits)
        return LLVMBuildSExt(L->B, v, ty_bits(L, bits), "");
    return LLVMBuildTrunc(L->B, v, ty_bits(L, bits), "");
}

static void tbaa_init(Lower *L)
{
    LLVMContextRef C = L->C;
    LLVMMetadataRef zero = LLVMValueAsMetadata(LLVMConstInt(LLVMInt64TypeInContext(C), 0, 0));
    LLVMMetadataRef root_ops[1] = { LLVMMDStringInContext2(C, "emu tbaa", 8) };
    LLVMMetadataRef root = LLVMMDNodeInContext2(C, root_ops, 1);
    LLVMMetadataRef env_ops[3] = { LLVMMDStringInContext2(C, "env", 3), root, zero };
    LLVMMetadataRef envty = LLVMMDNodeInContext2(C, env_ops, 3);
    LLVMMetadataRef g_ops[3] = { LLVMMDStringInContext2(C, "guest", 5), root, zero };
    LLVMMetadataRef gty = LLVMMDNodeInContext2(C, g_ops, 3);
    LLVMMetadataRef et[3] = { envty, envty, zero }, gt[3] = { gty, gty, zero };
    L->tbaa_env = LLVMMetadataAsValue(C, LLVMMDNodeInContext2(C, et, 3));
    L->tbaa_guest = LLVMMetadataAsValue(C, LLVMMDNodeInContext2(C, gt, 3));
    L->tbaa_kind = LLVMGetMDKindIDInContext(C, "tbaa", 4);
}

/* ---- temps --------------------------------------------------------------- */

static const IrTempInfo *tinfo(Lower *L, IrTemp t)
{
    return &L->b->temps[t];
}

static LLVMValueRef rd(Lower *L, IrTemp t)
{
    if (t == IR_TEMP_NONE || t >= L->b->n_temps) {
        lfail(L, "bad operand temp %u", t);
        return c64(L, 0);
    }
    const IrTempInfo *ti = tinfo(L, t);
    LLVMTypeRef lt = ty(L, (IrType)ti->type);
    if (ti->kind == IR_TEMP_CONST) {
        if (type_bits((IrType)ti->type) == 128) {
            uint64_t w[2] = { ti->val[0], ti->val[1] };
            return LLVMConstIntOfArbitraryPrecision(lt, 2, w);
        }
        return LLVMConstInt(lt, ti->val[0], 0);
    }
    LLVMValueRef slot = t < L->n_glob ? L->gslot[t] : L->lslot[t];
    if (!slot) {
        lfail(L, "temp %u has no storage", t);
        return LLVMConstInt(lt, 0, 0);
    }
    LLVMValueRef v = LLVMBuildLoad2(L->B, lt, slot, "");
    if (t < L->n_glob && (L->gmem || L->in_env[t])) {
        LLVMSetAlignment(v, 1);
        tbaa(L, v, false);
    }
    return v;
}

/* Read t as an integer of `bits` (zero-extended/truncated). */
static LLVMValueRef rdw(Lower *L, IrTemp t, unsigned bits)
{
    return resize(L, rd(L, t), bits);
}

static void wr(Lower *L, IrTemp t, LLVMValueRef v)
{
    if (t == IR_TEMP_NONE || t >= L->b->n_temps) {
        lfail(L, "bad output temp %u", t);
        return;
    }
    const IrTempInfo *ti = tinfo(L, t);
    if (ti->kind == IR_TEMP_CONST) {
        lfail(L, "write to a constant");
        return;
    }
    v = resize(L, v, type_bits((IrType)ti->type));
    LLVMValueRef slot = t < L->n_glob ? L->gslot[t] : L->lslot[t];
    if (!slot) {
        lfail(L, "temp %u has no storage", t);
        return;
    }
    LLVMValueRef s = LLVMBuildStore(L->B, v, slot);
    if (L->gmem && t < L->n_glob) {
        LLVMSetAlignment(s, 1);
        tbaa(L, s, false);
    }
    if (t < L->n_glob && L->through[t])
        env_store(L, v, tinfo(L, t)->env_offset);
    else if (t < L->n_glob)
        L->dirty[t] = !L->gmem;
}

/* ---- write-back and exits ------------------------------------------------ */

static void sync_globals(Lower *L)
{
    if (L->gmem)
        return; /* they are in env already */
    const IrTempInfo *g = L->b->temps;
    for (uint32_t t = 1; t < L->n_glob; t++) {
        if (!L->dirty[t] || !L->gslot[t])
            continue;
        LLVMTypeRef lt = ty(L, (IrType)g[t].type);
        env_store(L, LLVMBuildLoad2(L->B, lt, L->gslot[t], ""), g[t].env_offset);
        L->dirty[t] = false;
    }
}

static void reload_globals(Lower *L)
{
    if (L->gmem)
        return;
    const IrTempInfo *g = L->b->temps;
    for (uint32_t t = 1; t < L->n_glob; t++) {
        if (!L->gslot[t] || L->in_env[t])
            continue;
        LLVMTypeRef lt = ty(L, (IrType)g[t].type);
        LLVMBuildStore(L->B, env_load(L, lt, g[t].env_offset), L->gslot[t]);
        L->dirty[t] = false;
    }
}

static bool terminated(Lower *L)
{
    LLVMBasicBlockRef bb = LLVMGetInsertBlock(L->B);
    return LLVMGetBasicBlockTerminator(bb) != NULL;
}

/* After a terminator: ops until the next label are unreachable; give them a
 * fresh block without predecessors (LLVM drops it). */
static void values_forget(Lower *L)
{
    if (L->vroot)
        memset(L->vroot, 0, L->b->n_temps * sizeof *L->vroot);
    L->n_cov = L->cov_next = 0;
}

static void start_dead_block(Lower *L)
{
    LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(L->C, L->fn, "dead");
    LLVMPositionBuilderAtEnd(L->B, bb);
    values_forget(L);
}

/* ---- values as root + offset (for shared page-map checks) ----------------
 * Root 1 is the constant 0 (an absolute address is 1 + its value). */

static uint32_t vroot_of(Lower *L, IrTemp t, int64_t *off)
{
    const IrTempInfo *ti = &L->b->temps[t];
    if (ti->kind == IR_TEMP_CONST) {
        *off = (int64_t)ti->val[0];
        return 1;
    }
    if (!L->vroot[t]) {
        L->vroot[t] = ++L->next_root;
        L->voff[t] = 0;
    }
    *off = L->voff[t];
    return L->vroot[t];
}

/* After op: what its outputs hold.  add/sub of a constant and mov keep a
 * root; anything else is a new value. */
static void values_update(Lower *L, const IrInst *op)
{
    IrOpcode opc = (IrOpcode)op->opc;
    const IrTemp *a = op->args;
    unsigned n_out = op_arity[opc].n_out;
    if (!n_out || a[0] == IR_TEMP_NONE || a[0] >= L->b->n_temps)
        return;
    uint32_t r = 0;
    int64_t o = 0;
    if (type_bits((IrType)op->type) == 64) {
        const IrTempInfo *t1 = &L->b->temps[a[1]];
        if (opc == IR_OP_mov && a[1] < L->b->n_temps) {
            r = vroot_of(L, a[1], &o);
        } else if ((opc == IR_OP_add || opc == IR_OP_sub) && a[1] < L->b->n_temps &&
                   a[2] < L->b->n_temps) {
            const IrTempInfo *t2 = &L->b->temps[a[2]];
            if (t2->kind == IR_TEMP_CONST) {
                r = vroot_of(L, a[1], &o);
                o = opc == IR_OP_add ? o + (int64_t)t2->val[0] : o - (int64_t)t2->val[0];
            } else if (t1->kind == IR_TEMP_CONST && opc == IR_OP_add) {
                r = vroot_of(L, a[2], &o);
                o += (int64_t)t1->val[0];
            }
        }
    }
    for (unsigned k = 1; k < n_out; k++)
        if (a[k] != IR_TEMP_NONE && a[k] < L->b->n_temps)
            L->vroot[a[k]] = 0;
    L->vroot[a[0]] = r;
    L->voff[a[0]] = o;
}

/* ---- object mode (persistent cache, see llvm-object.c) -------------------
 * The three process-specific constants of the JIT code become references to
 * external symbols the cache loader (runtime/objload.c) resolves. */

/* Pointer to the tag + off (the probe's counters in the entry TransBlock). */
static LLVMValueRef tag_field(Lower *L, uint64_t off)
{
    if (L->in->object) {
        LLVMValueRef idx = c64(L, off);
        return LLVMBuildGEP2(L->B, L->i8, L->tag_sym, &idx, 1, "");
    }
    return LLVMConstIntToPtr(c64(L, (uint64_t)L->r->tag + off), L->ptr);
}

/* The host's cycle counter (rdtsc). */
static LLVMValueRef cycles(Lower *L)
{
    static const char name[] = "llvm.readcyclecounter";
    unsigned id = LLVMLookupIntrinsicID(name, sizeof name - 1);
    if (!id) {
        lfail(L, "no intrinsic %s", name);
        return c64(L, 0);
    }
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(L->M, id, NULL, 0);
    LLVMTypeRef ft = LLVMIntrinsicGetType(L->C, id, NULL, 0);
    return LLVMBuildCall2(L->B, ft, f, NULL, 0, "");
}

/* The helper's external declaration (one per module, shared by regions). */
static LLVMValueRef obj_helper(Lower *L, const IrHelperInfo *h, LLVMTypeRef ft)
{
    char nm[128];
    snprintf(nm, sizeof nm, EMU_LLVM_OBJ_HELPER_PREFIX "%s", h->name ? h->name : "");
    LLVMValueRef f = LLVMGetNamedFunction(L->M, nm);
    return f ? f : LLVMAddFunction(L->M, nm, ft);
}

/* An external i64 (region obj_index, block bi) for --stats counters. */
static LLVMValueRef obj_counter(Lower *L, uint32_t bi)
{
    char nm[64];
    snprintf(nm, sizeof nm, EMU_LLVM_OBJ_COUNT_PREFIX "%u_%u", L->in->obj_index, bi);
    LLVMValueRef g = LLVMGetNamedGlobal(L->M, nm);
    return g ? g : LLVMAddGlobal(L->M, L->i64, nm);
}

/* env->pc = insn's pc, once per insn (before its first faulting op). */
static void store_insn_pc(Lower *L, uint32_t insn)
{
    if (L->pc_insn == (int64_t)insn || insn >= L->b->n_insns)
        return;
    env_store(L, c64(L, L->b->insns[insn].pc), offsetof(CpuCommon, pc));
    L->pc_insn = insn;
}

/* ---- arithmetic ---------------------------------------------------------- */

static LLVMValueRef intrinsic(Lower *L, const char *name, LLVMTypeRef t, LLVMValueRef *args,
                              unsigned n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    if (!id) {
        lfail(L, "no intrinsic %s", name);
        return args[0];
    }
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(L->M, id, &t, 1);
    LLVMTypeRef ft = LLVMIntrinsicGetType(L->C, id, &t, 1);
    return LLVMBuildCall2(L->B, ft, f, args, n, "");
}

static LLVMValueRef cond(Lower *L, IrCond c, LLVMValueRef a, LLVMValueRef b)
{
    LLVMIntPredicate p;
    switch (c) {
    case IR_COND_EQ: p = LLVMIntEQ; break;
    case IR_COND_NE: p = LLVMIntNE; break;
    case IR_COND_LT: p = LLVMIntSLT; break;
    case IR_COND_GE: p = LLVMIntSGE; break;
    case IR_COND_LE: p = LLVMIntSLE; break;
    case IR_COND_GT: p = LLVMIntSGT; break;
    case IR_COND_LTU: p = LLVMIntULT; break;
    case IR_COND_GEU: p = LLVMIntUGE; break;
    case IR_COND_LEU: p = LLVMIntULE; break;
    case IR_COND_GTU: p = LLVMIntUGT; break;
    case IR_COND_TSTEQ:
    case IR_COND_TSTNE: {
        LLVMValueRef x = LLVMBuildAnd(L->B, a, b, "");
        return LLVMBuildICmp(L->B, c == IR_COND_TSTEQ ? LLVMIntEQ : LLVMIntNE, x,
                             LLVMConstNull(LLVMTypeOf(x)), "");
    }
    case IR_COND_ALWAYS: return LLVMConstInt(L->i1, 1, 0);
    case IR_COND_NEVER: return LLVMConstInt(L->i1, 0, 0);
    default:
        lfail(L, "bad condition %u", (unsigned)c);
        return LLVMConstInt(L->i1, 0, 0);
    }
    return LLVMBuildICmp(L->B, p, a, b, "");
}

static LLVMValueRef binop(Lower *L, IrOpcode opc, IrType t, LLVMValueRef a, LLVMValueRef b)
{
    LLVMBuilderRef B = L->B;
    unsigned w = type_bits(t);
    LLVMTypeRef lt = ty(L, t);
    LLVMValueRef zero = LLVMConstNull(lt), ones = LLVMConstAllOnes(lt);
    switch (opc) {
    case IR_OP_add: return LLVMBuildAdd(B, a, b, "");
    case IR_OP_sub: return LLVMBuildSub(B, a, b, "");
    case IR_OP_mul: return LLVMBuildMul(B, a, b, "");
    case IR_OP_and: return LLVMBuildAnd(B, a, b, "");
    case IR_OP_or: return LLVMBuildOr(B, a, b, "");
    case IR_OP_xor: return LLVMBuildXor(B, a, b, "");
    case IR_OP_andc: return LLVMBuildAnd(B, a, LLVMBuildNot(B, b, ""), "");
    case IR_OP_mulhu:
    case IR_OP_mulhs: {
        LLVMTypeRef wt = ty_bits(L, 2 * w);
        bool s = opc == IR_OP_mulhs;
        LLVMValueRef x = s ? LLVMBuildSExt(B, a, wt, "") : LLVMBuildZExt(B, a, wt, "");
        LLVMValueRef y = s ? LLVMBuildSExt(B, b, wt, "") : LLVMBuildZExt(B, b, wt, "");
        LLVMValueRef p = LLVMBuildMul(B, x, y, "");
        return LLVMBuildTrunc(B, LLVMBuildLShr(B, p, cty(wt, w), ""), lt, "");
    }
    case IR_OP_divu:
    case IR_OP_remu: {
        /* x/0 = 0, x%0 = x: divide by 1 instead and select */
        LLVMValueRef z = LLVMBuildICmp(B, LLVMIntEQ, b, zero, "");
        LLVMValueRef d = LLVMBuildSelect(B, z, cty(lt, 1), b, "");
        if (opc == IR_OP_divu)
            return LLVMBuildSelect(B, z, zero, LLVMBuildUDiv(B, a, d, ""), "");
        return LLVMBuildSelect(B, z, a, LLVMBuildURem(B, a, d, ""), "");
    }
    case IR_OP_divs:
    case IR_OP_rems: {
        /* x/0 = 0, x%0 = x, x/-1 = -x (MIN wraps), x%-1 = 0 */
        LLVMValueRef z = LLVMBuildICmp(B, LLVMIntEQ, b, zero, "");
        LLVMValueRef m1 = LLVMBuildICmp(B, LLVMIntEQ, b, ones, "");
        LLVMValueRef d = LLVMBuildSelect(B, LLVMBuildOr(B, z, m1, ""), cty(lt, 1), b, "");
        if (opc == IR_OP_divs) {
            LLVMValueRef q = LLVMBuildSDiv(B, a, d, "");
            q = LLVMBuildSelect(B, m1, LLVMBuildNeg(B, a, ""), q, "");
            return LLVMBuildSelect(B, z, zero, q, "");
        }
        LLVMValueRef r = LLVMBuildSRem(B, a, d, "");
        r = LLVMBuildSelect(B, m1, zero, r, "");
        return LLVMBuildSelect(B, z, a, r, "");
    }
    case IR_OP_shl:
    case IR_OP_shr:
    case IR_OP_sar: {
        LLVMValueRef n = LLVMBuildAnd(B, b, cty(lt, w - 1), "");
        if (opc == IR_OP_shl)
            return LLVMBuildShl(B, a, n, "");
        if (opc == IR_OP_shr)
            return LLVMBuildLShr(B, a, n, "");
        return LLVMBuildAShr(B, a, n, "");
    }
    case IR_OP_rotl:
    case IR_OP_rotr: {
        /* funnel shifts take the count modulo the width */
        LLVMValueRef args[3] = { a, a, b };
        return intrinsic(L, opc == IR_OP_rotl ? "llvm.fshl" : "llvm.fshr", lt, args, 3);
    }
    default:
        lfail(L, "not a binary op: %u", (unsigned)opc);
        return a;
    }
}

static LLVMValueRef unop(Lower *L, IrOpcode opc, IrType t, LLVMValueRef a)
{
    LLVMTypeRef lt = ty(L, t);
    LLVMValueRef args[2] = { a, LLVMConstInt(L->i1, 0, 0) }; /* 0 is defined: width */
    switch (opc) {
    case IR_OP_neg: return LLVMBuildNeg(L->B, a, "");
    case IR_OP_not: return LLVMBuildNot(L->B, a, "");
    case IR_OP_clz: return intrinsic(L, "llvm.ctlz", lt, args, 2);
    case IR_OP_ctz: return intrinsic(L, "llvm.cttz", lt, args, 2);
    case IR_OP_popcnt: return intrinsic(L, "llvm.ctpop", lt, args, 1);
    case IR_OP_bswap: return type_bits(t) == 8 ? a : intrinsic(L, "llvm.bswap", lt, args, 1);
    case IR_OP_bitrev: return intrinsic(L, "llvm.bitreverse", lt, args, 1);
    default:
        lfail(L, "not a unary op: %u", (unsigned)opc);
        return a;
    }
}

static uint64_t mask_bits(unsigned len)
{
    return len >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << len) - 1);
}

/* ---- guest memory -------------------------------------------------------- */

/* Bound and alignment checks of one access; on failure the guest-visible
 * exception is raised (globals were written back by the caller).  Returns
 * the host pointer. */
/* Leave the region before the current insn (page_perm mode): write the
 * dirty globals back on this path only, env->pc = the insn. */
static void leave_before_insn(Lower *L, uint32_t reason)
{
    if (L->cur_insn < L->b->n_insns)
        env_store(L, c64(L, L->b->insns[L->cur_insn].pc), offsetof(CpuCommon, pc));
    env_store(L, c32(L, reason), offsetof(CpuCommon, exit_reason));
    lower_ret_tag(L, TMPL_RET_EXIT);
}

/* The bound and alignment of an access at addr: on failure the guest
 * exception (leaving before the insn), else on to next.  The builder is
 * left in next. */
static void check_bound(Lower *L, LLVMValueRef addr, IrMemOp mo, bool write,
                        LLVMBasicBlockRef next)
{
    LLVMBuilderRef B = L->B;
    unsigned al = IR_MO_ALIGN_LOG2(mo);
    LLVMBasicBlockRef exc = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.fault");
    LLVMValueRef bad = LLVMBuildICmp(B, LLVMIntUGE, addr, L->guest_limit, "");
    LLVMValueRef mis = NULL;
    if (al) {
        mis = LLVMBuildICmp(B, LLVMIntNE,
                            LLVMBuildAnd(B, addr, c64(L, ((uint64_t)1 << al) - 1), ""),
                            c64(L, 0), "");
        bad = LLVMBuildOr(B, bad, mis, "");
    }
    LLVMBuildCondBr(B, bad, exc, next);
    LLVMPositionBuilderAtEnd(B, exc);
    LLVMValueRef kind = mis ? LLVMBuildSelect(B, mis, c32(L, TMPL_EXC_ALIGN), c32(L, TMPL_EXC_SEGV), "")
                            : c32(L, TMPL_EXC_SEGV);
    env_store(L, kind, offsetof(CpuCommon, exception_kind));
    env_store(L, addr, offsetof(CpuCommon, exception_addr));
    env_store(L, c32(L, write ? 1 : 0), offsetof(CpuCommon, exception_code));
    leave_before_insn(L, IR_EXIT_EXCEPTION);
    LLVMPositionBuilderAtEnd(B, next);
}

/* unchecked_loads: a load tests its bound and alignment only; a page it
 * may not read faults in the host (llvm-tier.h). */
static LLVMValueRef mem_addr_bound(Lower *L, LLVMValueRef addr, IrMemOp mo)
{
    check_bound(L, addr, mo, false, LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.ok"));
    LLVMValueRef host = LLVMBuildAdd(L->B, L->guest_base, addr, "");
    return LLVMBuildIntToPtr(L->B, host, L->ptr, "");
}

/* page_perm mode: bounds and alignment as without the map, then one bit
 * of the page's byte: this page and, for accesses of more than one byte,
 * this and the next one allowed.  Only when that fails is the access looked
 * at closely (it may not cross into the next page after all). */
static LLVMValueRef mem_addr_perm(Lower *L, LLVMValueRef addr, IrMemOp mo, bool write,
                                  bool need_write, LLVMValueRef *fast_out)
{
    LLVMBuilderRef B = L->B;
    unsigned size = IR_MO_BYTES(mo);
    LLVMBasicBlockRef chk = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.map");
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.ok");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.slow");
    check_bound(L, addr, mo, write, chk);
    /* the map */
    LLVMValueRef pg = LLVMBuildLShr(B, addr, c64(L, 12), "");
    LLVMValueRef bp = LLVMBuildGEP2(B, L->i8, L->page_perm, &pg, 1, "");
    LLVMValueRef bits = LLVMBuildLoad2(B, L->i8, bp, "");
    /* one bit each (user/guest-mem.h): this page (1 read, 2 write), this
     * and the next page (4 read, 8 write): test byte [map + page], bit */
    unsigned need = need_write ? 2 : 1, full = need << 2;
    LLVMValueRef fast = LLVMBuildICmp(B, LLVMIntNE,
                                      LLVMBuildAnd(B, bits, LLVMConstInt(L->i8, full, 0), ""),
                                      LLVMConstInt(L->i8, 0, 0), "");
    /* fast: the page and the next one allow it, which later accesses off
     * the same base within 4 KiB reuse (covered()); else look closely */
    LLVMBasicBlockRef close = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.close");
    LLVMBuildCondBr(B, fast, ok, close);
    LLVMPositionBuilderAtEnd(B, close);
    LLVMValueRef here = LLVMBuildICmp(
        B, LLVMIntNE, LLVMBuildAnd(B, bits, LLVMConstInt(L->i8, need, 0), ""),
        LLVMConstInt(L->i8, 0, 0), "");
    if (size > 1) {
        LLVMValueRef in_pg = LLVMBuildAnd(B, addr, c64(L, 4095), "");
        LLVMValueRef one = LLVMBuildICmp(B, LLVMIntULE, in_pg, c64(L, 4096 - size), "");
        here = LLVMBuildAnd(B, one, here, "");
    }
    LLVMBuildCondBr(B, here, ok, slow);
    LLVMPositionBuilderAtEnd(B, slow);
    leave_before_insn(L, EMU_LLVM_EXIT_SLOW_MEM);
    LLVMPositionBuilderAtEnd(B, ok);
    if (fast_out) {
        LLVMValueRef phi = LLVMBuildPhi(B, L->i1, "fast");
        LLVMValueRef vals[2] = { LLVMConstInt(L->i1, 1, 0), LLVMConstInt(L->i1, 0, 0) };
        LLVMBasicBlockRef bbs[2] = { chk, close };
        LLVMAddIncoming(phi, vals, bbs, 2);
        *fast_out = phi;
    }
    LLVMValueRef host = LLVMBuildAdd(B, L->guest_base, addr, "");
    return LLVMBuildIntToPtr(B, host, L->ptr, "");
}

/* A plain load or store at address temp at: when an earlier access of the
 * same straight-line code off the same root passed the map's fast test
 * (this page and the next allowed, for writes also reads) and this one
 * lies within 4 KiB above it, it is inside those two pages: one test of
 * that earlier flag instead of the bound and map checks.  Otherwise the
 * full check, remembered for the accesses after it. */
static LLVMValueRef mem_addr(Lower *L, LLVMValueRef addr, IrMemOp mo, bool write);

/* A plain store through temp at (not written meanwhile) follows the
 * current op in the same straight line: a read-modify-write.  Not past a
 * conditional branch, lest a read of a read-only page leave the region
 * each time for a store that rarely happens. */
static bool stored_later(Lower *L, IrTemp at)
{
    const IrBlock *b = L->b;
    const IrInst *cur = &b->ops[L->cur_op];
    for (unsigned k = 0; k < op_arity[cur->opc].n_out; k++)
        if (cur->args[k] == at)
            return false; /* ldr x1, [x1]: a later [x1] is another address */
    for (uint32_t i = L->cur_op + 1; i < b->n_ops && i < L->cur_op + 64; i++) {
        const IrInst *op = &b->ops[i];
        if (op->dead || op->opc >= IR_OP_COUNT)
            continue;
        if (op_flags[op->opc] & IR_OPF_CAN_FAULT && op->opc != IR_OP_ld && op->opc != IR_OP_st)
            return false;
        switch (op->opc) {
        case IR_OP_st:
            if (op->args[0] == at)
                return true;
            break;
        case IR_OP_label: case IR_OP_call: case IR_OP_br: case IR_OP_brcond:
        case IR_OP_goto_tb: case IR_OP_goto_ptr: case IR_OP_exit:
            return false;
        default:
            break;
        }
        for (unsigned k = 0; k < op_arity[op->opc].n_out; k++)
            if (op->args[k] == at)
                return false;
    }
    return false;
}

static LLVMValueRef mem_addr_shared(Lower *L, IrTemp at, IrMemOp mo, bool write)
{
    LLVMBuilderRef B = L->B;
    LLVMValueRef addr = rdw(L, at, 64);
    if (L->r->page_perm && L->r->unchecked_loads && !write)
        return mem_addr_bound(L, addr, mo);
    if (!L->r->page_perm || IR_MO_ALIGN_LOG2(mo) || !L->vroot)
        return mem_addr(L, addr, mo, write);
    /* a load whose address a store of the same size uses next: check for
     * the store, which then tests this flag only */
    bool need_write = write || stored_later(L, at);
    int64_t off;
    uint32_t root = vroot_of(L, at, &off);
    unsigned size = IR_MO_BYTES(mo);
    for (uint32_t i = 0; i < L->n_cov; i++) {
        uint64_t d = (uint64_t)off - (uint64_t)L->cov[i].off;
        if (L->cov[i].root != root || (need_write && !L->cov[i].write) || d > 4096 - size)
            continue;
        LLVMBasicBlockRef full = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.again");
        LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.shared");
        LLVMBuildCondBr(B, L->cov[i].fast, join, full);
        LLVMPositionBuilderAtEnd(B, full);
        mem_addr_perm(L, addr, mo, write, need_write, NULL);
        LLVMBuildBr(B, join);
        LLVMPositionBuilderAtEnd(B, join);
        LLVMValueRef host = LLVMBuildAdd(B, L->guest_base, addr, "");
        return LLVMBuildIntToPtr(B, host, L->ptr, "");
    }
    LLVMValueRef fast = NULL;
    LLVMValueRef p = mem_addr_perm(L, addr, mo, write, need_write, &fast);
    uint32_t k = L->n_cov < 8 ? L->n_cov++ : (L->cov_next++ & 7);
    L->cov[k].root = root;
    L->cov[k].off = off;
    L->cov[k].write = need_write;
    L->cov[k].fast = fast;
    return p;
}

static LLVMValueRef mem_addr(Lower *L, LLVMValueRef addr, IrMemOp mo, bool write)
{
    if (L->r->page_perm)
        return mem_addr_perm(L, addr, mo, write, write, NULL);
    LLVMBuilderRef B = L->B;
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.ok");
    LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(L->C, L->fn, "mem.fault");
    unsigned al = IR_MO_ALIGN_LOG2(mo);
    LLVMValueRef oob = LLVMBuildICmp(B, LLVMIntUGE, addr, L->guest_limit, "");
    LLVMValueRef kind = c32(L, TMPL_EXC_SEGV);
    if (al) {
        LLVMValueRef mis = LLVMBuildICmp(
            B, LLVMIntNE, LLVMBuildAnd(B, addr, c64(L, ((uint64_t)1 << al) - 1), ""),
            c64(L, 0), "");
        /* alignment first, as the interpreter checks it first */
        kind = LLVMBuildSelect(B, mis, c32(L, TMPL_EXC_ALIGN), kind, "");
        oob = LLVMBuildOr(B, oob, mis, "");
    }
    LLVMBuildCondBr(B, oob, bad, ok);
    LLVMPositionBuilderAtEnd(B, bad);
    env_store(L, kind, offsetof(CpuCommon, exception_kind));
    env_store(L, addr, offsetof(CpuCommon, exception_addr));
    env_store(L, c32(L, write ? 1 : 0), offsetof(CpuCommon, exception_code));
    env_store(L, c32(L, IR_EXIT_EXCEPTION), offsetof(CpuCommon, exit_reason));
    lower_ret_tag(L, TMPL_RET_EXIT);
    LLVMPositionBuilderAtEnd(B, ok);
    LLVMValueRef host = LLVMBuildAdd(B, L->guest_base, addr, "");
    return LLVMBuildIntToPtr(B, host, L->ptr, "");
}

/* Extend a loaded iN (N = memop bits) to T per the memop sign. */
static LLVMValueRef ld_extend(Lower *L, IrType t, IrMemOp mo, LLVMValueRef v)
{
    unsigned w = type_bits(t);
    return IR_MO_IS_SIGNED(mo) && w <= 64 ? sresize(L, v, w) : resize(L, v, w);
}

static void gen_ld(Lower *L, const IrInst *op)
{
    IrMemOp mo = (IrMemOp)op->c[0];
    IrType t = (IrType)op->type;
    unsigned mbits = IR_MO_BYTES(mo) * 8;
    LLVMValueRef p = mem_addr_shared(L, op->args[1], mo, false);
    LLVMValueRef v = LLVMBuildLoad2(L->B, ty_bits(L, mbits), p, "");
    LLVMSetAlignment(v, 1);
    tbaa(L, v, true);
    /* every guest load happens: another guest thread may change the value
     * (a polling loop must not be hoisted).  gmem: plain, so that env
     * fields stay in registers across it; loops leave every 2^16 trips. */
    if (!L->gmem)
        LLVMSetVolatile(v, 1);
    wr(L, op->args[0], ld_extend(L, t, mo, v));
}

static void gen_st(Lower *L, const IrInst *op)
{
    IrMemOp mo = (IrMemOp)op->c[0];
    unsigned mbits = IR_MO_BYTES(mo) * 8;
    LLVMValueRef p = mem_addr_shared(L, op->args[0], mo, true);
    LLVMValueRef s = LLVMBuildStore(L->B, rdw(L, op->args[1], mbits), p);
    LLVMSetAlignment(s, 1);
    tbaa(L, s, true);
    /* volatile: LLVM must not treat the write-backs before it as dead (a
     * host fault here needs them) nor move it across other guest accesses */
    if (!L->gmem)
        LLVMSetVolatile(s, 1);
}

static void gen_cmpxchg(Lower *L, const IrInst *op)
{
    IrMemOp mo = (IrMemOp)op->c[0];
    IrType t = (IrType)op->type;
    unsigned mbits = IR_MO_BYTES(mo) * 8;
    LLVMBuilderRef B = L->B;
    LLVMValueRef p = mem_addr(L, rdw(L, op->args[1], 64), mo, true);
    LLVMValueRef expect = rdw(L, op->args[2], mbits), newv = rdw(L, op->args[3], mbits);
    LLVMValueRef old;
    if (mbits == 128) {
        /* cmpxchg16b needs a 16-byte aligned host address; otherwise (the
         * guest did not ask for alignment) compare and swap non-atomically,
         * as the template backend does. */
        LLVMBasicBlockRef at = LLVMAppendBasicBlockInContext(L->C, L->fn, "cx.atomic");
        LLVMBasicBlockRef na = LLVMAppendBasicBlockInContext(L->C, L->fn, "cx.plain");
        LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(L->C, L->fn, "cx.done");
        LLVMValueRef pi = LLVMBuildPtrToInt(B, p, L->i64, "");
        LLVMValueRef al = LLVMBuildICmp(B, LLVMIntEQ, LLVMBuildAnd(B, pi, c64(L, 15), ""),
                                        c64(L, 0), "");
        LLVMBuildCondBr(B, al, at, na);
        LLVMPositionBuilderAtEnd(B, at);
        LLVMValueRef cx = LLVMBuildAtomicCmpXchg(B, p, expect, newv,
                                                 LLVMAtomicOrderingSequentiallyConsistent,
                                                 LLVMAtomicOrderingSequentiallyConsistent, 0);
        LLVMValueRef o1 = LLVMBuildExtractValue(B, cx, 0, "");
        LLVMBuildBr(B, done);
        LLVMPositionBuilderAtEnd(B, na);
        LLVMValueRef cur = LLVMBuildLoad2(B, L->i128, p, "");
        LLVMSetAlignment(cur, 1);
        LLVMSetVolatile(cur, 1);
        LLVMValueRef eq = LLVMBuildICmp(B, LLVMIntEQ, cur, expect, "");
        LLVMValueRef nv = LLVMBuildSelect(B, eq, newv, cur, "");
        LLVMValueRef s = LLVMBuildStore(B, nv, p);
        LLVMSetAlignment(s, 1);
        LLVMSetVolatile(s, 1);
        LLVMBuildBr(B, done);
        LLVMPositionBuilderAtEnd(B, done);
        old = LLVMBuildPhi(B, L->i128, "");
        LLVMValueRef vals[2] = { o1, cur };
        LLVMBasicBlockRef bbs[2] = { at, na };
        LLVMAddIncoming(old, vals, bbs, 2);
    } else {
        /* natural alignment is declared: x86 lock cmpxchg also works
         * misaligned, and this keeps LLVM from calling libatomic */
        LLVMValueRef cx = LLVMBuildAtomicCmpXchg(B, p, expect, newv,
                                                 LLVMAtomicOrderingSequentiallyConsistent,
                                                 LLVMAtomicOrderingSequentiallyConsistent, 0);
        old = LLVMBuildExtractValue(B, cx, 0, "");
    }
    wr(L, op->args[0], ld_extend(L, t, mo, old));
}

static void gen_rmw(Lower *L, const IrInst *op)
{
    IrMemOp mo = (IrMemOp)op->c[0];
    IrType t = (IrType)op->type;
    unsigned mbits = IR_MO_BYTES(mo) * 8;
    LLVMBuilderRef B = L->B;
    LLVMAtomicRMWBinOp k;
    LLVMValueRef p = mem_addr(L, rdw(L, op->args[1], 64), mo, true);
    LLVMValueRef v = rdw(L, op->args[2], mbits);
    switch ((IrRmwOp)op->c[1]) {
    case IR_RMW_XCHG: k = LLVMAtomicRMWBinOpXchg; break;
    case IR_RMW_ADD: k = LLVMAtomicRMWBinOpAdd; break;
    case IR_RMW_AND: k = LLVMAtomicRMWBinOpAnd; break;
    case IR_RMW_OR: k = LLVMAtomicRMWBinOpOr; break;
    case IR_RMW_XOR: k = LLVMAtomicRMWBinOpXor; break;
    case IR_RMW_ANDC: k = LLVMAtomicRMWBinOpAnd; v = LLVMBuildNot(B, v, ""); break;
    case IR_RMW_SMAX: k = LLVMAtomicRMWBinOpMax; break;
    case IR_RMW_SMIN: k = LLVMAtomicRMWBinOpMin; break;
    case IR_RMW_UMAX: k = LLVMAtomicRMWBinOpUMax; break;
    case IR_RMW_UMIN: k = LLVMAtomicRMWBinOpUMin; break;
    default:
        lfail(L, "bad rmw op %llu", (unsigned long long)op->c[1]);
        return;
    }
    LLVMValueRef old = LLVMBuildAtomicRMW(B, k, p, v, LLVMAtomicOrderingSequentiallyConsistent, 0);
    wr(L, op->args[0], ld_extend(L, t, mo, old));
}

/* ---- helper calls -------------------------------------------------------- */

static void gen_call(Lower *L, const IrInst *op)
{
    if (op->c[0] >= L->in->n_helpers) {
        lfail(L, "bad helper id %llu", (unsigned long long)op->c[0]);
        return;
    }
    const IrHelperInfo *h = &L->in->helpers[op->c[0]];
    if (!h->fn) {
        lfail(L, "helper %s has no function", h->name ? h->name : "?");
        return;
    }
    if (h->flags & (IR_HF_READS_GLOBALS | IR_HF_WRITES_GLOBALS | IR_HF_CAN_FAULT |
                    IR_HF_NORETURN))
        sync_globals(L);
    if (h->flags & (IR_HF_CAN_FAULT | IR_HF_NORETURN))
        store_insn_pc(L, op->insn_idx);
    LLVMTypeRef at[7];
    LLVMValueRef av[7];
    unsigned n = 0;
    if (h->takes_env) {
        at[n] = L->ptr;
        av[n++] = L->env;
    }
    for (unsigned i = 0; i < h->n_args && i < 5; i++) {
        IrType it = (IrType)h->args[i + h->takes_env];
        unsigned bits = type_bits(it) == 32 ? 32 : 64;
        at[n] = ty_bits(L, bits);
        av[n++] = rdw(L, op->args[1 + i], bits);
    }
    IrType rt = (IrType)h->ret;
    LLVMTypeRef lrt = rt == IR_VOID ? LLVMVoidTypeInContext(L->C)
                                    : ty_bits(L, type_bits(rt) == 32 ? 32 : 64);
    LLVMTypeRef ft = LLVMFunctionType(lrt, at, n, 0);
    LLVMValueRef callee = L->in->object ? obj_helper(L, h, ft)
                        : LLVMConstIntToPtr(c64(L, (uint64_t)(uintptr_t)h->fn), L->ptr);
    LLVMValueRef r = LLVMBuildCall2(L->B, ft, callee, av, n, "");
    if (rt != IR_VOID && op->args[0] != IR_TEMP_NONE)
        wr(L, op->args[0], r);
    if (h->flags & IR_HF_WRITES_GLOBALS)
        reload_globals(L);
    /* a helper may change env->pc (it is CpuCommon) only when it faults */
}

/* ---- one op -------------------------------------------------------------- */

static void lower_op(Lower *L, const IrInst *op)
{
    LLVMBuilderRef B = L->B;
    IrType t = (IrType)op->type;
    const IrTemp *a = op->args;
    IrOpcode opc = (IrOpcode)op->opc;
    unsigned w = type_bits(t);

    L->cur_insn = op->insn_idx;
    if ((op_flags[opc] & IR_OPF_CAN_FAULT) && opc != IR_OP_call &&
        !(L->r->page_perm && (op_flags[opc] & IR_OPF_MEM))) {
        sync_globals(L);
        store_insn_pc(L, op->insn_idx);
    }
    switch (opc) {
    case IR_OP_nop:
    case IR_OP_insn_start:
        break;
    case IR_OP_mov:
    case IR_OP_bitcast:
        wr(L, a[0], rdw(L, a[1], w));
        break;
    case IR_OP_zext:
        wr(L, a[0], resize(L, rd(L, a[1]), w));
        break;
    case IR_OP_sext:
        wr(L, a[0], sresize(L, rd(L, a[1]), w));
        break;
    case IR_OP_trunc:
        wr(L, a[0], resize(L, rd(L, a[1]), w));
        break;
    case IR_OP_concat: {
        LLVMValueRef lo = rdw(L, a[1], 128), hi = rdw(L, a[2], 128);
        hi = LLVMBuildShl(B, hi, cty(L->i128, 64), "");
        wr(L, a[0], LLVMBuildOr(B, lo, hi, ""));
        break;
    }
    case IR_OP_high64: {
        LLVMValueRef v = rdw(L, a[1], 128);
        wr(L, a[0], resize(L, LLVMBuildLShr(B, v, cty(L->i128, 64), ""), 64));
        break;
    }
    case IR_OP_add: case IR_OP_sub: case IR_OP_mul: case IR_OP_mulhu: case IR_OP_mulhs:
    case IR_OP_divu: case IR_OP_divs: case IR_OP_remu: case IR_OP_rems:
    case IR_OP_and: case IR_OP_or: case IR_OP_xor: case IR_OP_andc:
    case IR_OP_shl: case IR_OP_shr: case IR_OP_sar: case IR_OP_rotl: case IR_OP_rotr:
        wr(L, a[0], binop(L, opc, t, rdw(L, a[1], w), rdw(L, a[2], w)));
        break;
    case IR_OP_neg: case IR_OP_not: case IR_OP_clz: case IR_OP_ctz: case IR_OP_popcnt:
    case IR_OP_bswap: case IR_OP_bitrev:
        wr(L, a[0], unop(L, opc, t, rdw(L, a[1], w)));
        break;
    case IR_OP_extract:
    case IR_OP_sextract: {
        unsigned pos = (unsigned)op->c[0], len = (unsigned)op->c[1];
        if (!len || len > w || pos > w - len) {
            lfail(L, "bitfield %u,%u does not fit", pos, len);
            break;
        }
        LLVMValueRef v = rdw(L, a[1], w);
        LLVMTypeRef lt = ty(L, t);
        if (opc == IR_OP_extract) {
            v = LLVMBuildLShr(B, v, cty(lt, pos), "");
            if (len < w)
                v = LLVMBuildAnd(B, v, cty(lt, mask_bits(len)), "");
        } else {
            v = LLVMBuildShl(B, v, cty(lt, w - pos - len), "");
            v = LLVMBuildAShr(B, v, cty(lt, w - len), "");
        }
        wr(L, a[0], v);
        break;
    }
    case IR_OP_deposit: {
        unsigned pos = (unsigned)op->c[0], len = (unsigned)op->c[1];
        if (!len || len > w || pos > w - len) {
            lfail(L, "bitfield %u,%u does not fit", pos, len);
            break;
        }
        LLVMTypeRef lt = ty(L, t);
        uint64_t fm = (mask_bits(len) << pos) & mask_bits(w);
        LLVMValueRef x = LLVMBuildAnd(B, rdw(L, a[1], w), cty(lt, ~fm & mask_bits(w)), "");
        LLVMValueRef v = LLVMBuildShl(B, rdw(L, a[2], w), cty(lt, pos), "");
        v = LLVMBuildAnd(B, v, cty(lt, fm), "");
        wr(L, a[0], LLVMBuildOr(B, x, v, ""));
        break;
    }
    case IR_OP_setcond: {
        LLVMValueRef c = cond(L, (IrCond)op->c[0], rdw(L, a[1], w), rdw(L, a[2], w));
        wr(L, a[0], LLVMBuildZExt(B, c, ty(L, t), ""));
        break;
    }
    case IR_OP_movcond: {
        LLVMValueRef c = cond(L, (IrCond)op->c[0], rdw(L, a[1], w), rdw(L, a[2], w));
        wr(L, a[0], LLVMBuildSelect(B, c, rdw(L, a[3], w), rdw(L, a[4], w), ""));
        break;
    }
    case IR_OP_ld: gen_ld(L, op); break;
    case IR_OP_st: gen_st(L, op); break;
    case IR_OP_cmpxchg: gen_cmpxchg(L, op); break;
    case IR_OP_atomic_rmw: gen_rmw(L, op); break;
    case IR_OP_fence:
        LLVMBuildFence(B, LLVMAtomicOrderingSequentiallyConsistent, 0, "");
        break;
    case IR_OP_prefetch: {
        /* unchecked like the template tier's: a prefetch cannot fault */
        static const unsigned locality[IR_PREFETCH_COUNT] = {3, 2, 1, 0, 3};
        LLVMValueRef host = LLVMBuildAdd(B, L->guest_base, rdw(L, a[0], 64), "");
        LLVMValueRef args[4] = {LLVMBuildIntToPtr(B, host, L->ptr, ""),
                                c32(L, op->c[0] == IR_PREFETCH_WRITE),
                                c32(L, locality[op->c[0]]), c32(L, 1)};
        intrinsic(L, "llvm.prefetch", L->ptr, args, 4);
        break;
    }
    case IR_OP_ldenv:
        wr(L, a[0], env_load(L, ty(L, t), op->c[0]));
        break;
    case IR_OP_stenv:
        env_store(L, rdw(L, a[0], w), op->c[0]);
        break;
    case IR_OP_call:
        gen_call(L, op);
        values_forget(L);
        break;
    case IR_OP_label: {
        if (op->c[0] >= L->b->n_labels) {
            lfail(L, "bad label %llu", (unsigned long long)op->c[0]);
            break;
        }
        LLVMBasicBlockRef bb = L->label_bb[op->c[0]];
        if (!terminated(L))
            LLVMBuildBr(B, bb);
        LLVMPositionBuilderAtEnd(B, bb);
        memcpy(L->dirty, L->gwritten, sizeof L->dirty);
        L->pc_insn = -1;
        values_forget(L);
        break;
    }
    case IR_OP_br:
        if (op->c[0] >= L->b->n_labels) {
            lfail(L, "bad label %llu", (unsigned long long)op->c[0]);
            break;
        }
        LLVMBuildBr(B, L->label_bb[op->c[0]]);
        start_dead_block(L);
        break;
    case IR_OP_brcond: {
        if (op->c[1] >= L->b->n_labels) {
            lfail(L, "bad label %llu", (unsigned long long)op->c[1]);
            break;
        }
        LLVMValueRef c = cond(L, (IrCond)op->c[0], rdw(L, a[0], w), rdw(L, a[1], w));
        LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(L->C, L->fn, "");
        LLVMBuildCondBr(B, c, L->label_bb[op->c[1]], next);
        LLVMPositionBuilderAtEnd(B, next);
        break;
    }
    case IR_OP_goto_tb:
        lower_goto_tb(L, op);
        start_dead_block(L);
        break;
    case IR_OP_goto_ptr:
        lower_goto_ptr(L, rdw(L, a[0], 64));
        start_dead_block(L);
        break;
    case IR_OP_exit:
        env_store(L, c64(L, op->c[1]), offsetof(CpuCommon, pc));
        env_store(L, c32(L, (uint32_t)op->c[0]), offsetof(CpuCommon, exit_reason));
        lower_ret_tag(L, TMPL_RET_EXIT);
        start_dead_block(L);
        break;
    default:
        lfail(L, "op %u not supported", (unsigned)opc);
        break;
    }
    if (L->vroot && opc != IR_OP_call && opc != IR_OP_label)
        values_update(L, op);
}

/* ---- blocks and the function --------------------------------------------- */

static bool lower_block(Lower *L, uint32_t bi)
{
    const IrBlock *b = L->r->blocks[bi];
    L->b = b;
    L->bi = bi;
    L->lslot = calloc(b->n_temps + 1, sizeof *L->lslot);
    L->label_bb = calloc(b->n_labels + 1, sizeof *L->label_bb);
    L->vroot = calloc(b->n_temps + 1, sizeof *L->vroot);
    L->voff = calloc(b->n_temps + 1, sizeof *L->voff);
    L->n_cov = L->cov_next = 0;
    if (!L->lslot || !L->label_bb || !L->vroot || !L->voff) {
        lfail(L, "out of memory");
        return false;
    }
    /* Locals: allocas in the entry block (mem2reg wants them there). */
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(L->fn);
    LLVMBuilderRef eb = LLVMCreateBuilderInContext(L->C);
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    if (first)
        LLVMPositionBuilderBefore(eb, first);
    else
        LLVMPositionBuilderAtEnd(eb, entry);
    for (uint32_t t = L->n_glob; t < b->n_temps; t++)
        if (b->temps[t].kind == IR_TEMP_LOCAL)
            L->lslot[t] = LLVMBuildAlloca(eb, ty(L, (IrType)b->temps[t].type), "");
    LLVMDisposeBuilder(eb);
    for (uint32_t l = 0; l < b->n_labels; l++)
        L->label_bb[l] = LLVMAppendBasicBlockInContext(L->C, L->fn, "L");

    LLVMPositionBuilderAtEnd(L->B, L->block_bb[bi]);
    if (L->r->counters && L->r->counters[bi]) {
        /* --stats: count block starts (plain add: an estimate across threads) */
        LLVMValueRef p = L->in->object ? obj_counter(L, bi)
                       : LLVMConstIntToPtr(c64(L, (uint64_t)(uintptr_t)L->r->counters[bi]), L->ptr);
        LLVMValueRef v = LLVMBuildLoad2(L->B, L->i64, p, "");
        LLVMBuildStore(L->B, LLVMBuildAdd(L->B, v, c64(L, 1), ""), p);
    }
    memcpy(L->dirty, L->gwritten, sizeof L->dirty);
    L->pc_insn = -1;
    for (uint32_t i = 0; i < b->n_ops && !L->failed; i++) {
        const IrInst *op = &b->ops[i];
        if (op->dead)
            continue;
        if (op->opc >= IR_OP_COUNT) {
            lfail(L, "bad opcode %u", op->opc);
            break;
        }
        L->cur_op = i;
        lower_op(L, op);
    }
    /* Falling off the end is a malformed block: report an unknown exit
     * reason so the runtime stops with an error instead of running on. */
    if (!terminated(L)) {
        env_store(L, c32(L, IR_EXIT_COUNT), offsetof(CpuCommon, exit_reason));
        lower_ret_tag(L, TMPL_RET_EXIT);
    }
    free(L->lslot);
    free(L->label_bb);
    free(L->vroot);
    free(L->voff);
    L->lslot = NULL;
    L->label_bb = NULL;
    L->vroot = NULL;
    L->voff = NULL;
    return !L->failed;
}

bool llvm_lower(LLVMContextRef C, LLVMModuleRef mod, const char *name, const LlvmLowerIn *in,
                char *err, size_t errlen)
{
    Lower L;
    memset(&L, 0, sizeof L);
    L.C = C;
    L.M = mod;
    L.in = in;
    L.r = in->region;
    L.err = err;
    L.errlen = errlen;
    if (!L.r || !L.r->n_blocks || !L.r->blocks || !L.r->blocks[0]) {
        snprintf(err, errlen, "empty region");
        return false;
    }
    const IrBlock *b0 = L.r->blocks[0];
    L.n_glob = b0->globals && b0->globals->count ? b0->globals->count : 1;
    if (L.n_glob > IR_MAX_GLOBALS) {
        snprintf(err, errlen, "too many globals");
        return false;
    }
    for (uint32_t j = 0; j < L.r->n_blocks; j++) {
        const IrBlock *b = L.r->blocks[j];
        if (!b || b->globals != b0->globals || b->n_temps < L.n_glob) {
            snprintf(err, errlen, "region block %u: different globals", j);
            return false;
        }
    }
    L.i1 = LLVMInt1TypeInContext(C);
    L.i8 = LLVMInt8TypeInContext(C);
    L.i16 = LLVMInt16TypeInContext(C);
    L.i32 = LLVMInt32TypeInContext(C);
    L.i64 = LLVMInt64TypeInContext(C);
    L.i128 = LLVMInt128TypeInContext(C);
    L.ptr = LLVMPointerTypeInContext(C, 0);
    LLVMTypeRef params[2] = { L.ptr, L.ptr }; /* env, unused: the trampoline's type */
    L.fn_ty = LLVMFunctionType(L.i64, params, 2, 0);
    L.fn = LLVMAddFunction(mod, name, L.fn_ty);
    L.env = LLVMGetParam(L.fn, 0);
    if (in->object) {
        /* object mode: the tag symbol (external, resolved by the loader) */
        char tn[48];
        snprintf(tn, sizeof tn, EMU_LLVM_OBJ_TAG_PREFIX "%u", in->obj_index);
        L.tag_sym = LLVMAddGlobal(mod, L.i8, tn);
    }
    L.B = LLVMCreateBuilderInContext(C);
    L.block_bb = calloc(L.r->n_blocks, sizeof *L.block_bb);
    if (!L.block_bb) {
        LLVMDisposeBuilder(L.B);
        snprintf(err, errlen, "out of memory");
        return false;
    }

    /* Which globals the region reads or writes. */
    bool used[IR_MAX_GLOBALS] = { false };
    for (uint32_t j = 0; j < L.r->n_blocks; j++) {
        const IrBlock *b = L.r->blocks[j];
        for (uint32_t i = 0; i < b->n_ops; i++) {
            const IrInst *op = &b->ops[i];
            if (op->dead || op->opc >= IR_OP_COUNT)
                continue;
            unsigned na = op_arity[op->opc].n_out + op_arity[op->opc].n_in;
            for (unsigned k = 0; k < na && k < IR_MAX_ARGS; k++) {
                IrTemp x = op->args[k];
                if (x && x < L.n_glob) {
                    used[x] = true;
                    if (k < op_arity[op->opc].n_out)
                        L.gwritten[x] = true;
                }
            }
        }
    }

    {
        const char *gm = getenv("EMU_LLVM_GLOBALS");
        L.gmem = gm && !strcmp(gm, "mem");
        /* EMU_LLVM_GLOBALS=through: every write of a global (but the i32
         * ones, the NZCV flags) also goes to env at once, so a value lives
         * only until its last read instead of to the exits (which keeps
         * every written global live across every loop of the region);
         * =through-all: the flags too.  Measured no faster on gzip/bzip2
         * and 15% slower on sha256 (a store per write in tight loops):
         * off by default. */
        bool some = gm && !strcmp(gm, "through"), all = gm && !strcmp(gm, "through-all");
        for (uint32_t t = 1; t < L.n_glob && (some || all); t++)
            if (L.gwritten[t] && (all || type_bits((IrType)b0->temps[t].type) != 32)) {
                L.through[t] = true;
                L.gwritten[t] = false;
            }
        /* env and guest memory never overlap: LLVM may keep env fields in
         * registers across guest accesses and drop env stores a later one
         * overwrites.  Not without the page map: there the write-backs
         * before an access are what a host fault finds. */
        if (L.gmem || L.r->page_perm)
            tbaa_init(&L);
    }
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(C, L.fn, "entry");
    LLVMPositionBuilderAtEnd(L.B, entry);
    L.guest_base = env_load(&L, L.i64, offsetof(CpuCommon, guest_base));
    L.guest_limit = env_load(&L, L.i64, offsetof(CpuCommon, guest_limit));
    if (L.r->page_perm)
        L.page_perm = env_load(&L, L.ptr, offsetof(CpuCommon, page_perm));
    L.b = b0;
    const char *ie = getenv("EMU_LLVM_READONLY");
    bool in_env_ok = !(ie && !strcmp(ie, "entry"));
    for (uint32_t t = 1; t < L.n_glob; t++) {
        if (!used[t])
            continue;
        const IrTempInfo *g = &b0->temps[t];
        if (g->kind != IR_TEMP_GLOBAL || !type_bits((IrType)g->type)) {
            lfail(&L, "temp %u is not a global", t);
            break;
        }
        /* A global the region only reads is read from env where it is
         * used (an L1 hit, as in template code): loading it at entry kept
         * it live, in a register or spilled, from entry to its last use. */
        L.in_env[t] = !L.gmem && !L.gwritten[t] && !L.through[t] && in_env_ok;
        L.gslot[t] = L.gmem || L.in_env[t]
                         ? env_ptr(&L, g->env_offset)
                         : LLVMBuildAlloca(L.B, ty(&L, (IrType)g->type), g->name ? g->name : "");
    }
    L.ret_slot = LLVMBuildAlloca(L.B, L.i64, "ret");
    if (L.gmem) {
        L.trips = LLVMBuildAlloca(L.B, L.i32, "trips");
        LLVMBuildStore(L.B, c32(&L, 0), L.trips);
    }
    if (L.r->probe_period && !L.failed) {
        /* the probe: count the entry; the one that completes a period
         * leaves at once (nothing loaded, nothing to write back) */
        L.probe = true;
        LLVMValueRef pe = tag_field(&L, L.r->probe_off);
        LLVMValueRef n = LLVMBuildAdd(L.B, LLVMBuildLoad2(L.B, L.i64, pe, ""), c64(&L, 1), "");
        LLVMBuildStore(L.B, n, pe);
        LLVMBasicBlockRef hot = LLVMAppendBasicBlockInContext(C, L.fn, "probe.hot");
        LLVMBasicBlockRef go = LLVMAppendBasicBlockInContext(C, L.fn, "probe.go");
        LLVMBuildCondBr(L.B, LLVMBuildICmp(L.B, LLVMIntEQ, n, c64(&L, L.r->probe_period), ""),
                        hot, go);
        LLVMPositionBuilderAtEnd(L.B, hot);
        env_store(&L, c64(&L, b0->pc), offsetof(CpuCommon, pc));
        env_store(&L, c32(&L, TMPL_EXIT_HOT), offsetof(CpuCommon, exit_reason));
        LLVMBuildRet(L.B, L.in->object ? lower_obj_tag(&L, TMPL_RET_EXIT)
                                       : c64(&L, (uint64_t)L.r->tag | TMPL_RET_EXIT));
        LLVMPositionBuilderAtEnd(L.B, go);
        /* while the period runs: when this entry started (a cycle count in
         * memory, so that the loops carry nothing for the probe) */
        LLVMBasicBlockRef stamp = LLVMAppendBasicBlockInContext(C, L.fn, "probe.stamp");
        LLVMBasicBlockRef load = LLVMAppendBasicBlockInContext(C, L.fn, "load");
        LLVMBuildCondBr(L.B, LLVMBuildICmp(L.B, LLVMIntULT, n, c64(&L, L.r->probe_period), ""),
                        stamp, load);
        LLVMPositionBuilderAtEnd(L.B, stamp);
        LLVMBuildStore(L.B, cycles(&L), tag_field(&L, L.r->probe_off + 16));
        LLVMBuildBr(L.B, load);
        LLVMPositionBuilderAtEnd(L.B, load);
    }
    for (uint32_t t = 1; t < L.n_glob && !L.gmem; t++) {
        if (!L.gslot[t] || L.in_env[t])
            continue;
        LLVMTypeRef lt = ty(&L, (IrType)b0->temps[t].type);
        LLVMBuildStore(L.B, env_load(&L, lt, b0->temps[t].env_offset), L.gslot[t]);
    }
    for (uint32_t j = 0; j < L.r->n_blocks; j++)
        L.block_bb[j] = LLVMAppendBasicBlockInContext(C, L.fn, "block");
    L.exit_bb = LLVMAppendBasicBlockInContext(C, L.fn, "exit");
    if (!L.failed)
        LLVMBuildBr(L.B, L.block_bb[0]);
    for (uint32_t j = 0; j < L.r->n_blocks && !L.failed; j++)
        lower_block(&L, j);
    /* The one exit: every global the region writes goes back to env. */
    LLVMMoveBasicBlockAfter(L.exit_bb, LLVMGetLastBasicBlock(L.fn));
    LLVMPositionBuilderAtEnd(L.B, L.exit_bb);
    for (uint32_t t = 1; t < L.n_glob && !L.failed; t++) {
        if (!L.gslot[t] || !L.gwritten[t] || L.gmem)
            continue;
        LLVMTypeRef lt = ty(&L, (IrType)b0->temps[t].type);
        env_store(&L, LLVMBuildLoad2(L.B, lt, L.gslot[t], ""), b0->temps[t].env_offset);
    }
    if (L.probe && !L.failed) {
        /* while the period runs: add the cycles since this entry started */
        LLVMBasicBlockRef add = LLVMAppendBasicBlockInContext(C, L.fn, "probe.add");
        LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(C, L.fn, "probe.done");
        LLVMValueRef n = LLVMBuildLoad2(L.B, L.i64, tag_field(&L, L.r->probe_off), "");
        LLVMBuildCondBr(L.B, LLVMBuildICmp(L.B, LLVMIntULT, n, c64(&L, L.r->probe_period), ""),
                        add, done);
        LLVMPositionBuilderAtEnd(L.B, add);
        LLVMValueRef t0 = LLVMBuildLoad2(L.B, L.i64, tag_field(&L, L.r->probe_off + 16), "");
        LLVMValueRef pc = tag_field(&L, L.r->probe_off + 8);
        LLVMValueRef d = LLVMBuildSub(L.B, cycles(&L), t0, "");
        LLVMBuildStore(L.B, LLVMBuildAdd(L.B, LLVMBuildLoad2(L.B, L.i64, pc, ""), d, ""), pc);
        LLVMBuildBr(L.B, done);
        LLVMPositionBuilderAtEnd(L.B, done);
    }
    LLVMValueRef rv = LLVMBuildLoad2(L.B, L.i64, L.ret_slot, "");
    lower_chain_out(&L, rv);
    LLVMBuildRet(L.B, rv);
    free(L.block_bb);
    LLVMDisposeBuilder(L.B);
    return !L.failed;
}
