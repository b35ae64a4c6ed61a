/*
 * aot-a64.c - the few A64 branch encodings code discovery needs (Arm ARM,
 * "Branches, Exception Generating and System instructions"):
 *
 *   B       | 0 | 0 0 1 0 1 |                 imm26                    |
 *   BL      | 1 | 0 0 1 0 1 |                 imm26                    |
 *   B.cond  | 0 1 0 1 0 1 0 0 |          imm19          | c | cond |  (c=1: BC.cond)
 *   CBZ/NZ  | sf | 0 1 1 0 1 0 | op |        imm19        |   Rt   |
 *   TBZ/NZ  | b5 | 0 1 1 0 1 1 | op |  b40  |   imm14    |   Rt   |
 *   BR etc. | 1 1 0 1 0 1 1 | opc(4) | op2(5) | op3(6) | Rn | op4 |
 *            opc 0000 BR, 0001 BLR, 0010 RET, 0100 ERET, 0101 DRPS,
 *                1000 BRAA/BRAB, 1001 BLRAA/BLRAB (Z bit = bit 24)
 *
 * and the two that materialise a code address (pointers to functions):
 *   ADRP    | 1 | immlo | 1 0 0 0 0 |          immhi          |   Rd   |
 *   ADD imm | 1 | 0 | 0 | 1 0 0 0 1 0 | sh |   imm12   |  Rn  |   Rd   |
 */
#include "aot/aot.h"

static uint64_t branch_target(uint64_t pc, uint32_t imm, unsigned bits)
{
    /* sign-extend imm (bits wide) and scale by 4 */
    int64_t off = (int64_t)((uint64_t)imm << (64 - bits)) >> (64 - bits);
    return pc + (uint64_t)(off * 4);
}

AotBranch aot_a64_branch(uint32_t insn, uint64_t pc)
{
    AotBranch b = { AOT_BR_NONE, 0 };
    if ((insn & 0x7C000000u) == 0x14000000u) {          /* B, BL */
        b.kind = (insn >> 31) ? AOT_BR_BL : AOT_BR_B;
        b.target = branch_target(pc, insn & 0x03FFFFFFu, 26);
    } else if ((insn & 0xFF000000u) == 0x54000000u) {   /* B.cond, BC.cond */
        b.kind = AOT_BR_COND;
        b.target = branch_target(pc, (insn >> 5) & 0x7FFFFu, 19);
    } else if ((insn & 0x7E000000u) == 0x34000000u) {   /* CBZ, CBNZ */
        b.kind = AOT_BR_COND;
        b.target = branch_target(pc, (insn >> 5) & 0x7FFFFu, 19);
    } else if ((insn & 0x7E000000u) == 0x36000000u) {   /* TBZ, TBNZ */
        b.kind = AOT_BR_COND;
        b.target = branch_target(pc, (insn >> 5) & 0x3FFFu, 14);
    } else if ((insn & 0xFE000000u) == 0xD6000000u) {   /* branch (register) */
        unsigned opc = (insn >> 21) & 0xF;
        b.kind = (opc == 1 || opc == 9) ? AOT_BR_CALL_INDIRECT : AOT_BR_INDIRECT;
    }
    return b;
}

bool aot_a64_adrp(uint32_t insn, uint64_t pc, unsigned *rd, uint64_t *page)
{
    if ((insn & 0x9F000000u) != 0x90000000u)
        return false;
    uint64_t imm = ((uint64_t)((insn >> 5) & 0x7FFFFu) << 2) | ((insn >> 29) & 3);
    int64_t off = (int64_t)(imm << 43) >> 31;   /* sign-extend 21 bits, times 4096 */
    *rd = insn & 31;
    *page = (pc & ~0xFFFull) + (uint64_t)off;
    return true;
}

bool aot_a64_add_imm(uint32_t insn, unsigned *rd, unsigned *rn, uint64_t *imm)
{
    if ((insn & 0xFF800000u) != 0x91000000u)
        return false;
    *rd = insn & 31;
    *rn = (insn >> 5) & 31;
    *imm = (uint64_t)((insn >> 10) & 0xFFFu) << ((insn >> 22) & 1 ? 12 : 0);
    return true;
}
