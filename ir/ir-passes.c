/*
 * ir-passes.c - block-local optimisation passes: copy propagation, dead
 * code elimination, dead-flag elimination, env store-to-load forwarding,
 * and the standard pipeline.
 * (Constant folding lives in ir-fold.c.)  Every pass keeps the block valid
 * for ir_verify and never changes what the interpreter computes.
 *
 *   ir_optimize(b);   // fold, env_forward, copy_prop, dead_globals, dce
 */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

#include "ir/ir-internal.h"

static uint32_t n_globals(const IrBlock *b)
{
    return b->globals && b->globals->count ? b->globals->count : 1;
}

/* ---- copy propagation ------------------------------------------------- */
/* Forward copies (ir_pass_copy_prop below), then retarget_moves, the other
 * direction: "t = op ...; ...; mov d, t" with t a local written
 * and read only there becomes "d = op ...; ...".  Writing d earlier is safe
 * when nothing in between reads or writes d, can fault (the early write
 * would be visible at the fault), calls a helper, branches or is a label;
 * the window is bounded to keep the pass linear.  Never for helper calls
 * themselves.  op may read d ("x0 = sub x0, 16"): every backend reads an
 * op's inputs before it writes the output (the random differential tests
 * write globals they read). */
#define RETARGET_WINDOW 32
static bool retarget_barrier(const IrInst *op, IrTemp d)
{
    if (op->opc >= IR_OP_COUNT || op->opc == IR_OP_label)
        return true;
    const IrOpInfo *oi = &ir_op_info[op->opc];
    if (oi->flags & (IR_OPF_BRANCH | IR_OPF_EXIT | IR_OPF_CAN_FAULT | IR_OPF_CALL))
        return true;
    for (unsigned k = 0; k < (unsigned)(oi->n_out + oi->n_in); k++)
        if (op->args[k] == d)
            return true;
    return false;
}

/* uses/defs/def_at: per temp, reads, writes and the index of the last
 * write, as ir_pass_copy_prop counted them while rewriting inputs. */
static void retarget_moves(IrBlock *b, const uint32_t *uses, const uint32_t *defs,
                           const uint32_t *def_at)
{
    uint32_t nt = b->n_temps;
    bool changed = false;
    for (uint32_t j = 0; j < b->n_ops; j++) {
        IrInst *mv = &b->ops[j];
        if (mv->dead || mv->opc != IR_OP_mov)
            continue;
        IrTemp d = mv->args[0], t = mv->args[1];
        if (!t || t >= nt || b->temps[t].kind != IR_TEMP_LOCAL || uses[t] != 1 ||
            defs[t] != 1 || def_at[t] >= j || j - def_at[t] > RETARGET_WINDOW || !d ||
            d >= nt || b->temps[d].kind == IR_TEMP_CONST || b->temps[d].type != b->temps[t].type)
            continue;
        IrInst *op = &b->ops[def_at[t]];
        const IrOpInfo *oi = &ir_op_info[op->opc];
        if (op->dead || oi->n_out != 1 || (oi->flags & IR_OPF_CALL) || op->args[0] != t)
            continue;
        bool ok = true;
        for (uint32_t k = def_at[t] + 1; ok && k < j; k++)
            ok = b->ops[k].dead || !retarget_barrier(&b->ops[k], d);
        if (!ok)
            continue;
        op->args[0] = d;
        mv->dead = 1;
        changed = true;
    }
    if (changed)
        ir_compact(b);
}

/* After "mov d, s" (d a local), reads of d become reads of s for as long as
 * neither d nor s is written again.  (A global d is left alone: reading it
 * costs no more than reading s, and keeping s single-use lets
 * retarget_moves write s's op straight into d.)  Validity is tracked with write counters, so an
 * invalidation is O(1): the copy records the counter of s when it was made.
 * A helper that writes globals bumps the epoch of every global at once. */
void ir_pass_copy_prop(IrBlock *b)
{
    uint32_t nt = b->n_temps, ng = n_globals(b);
    IrTemp *src = ir_block_scratch(b, 8 * (size_t)nt * sizeof(uint32_t));
    uint32_t *uses = src + nt, *defs = uses + nt, *def_at = defs + nt; /* for retarget_moves */
    uint32_t *src_ver = def_at + nt;
    uint32_t *ver = src_ver + nt;
    uint32_t gepoch = 1;  /* globals' versions are ver[g] + gepoch */
    uint32_t segment = 1; /* copies made before the last label are stale */
    uint32_t *src_seg = ver + nt;
    uint32_t *dst_ver = src_seg + nt; /* VER(d) right after the mov */

#define VER(x) (ver[x] + ((x) < ng ? gepoch : 0))
    for (uint32_t i = 0; i < b->n_ops; i++) {
        IrInst *op = &b->ops[i];
        if (op->dead || op->opc >= IR_OP_COUNT)
            continue;
        const IrOpInfo *oi = &ir_op_info[op->opc];
        if (op->opc == IR_OP_label) {
            segment++;
            continue;
        }
        for (unsigned k = oi->n_out; k < (unsigned)(oi->n_out + oi->n_in); k++) {
            IrTemp x = op->args[k];
            if (!x || x >= nt || !src[x] || src_seg[x] != segment)
                continue;
            /* valid while x itself was not rewritten and its source is unchanged */
            IrTemp s = src[x];
            if (src_ver[x] == VER(s) && dst_ver[x] == VER(x)) {
                op->args[k] = s;
                ir_block_mark_unsimplified(b); /* s may be a constant */
            }
        }
        for (unsigned k = oi->n_out; k < (unsigned)(oi->n_out + oi->n_in); k++) {
            IrTemp x = op->args[k];
            if (x && x < nt)
                uses[x]++;
        }
        if (op->opc == IR_OP_call && ir_call_writes_globals(op))
            gepoch++;
        for (unsigned k = 0; k < oi->n_out; k++) {
            IrTemp x = op->args[k];
            if (!x || x >= nt)
                continue;
            ver[x]++;
            src[x] = 0;
            defs[x]++;
            def_at[x] = i;
        }
        if (op->opc == IR_OP_mov) {
            IrTemp d = op->args[0], s = op->args[1];
            if (d && s && d < nt && s < nt && d != s &&
                b->temps[d].type == b->temps[s].type && b->temps[d].kind == IR_TEMP_LOCAL) {
                src[d] = s;
                src_ver[d] = VER(s);
                src_seg[d] = segment;
                dst_ver[d] = VER(d);
            }
        }
    }
#undef VER
    retarget_moves(b, uses, defs, def_at);
}

/* How many times each temp is read by the live ops (block scratch, zeroed
 * by ir_block_scratch); *any_dead: some op is dead already. */
static uint32_t *use_counts(IrBlock *b, bool *any_dead)
{
    uint32_t nt = b->n_temps;
    uint32_t *uses = ir_block_scratch(b, (size_t)nt * sizeof(uint32_t));
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        *any_dead |= op->dead;
        if (op->dead || op->opc >= IR_OP_COUNT)
            continue;
        const IrOpInfo *oi = &ir_op_info[op->opc];
        for (unsigned k = oi->n_out; k < (unsigned)(oi->n_out + oi->n_in); k++)
            if (op->args[k] && op->args[k] < nt)
                uses[op->args[k]]++;
    }
    return uses;
}

/* ---- and + compare with zero -> test --------------------------------- */
/* "t = and a, c; ...; brcond eq/ne t, $0" with t a local read only there
 * becomes "brcond tsteq/tstne a, c" (a test: AArch64 "tst x0, #0xf; b.eq"
 * whose flags are dead at the exits was mov, and, test); the and is left
 * to dce.  Nothing in between may write a or c, merge control (a label) or
 * call a helper that writes globals. */
#define TEST_FOLD_WINDOW 16
static bool writes_any(const IrInst *op, IrTemp x, IrTemp y, uint32_t ng)
{
    const IrOpInfo *oi = &ir_op_info[op->opc];
    for (unsigned k = 0; k < oi->n_out; k++)
        if (op->args[k] && (op->args[k] == x || op->args[k] == y))
            return true;
    return op->opc == IR_OP_call && ir_call_writes_globals(op) && ((x && x < ng) || (y && y < ng));
}

void ir_pass_test_fold(IrBlock *b)
{
    uint32_t nt = b->n_temps, ng = n_globals(b);
    bool any_dead = false;
    const uint32_t *uses = use_counts(b, &any_dead);
    for (uint32_t i = 0; i < b->n_ops; i++) {
        IrInst *br = &b->ops[i];
        if (br->dead || br->opc != IR_OP_brcond || (br->c[0] != IR_COND_EQ && br->c[0] != IR_COND_NE))
            continue;
        IrTemp t = br->args[0], z = br->args[1];
        if (!t || t >= nt || b->temps[t].kind != IR_TEMP_LOCAL || uses[t] != 1 || !z || z >= nt ||
            b->temps[z].kind != IR_TEMP_CONST || b->temps[z].val[0] != 0)
            continue;
        uint32_t lo = i > TEST_FOLD_WINDOW ? i - TEST_FOLD_WINDOW : 0;
        for (uint32_t j = i; j-- > lo;) {
            const IrInst *d = &b->ops[j];
            if (d->dead || d->opc >= IR_OP_COUNT)
                continue;
            if (d->opc == IR_OP_label)
                break;
            const IrOpInfo *oi = &ir_op_info[d->opc];
            bool defines = false;
            for (unsigned k = 0; k < oi->n_out; k++)
                defines |= d->args[k] == t;
            if (!defines)
                continue;
            if (d->opc == IR_OP_and && d->type == br->type && d->args[0] == t) {
                IrTemp a = d->args[1], c = d->args[2];
                bool ok = true;
                for (uint32_t k = j + 1; ok && k < i; k++)
                    ok = b->ops[k].dead || b->ops[k].opc >= IR_OP_COUNT ||
                         !writes_any(&b->ops[k], a, c, ng);
                if (ok) {
                    br->args[0] = a;
                    br->args[1] = c;
                    br->c[0] = br->c[0] == IR_COND_EQ ? IR_COND_TSTEQ : IR_COND_TSTNE;
                }
            }
            break;
        }
    }
}

/* ---- dead code elimination -------------------------------------------- */
/* An op goes when it is removable (no side effects, cannot fault, not a
 * branch/exit/marker) and all its outputs are locals nobody reads; a mov of
 * a temp to itself and a nop always go.  Repeats until nothing changes so
 * that chains (and uses through back edges) are handled. */
void ir_pass_dce(IrBlock *b)
{
    uint32_t nt = b->n_temps;
    bool changed = true, any = false; /* any: compact (also drops earlier passes' dead ops) */
    uint32_t *uses = use_counts(b, &any);
    while (changed) {
        changed = false;
        for (uint32_t i = b->n_ops; i-- > 0;) {
            IrInst *op = &b->ops[i];
            if (op->dead || op->opc >= IR_OP_COUNT)
                continue;
            const IrOpInfo *oi = &ir_op_info[op->opc];
            bool kill;
            if (op->opc == IR_OP_nop)
                kill = true;
            else if (op->opc == IR_OP_mov && op->args[0] == op->args[1])
                kill = true;
            else if (!ir_inst_is_removable(op))
                kill = false;
            else {
                kill = true;
                for (unsigned k = 0; k < oi->n_out; k++) {
                    IrTemp x = op->args[k];
                    if (!x)
                        continue;
                    if (x >= nt || b->temps[x].kind != IR_TEMP_LOCAL || uses[x]) {
                        kill = false;
                        break;
                    }
                }
            }
            if (!kill)
                continue;
            op->dead = 1;
            changed = any = true;
            for (unsigned k = oi->n_out; k < (unsigned)(oi->n_out + oi->n_in); k++)
                if (op->args[k] < nt && uses[op->args[k]])
                    uses[op->args[k]]--;
        }
    }
    if (any)
        ir_compact(b);
}

/* ---- dead global writes ------------------------------------------------ */
/* Walks the block backwards keeping the set of globals that are written
 * again later, before anything could observe them.  Labels, branches,
 * exits, ops that can fault and helpers that read globals or can fault
 * observe every global, so they empty the set.  Mostly flags (a flag
 * setter whose flags the next insn overwrites), but also "mov w3, #lo;
 * movk w3, #hi" and a register an idiom no longer needs (rbit; clz).
 *
 * Flag globals (IR_TEMPF_FLAG) follow the block's control flow instead:
 * a goto_tb whose slot is in b->flags_dead_slots does not observe them
 * (the frontend saw its target overwrite the flags before reading them),
 * nor does a goto_ptr when b->ptr_flags_dead (a return or a call),
 * a branch sees what its target label sees (forward branches; a backward
 * one sees everything), and a fault does not observe them: a guest that
 * inspects NZCV in its SIGSEGV handler at an insn whose flags the code
 * overwrites before reading sees older flags. */
#define DEAD_FLAGS_MAX 32
void ir_pass_dead_globals(IrBlock *b)
{
    uint32_t ng = n_globals(b);
    bool changed = false;
    if (ng <= 1)
        return;
    uint32_t nl = b->n_labels;
    uint8_t *mem = ir_block_scratch(b, (size_t)nl * sizeof(uint32_t) + 2 * (size_t)ng);
    uint32_t *flags_at_label = (uint32_t *)mem; /* flag globals dead at each label */
    bool *overwritten = (bool *)(mem + (size_t)nl * sizeof(uint32_t)); /* other globals */
    uint8_t *fbit = (uint8_t *)(overwritten + ng); /* flag global -> bit, 0xFF: none */
    unsigned nflags = 0;
    for (uint32_t x = 1; x < ng; x++)
        fbit[x] = (b->temps[x].flags & IR_TEMPF_FLAG) && nflags < DEAD_FLAGS_MAX ? (uint8_t)nflags++
                                                                                : 0xFF;
    uint32_t all_flags = nflags == 32 ? UINT32_MAX : (1u << nflags) - 1;
    uint32_t dead_flags = 0; /* flag globals written again (or dead) before being seen */
    for (uint32_t i = b->n_ops; i-- > 0;) {
        IrInst *op = &b->ops[i];
        if (op->dead || op->opc >= IR_OP_COUNT)
            continue;
        const IrOpInfo *oi = &ir_op_info[op->opc];
        bool reads_all = ir_call_reads_globals(op);
        bool barrier = op->opc == IR_OP_label ||
                       (oi->flags & (IR_OPF_BRANCH | IR_OPF_EXIT | IR_OPF_CAN_FAULT)) || reads_all ||
                       ir_call_can_fault(op);
        if (barrier) {
            memset(overwritten, 0, ng * sizeof(bool));
            if (op->opc == IR_OP_label) {
                if (op->c[0] < nl) /* the code before falls into it: dead_flags stays */
                    flags_at_label[op->c[0]] = dead_flags;
            } else if (op->opc == IR_OP_br) {
                dead_flags = op->c[0] < nl ? flags_at_label[op->c[0]] : 0;
            } else if (op->opc == IR_OP_brcond) {
                dead_flags &= op->c[1] < nl ? flags_at_label[op->c[1]] : 0;
            } else if (op->opc == IR_OP_goto_tb) {
                dead_flags = op->c[0] < 8 && (b->flags_dead_slots >> op->c[0] & 1) ? all_flags : 0;
            } else if (op->opc == IR_OP_goto_ptr) {
                dead_flags = b->ptr_flags_dead ? all_flags : 0;
            } else if ((oi->flags & IR_OPF_EXIT) || reads_all) {
                dead_flags = 0;
            } /* else it can fault: faults do not see the flags */
            /* a label not seen yet (a backward branch) knows nothing: 0 */
            for (unsigned k = oi->n_out; k < (unsigned)(oi->n_out + oi->n_in); k++) {
                IrTemp x = op->args[k];
                if (x && x < ng && fbit[x] != 0xFF)
                    dead_flags &= ~(1u << fbit[x]);
            }
            continue;
        }
        /* a removable single-output write of a global that is overwritten later */
        if (oi->n_out == 1 && ir_inst_is_removable(op)) {
            IrTemp x = op->args[0];
            if (x && x < ng && (fbit[x] != 0xFF ? dead_flags >> fbit[x] & 1 : overwritten[x])) {
                op->dead = 1;
                changed = true;
                continue;
            }
        }
        for (unsigned k = 0; k < (unsigned)(oi->n_out + oi->n_in); k++) {
            IrTemp x = op->args[k];
            if (!x || x >= ng)
                continue;
            bool w = k < oi->n_out; /* outputs first: an op reading x keeps x's earlier writes */
            if (fbit[x] != 0xFF)
                dead_flags = w ? dead_flags | 1u << fbit[x] : dead_flags & ~(1u << fbit[x]);
            else
                overwritten[x] = w;
        }
    }
    if (changed)
        ir_compact(b);
}

/* ---- env store-to-load forwarding ------------------------------------ */
/* CPU state outside the globals (vector and FP registers) is read with
 * ldenv and written with stenv, so "str q0" then "ldr q0" in the next insn
 * went through env: "ldenv t = [o]" after "stenv [o], s" (or an earlier
 * "ldenv s = [o]") of the same type becomes "mov t, s" while nothing in
 * between may have written env there: another stenv overlapping it, a
 * helper with env access, a label (control merges), or a write to s. */
#define ENV_FWD_SLOTS 16
typedef struct EnvFwd {
    uint32_t off, bytes;
    uint8_t type;
    IrTemp src;
    uint32_t src_ver;
} EnvFwd;

static void env_fwd_drop_overlap(EnvFwd *f, unsigned *n, uint32_t off, uint32_t bytes)
{
    for (unsigned k = 0; k < *n;)
        if (f[k].off < off + bytes && off < f[k].off + f[k].bytes)
            f[k] = f[--*n];
        else
            k++;
}

static void env_fwd_note(EnvFwd *f, unsigned *n, const IrInst *op, IrTemp src,
                         const uint32_t *ver)
{
    uint32_t bytes = ir_type_bits((IrType)op->type) / 8;
    env_fwd_drop_overlap(f, n, (uint32_t)op->c[0], bytes);
    if (*n == ENV_FWD_SLOTS)
        f[0] = f[--*n]; /* forget the oldest-ish: a missed forward only */
    f[(*n)++] = (EnvFwd){(uint32_t)op->c[0], bytes, op->type, src, ver[src]};
}

void ir_pass_env_forward(IrBlock *b)
{
    uint32_t nt = b->n_temps;
    uint32_t *ver = ir_block_scratch(b, (size_t)nt * sizeof(uint32_t));
    EnvFwd f[ENV_FWD_SLOTS];
    unsigned n = 0;
    for (uint32_t i = 0; i < b->n_ops; i++) {
        IrInst *op = &b->ops[i];
        if (op->dead || op->opc >= IR_OP_COUNT)
            continue;
        const IrOpInfo *oi = &ir_op_info[op->opc];
        if (op->opc == IR_OP_label) {
            n = 0;
            continue;
        }
        if (op->opc == IR_OP_call) {
            const IrHelperInfo *h = ir_call_helper(op);
            if (!h || !(h->flags & IR_HF_PURE))
                n = 0;
        }
        if (op->opc == IR_OP_ldenv && op->args[0] < nt) {
            uint32_t off = (uint32_t)op->c[0];
            for (unsigned k = 0; k < n; k++) {
                if (f[k].off == off && f[k].type == op->type && ver[f[k].src] == f[k].src_ver &&
                    f[k].src != op->args[0]) {
                    op->opc = IR_OP_mov;
                    op->args[1] = f[k].src;
                    op->c[0] = 0;
                    ir_block_mark_unsimplified(b);
                    break;
                }
            }
        }
        if (op->opc == IR_OP_stenv && op->args[0] < nt)
            env_fwd_note(f, &n, op, op->args[0], ver);
        for (unsigned k = 0; k < oi->n_out; k++)
            if (op->args[k] && op->args[k] < nt)
                ver[op->args[k]]++;
        /* after the write: the loaded temp holds [o] until it changes */
        if (op->opc == IR_OP_ldenv && op->args[0] && op->args[0] < nt)
            env_fwd_note(f, &n, op, op->args[0], ver);
    }
}

void ir_optimize(IrBlock *b)
{
    ir_pass_fold(b);
    ir_pass_env_forward(b);
    ir_pass_copy_prop(b);
    ir_pass_dead_globals(b);
    ir_pass_test_fold(b);
    ir_pass_dce(b);
}
