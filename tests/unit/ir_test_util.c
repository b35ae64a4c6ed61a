/*
 * ir_test_util.c - fixtures shared by the IR test programs (ir_test_util.h).
 */
#include "ir_test_util.h"

#include "ir/ir-eval.h"

TGlobals tg;
uint8_t tmem[TMEM_SIZE];
unsigned tmem_accesses;
bool ir_test_op_covered[IR_OP_COUNT];

#define OFF(f) ((uint32_t)offsetof(TEnv, f))

void tg_init(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    static const char *const xn[] = {"x0", "x1", "x2", "x3"}, *const wn[] = {"w0", "w1", "w2", "w3"},
                             *const hn[] = {"h0", "h1", "h2", "h3"},
                             *const bn[] = {"b0", "b1", "b2", "b3"};
    for (int i = 0; i < 4; i++) {
        tg.x[i] = ir_global_register(&tg.set, IR_I64, OFF(x) + 8 * i, xn[i], 0);
        tg.w[i] = ir_global_register(&tg.set, IR_I32, OFF(w) + 4 * i, wn[i], 0);
        tg.h[i] = ir_global_register(&tg.set, IR_I16, OFF(h) + 2 * i, hn[i], 0);
        tg.b[i] = ir_global_register(&tg.set, IR_I8, OFF(b) + i, bn[i], 0);
    }
    tg.nf = ir_global_register(&tg.set, IR_I32, OFF(nf), "nf", IR_TEMPF_FLAG);
    tg.zf = ir_global_register(&tg.set, IR_I32, OFF(zf), "zf", IR_TEMPF_FLAG);
    tg.s = ir_global_register(&tg.set, IR_F32, OFF(s), "s", 0);
    tg.d = ir_global_register(&tg.set, IR_F64, OFF(d), "d", 0);
    tg.q[0] = ir_global_register(&tg.set, IR_I128, OFF(q), "q0", 0);
    tg.q[1] = ir_global_register(&tg.set, IR_I128, OFF(q) + 16, "q1", 0);
    tg.v[0] = ir_global_register(&tg.set, IR_V128, OFF(v), "v0", 0);
    tg.v[1] = ir_global_register(&tg.set, IR_V128, OFF(v) + 16, "v1", 0);
}

IrTemp tg_int(IrType t, int i)
{
    switch (t) {
    case IR_I8: return tg.b[i];
    case IR_I16: return tg.h[i];
    case IR_I32: return tg.w[i];
    default: return tg.x[i];
    }
}

uint64_t tenv_get(const TEnv *e, IrType t, int i)
{
    switch (t) {
    case IR_I8: return e->b[i];
    case IR_I16: return e->h[i];
    case IR_I32: return e->w[i];
    default: return e->x[i];
    }
}

void tenv_set(TEnv *e, IrType t, int i, uint64_t v)
{
    switch (t) {
    case IR_I8: e->b[i] = (uint8_t)v; break;
    case IR_I16: e->h[i] = (uint16_t)v; break;
    case IR_I32: e->w[i] = (uint32_t)v; break;
    default: e->x[i] = v; break;
    }
}

/* ---- test memory ---------------------------------------------------------- */
static uint8_t *tmem_at(uint64_t addr, unsigned n)
{
    if (addr < TMEM_BASE || addr + n > TMEM_BASE + TMEM_SIZE || addr + n < addr)
        return NULL;
    if (addr + n > TMEM_HOLE && addr < TMEM_HOLE + 0x100)
        return NULL;
    return &tmem[addr - TMEM_BASE];
}

static bool tm_load(void *o, uint64_t addr, IrMemOp mo, void *out)
{
    uint8_t *p = tmem_at(addr, IR_MO_BYTES(mo));
    tmem_accesses++;
    if (!p)
        return false;
    memcpy(out, p, IR_MO_BYTES(mo));
    return true;
}

static bool tm_store(void *o, uint64_t addr, IrMemOp mo, const void *in)
{
    uint8_t *p = tmem_at(addr, IR_MO_BYTES(mo));
    tmem_accesses++;
    if (!p)
        return false;
    memcpy(p, in, IR_MO_BYTES(mo));
    return true;
}

static bool tm_cmpxchg(void *o, uint64_t addr, IrMemOp mo, const void *expect, const void *newv,
                       void *old)
{
    unsigned n = IR_MO_BYTES(mo);
    uint8_t *p = tmem_at(addr, n);
    tmem_accesses++;
    if (!p)
        return false;
    memcpy(old, p, n);
    if (memcmp(p, expect, n) == 0)
        memcpy(p, newv, n);
    return true;
}

static bool tm_rmw(void *o, uint64_t addr, IrMemOp mo, IrRmwOp op, const void *val, void *old)
{
    unsigned n = IR_MO_BYTES(mo);
    uint8_t *p = tmem_at(addr, n);
    tmem_accesses++;
    if (!p || n > 8)
        return false;
    uint64_t o64 = 0, v64 = 0;
    memcpy(&o64, p, n);
    memcpy(&v64, val, n);
    memcpy(old, &o64, n);
    uint64_t r = ir_rmw_apply(op, n, o64, v64);
    memcpy(p, &r, n);
    return true;
}

const IrMemIface tmem_iface = {NULL, tm_load, tm_store, tm_cmpxchg, tm_rmw};

/* ---- blocks ---------------------------------------------------------------- */
IrBlock *tblock(bool simplify)
{
    tg_init();
    IrBlock *b = ir_block_new(&tg.set, 0x1000, 0);
    b->simplify = simplify;
    ir_insn_start(b, 0x1000, 4);
    return b;
}

bool tverify(const IrBlock *b, char *err, size_t n)
{
    err[0] = 0;
    return ir_verify(b, err, n);
}

IrInterpStatus trun(IrBlock *b, TEnv *e, IrExitInfo *ex, uint32_t *fault_insn)
{
    char err[256];
    if (!tverify(b, err, sizeof err)) {
        ir_print(b, stderr);
        ck_abort_msg("block does not verify: %s", err);
    }
    for (uint32_t i = 0; i < b->n_ops; i++)
        ir_test_op_covered[b->ops[i].opc] = true;
    IrExitInfo dummy;
    uint32_t fi = UINT32_MAX;
    IrInterpStatus st = ir_interp_run(b, e, &tmem_iface, ex ? ex : &dummy, &fi);
    if (fault_insn)
        *fault_insn = fi;
    return st;
}
