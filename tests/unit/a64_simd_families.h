/*
 * a64_simd_families.h - encodings of the AdvSIMD integer instruction
 * families lifted to plain IR (frontend/aarch64/a64-simd-swar.c), for the
 * tests that run random words of each: a64_simd_swar_test (against the
 * helper) and a64_simd_qemu_diff_test (against qemu-aarch64).  A word is
 * base | (random & free); words the frontend rejects are skipped.
 */
#ifndef EMU_TESTS_UNIT_A64_SIMD_FAMILIES_H
#define EMU_TESTS_UNIT_A64_SIMD_FAMILIES_H

#include <stdint.h>

/* One instruction family: the fixed bits and the bits left random
 * (Q, size, registers, immediates). */
typedef struct A64SimdFamily {
    const char *name;
    uint32_t base, free;
} A64SimdFamily;

#define F_Q (1u << 30)
#define F_SIZE (3u << 22)
#define F_RM (31u << 16)
#define F_RN (31u << 5)
#define F_RD 31u
#define F_REGS (F_RM | F_RN | F_RD)
#define F_SH (127u << 16) /* immh:immb */
#define F_IDX ((63u << 16) | (1u << 11) | F_RN | F_RD) /* L M Rm H Rn Rd (by element) */
#define V3(u, opc) (0x0e200400u | (u) << 29 | (opc) << 11)
#define V3S(u, opc) (0x5e200400u | (u) << 29 | (opc) << 11)
#define V2(u, opc) (0x0e200800u | (u) << 29 | (opc) << 12)
#define V2S(u, opc) (0x5e200800u | (u) << 29 | (opc) << 12)
#define VACR(u, opc) (0x0e300800u | (u) << 29 | (opc) << 12)
#define VSH(u, opc) (0x0f000400u | (u) << 29 | (opc) << 11)
#define VSHS(u, opc) (0x5f000400u | (u) << 29 | (opc) << 11)

static const A64SimdFamily a64_simd_families[] = {
    { "add", V3(0, 0x10), F_Q | F_SIZE | F_REGS },
    { "sub", V3(1, 0x10), F_Q | F_SIZE | F_REGS },
    { "cmeq", V3(1, 0x11), F_Q | F_SIZE | F_REGS },
    { "cmtst", V3(0, 0x11), F_Q | F_SIZE | F_REGS },
    { "cmhi", V3(1, 0x06), F_Q | F_SIZE | F_REGS },
    { "cmhs", V3(1, 0x07), F_Q | F_SIZE | F_REGS },
    { "cmgt", V3(0, 0x06), F_Q | F_SIZE | F_REGS },
    { "cmge", V3(0, 0x07), F_Q | F_SIZE | F_REGS },
    { "umax", V3(1, 0x0c), F_Q | F_SIZE | F_REGS },
    { "umin", V3(1, 0x0d), F_Q | F_SIZE | F_REGS },
    { "smax", V3(0, 0x0c), F_Q | F_SIZE | F_REGS },
    { "smin", V3(0, 0x0d), F_Q | F_SIZE | F_REGS },
    { "addp", V3(0, 0x17), F_Q | F_SIZE | F_REGS },
    { "umaxp", V3(1, 0x14), F_Q | F_SIZE | F_REGS },
    { "uminp", V3(1, 0x15), F_Q | F_SIZE | F_REGS },
    { "smaxp", V3(0, 0x14), F_Q | F_SIZE | F_REGS },
    { "sminp", V3(0, 0x15), F_Q | F_SIZE | F_REGS },
    { "add/sub/cmtst/cmeq d (scalar)", V3S(0, 0x10), (1u << 29) | (1u << 11) | F_SIZE | F_REGS },
    { "cmhi/cmhs/cmgt/cmge d (scalar)", V3S(0, 0x06), (1u << 29) | (1u << 11) | F_SIZE | F_REGS },
    { "cmgt0/cmge0", V2(0, 0x08), (1u << 29) | F_Q | F_SIZE | F_RN | F_RD },
    { "cmeq0/cmle0", V2(0, 0x09), (1u << 29) | F_Q | F_SIZE | F_RN | F_RD },
    { "cmlt0", V2(0, 0x0a), F_Q | F_SIZE | F_RN | F_RD },
    { "abs/neg", V2(0, 0x0b), (1u << 29) | F_Q | F_SIZE | F_RN | F_RD },
    { "cm*0/abs/neg d (scalar)", V2S(0, 0x08), (1u << 29) | (3u << 12) | F_SIZE | F_RN | F_RD },
    { "not", V2(1, 0x05), F_Q | F_RN | F_RD },
    { "xtn", V2(0, 0x12), F_Q | F_SIZE | F_RN | F_RD },
    { "addv", VACR(0, 0x1b), F_Q | F_SIZE | F_RN | F_RD },
    { "umaxv/smaxv", VACR(0, 0x0a), (1u << 29) | F_Q | F_SIZE | F_RN | F_RD },
    { "uminv/sminv", VACR(0, 0x1a), (1u << 29) | F_Q | F_SIZE | F_RN | F_RD },
    { "addp d (scalar)", 0x5e300800u | 0x1bu << 12, F_SIZE | F_RN | F_RD },
    { "ushr/sshr", VSH(0, 0x00), (1u << 29) | F_Q | F_SH | F_RN | F_RD },
    { "usra/ssra", VSH(0, 0x02), (1u << 29) | F_Q | F_SH | F_RN | F_RD },
    { "shl", VSH(0, 0x0a), F_Q | F_SH | F_RN | F_RD },
    { "shrn/rshrn", VSH(0, 0x10), (1u << 11) | F_Q | F_SH | F_RN | F_RD },
    { "ushr/sshr/usra/ssra d (scalar)", VSHS(0, 0x00), (1u << 29) | (1u << 12) | F_SH | F_RN | F_RD },
    { "shl d (scalar)", VSHS(0, 0x0a), F_SH | F_RN | F_RD },
    { "dup (element)", 0x0e000400u, F_Q | (31u << 16) | F_RN | F_RD },
    { "dup (scalar)", 0x5e000400u, (31u << 16) | F_RN | F_RD },
    { "ins (element)", 0x6e000400u, (31u << 16) | (15u << 11) | F_RN | F_RD },
    { "ext", 0x2e000000u, F_Q | F_RM | (15u << 11) | F_RN | F_RD },
    { "zip/uzp/trn", 0x0e000800u, F_Q | F_SIZE | F_REGS | (7u << 12) },
    { "ushll/sshll", VSH(0, 0x14), (1u << 29) | F_Q | F_SH | F_RN | F_RD },
    { "shll", V2(1, 0x13), F_Q | F_SIZE | F_RN | F_RD },
    { "rev16/rev32/rev64", V2(0, 0x00), (1u << 29) | (1u << 12) | F_Q | F_SIZE | F_RN | F_RD },
    { "cnt/not/rbit", V2(0, 0x05), (1u << 29) | (1u << 22) | F_Q | F_RN | F_RD },
    { "uhadd/urhadd/uhsub (+signed)", V3(0, 0x00), (1u << 29) | (3u << 12) | F_Q | F_SIZE | F_REGS },
    { "uabd/uaba (+signed)", V3(0, 0x0e), (1u << 29) | (1u << 11) | F_Q | F_SIZE | F_REGS },
    { "addl/addw/subl/subw/addhn/abal/subhn/abdl", 0x0e200000u, (1u << 29) | (7u << 12) | F_Q | F_SIZE | F_REGS },
    { "uaddlp/uadalp (+signed)", V2(0, 0x02), (1u << 29) | (1u << 14) | F_Q | F_SIZE | F_RN | F_RD },
    { "mul/mla/mls .h", V3(0, 0x12) | 1u << 22, (1u << 29) | (1u << 11) | F_Q | F_REGS },
    { "mul/mla/mls .s", V3(0, 0x12) | 2u << 22, (1u << 29) | (1u << 11) | F_Q | F_REGS },
    { "umull/umlal/umlsl (+signed)", 0x0e208000u, (1u << 29) | (3u << 13) | F_Q | F_SIZE | F_REGS },
    { "mul (element) .h", 0x0f408000u, F_Q | F_IDX },
    { "mul (element) .s", 0x0f808000u, F_Q | F_IDX },
    { "mla/mls (element) .h", 0x2f400000u, (1u << 14) | F_Q | F_IDX },
    { "mla/mls (element) .s", 0x2f800000u, (1u << 14) | F_Q | F_IDX },
    { "umull/umlal/umlsl (element) .h (+signed)", 0x0f402000u, (1u << 29) | (3u << 14) | F_Q | F_IDX },
    { "umull/umlal/umlsl (element) .s (+signed)", 0x0f802000u, (1u << 29) | (3u << 14) | F_Q | F_IDX },
};

#define A64_SIMD_N_FAMILIES ((int)(sizeof(a64_simd_families) / sizeof(a64_simd_families[0])))

#endif /* EMU_TESTS_UNIT_A64_SIMD_FAMILIES_H */
