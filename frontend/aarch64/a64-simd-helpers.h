/*
 * a64-simd-helpers.h - the AdvSIMD operations executed by helper_a64_simd
 * (a64-simd-helpers.c) and the descriptor the lifters (a64-simd.c) pass it.
 *
 *   desc = op | size << 8 | q << 10 | scalar << 11 | imm << 16
 *   regs = rd | rn << 5 | rm << 10
 * size: log2 of the element size in bytes (for "long"/"wide"/"narrow" ops
 * the NARROW element size); q: 128-bit form (for "2" forms: upper half);
 * scalar: one element, the rest of Vd zeroed (AdvSIMD scalar encodings).
 * Every op reads its sources before writing Vd, so Vd may alias them.
 * a64-simd-swar.c lifts many integer ops to plain IR with the same meaning
 * for the same descriptor; the helper remains the reference for them.
 */
#ifndef EMU_FRONTEND_AARCH64_A64_SIMD_HELPERS_H
#define EMU_FRONTEND_AARCH64_A64_SIMD_HELPERS_H

#define A64_SIMD_OPS(X)                                                          \
    /* elementwise integer, d[i] = op(n[i], m[i]) */                              \
    X(ADD) X(SUB) X(MUL) X(MLA) X(MLS) X(AND) X(BIC) X(ORR) X(ORN) X(EOR)         \
    X(BSL) X(BIT) X(BIF) X(CMGT) X(CMHI) X(CMGE) X(CMHS) X(CMEQ) X(CMTST)         \
    X(SMAX) X(UMAX) X(SMIN) X(UMIN) X(SABD) X(UABD) X(SABA) X(UABA)               \
    X(SHADD) X(UHADD) X(SRHADD) X(URHADD) X(SHSUB) X(UHSUB)                       \
    X(SQADD) X(UQADD) X(SQSUB) X(UQSUB) X(SSHL) X(USHL) X(SRSHL) X(URSHL)         \
    /* pairwise over n:m */                                                       \
    X(ADDP) X(SMAXP) X(UMAXP) X(SMINP) X(UMINP)                                   \
    /* FP elementwise / pairwise (size 2 or 3) */                                 \
    X(FADD) X(FSUB) X(FMUL) X(FDIV) X(FMAX) X(FMIN) X(FMAXNM) X(FMINNM) X(FABD)   \
    X(FMULX) X(FMLA) X(FMLS) X(FCMEQ) X(FCMGE) X(FCMGT) X(FACGE) X(FACGT)         \
    X(FADDP) X(FMAXP) X(FMINP) X(FMAXNMP) X(FMINNMP)                              \
    /* two-register misc */                                                       \
    X(REV16) X(REV32) X(REV64) X(CNT) X(NOT) X(RBIT) X(CLS) X(CLZ) X(ABS) X(NEG)  \
    X(CMGT0) X(CMEQ0) X(CMLT0) X(CMGE0) X(CMLE0) X(XTN) X(SQXTN) X(UQXTN)         \
    X(SQXTUN) X(SHLL) X(SADDLP) X(UADDLP) X(SADALP) X(UADALP)                     \
    X(FABS) X(FNEG) X(FSQRT) X(FRINT)          /* FRINT: imm = rmode | exact<<3 */ \
    X(FCVTS) X(FCVTU)                          /* imm = rmode | fbits << 8 */     \
    X(SCVTF) X(UCVTF)                          /* imm = fbits */                  \
    X(FCMGT0) X(FCMEQ0) X(FCMLT0) X(FCMGE0) X(FCMLE0) X(FCVTN) X(FCVTL)           \
    /* across lanes */                                                            \
    X(ADDV) X(SMAXV) X(UMAXV) X(SMINV) X(UMINV) X(SADDLV) X(UADDLV)               \
    X(FMAXV) X(FMINV) X(FMAXNMV) X(FMINNMV)                                       \
    /* three different (size = narrow element) */                                 \
    X(SADDL) X(UADDL) X(SADDW) X(UADDW) X(SSUBL) X(USUBL) X(SSUBW) X(USUBW)       \
    X(ADDHN) X(SUBHN) X(RADDHN) X(RSUBHN) X(SABAL) X(UABAL) X(SABDL) X(UABDL)     \
    X(SMLAL) X(UMLAL) X(SMLSL) X(UMLSL) X(SMULL) X(UMULL)                         \
    /* permute, extract, table */                                                 \
    X(UZP1) X(UZP2) X(TRN1) X(TRN2) X(ZIP1) X(ZIP2)                               \
    X(EXT)                                     /* imm = byte index */             \
    X(TBL) X(TBX)                              /* imm = number of table regs */   \
    /* shifts by immediate (imm = shift) */                                       \
    X(SSHR) X(USHR) X(SSRA) X(USRA) X(SRSHR) X(URSHR) X(SRSRA) X(URSRA)           \
    X(SHL) X(SLI) X(SRI) X(SHRN) X(RSHRN) X(SSHLL) X(USHLL)                       \
    /* by element (imm = index of the m element) */                               \
    X(MUL_IDX) X(MLA_IDX) X(MLS_IDX) X(FMUL_IDX) X(FMLA_IDX) X(FMLS_IDX)          \
    X(SMULL_IDX) X(UMULL_IDX) X(SMLAL_IDX) X(UMLAL_IDX) X(SMLSL_IDX) X(UMLSL_IDX)                           \
    /* copies: DUP_ELT imm = index; INS_ELT imm = dst | src << 8 */               \
    X(DUP_ELT) X(INS_ELT)                                                         \
    /* saturating shifts: by register (m), by immediate, narrowing */            \
    X(SQSHL) X(UQSHL) X(SQRSHL) X(UQRSHL) X(SQSHL_IMM) X(UQSHL_IMM) X(SQSHLU)     \
    X(SQSHRN) X(UQSHRN) X(SQRSHRN) X(UQRSHRN) X(SQSHRUN) X(SQRSHRUN)              \
    /* saturating doubling multiplies, unary saturating, polynomial */           \
    X(SQDMULH) X(SQRDMULH) X(SQDMULH_IDX) X(SQRDMULH_IDX) X(SQABS) X(SQNEG)       \
    X(SUQADD) X(USQADD) X(PMUL)                                                   \
    /* FP estimates and steps, round-to-odd narrowing, FMULX by element */       \
    X(FRECPE) X(FRSQRTE) X(FRECPS) X(FRSQRTS) X(FRECPX) X(URECPE) X(URSQRTE)     \
    X(FCVTXN) X(FMULX_IDX) X(PMULL)                                             \
    /* saturating doubling long multiplies (size = narrow element) */            \
    X(SQDMULL) X(SQDMLAL) X(SQDMLSL) X(SQDMULL_IDX) X(SQDMLAL_IDX) X(SQDMLSL_IDX)

enum A64SimdOp {
#define X(name) A64_SIMD_##name,
    A64_SIMD_OPS(X)
#undef X
    A64_SIMD_OP_COUNT
};
_Static_assert(A64_SIMD_OP_COUNT <= 256, "the op must fit the descriptor's 8 bits");

/* Builders for the two helper arguments. */
static inline unsigned a64_simd_desc(int op, int size, int q, int scalar, unsigned imm)
{
    return (unsigned)op | (unsigned)size << 8 | (unsigned)q << 10 | (unsigned)scalar << 11 | imm << 16;
}
static inline unsigned a64_simd_regs(int rd, int rn, int rm)
{
    return (unsigned)rd | (unsigned)rn << 5 | (unsigned)rm << 10;
}

#endif /* EMU_FRONTEND_AARCH64_A64_SIMD_HELPERS_H */
