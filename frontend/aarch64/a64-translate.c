/*
 * a64-translate.c - the AArch64 frontend: IR globals, the translator hooks,
 * the decoder dispatch, and the register/flag helpers every lifter uses
 * (a64-translate.h).  The instruction families live in a64-trans-*.c (and
 * the FP/SIMD engineer's a64-fp*.c / a64-simd*.c).
 *
 *   guest_arch_aarch64.init();
 *   IrBlock *b = guest_arch_aarch64.translate(pc, 0, &reader, 512);
 */
#include "frontend/aarch64/a64-translate.h"

#include <pthread.h>
#include <stddef.h>

#include "runtime/guest-arch.h"

IrGlobalSet a64_globals;
IrTemp a64_cpu_x[32];
IrTemp a64_cpu_nf, a64_cpu_zf, a64_cpu_cf, a64_cpu_vf;
IrTemp a64_cpu_cc_op, a64_cpu_cc_a, a64_cpu_cc_b;

/* The modelled CPU's features (a64-cpu.h).  Set once at process start,
 * before any translation (which may then run on any thread): constant per
 * process, so blocks need not be keyed on it; the code cache keeps one set
 * of packs per value (GuestArch.config_id): a block lifted under fewer
 * features has UNDEF exits where another run has instructions, and since
 * blocks run on past forward branches it may hold code its own run never
 * reached. */
static _Atomic uint64_t a64_features = A64_FEAT_MAX;

void a64_cpu_set_features(uint64_t features)
{
    a64_features = features & A64_FEAT_MAX;
}

uint64_t a64_cpu_get_features(void)
{
    return a64_features;
}

static const char *const a64_xnames[32] = {
    "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10",
    "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
    "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",
};

static void a64_init_globals_once(void)
{
    IrGlobalSet *g = &a64_globals;
    for (int i = 0; i < 32; i++)
        a64_cpu_x[i] = ir_global_register(g, IR_I64, offsetof(A64State, x[i]),
                                          a64_xnames[i], 0);
    a64_cpu_nf = ir_global_register(g, IR_I32, offsetof(A64State, nf), "nf", IR_TEMPF_FLAG);
    a64_cpu_zf = ir_global_register(g, IR_I32, offsetof(A64State, zf), "zf", IR_TEMPF_FLAG);
    a64_cpu_cf = ir_global_register(g, IR_I32, offsetof(A64State, cf), "cf", IR_TEMPF_FLAG);
    a64_cpu_vf = ir_global_register(g, IR_I32, offsetof(A64State, vf), "vf", IR_TEMPF_FLAG);
    a64_cpu_cc_op = ir_global_register(g, IR_I32, offsetof(A64State, cc_op), "cc_op",
                                       IR_TEMPF_FLAG);
    a64_cpu_cc_a = ir_global_register(g, IR_I64, offsetof(A64State, cc_a), "cc_a", IR_TEMPF_FLAG);
    a64_cpu_cc_b = ir_global_register(g, IR_I64, offsetof(A64State, cc_b), "cc_b", IR_TEMPF_FLAG);
}

void a64_init_globals(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, a64_init_globals_once);
}

/* ---- registers ------------------------------------------------------------ */
IrTemp a64_get_x(DisasContext *s, int r)
{
    return r == 31 ? ir_const(a64_ir(s), IR_I64, 0) : a64_cpu_x[r];
}

IrTemp a64_get_xsp(DisasContext *s, int r)
{
    return a64_cpu_x[r];
}

void a64_set_x(DisasContext *s, int r, IrTemp v64)
{
    if (r != 31)
        ir_mov(a64_ir(s), IR_I64, a64_cpu_x[r], v64);
}

void a64_set_xsp(DisasContext *s, int r, IrTemp v64)
{
    ir_mov(a64_ir(s), IR_I64, a64_cpu_x[r], v64);
}

IrTemp a64_get_r(DisasContext *s, int r, int sf)
{
    IrTemp v = a64_get_x(s, r);
    return sf ? v : ir_trunc(a64_ir(s), IR_I32, IR_I64, v);
}

IrTemp a64_get_rsp(DisasContext *s, int r, int sf)
{
    IrTemp v = a64_get_xsp(s, r);
    return sf ? v : ir_trunc(a64_ir(s), IR_I32, IR_I64, v);
}

void a64_set_r(DisasContext *s, int r, int sf, IrTemp v)
{
    if (r == 31)
        return;
    a64_set_x(s, r, sf ? v : ir_zext(a64_ir(s), IR_I64, IR_I32, v));
}

void a64_set_rsp(DisasContext *s, int r, int sf, IrTemp v)
{
    a64_set_xsp(s, r, sf ? v : ir_zext(a64_ir(s), IR_I64, IR_I32, v));
}

/* ---- flags ----------------------------------------------------------------- */
/* nf..vf from the 64-bit a - b (A64_CC_SUB) or a + b (A64_CC_ADD). */
static void flags_from(IrBlock *b, int op, IrTemp a, IrTemp m)
{
    IrTemp c32 = ir_const(b, IR_I64, 32);
    IrTemp r = op == A64_CC_SUB ? ir_sub(b, IR_I64, a, m) : ir_add(b, IR_I64, a, m);
    IrTemp c = op == A64_CC_SUB ? ir_setcond(b, IR_I64, IR_COND_GEU, a, m)
                                : ir_setcond(b, IR_I64, IR_COND_LTU, r, a);
    IrTemp x = ir_xor(b, IR_I64, r, a), y = ir_xor(b, IR_I64, a, m);
    IrTemp v = op == A64_CC_SUB ? ir_and(b, IR_I64, x, y) : ir_andc(b, IR_I64, x, y);
    ir_mov(b, IR_I32, a64_cpu_nf, ir_trunc(b, IR_I32, IR_I64, ir_shr(b, IR_I64, r, c32)));
    ir_mov(b, IR_I32, a64_cpu_zf,
           ir_trunc(b, IR_I32, IR_I64, ir_setcond(b, IR_I64, IR_COND_NE, r, ir_const(b, IR_I64, 0))));
    ir_mov(b, IR_I32, a64_cpu_cf, ir_trunc(b, IR_I32, IR_I64, c));
    ir_mov(b, IR_I32, a64_cpu_vf, ir_trunc(b, IR_I32, IR_I64, ir_shr(b, IR_I64, v, c32)));
}

/* Flag i (0 = N .. 3 = V) of a 4-bit NZCV immediate, in the nf..vf encoding. */
static IrTemp nzcv_flag(IrBlock *b, int nzcv, int i)
{
    bool set = (nzcv >> (3 - i)) & 1;
    static const uint32_t enc[4][2] = {{0, 0x80000000u}, {1, 0}, {0, 1}, {0, 0x80000000u}};
    return ir_const(b, IR_I32, enc[i][set]);
}

void a64_flags_sync(DisasContext *s)
{
    IrBlock *b = a64_ir(s);
    if (s->flags.eager)
        return;
    if (s->flags.lazy_op) {
        /* set earlier in this block: computed from its operands */
        flags_from(b, s->flags.lazy_op, s->flags.lazy_a, s->flags.lazy_b);
        if (s->flags.ccmp) {
            IrTemp cv = ir_trunc(b, IR_I32, IR_I64, s->flags.ccmp_cv), zero = ir_const(b, IR_I32, 0);
            const IrTemp g[4] = {a64_cpu_nf, a64_cpu_zf, a64_cpu_cf, a64_cpu_vf};
            for (int i = 0; i < 4; i++)
                ir_mov(b, IR_I32, g[i], ir_movcond(b, IR_I32, IR_COND_NE, cv, zero, g[i],
                                                   nzcv_flag(b, s->flags.ccmp_nzcv, i)));
        }
    } else {
        /* unknown at block start: test cc_op at run time (the 32-bit
         * kinds shift their operands up first) */
        uint32_t l_add = ir_new_label(b), l_set = ir_new_label(b), l_done = ir_new_label(b);
        uint32_t l_64 = ir_new_label(b);
        IrTemp op = ir_new_temp(b, IR_I32), a = ir_new_temp(b, IR_I64), m = ir_new_temp(b, IR_I64);
        IrTemp c32 = ir_const(b, IR_I64, 32);
        ir_mov(b, IR_I32, op, a64_cpu_cc_op);
        ir_brcond(b, IR_I32, IR_COND_EQ, op, ir_const(b, IR_I32, A64_CC_EAGER), l_done);
        ir_mov(b, IR_I64, a, a64_cpu_cc_a);
        ir_mov(b, IR_I64, m, a64_cpu_cc_b);
        ir_brcond(b, IR_I32, IR_COND_LEU, op, ir_const(b, IR_I32, A64_CC_ADD), l_64);
        ir_mov(b, IR_I64, a, ir_shl(b, IR_I64, a, c32));
        ir_mov(b, IR_I64, m, ir_shl(b, IR_I64, m, c32));
        ir_mov(b, IR_I32, op, ir_sub(b, IR_I32, op, ir_const(b, IR_I32, 2)));
        ir_label(b, l_64);
        ir_brcond(b, IR_I32, IR_COND_EQ, op, ir_const(b, IR_I32, A64_CC_ADD), l_add);
        flags_from(b, A64_CC_SUB, a, m);
        ir_br(b, l_set);
        ir_label(b, l_add);
        flags_from(b, A64_CC_ADD, a, m);
        ir_label(b, l_set);
        ir_label(b, l_done);
    }
    ir_mov(b, IR_I32, a64_cpu_cc_op, ir_const(b, IR_I32, A64_CC_EAGER));
    s->flags = (struct A64FlagState){ .eager = true };
}

void a64_flags_written(DisasContext *s)
{
    if (!s->flags.eager)
        ir_mov(a64_ir(s), IR_I32, a64_cpu_cc_op, ir_const(a64_ir(s), IR_I32, A64_CC_EAGER));
    s->flags = (struct A64FlagState){ .eager = true };
}

void a64_flags_lazy(DisasContext *s, int op, int sf, IrTemp n, IrTemp m)
{
    IrBlock *b = a64_ir(s);
    IrTemp a = ir_new_temp(b, IR_I64), c = ir_new_temp(b, IR_I64);
    IrTemp na = 0, nb = 0;
    if (sf) {
        /* snapshots: the insn may overwrite its source registers */
        ir_mov(b, IR_I64, a, n);
        ir_mov(b, IR_I64, c, m);
        ir_mov(b, IR_I64, a64_cpu_cc_a, a);
        ir_mov(b, IR_I64, a64_cpu_cc_b, c);
        ir_mov(b, IR_I32, a64_cpu_cc_op, ir_const(b, IR_I32, (uint64_t)op));
    } else {
        /* env gets the operands as they are (A64_CC_SUB32/ADD32); readers
         * in this block use them shifted (DCE drops what nobody reads) */
        IrTemp c32 = ir_const(b, IR_I64, 32);
        na = ir_new_temp(b, IR_I32);
        nb = ir_new_temp(b, IR_I32);
        ir_mov(b, IR_I32, na, n);
        ir_mov(b, IR_I32, nb, m);
        IrTemp za = ir_zext(b, IR_I64, IR_I32, na), zb = ir_zext(b, IR_I64, IR_I32, nb);
        ir_mov(b, IR_I64, a, ir_shl(b, IR_I64, za, c32));
        ir_mov(b, IR_I64, c, ir_shl(b, IR_I64, zb, c32));
        ir_mov(b, IR_I64, a64_cpu_cc_a, za);
        ir_mov(b, IR_I64, a64_cpu_cc_b, zb);
        ir_mov(b, IR_I32, a64_cpu_cc_op, ir_const(b, IR_I32, (uint64_t)op + 2));
    }
    s->flags = (struct A64FlagState){ .lazy_op = (uint8_t)op, .lazy_a = a, .lazy_b = c,
                                      .narrow_a = na, .narrow_b = nb };
}

void a64_flags_lazy_logic(DisasContext *s, int sf, IrTemp r)
{
    a64_flags_lazy(s, A64_CC_ADD, sf, r, ir_const(a64_ir(s), a64_sf_type(sf), 0));
    s->flags.logic = true;
}

void a64_set_nz(DisasContext *s, int sf, IrTemp r)
{
    IrBlock *b = a64_ir(s);
    a64_flags_sync(s); /* C and V stay */
    if (sf) {
        /* N is bit 63: the high word's bit 31 */
        IrTemp hi = ir_shr(b, IR_I64, r, ir_const(b, IR_I64, 32));
        ir_mov(b, IR_I32, a64_cpu_nf, ir_trunc(b, IR_I32, IR_I64, hi));
        IrTemp nz = ir_setcond(b, IR_I64, IR_COND_NE, r, ir_const(b, IR_I64, 0));
        ir_mov(b, IR_I32, a64_cpu_zf, ir_trunc(b, IR_I32, IR_I64, nz));
    } else {
        ir_mov(b, IR_I32, a64_cpu_nf, r);
        ir_mov(b, IR_I32, a64_cpu_zf, r);
    }
}

void a64_set_nzcv_imm(DisasContext *s, int nzcv)
{
    IrBlock *b = a64_ir(s);
    ir_mov(b, IR_I32, a64_cpu_nf, nzcv_flag(b, nzcv, 0));
    ir_mov(b, IR_I32, a64_cpu_zf, nzcv_flag(b, nzcv, 1));
    ir_mov(b, IR_I32, a64_cpu_cf, nzcv_flag(b, nzcv, 2));
    ir_mov(b, IR_I32, a64_cpu_vf, nzcv_flag(b, nzcv, 3));
    a64_flags_written(s);
}

/* Operands (a, b) whose a - b (A64_CC_SUB) or a + b (A64_CC_ADD) has the
 * flags nzcv, for a CCMP whose condition fails (ok: such a pair exists).
 * Z alone (#4, the most common: "x == a || y == b") exists only as an ADD,
 * a subtraction with Z set always has C set. */
typedef struct { bool ok; uint64_t a, b; } A64NzcvPair;
static A64NzcvPair nzcv_pair(int op, int nzcv)
{
    static const A64NzcvPair sub[16] = {
        [0] = {1, 0, 0x8000000000000001ull}, [2] = {1, 1, 0},
        [3] = {1, 0x8000000000000000ull, 1}, [6] = {1, 0, 0}, [8] = {1, 0, 1},
        [9] = {1, 0, 0x8000000000000000ull}, [10] = {1, 0x8000000000000000ull, 0},
    };
    static const A64NzcvPair add[16] = {
        [0] = {1, 0, 1}, [2] = {1, 2, ~0ull},
        [3] = {1, 0x8000000000000000ull, 0x8000000000000001ull}, [4] = {1, 0, 0},
        [6] = {1, 1, ~0ull}, [7] = {1, 0x8000000000000000ull, 0x8000000000000000ull},
        [8] = {1, 0, 0x8000000000000000ull}, [9] = {1, 1, 0x7fffffffffffffffull},
        [10] = {1, 0x8000000000000001ull, ~0ull},
    };
    return (op == A64_CC_SUB ? sub : add)[nzcv & 15];
}

bool a64_flags_lazy_ccmp(DisasContext *s, int op, int sf, IrTemp n, IrTemp m,
                         const A64Cond *cond, int nzcv)
{
    /* the state for later blocks: cc_op/cc_a/cc_b selected by the condition */
    int op_f = nzcv_pair(op, nzcv).ok ? op : op ^ (A64_CC_SUB ^ A64_CC_ADD);
    A64NzcvPair f = nzcv_pair(op_f, nzcv);
    if (!f.ok)
        return false;
    IrBlock *b = a64_ir(s);
    IrTemp cv = a64_cond_value(s, cond, IR_I64), zero = ir_const(b, IR_I64, 0);
    a64_flags_lazy(s, op, sf, n, m); /* the compare's operands, as for CMP */
    IrTemp a = s->flags.lazy_a, c = s->flags.lazy_b;
    ir_mov(b, IR_I64, a64_cpu_cc_a,
           ir_movcond(b, IR_I64, IR_COND_NE, cv, zero, a, ir_const(b, IR_I64, f.a)));
    ir_mov(b, IR_I64, a64_cpu_cc_b,
           ir_movcond(b, IR_I64, IR_COND_NE, cv, zero, c, ir_const(b, IR_I64, f.b)));
    if (op_f != op) {
        IrTemp cv32 = ir_trunc(b, IR_I32, IR_I64, cv);
        ir_mov(b, IR_I32, a64_cpu_cc_op,
               ir_movcond(b, IR_I32, IR_COND_NE, cv32, ir_const(b, IR_I32, 0),
                          ir_const(b, IR_I32, (uint64_t)op), ir_const(b, IR_I32, (uint64_t)op_f)));
    } else {
        /* the pair is 64-bit (shifted) even for a 32-bit CCMP */
        ir_mov(b, IR_I32, a64_cpu_cc_op, ir_const(b, IR_I32, (uint64_t)op));
    }
    s->flags.ccmp = true;
    s->flags.narrow_a = s->flags.narrow_b = 0;
    s->flags.ccmp_nzcv = (uint8_t)nzcv;
    s->flags.ccmp_cv = cv;
    return true;
}

/* ConditionHolds(cc) for a constant NZCV. */
static bool cond_holds(int cc, int nzcv)
{
    bool n = nzcv & 8, z = nzcv & 4, c = nzcv & 2, v = nzcv & 1, r;
    switch (cc >> 1) {
    case 0: r = z; break;
    case 1: r = c; break;
    case 2: r = n; break;
    case 3: r = v; break;
    case 4: r = c && !z; break;
    case 5: r = n == v; break;
    case 6: r = n == v && !z; break;
    default: return true; /* AL, NV */
    }
    return (cc & 1) ? !r : r;
}

/* cc as one comparison of n - m's operands (type t); false for VS/VC,
 * which need V alone. */
static bool sub_cond(IrBlock *b, int cc, IrTemp n, IrTemp m, IrType t, A64Cond *out)
{
    /* cc -> IrCond for n - m; -1: V alone; -2: MI, the sign of n - m */
    static const int conds[8] = {
        IR_COND_EQ, IR_COND_GEU, -2, -1, IR_COND_GTU, IR_COND_GE, IR_COND_GT, IR_COND_ALWAYS,
    };
    int k = conds[cc >> 1];
    if (k == -1)
        return false;
    A64Cond c = {IR_COND_ALWAYS, n, m, t};
    if (k == -2) {
        c.a = ir_sub(b, t, n, m);
        c.b = ir_const(b, t, 0);
        k = IR_COND_LT;
    }
    c.cond = (IrCond)k;
    if (cc >= 14) /* AL, NV */
        c.cond = IR_COND_ALWAYS;
    else if (cc & 1)
        c.cond = ir_cond_invert(c.cond);
    *out = c;
    return true;
}

A64Cond a64_cond(DisasContext *s, int cc)
{
    IrBlock *b = a64_ir(s);
    if (cc < 14)
        a64_flags_sync(s);
    IrTemp zero = ir_const(b, IR_I32, 0);
    A64Cond c = {IR_COND_ALWAYS, zero, zero, IR_I32};
    IrTemp t;

    switch (cc >> 1) {
    case 0: /* EQ: Z set */
        c = (A64Cond){IR_COND_EQ, a64_cpu_zf, zero, IR_I32};
        break;
    case 1: /* CS: C set */
        c = (A64Cond){IR_COND_NE, a64_cpu_cf, zero, IR_I32};
        break;
    case 2: /* MI: N set */
        c = (A64Cond){IR_COND_LT, a64_cpu_nf, zero, IR_I32};
        break;
    case 3: /* VS: V set */
        c = (A64Cond){IR_COND_LT, a64_cpu_vf, zero, IR_I32};
        break;
    case 4: /* HI: C set and Z clear */
        t = ir_setcond(b, IR_I32, IR_COND_NE, a64_cpu_zf, zero);
        t = ir_and(b, IR_I32, t, a64_cpu_cf);
        c = (A64Cond){IR_COND_NE, t, zero, IR_I32};
        break;
    case 5: /* GE: N == V */
        t = ir_xor(b, IR_I32, a64_cpu_nf, a64_cpu_vf);
        c = (A64Cond){IR_COND_GE, t, zero, IR_I32};
        break;
    case 6: /* GT: Z clear and N == V */
        t = ir_xor(b, IR_I32, a64_cpu_nf, a64_cpu_vf);
        t = ir_sar(b, IR_I32, t, ir_const(b, IR_I32, 31)); /* -1 if N != V */
        t = ir_andc(b, IR_I32, a64_cpu_zf, t);
        c = (A64Cond){IR_COND_NE, t, zero, IR_I32};
        break;
    case 7: /* AL, NV: always */
        return c;
    }
    if (cc & 1)
        c.cond = ir_cond_invert(c.cond);
    return c;
}

/* A condition on flags set before the block (a b.cond that is a branch
 * target of its own): when cc_op says SUB or SUB32 (a CMP, the usual
 * case) compare cc_a and cc_b directly (as i32 for SUB32); otherwise
 * materialise NZCV and test them.  The SUB paths leave the flags lazy, so
 * the state stays unknown after it.  Materialising on every path cost ~45
 * host insns per such block. */
static A64Cond cond_unknown(DisasContext *s, int cc)
{
    IrBlock *b = a64_ir(s);
    IrTemp v = ir_new_temp(b, IR_I32);
    uint32_t l_32 = ir_new_label(b), l_other = ir_new_label(b), l_done = ir_new_label(b);
    ir_brcond(b, IR_I32, IR_COND_EQ, a64_cpu_cc_op, ir_const(b, IR_I32, A64_CC_SUB32), l_32);
    ir_brcond(b, IR_I32, IR_COND_NE, a64_cpu_cc_op, ir_const(b, IR_I32, A64_CC_SUB), l_other);
    A64Cond c;
    sub_cond(b, cc, a64_cpu_cc_a, a64_cpu_cc_b, IR_I64, &c);
    ir_mov(b, IR_I32, v, a64_cond_value(s, &c, IR_I32));
    ir_br(b, l_done);
    ir_label(b, l_32);
    sub_cond(b, cc, ir_trunc(b, IR_I32, IR_I64, a64_cpu_cc_a),
             ir_trunc(b, IR_I32, IR_I64, a64_cpu_cc_b), IR_I32, &c);
    ir_mov(b, IR_I32, v, a64_cond_value(s, &c, IR_I32));
    ir_br(b, l_done);
    ir_label(b, l_other);
    c = a64_cond(s, cc);
    ir_mov(b, IR_I32, v, a64_cond_value(s, &c, IR_I32));
    ir_label(b, l_done);
    s->flags = (struct A64FlagState){ .eager = false };
    return (A64Cond){IR_COND_NE, v, ir_const(b, IR_I32, 0), IR_I32};
}

A64Cond a64_cond_fused(DisasContext *s, int cc)
{
    /* cc -> IrCond for r vs 0 (ANDS: C = V = 0) */
    static const int logic_cond[8] = {
        IR_COND_EQ, IR_COND_NEVER /* CS */, IR_COND_LT /* MI */, IR_COND_NEVER /* VS */,
        IR_COND_NEVER /* HI */, IR_COND_GE, IR_COND_GT, IR_COND_ALWAYS,
    };
    IrBlock *b = a64_ir(s);
    A64Cond c;
    if (s->flags.ccmp) {
        /* cv ? cc(compare) : cc(nzcv immediate), a constant */
        if (cc >= 14 || s->flags.lazy_op != A64_CC_SUB ||
            !sub_cond(b, cc, s->flags.lazy_a, s->flags.lazy_b, IR_I64, &c))
            return a64_cond(s, cc);
        IrTemp r = ir_setcond(b, IR_I64, c.cond, c.a, c.b), cv = s->flags.ccmp_cv;
        IrTemp v = cond_holds(cc, s->flags.ccmp_nzcv)
                       ? ir_or(b, IR_I64, ir_xor(b, IR_I64, cv, ir_const(b, IR_I64, 1)), r)
                       : ir_and(b, IR_I64, cv, r);
        return (A64Cond){IR_COND_NE, v, ir_const(b, IR_I64, 0), IR_I64};
    }
    if (!s->flags.eager && !s->flags.lazy_op && cc < 14 && (cc >> 1) != 3)
        return cond_unknown(s, cc);
    /* a 32-bit compare at 32 bits: the same N, Z, C, V as the shifted one */
    bool narrow = s->flags.narrow_a != 0;
    IrType t = narrow ? IR_I32 : IR_I64;
    IrTemp fa = narrow ? s->flags.narrow_a : s->flags.lazy_a;
    IrTemp fb = narrow ? s->flags.narrow_b : s->flags.lazy_b;
    if (s->flags.lazy_op == A64_CC_SUB && sub_cond(b, cc, fa, fb, t, &c))
        return c;
    if (!s->flags.logic)
        return a64_cond(s, cc);
    c = (A64Cond){(IrCond)logic_cond[cc >> 1], fa, ir_const(b, t, 0), t};
    if (cc >= 14) /* AL, NV */
        c.cond = IR_COND_ALWAYS;
    else if (cc & 1)
        c.cond = ir_cond_invert(c.cond);
    return c;
}

IrTemp a64_cond_value(DisasContext *s, const A64Cond *c, IrType t)
{
    IrBlock *b = a64_ir(s);
    IrTemp v = ir_setcond(b, c->type, c->cond, c->a, c->b);
    if (ir_type_bits(t) > ir_type_bits(c->type))
        return ir_zext(b, t, c->type, v);
    if (ir_type_bits(t) < ir_type_bits(c->type))
        return ir_trunc(b, t, c->type, v);
    return v;
}

/* ---- block control ------------------------------------------------------------ */
void a64_undef(DisasContext *s)
{
    ir_exit(a64_ir(s), IR_EXIT_UNDEF, s->pc_curr);
    s->base.is_jmp = DISAS_NORETURN;
}

void a64_goto(DisasContext *s, unsigned slot, uint64_t dest)
{
    ir_goto_tb(a64_ir(s), slot, dest);
}

/* ---- decoders ------------------------------------------------------------------ */
/* One decoder per *.decode file of this folder, in the order CMake listed
 * them (the integer one first): a64-decoders.inc has DECODER(name) lines. */
#define DECODER(name) bool a64_decode_##name(DisasContext *s, uint32_t insn);
#include "frontend/aarch64/a64-decoders.inc"
#undef DECODER

static bool a64_decode(DisasContext *s, uint32_t insn)
{
#define DECODER(name) if (a64_decode_##name(s, insn)) return true;
#include "frontend/aarch64/a64-decoders.inc"
#undef DECODER
    return false;
}

/* ---- translator hooks ------------------------------------------------------------ */
static void a64_tb_start(DisasContextBase *db) {}

static void a64_insn_start(DisasContextBase *db)
{
    ir_insn_start(db->ir, db->pc_next, 4);
}

static void a64_translate_insn(DisasContextBase *db)
{
    DisasContext *s = (DisasContext *)db;
    uint32_t insn = 0;

    s->pc_curr = db->pc_next;
    /* The loop checked that 4 bytes at pc_next are readable. */
    if (!translator_ldl(db, s->pc_curr, &insn)) {
        ir_exit(db->ir, IR_EXIT_FETCH_FAULT, s->pc_curr);
        db->is_jmp = DISAS_NORETURN;
        return;
    }
    s->insn = insn;
    db->pc_next = s->pc_curr + 4;
    uint32_t n_ops = db->ir->n_ops;
    s->flags_at_insn = s->flags;
    s->n_side_at_insn = s->n_side;
    if (!a64_decode(s, insn)) {
        /* trans_ functions should reject before emitting anything; drop
         * whatever a rejecting one left behind anyway. */
        db->ir->n_ops = n_ops;
        s->flags = s->flags_at_insn;
        s->n_side = s->n_side_at_insn;
        a64_undef(s);
    }
}

static void a64_tb_stop(DisasContextBase *db)
{
    switch (db->is_jmp) {
    case DISAS_NEXT:
    case DISAS_TOO_MANY:
        ir_goto_tb(db->ir, 0, db->pc_next);
        break;
    default: /* the last insn emitted its exits */
        break;
    }
    DisasContext *s = (DisasContext *)db;
    for (unsigned i = 0; i < s->n_side; i++) {
        ir_label(db->ir, s->side_label[i]);
        ir_goto_tb(db->ir, 2 + i, s->side_pc[i]);
        /* the exit belongs to its branch (--stats counts the insns it skips) */
        IrInst *gt = &db->ir->ops[db->ir->n_ops - 1];
        if (gt->opc == IR_OP_goto_tb)
            gt->insn_idx = s->side_insn[i];
    }
}

static const TranslatorOps a64_translator_ops = {
    .tb_start = a64_tb_start,
    .insn_start = a64_insn_start,
    .translate_insn = a64_translate_insn,
    .tb_stop = a64_tb_stop,
    .min_insn_len = 4,
};

static IrBlock *a64_translate(uint64_t pc, uint32_t mode_flags, const GuestCodeReader *code,
                              unsigned max_insns)
{
    DisasContext s = {0};

    a64_init_globals();
    s.base.pc_first = pc;
    s.base.max_insns = max_insns;
    s.base.mode_flags = mode_flags;
    s.base.code = code;
    s.features = a64_features;
    s.base.ir = ir_block_new(&a64_globals, pc, mode_flags);
    if (pc & 3) {
        /* Misaligned pc: Linux delivers SIGBUS; report it as a fetch fault
         * at that pc (the runtime decides the signal). */
        ir_insn_start(s.base.ir, pc, 4);
        ir_exit(s.base.ir, IR_EXIT_FETCH_FAULT, pc);
        return s.base.ir;
    }
    translator_loop(&a64_translator_ops, &s.base);
    a64_mark_dead_flag_exits(s.base.ir, code);
    return s.base.ir;
}

static void a64_arch_init(void)
{
    a64_init_globals();
}

/* Blocks executed that read or write them (sqlite3, awk, zstd -d, lua):
 * x0 12%, x19 6-11%, sp 5-10%, x30 6-9% of all global accesses. */
static const char *const a64_pinned[] = {"x0", "x19", "sp", "x30", NULL};

const GuestArch guest_arch_aarch64 = {
    .name = "aarch64",
    .llvm_triple = "aarch64-linux-gnu",
    .state_size = sizeof(A64State),
    .state_align = _Alignof(A64State),
    .globals = &a64_globals,
    .init = a64_arch_init,
    .translate = a64_translate,
    .config_id = a64_cpu_get_features,
    .set_config = a64_cpu_set_features,
    .pinned = a64_pinned,
};
