/*
 * a64-trans-sys.c - A64 exception generation, hints, barriers and system
 * register access (user mode, EL0 view).
 *
 * System registers readable at EL0: TPIDR_EL0 (rw), TPIDRRO_EL0 (r), NZCV,
 * FPCR, FPSR (rw), CTR_EL0 (r), CNTVCT_EL0 (host CLOCK_MONOTONIC ns) and CNTFRQ_EL0
 * (1 GHz), DCZID_EL0 (64-byte DC ZVA), and the ID registers Linux emulates
 * for HWCAP_CPUID (MIDR_EL1 from env->midr, MPIDR_EL1, REVIDR_EL1 and the
 * ID_AA64* space: the values describe what this frontend implements).
 */
#include "frontend/aarch64/a64-int-decode.h"

#include <stddef.h>

#include "frontend/aarch64/a64-helpers.h"

/* Key of a system register: op0:op1:CRn:CRm:op2 (16 bits). */
#define A64_SYSREG(op0, op1, crn, crm, op2) \
    ((op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2))
enum {
    SR_TPIDR_EL0 = A64_SYSREG(3, 3, 13, 0, 2),
    SR_TPIDRRO_EL0 = A64_SYSREG(3, 3, 13, 0, 3),
    SR_NZCV = A64_SYSREG(3, 3, 4, 2, 0),
    SR_FPCR = A64_SYSREG(3, 3, 4, 4, 0),
    SR_FPSR = A64_SYSREG(3, 3, 4, 4, 1),
    SR_CNTFRQ_EL0 = A64_SYSREG(3, 3, 14, 0, 0),
    SR_CNTVCT_EL0 = A64_SYSREG(3, 3, 14, 0, 2),
    SR_CNTVCTSS_EL0 = A64_SYSREG(3, 3, 14, 0, 6),
    SR_DCZID_EL0 = A64_SYSREG(3, 3, 0, 0, 7),
    SR_CTR_EL0 = A64_SYSREG(3, 3, 0, 0, 1),
    SR_MIDR_EL1 = A64_SYSREG(3, 0, 0, 0, 0),
    SR_MPIDR_EL1 = A64_SYSREG(3, 0, 0, 0, 5),
    SR_REVIDR_EL1 = A64_SYSREG(3, 0, 0, 0, 6),
    SR_ID_AA64PFR0_EL1 = A64_SYSREG(3, 0, 0, 4, 0),
    SR_ID_AA64ISAR0_EL1 = A64_SYSREG(3, 0, 0, 6, 0),
    SR_ID_AA64ISAR1_EL1 = A64_SYSREG(3, 0, 0, 6, 1),
};

/* ID register values (HWCAP_CPUID view): EL0/EL1 AArch64-only, FP and
 * AdvSIMD present.  ID_AA64ISAR0/ISAR1 follow the feature mask
 * (a64_id_isar0/1 below). */
#define A64_ID_AA64PFR0  0x0000000000000011ull
/* Writable bits of FPCR and FPSR (the rest reads as zero, as on hardware). */
#define A64_FPCR_MASK    0x07ff0000ull
#define A64_FPSR_MASK    0xf800009full
/* CTR_EL0 (Linux lets EL0 read it): 64-byte I and D lines, PIPT I-cache,
 * IDC = DIC = 0 so guests still clean/invalidate (harmless NOPs here),
 * the value of a Cortex-A72. */
#define A64_CTR_EL0      0x000000008444c004ull

/* ID_AA64ISAR0_EL1: CRC32 [19:16] = 1, Atomic [23:20] = 2 (LSE). */
static uint64_t a64_id_isar0(const DisasContext *s)
{
    return (a64_have(s, A64_FEAT_CRC32) ? 1ull << 16 : 0) |
           (a64_have(s, A64_FEAT_LSE) ? 2ull << 20 : 0);
}

/* ID_AA64ISAR1_EL1: LRCPC [23:20] = 1 (LDAPR). */
static uint64_t a64_id_isar1(const DisasContext *s)
{
    return a64_have(s, A64_FEAT_RCPC) ? 1ull << 20 : 0;
}

bool trans_SVC(DisasContext *s, arg_SVC *a)
{
    /* Linux takes the number from x8 whatever the immediate. */
    ir_exit(a64_ir(s), IR_EXIT_SYSCALL, s->base.pc_next);
    s->base.is_jmp = DISAS_NORETURN;
    return true;
}

bool trans_BRK(DisasContext *s, arg_BRK *a)
{
    ir_exit(a64_ir(s), IR_EXIT_BREAKPOINT, s->pc_curr);
    s->base.is_jmp = DISAS_NORETURN;
    return true;
}

bool trans_HINT(DisasContext *s, arg_HINT *a)
{
    /* NOP, YIELD, WFE, WFI, SEV, SEVL, ESB, PSB, CSDB, BTI, and the PAuth
     * hints (PACIASP...: we do not implement PAuth, so they are NOPs as on
     * a CPU without it). */
    return true;
}

bool trans_CLREX(DisasContext *s, arg_CLREX *a)
{
    IrBlock *b = a64_ir(s);
    ir_stenv(b, IR_I64, offsetof(A64State, excl_addr), ir_const(b, IR_I64, ~0ull));
    return true;
}

static IrFence a64_barrier_kind(int crm)
{
    switch (crm & 3) {
    case 1:
        return IR_FENCE_LOAD;
    case 2:
        return IR_FENCE_STORE;
    default:
        return IR_FENCE_FULL;
    }
}

bool trans_DSB(DisasContext *s, arg_DSB *a)
{
    ir_fence(a64_ir(s), a64_barrier_kind(a->crm));
    return true;
}

bool trans_DMB(DisasContext *s, arg_DMB *a)
{
    ir_fence(a64_ir(s), a64_barrier_kind(a->crm));
    return true;
}

bool trans_ISB(DisasContext *s, arg_ISB *a)
{
    /* End the block: code changed by other means is picked up from the
     * next instruction on (the runtime's SMC handling does the rest). */
    ir_fence(a64_ir(s), IR_FENCE_FULL);
    s->base.is_jmp = DISAS_TOO_MANY;
    return true;
}

bool trans_SB(DisasContext *s, arg_SB *a)
{
    ir_fence(a64_ir(s), IR_FENCE_FULL);
    return true;
}

bool trans_CFINV(DisasContext *s, arg_CFINV *a)
{
    IrBlock *b = a64_ir(s);
    a64_flags_sync(s); /* writes C only */
    ir_mov(b, IR_I32, a64_cpu_cf, ir_xor(b, IR_I32, a64_cpu_cf, ir_const(b, IR_I32, 1)));
    return true;
}

/* DC ZVA: zero the 64-byte block containing Xt. */
static void a64_dc_zva(DisasContext *s, int rt)
{
    IrBlock *b = a64_ir(s);
    IrTemp base = ir_and(b, IR_I64, a64_get_x(s, rt),
                         ir_const(b, IR_I64, ~(uint64_t)(A64_DCZVA_BYTES - 1)));
    IrTemp zero = ir_const(b, IR_I64, 0);
    for (int off = 0; off < A64_DCZVA_BYTES; off += 8) {
        IrTemp addr = ir_add(b, IR_I64, base, ir_const(b, IR_I64, (uint64_t)off));
        ir_st(b, IR_I64, addr, zero, a64_memop(3, false));
    }
}

bool trans_SYS(DisasContext *s, arg_SYS *a)
{
    if (a->op1 == 3 && a->crn == 7 && a->op2 == 1) {
        switch (a->crm) {
        case 4: /* DC ZVA */
            a64_dc_zva(s, a->rt);
            return true;
        case 5:  /* IC IVAU */
        case 10: /* DC CVAC */
        case 11: /* DC CVAU */
        case 12: /* DC CVAP */
        case 13: /* DC CVADP */
        case 14: /* DC CIVAC */
            /* Caches are coherent here; self-modifying code is detected by
             * the runtime through page protection. */
            return true;
        }
    }
    return false;
}

/* NZCV as a 64-bit value (bits 31..28). */
static IrTemp a64_read_nzcv(DisasContext *s)
{
    IrBlock *b = a64_ir(s);
    a64_flags_sync(s);
    IrTemp n = ir_and(b, IR_I32, a64_cpu_nf, ir_const(b, IR_I32, 0x80000000u));
    IrTemp z = ir_setcond(b, IR_I32, IR_COND_EQ, a64_cpu_zf, ir_const(b, IR_I32, 0));
    IrTemp c = ir_and(b, IR_I32, a64_cpu_cf, ir_const(b, IR_I32, 1));
    IrTemp v = ir_shr(b, IR_I32, a64_cpu_vf, ir_const(b, IR_I32, 31));
    IrTemp r = ir_or(b, IR_I32, n, ir_shl(b, IR_I32, z, ir_const(b, IR_I32, 30)));
    r = ir_or(b, IR_I32, r, ir_shl(b, IR_I32, c, ir_const(b, IR_I32, 29)));
    r = ir_or(b, IR_I32, r, ir_shl(b, IR_I32, v, ir_const(b, IR_I32, 28)));
    return ir_zext(b, IR_I64, IR_I32, r);
}

static void a64_write_nzcv(DisasContext *s, IrTemp v64)
{
    IrBlock *b = a64_ir(s);
    IrTemp v = ir_trunc(b, IR_I32, IR_I64, v64);
    ir_mov(b, IR_I32, a64_cpu_nf, ir_and(b, IR_I32, v, ir_const(b, IR_I32, 0x80000000u)));
    /* zf == 0 iff Z: ~v & (1 << 30) */
    ir_mov(b, IR_I32, a64_cpu_zf, ir_andc(b, IR_I32, ir_const(b, IR_I32, 1u << 30), v));
    ir_mov(b, IR_I32, a64_cpu_cf, ir_extract(b, IR_I32, v, 29, 1));
    ir_mov(b, IR_I32, a64_cpu_vf, ir_shl(b, IR_I32, v, ir_const(b, IR_I32, 3)));
    a64_flags_written(s);
}

bool trans_MRS(DisasContext *s, arg_MRS *a)
{
    IrBlock *b = a64_ir(s);
    unsigned key = A64_SYSREG(2 + a->o0, a->op1, a->crn, a->crm, a->op2);
    IrTemp v;

    switch (key) {
    case SR_TPIDR_EL0:
        v = ir_ldenv(b, IR_I64, offsetof(A64State, tpidr_el0));
        break;
    case SR_TPIDRRO_EL0:
        v = ir_ldenv(b, IR_I64, offsetof(A64State, tpidrro_el0));
        break;
    case SR_NZCV:
        v = a64_read_nzcv(s);
        break;
    case SR_FPCR:
        v = ir_zext(b, IR_I64, IR_I32, ir_ldenv(b, IR_I32, offsetof(A64State, fpcr)));
        break;
    case SR_FPSR:
        v = ir_zext(b, IR_I64, IR_I32, ir_ldenv(b, IR_I32, offsetof(A64State, fpsr)));
        break;
    case SR_CNTFRQ_EL0:
        v = ir_const(b, IR_I64, A64_CNTFRQ_HZ);
        break;
    case SR_CNTVCT_EL0:
    case SR_CNTVCTSS_EL0:
        v = ir_call(b, IR_HELPER_a64_cntvct, NULL, 0);
        break;
    case SR_DCZID_EL0:
        v = ir_const(b, IR_I64, A64_DCZID_BS);
        break;
    case SR_CTR_EL0:
        v = ir_const(b, IR_I64, A64_CTR_EL0);
        break;
    case SR_MIDR_EL1:
        v = ir_ldenv(b, IR_I64, offsetof(A64State, midr));
        break;
    case SR_MPIDR_EL1:
        v = ir_const(b, IR_I64, 0x80000000ull);
        break;
    case SR_ID_AA64PFR0_EL1:
        v = ir_const(b, IR_I64, A64_ID_AA64PFR0);
        break;
    case SR_ID_AA64ISAR0_EL1:
        v = ir_const(b, IR_I64, a64_id_isar0(s));
        break;
    case SR_ID_AA64ISAR1_EL1:
        v = ir_const(b, IR_I64, a64_id_isar1(s));
        break;
    default:
        /* The rest of the ID space (op0=3, op1=0, CRn=0, CRm=0..7) reads
         * as zero, as Linux shows it; REVIDR_EL1 is in there too. */
        if (a->o0 == 1 && a->op1 == 0 && a->crn == 0 && a->crm <= 7 &&
            !(a->crm == 0 && a->op2 != 5 && a->op2 != 6)) {
            v = ir_const(b, IR_I64, 0);
            break;
        }
        return false;
    }
    a64_set_x(s, a->rt, v);
    return true;
}

bool trans_MSR_r(DisasContext *s, arg_MSR_r *a)
{
    IrBlock *b = a64_ir(s);
    unsigned key = A64_SYSREG(2 + a->o0, a->op1, a->crn, a->crm, a->op2);
    IrTemp v = a64_get_x(s, a->rt);

    switch (key) {
    case SR_TPIDR_EL0:
        ir_stenv(b, IR_I64, offsetof(A64State, tpidr_el0), v);
        return true;
    case SR_NZCV:
        a64_write_nzcv(s, v);
        return true;
    case SR_FPCR:
        /* only the architectural bits: AHP DN FZ RMode Stride FZ16 Len */
        v = ir_and(b, IR_I64, v, ir_const(b, IR_I64, A64_FPCR_MASK));
        ir_stenv(b, IR_I32, offsetof(A64State, fpcr), ir_trunc(b, IR_I32, IR_I64, v));
        /* FP helpers read fpcr from env; end the block so that a later
         * translation-time use of the rounding mode (if any) sees it. */
        s->base.is_jmp = DISAS_TOO_MANY;
        return true;
    case SR_FPSR:
        /* NZCV QC IDC IXC UFC OFC DZC IOC */
        v = ir_and(b, IR_I64, v, ir_const(b, IR_I64, A64_FPSR_MASK));
        ir_stenv(b, IR_I32, offsetof(A64State, fpsr), ir_trunc(b, IR_I32, IR_I64, v));
        return true;
    }
    return false;
}
