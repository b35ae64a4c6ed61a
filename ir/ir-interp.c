/*
 * ir-interp.c - the reference interpreter: the one meaning of every IR op
 * (the arithmetic itself is in ir-eval.h, shared with the folder), and the
 * engine of --tier=interp.
 *
 * A block is first verified and decoded into an IrInterpCode: operands
 * become slots in a flat uint64_t frame (two words per temp, so 128-bit
 * values fit; constants first, copied in per run) or, for globals, env
 * offset + natural size packed into the slot; markers are dropped and labels
 * become op indices.  Running it is threaded dispatch (one indirect jump per
 * handler, table generated from ir-ops.def) with no allocation.
 *
 *   IrInterpCode *code = ir_interp_prepare(b, err, sizeof err);
 *   IrExitInfo ex; uint32_t fi;
 *   if (ir_interp_exec(code, env, &mem, &ex, &fi) == IR_INTERP_FAULT) ...
 *
 * Exits write CpuCommon.pc (env+0); exit also writes CpuCommon.exit_reason.
 * A memory fault returns IR_INTERP_FAULT with the guest insn index and sets
 * env->pc to that insn's pc; helpers flagged IR_HF_CAN_FAULT see env->pc =
 * the pc of the insn that calls them.
 */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

#include "ir/ir-eval.h"
#include "ir/ir-helpers.h"
#include "ir/ir-internal.h"
#include "runtime/cpu.h"

/* A global operand slot is GBIT | log2(bytes) << GSHIFT | env offset;
 * anything else indexes the frame. */
#define GBIT 0x80000000u
#define GSHIFT 28
#define GOFF(s) ((s) & ((1u << GSHIFT) - 1))
#define OP_END IR_OP_COUNT          /* sentinel after the last op */
#define OP_MOV128 (IR_OP_COUNT + 1) /* mov/bitcast of a 128-bit value */

typedef struct PInst {
    uint16_t opc;
    uint8_t type;   /* T */
    uint8_t t0;     /* type of the first input (conversions) */
    uint32_t insn;  /* guest insn index */
    uint32_t a[IR_MAX_ARGS];
    uint64_t c[IR_MAX_CONSTS]; /* branch targets resolved to op indices */
} PInst;

struct IrInterpCode {
    uint32_t n_ops, n_vals, n_insns, n_glob;
    uint32_t n_init;     /* words of init_vals copied per run */
    PInst *ops;          /* n_ops + 1 (sentinel) */
    uint64_t *init_vals; /* frame: [2 unused][constants][locals, uninitialised] */
    uint64_t *insn_pc;
};

static unsigned type_bytes(IrType t)
{
    return ir_type_bits(t) / 8;
}

void ir_interp_free(IrInterpCode *code)
{
    if (!code)
        return;
    free(code->ops);
    free(code->init_vals);
    free(code->insn_pc);
    free(code);
}

uint64_t ir_interp_insn_pc(const IrInterpCode *code, uint32_t insn_idx)
{
    return insn_idx < code->n_insns ? code->insn_pc[insn_idx] : 0;
}

static bool skipped(const IrInst *op)
{
    return op->dead || op->opc == IR_OP_nop || op->opc == IR_OP_insn_start ||
           op->opc == IR_OP_label;
}

#define FAIL(...) do { if (err) snprintf(err, errlen, __VA_ARGS__); goto fail; } while (0)

IrInterpCode *ir_interp_prepare(const IrBlock *b, char *err, size_t errlen)
{
    uint32_t *label_pos = NULL, *slot = NULL;
    IrInterpCode *code = NULL;
    /* the handlers trust operand types and sizes: only run verified blocks */
    if (!ir_verify(b, err, errlen))
        return NULL;
    code = calloc(1, sizeof(*code));
    if (!code)
        FAIL("out of memory");
    code->n_ops = b->n_ops;
    code->n_vals = 2 * b->n_temps;
    code->n_insns = b->n_insns;
    code->n_glob = b->globals && b->globals->count ? b->globals->count : 1;
    if (code->n_glob > b->n_temps)
        FAIL("block has fewer temps than globals");
    code->ops = calloc(b->n_ops + 1, sizeof(PInst));
    code->init_vals = calloc(code->n_vals + 2, sizeof(uint64_t));
    code->insn_pc = calloc(b->n_insns + 1, sizeof(uint64_t));
    label_pos = malloc((b->n_labels + 1) * sizeof(uint32_t));
    slot = calloc(b->n_temps + 1, sizeof(uint32_t));
    if (!code->ops || !code->init_vals || !code->insn_pc || !label_pos || !slot)
        FAIL("out of memory");

    /* Frame layout: constants first, so a run copies only them; locals after
     * (a verified block writes a local before reading it). */
    uint32_t next = 2;
    for (uint32_t t = 1; t < b->n_temps; t++) {
        const IrTempInfo *ti = &b->temps[t];
        if (t < code->n_glob) {
            if (ti->kind != IR_TEMP_GLOBAL)
                FAIL("temp %u should be a global", t);
            unsigned bytes = type_bytes((IrType)ti->type);
            if (ti->env_offset + 16 >= (1u << GSHIFT) || bytes == 0)
                FAIL("global %s: offset or type out of range", ti->name ? ti->name : "?");
            slot[t] = GBIT | (unsigned)__builtin_ctz(bytes) << GSHIFT | ti->env_offset;
        } else if (ti->kind == IR_TEMP_CONST) {
            slot[t] = next;
            code->init_vals[next++] = ti->val[0];
            code->init_vals[next++] = ti->val[1];
        } else if (ti->kind != IR_TEMP_LOCAL) {
            FAIL("temp %u: a global outside the global set", t);
        }
    }
    code->n_init = next;
    for (uint32_t t = code->n_glob; t < b->n_temps; t++)
        if (b->temps[t].kind == IR_TEMP_LOCAL) {
            slot[t] = next;
            next += 2;
        }
    code->n_vals = next;
    for (uint32_t i = 0; i < b->n_insns; i++)
        code->insn_pc[i] = b->insns[i].pc;
    for (uint32_t l = 0; l <= b->n_labels; l++)
        label_pos[l] = UINT32_MAX;
    /* Markers (insn_start, label), nops and dead ops do nothing at run time:
     * they get no decoded op, and a label points at the op after it. */
    uint32_t n_run = 0;
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        if (op->opc == IR_OP_label && !op->dead) {
            if (op->c[0] >= b->n_labels || label_pos[op->c[0]] != UINT32_MAX)
                FAIL("op %u: bad or repeated label L%llu", i, (unsigned long long)op->c[0]);
            label_pos[op->c[0]] = n_run;
        }
        n_run += !skipped(op);
    }

    for (uint32_t i = 0, j = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        if (op->opc >= IR_OP_COUNT)
            FAIL("op %u: bad opcode %u", i, op->opc);
        if (skipped(op))
            continue;
        PInst *p = &code->ops[j++];
        const IrOpInfo *oi = &ir_op_info[op->opc];
        unsigned na = oi->n_out + oi->n_in;
        p->opc = op->opc;
        if ((op->opc == IR_OP_mov || op->opc == IR_OP_bitcast) && ir_type_is_wide((IrType)op->type))
            p->opc = OP_MOV128;
        p->type = op->type;
        p->insn = op->insn_idx < b->n_insns ? op->insn_idx : 0;
        p->c[0] = op->c[0];
        p->c[1] = op->c[1];
        for (unsigned k = 0; k < na; k++) {
            IrTemp x = op->args[k];
            if (x >= b->n_temps)
                FAIL("op %u: temp %u out of range", i, x);
            if (x == IR_TEMP_NONE) {
                if (op->opc != IR_OP_call)
                    FAIL("op %u (%s): missing operand %u", i, oi->name, k);
                p->a[k] = 0; /* slot 0: temp 0's words, never read */
                continue;
            }
            p->a[k] = slot[x];
        }
        if (oi->n_in && op->args[oi->n_out] && op->args[oi->n_out] < b->n_temps)
            p->t0 = b->temps[op->args[oi->n_out]].type;
        switch (op->opc) {
        case IR_OP_br:
            if (op->c[0] >= b->n_labels || label_pos[op->c[0]] == UINT32_MAX)
                FAIL("op %u: branch to undefined label", i);
            p->c[0] = label_pos[op->c[0]];
            break;
        case IR_OP_brcond:
            if (op->c[1] >= b->n_labels || label_pos[op->c[1]] == UINT32_MAX)
                FAIL("op %u: branch to undefined label", i);
            p->c[1] = label_pos[op->c[1]];
            break;
        case IR_OP_ldenv: case IR_OP_stenv:
            if (op->c[0] + 16 >= (1u << GSHIFT) || type_bytes((IrType)op->type) == 0)
                FAIL("op %u: env offset or type out of range", i);
            break;
        case IR_OP_call:
            if (op->c[0] >= IR_HELPER_COUNT)
                FAIL("op %u: bad helper id %llu", i, (unsigned long long)op->c[0]);
            break;
        case IR_OP_ld: case IR_OP_st: case IR_OP_cmpxchg: case IR_OP_atomic_rmw:
            if (IR_MO_BYTES(op->c[0]) > 16 ||
                (IR_MO_BYTES(op->c[0]) > 8 && !ir_type_is_wide((IrType)op->type)))
                FAIL("op %u: memop size does not fit the type", i);
            break;
        default:
            break;
        }
    }
    code->ops[n_run].opc = OP_END;
    code->n_ops = n_run;
    free(label_pos);
    free(slot);
    return code;
fail:
    free(label_pos);
    free(slot);
    ir_interp_free(code);
    return NULL;
}

/* ---- operand access ------------------------------------------------------ */

/* (branches, not a switch: 8- and 4-byte globals dominate and a jump
 * table per operand costs more than predicted branches) */
static inline uint64_t rd_env(const uint8_t *env, uint32_t off, unsigned log2)
{
    const uint8_t *p = env + off;
    if (__builtin_expect(log2 >= 3, 1)) { /* 8, or the low word of 16 */
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    if (log2 == 2) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    if (log2 == 1) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    return *p;
}

static inline void wr_env(uint8_t *env, uint32_t off, unsigned log2, uint64_t v)
{
    uint8_t *p = env + off;
    if (__builtin_expect(log2 >= 3, 1)) {
        memcpy(p, &v, 8);
    } else if (log2 == 2) {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, 4);
    } else if (log2 == 1) {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, 2);
    } else {
        *p = (uint8_t)v;
    }
}

#define SLOT(k) (p->a[k])
#define R(k) ((SLOT(k) & GBIT) ? rd_env(envb, GOFF(SLOT(k)), (SLOT(k) >> GSHIFT) & 7) \
                               : v[SLOT(k)])
#define RHI(k) ((SLOT(k) & GBIT) ? rd_env(envb, GOFF(SLOT(k)) + 8, 3) : v[SLOT(k) + 1])
#define W(k, val)                                                    \
    do {                                                             \
        uint64_t w_ = (val);                                         \
        if (SLOT(k) & GBIT)                                          \
            wr_env(envb, GOFF(SLOT(k)), (SLOT(k) >> GSHIFT) & 7, w_); \
        else                                                         \
            v[SLOT(k)] = w_;                                         \
    } while (0)
#define W128(k, lo, hi)                                              \
    do {                                                             \
        uint64_t l_ = (lo), h_ = (hi);                               \
        if (SLOT(k) & GBIT) {                                        \
            memcpy(envb + GOFF(SLOT(k)), &l_, 8);                    \
            memcpy(envb + GOFF(SLOT(k)) + 8, &h_, 8);                \
        } else {                                                     \
            v[SLOT(k)] = l_;                                         \
            v[SLOT(k) + 1] = h_;                                     \
        }                                                            \
    } while (0)
#define T ((IrType)p->type)
#define WIDE ir_type_is_wide(T)

typedef uint64_t (*HFn0)(void);
typedef uint64_t (*HFn1)(uint64_t);
typedef uint64_t (*HFn2)(uint64_t, uint64_t);
typedef uint64_t (*HFn3)(uint64_t, uint64_t, uint64_t);
typedef uint64_t (*HFn4)(uint64_t, uint64_t, uint64_t, uint64_t);
typedef uint64_t (*HFn5)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
typedef uint64_t (*HFn6)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

/* Helpers take uint32_t/uint64_t/pointers: on x86-64 SysV all of them travel
 * in integer registers, so one uint64_t signature per arity reaches them
 * (our values are zero-extended; the callee ignores unused high bits). */
static uint64_t call_helper(const IrHelperInfo *h, const uint64_t *av, unsigned n)
{
    void *f = h->fn;
    switch (n) {
    case 0: return ((HFn0)f)();
    case 1: return ((HFn1)f)(av[0]);
    case 2: return ((HFn2)f)(av[0], av[1]);
    case 3: return ((HFn3)f)(av[0], av[1], av[2]);
    case 4: return ((HFn4)f)(av[0], av[1], av[2], av[3]);
    case 5: return ((HFn5)f)(av[0], av[1], av[2], av[3], av[4]);
    default: return ((HFn6)f)(av[0], av[1], av[2], av[3], av[4], av[5]);
    }
}

/* A misaligned access faults before the memory callbacks see it, so the
 * interpreter reports its address itself (IrExitInfo.fault_addr). */
#define CHECK_ALIGN(addr, mo)                                   \
    do {                                                        \
        if ((addr) & ((1u << IR_MO_ALIGN_LOG2(mo)) - 1)) {      \
            exit->fault_addr = (addr);                          \
            goto fault;                                         \
        }                                                       \
    } while (0)

static __thread uint64_t *tl_vals;
static __thread size_t tl_cap;

/* Threaded dispatch (GNU C labels as values): one indirect jump per op
 * handler, from a table generated from ir-ops.def, so an op without a
 * handler here does not compile. */
#define CASE(name) L_##name:
#define NEXT                      \
    do {                          \
        p = next++;               \
        goto *dispatch[p->opc];   \
    } while (0)
#define BINOP(name) \
    CASE(name) W(0, ir_eval_binop(IR_OP_##name, T, R(1), R(2))); NEXT;
#define UNOP(name) \
    CASE(name) W(0, ir_eval_unop(IR_OP_##name, T, R(1))); NEXT;

IrInterpStatus ir_interp_exec(const IrInterpCode *code, void *env, const IrMemIface *mem,
                              IrExitInfo *exit, uint32_t *fault_insn)
{
    uint64_t stack_vals[512];
    uint64_t *v = stack_vals;
    if (code->n_vals > 512) {
        /* thread-local so that a helper unwinding with longjmp leaks nothing */
        if (tl_cap < code->n_vals) {
            uint64_t *nv = realloc(tl_vals, code->n_vals * sizeof(uint64_t));
            if (!nv)
                ir_oom();
            tl_vals = nv;
            tl_cap = code->n_vals;
        }
        v = tl_vals;
    }
    /* constants: a handful of words, cheaper inline than a memcpy call */
    for (uint32_t i = 2; i < code->n_init; i++)
        v[i] = code->init_vals[i];
    uint8_t *envb = env;
    CpuCommon *cpu = env;
    const PInst *ops = code->ops;
    const PInst *next = ops; /* the op after p */
    uint64_t mb[2], mb2[2], old[2];

    static const void *const dispatch[IR_OP_COUNT + 2] = {
#define DEF(name, o, i, c, f) [IR_OP_##name] = &&L_##name,
#include "ir/ir-ops.def"
#undef DEF
        [OP_END] = &&L_end,
        [OP_MOV128] = &&L_mov128,
    };
    const PInst *p;
    NEXT;

        CASE(nop)
        CASE(insn_start)
        CASE(label)
            NEXT;
        CASE(mov)
        CASE(bitcast)
            W(0, R(1));
            NEXT;
        L_mov128:
            W128(0, R(1), RHI(1));
            NEXT;
        CASE(zext) W(0, ir_eval_zext(T, (IrType)p->t0, R(1))); NEXT;
        CASE(sext) W(0, ir_eval_sext(T, (IrType)p->t0, R(1))); NEXT;
        CASE(trunc) W(0, ir_eval_trunc(T, R(1))); NEXT;
        CASE(concat) W128(0, R(1), R(2)); NEXT;
        CASE(high64) W(0, RHI(1)); NEXT;
        BINOP(add) BINOP(sub) BINOP(mul) BINOP(mulhu) BINOP(mulhs)
        BINOP(divu) BINOP(divs) BINOP(remu) BINOP(rems)
        BINOP(and) BINOP(or) BINOP(xor) BINOP(andc)
        BINOP(shl) BINOP(shr) BINOP(sar) BINOP(rotl) BINOP(rotr)
        UNOP(neg) UNOP(not) UNOP(clz) UNOP(ctz) UNOP(popcnt) UNOP(bswap) UNOP(bitrev)
        CASE(extract)
            W(0, ir_eval_extract(T, R(1), (unsigned)p->c[0], (unsigned)p->c[1]));
            NEXT;
        CASE(sextract)
            W(0, ir_eval_sextract(T, R(1), (unsigned)p->c[0], (unsigned)p->c[1]));
            NEXT;
        CASE(deposit)
            W(0, ir_eval_deposit(T, R(1), R(2), (unsigned)p->c[0], (unsigned)p->c[1]));
            NEXT;
        CASE(setcond)
            W(0, ir_eval_cond((IrCond)p->c[0], T, R(1), R(2)) ? 1 : 0);
            NEXT;
        CASE(movcond)
            if (ir_eval_cond((IrCond)p->c[0], T, R(1), R(2)))
                W(0, R(3));
            else
                W(0, R(4));
            NEXT;

        CASE(ld) {
            uint64_t addr = R(1);
            IrMemOp mo = (IrMemOp)p->c[0];
            CHECK_ALIGN(addr, mo);
            mb[0] = mb[1] = 0;
            if (!mem->load(mem->opaque, addr, mo, mb))
                goto fault;
            if (WIDE)
                W128(0, mb[0], mb[1]);
            else
                W(0, ir_eval_ld_extend(T, mo, mb[0]));
            NEXT;
        }
        CASE(st) {
            uint64_t addr = R(0);
            IrMemOp mo = (IrMemOp)p->c[0];
            CHECK_ALIGN(addr, mo);
            mb[0] = R(1);
            mb[1] = WIDE ? RHI(1) : 0;
            if (!mem->store(mem->opaque, addr, mo, mb))
                goto fault;
            NEXT;
        }
        CASE(cmpxchg) {
            uint64_t addr = R(1);
            IrMemOp mo = (IrMemOp)p->c[0];
            CHECK_ALIGN(addr, mo);
            mb[0] = R(2);
            mb[1] = WIDE ? RHI(2) : 0;
            mb2[0] = R(3);
            mb2[1] = WIDE ? RHI(3) : 0;
            old[0] = old[1] = 0;
            if (!mem->cmpxchg(mem->opaque, addr, mo, mb, mb2, old))
                goto fault;
            if (WIDE)
                W128(0, old[0], old[1]);
            else
                W(0, ir_eval_ld_extend(T, mo, old[0]));
            NEXT;
        }
        CASE(atomic_rmw) {
            uint64_t addr = R(1);
            IrMemOp mo = (IrMemOp)p->c[0];
            CHECK_ALIGN(addr, mo);
            mb[0] = R(2);
            mb[1] = 0;
            old[0] = old[1] = 0;
            if (!mem->rmw(mem->opaque, addr, mo, (IrRmwOp)p->c[1], mb, old))
                goto fault;
            W(0, ir_eval_ld_extend(T, mo, old[0]));
            NEXT;
        }
        CASE(fence)
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            NEXT;
        CASE(prefetch)
            NEXT; /* only a hint: nothing to do for the meaning */

        CASE(ldenv) {
            const uint8_t *src = envb + p->c[0];
            if (WIDE) {
                memcpy(mb, src, 16);
                W128(0, mb[0], mb[1]);
            } else {
                W(0, rd_env(envb, (uint32_t)p->c[0], (unsigned)__builtin_ctz(type_bytes(T))));
            }
            NEXT;
        }
        CASE(stenv)
            if (WIDE) {
                mb[0] = R(0);
                mb[1] = RHI(0);
                memcpy(envb + p->c[0], mb, 16);
            } else {
                wr_env(envb, (uint32_t)p->c[0], (unsigned)__builtin_ctz(type_bytes(T)), R(0));
            }
            NEXT;

        CASE(call) {
            const IrHelperInfo *h = &ir_helper_info[p->c[0]];
            uint64_t av[6];
            unsigned n = 0;
            if (h->takes_env)
                av[n++] = (uint64_t)(uintptr_t)env;
            for (unsigned i = 0; i < h->n_args && n < 6; i++)
                av[n++] = R(1 + i);
            if (h->flags & (IR_HF_CAN_FAULT | IR_HF_NORETURN))
                cpu->pc = code->insn_pc[p->insn];
            uint64_t r = call_helper(h, av, n);
            if (h->ret != IR_VOID && p->a[0])
                W(0, r & ir_eval_mask((IrType)h->ret));
            NEXT;
        }

        CASE(br)
            next = ops + p->c[0];
            NEXT;
        CASE(brcond)
            if (ir_eval_cond((IrCond)p->c[0], T, R(0), R(1)))
                next = ops + p->c[1];
            NEXT;

        CASE(goto_tb)
            cpu->pc = p->c[1];
            *exit = (IrExitInfo){.kind = IR_OP_goto_tb, .slot = (uint8_t)p->c[0],
                                 .reason = IR_EXIT_NONE, .insn = p->insn, .pc = p->c[1]};
            return IR_INTERP_EXITED;
        CASE(goto_ptr) {
            uint64_t target = R(0);
            cpu->pc = target;
            *exit = (IrExitInfo){.kind = IR_OP_goto_ptr, .reason = IR_EXIT_NONE, .pc = target};
            return IR_INTERP_EXITED;
        }
        CASE(exit)
            cpu->pc = p->c[1];
            cpu->exit_reason = (uint32_t)p->c[0];
            *exit = (IrExitInfo){.kind = IR_OP_exit, .reason = (uint32_t)p->c[0], .pc = p->c[1]};
            return IR_INTERP_EXITED;

        L_end: /* ran off the end of the block */
            return IR_INTERP_INVALID;

fault:
    if (fault_insn)
        *fault_insn = p->insn;
    if (p->insn < code->n_insns)
        cpu->pc = code->insn_pc[p->insn];
    return IR_INTERP_FAULT;
}

IrInterpStatus ir_interp_run(const IrBlock *b, void *env, const IrMemIface *mem,
                             IrExitInfo *exit, uint32_t *fault_insn)
{
    char err[160];
    IrInterpCode *code = ir_interp_prepare(b, err, sizeof err);
    if (!code) {
        fprintf(stderr, "emu: interpreter: %s\n", err);
        return IR_INTERP_INVALID;
    }
    IrInterpStatus st = ir_interp_exec(code, env, mem, exit, fault_insn);
    ir_interp_free(code);
    return st;
}
