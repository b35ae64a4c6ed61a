/*
 * a64-flags-live.c - are the condition flags dead at a guest pc?
 *
 * The frontend asks this for every goto_tb target of a block: when the
 * code there overwrites NZCV before anything reads them, the block need
 * not write its flags for that exit (IrBlock.flags_dead_slots, used by
 * ir_pass_dead_globals).  Most compares feed only the branch right after
 * them, so most cc_op/cc_a/cc_b stores go.
 *
 * A forward scan over the target's instructions (up to 64), classified by
 * their encodings (Arm ARM, "A64 instruction set encoding").  It follows
 * B, takes both ways of CBZ/TBZ, and stops (flags live) at anything it
 * does not know to be harmless.  BL/BLR and RET end it with the flags
 * dead: AAPCS64 keeps no flags across calls and returns.  It reads only
 * within [lo, hi), the block's own pages: a write there invalidates the
 * block, so the answer cannot go stale without the block going too.
 */
#include "frontend/aarch64/a64-translate.h"

#include "ir/ir.h"

enum FlagUse {
    FL_NEUTRAL,   /* neither reads nor writes NZCV */
    FL_READS,     /* reads (some of) NZCV: live */
    FL_WRITES,    /* writes all of NZCV without reading: dead */
    FL_DEAD_END,  /* call or return: dead by the ABI */
    FL_LIVE_END,  /* unknown target or effect: live */
    FL_B,         /* B imm26: go on at its target */
    FL_CB,        /* CBZ/CBNZ/TBZ/TBNZ: both ways must be dead */
};

typedef struct FlagPattern {
    uint32_t mask, value;
    uint8_t use;
} FlagPattern;

/* First match wins; no match is FL_NEUTRAL (loads, stores, data
 * processing, SIMD). */
static const FlagPattern flag_patterns[] = {
    {0xFF000000, 0x54000000, FL_READS},     /* B.cond, BC.cond */
    {0x1FE00000, 0x1A800000, FL_READS},     /* CSEL, CSINC, CSINV, CSNEG */
    {0x1FE00000, 0x1A400000, FL_READS},     /* CCMN, CCMP */
    {0x1FE00000, 0x1A000000, FL_READS},     /* ADC(S), SBC(S), RMIF, SETF8/16 */
    {0x5F200C00, 0x1E200C00, FL_READS},     /* FCSEL */
    {0x5F200C00, 0x1E200400, FL_READS},     /* FCCMP(E) */
    {0xFF20FC07, 0x1E202000, FL_WRITES},    /* FCMP(E) */
    {0x3F800000, 0x31000000, FL_WRITES},    /* ADDS/SUBS immediate */
    {0x3F000000, 0x2B000000, FL_WRITES},    /* ADDS/SUBS shifted or extended register */
    {0x7F800000, 0x72000000, FL_WRITES},    /* ANDS immediate */
    {0x7F000000, 0x6A000000, FL_WRITES},    /* ANDS/BICS shifted register */
    {0xFC000000, 0x14000000, FL_B},         /* B */
    {0xFC000000, 0x94000000, FL_DEAD_END},  /* BL */
    {0x7E000000, 0x34000000, FL_CB},        /* CBZ, CBNZ */
    {0x7E000000, 0x36000000, FL_CB},        /* TBZ, TBNZ */
    {0xFFFFFC1F, 0xD65F0000, FL_DEAD_END},  /* RET */
    {0xFFFFFC1F, 0xD63F0000, FL_DEAD_END},  /* BLR */
    {0xFE000000, 0xD6000000, FL_LIVE_END},  /* BR, ERET, authenticated forms */
    {0xFFFFF01F, 0xD503201F, FL_NEUTRAL},   /* hints: NOP, BTI, PACIASP... */
    {0xFFFFF01F, 0xD503301F, FL_NEUTRAL},   /* CLREX, DSB, DMB, ISB, SB */
    {0xFFFFFFE0, 0xD53B4200, FL_READS},     /* MRS Xt, NZCV */
    {0xFFFFFFE0, 0xD51B4200, FL_WRITES},    /* MSR NZCV, Xt */
    {0xFFF00000, 0xD5300000, FL_NEUTRAL},   /* MRS of another register (TPIDR_EL0...) */
    {0xFFF00000, 0xD5100000, FL_NEUTRAL},   /* MSR of another register (FPCR...) */
    {0xFFC00000, 0xD5000000, FL_LIVE_END},  /* other system insns (CFINV, MSR imm...) */
    {0xFF000000, 0xD4000000, FL_LIVE_END},  /* SVC, BRK, HLT */
};

static enum FlagUse flag_use(uint32_t insn)
{
    for (size_t i = 0; i < sizeof flag_patterns / sizeof flag_patterns[0]; i++)
        if ((insn & flag_patterns[i].mask) == flag_patterns[i].value)
            return (enum FlagUse)flag_patterns[i].use;
    return FL_NEUTRAL;
}

static int64_t sext(uint64_t v, unsigned bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

typedef struct FlagScan {
    const GuestCodeReader *rd;
    uint64_t lo, hi;            /* readable window: the block's pages */
    unsigned budget;            /* instructions left to read */
    uint64_t read_lo, read_hi;  /* what was read */
} FlagScan;

static bool dead_from(FlagScan *fs, uint64_t pc, unsigned depth)
{
    for (;;) {
        uint32_t insn;
        if (!fs->budget || pc < fs->lo || pc + 4 > fs->hi || (pc & 3) ||
            !fs->rd->read(fs->rd->opaque, pc, &insn, 4))
            return false;
        fs->budget--;
        if (pc < fs->read_lo)
            fs->read_lo = pc;
        if (pc + 4 > fs->read_hi)
            fs->read_hi = pc + 4;
        switch (flag_use(insn)) {
        case FL_NEUTRAL:
            pc += 4;
            break;
        case FL_WRITES:
        case FL_DEAD_END:
            return true;
        case FL_READS:
        case FL_LIVE_END:
            return false;
        case FL_B:
            pc += (uint64_t)(sext(insn & 0x3FFFFFF, 26) * 4);
            break;
        case FL_CB: {
            int64_t off = (insn & 0x7E000000) == 0x34000000 ? sext(insn >> 5 & 0x7FFFF, 19)
                                                             : sext(insn >> 5 & 0x3FFF, 14);
            if (depth >= 2 || !dead_from(fs, pc + (uint64_t)(off * 4), depth + 1))
                return false;
            pc += 4;
            break;
        }
        }
    }
}

void a64_mark_dead_flag_exits(IrBlock *b, const GuestCodeReader *rd)
{
    if (!b->guest_size)
        return;
    uint64_t end = b->pc + b->guest_size;
    FlagScan fs = {.rd = rd,
                   .lo = b->pc & ~(uint64_t)0xFFF,
                   .hi = ((end - 1) | 0xFFF) + 1,
                   .read_lo = b->pc,
                   .read_hi = end};
    uint8_t dead = 0, seen = 0;
    for (uint32_t i = 0; i < b->n_ops; i++) {
        const IrInst *op = &b->ops[i];
        if (op->opc != IR_OP_goto_tb || op->c[0] >= 8)
            continue;
        uint8_t bit = (uint8_t)(1u << op->c[0]);
        fs.budget = 64;
        bool d = dead_from(&fs, op->c[1], 0);
        /* a slot several goto_tb ops use: dead only if dead at every target */
        if (d && !(seen & bit))
            dead |= bit;
        else if (!d)
            dead &= (uint8_t)~bit;
        seen |= bit;
    }
    b->flags_dead_slots = dead;
    b->read_before = (uint16_t)(b->pc - fs.read_lo);
    b->read_after = (uint16_t)(fs.read_hi - end);
}
