/*
 * simd-ldst.c - loads and stores of B/H/S/D/Q registers in every
 * addressing mode (offset, unscaled, pre/post-index, register offset with
 * extends, literal, pairs), and the AdvSIMD structure forms LD1-LD4,
 * ST1-ST4 (multiple and single lane), LD1R-LD4R, with post-index.
 * Prints the registers, the memory image and the updated base after each.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint8_t mem[512] __attribute__((aligned(16)));
static uint8_t regs[8][16] __attribute__((aligned(16)));

static void fill(void)
{
    for (int i = 0; i < 512; i++)
        mem[i] = (uint8_t)(i * 37 + 11);
    for (int r = 0; r < 8; r++)
        for (int i = 0; i < 16; i++)
            regs[r][i] = (uint8_t)(0xa0 + r * 16 + i);
}

static uint64_t hash_mem(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 512; i++) {
        h ^= mem[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void show(const char *name, uint64_t base_delta)
{
    printf("%-44s", name);
    for (int r = 0; r < 5; r++) {
        uint64_t lo, hi;
        memcpy(&lo, regs[r], 8), memcpy(&hi, regs[r] + 8, 8);
        printf(" %016llx%016llx", (unsigned long long)hi, (unsigned long long)lo);
    }
    printf(" mem=%016llx base%+lld\n", (unsigned long long)hash_mem(), (long long)base_delta);
}

/* Runs INSN with v0-v4 from regs, x0 = mem + 64, x1 = 24, x2 = -8 (as
 * 32-bit: 0xfffffff8); stores v0-v4 back and reports x0's change. */
#define T(INSN)                                                                      \
    do {                                                                             \
        fill();                                                                      \
        uint64_t base = (uint64_t)(mem + 64), b0 = base;                             \
        __asm__ volatile("ldp q0, q1, [%[r]]\n\tldp q2, q3, [%[r], #32]\n\tldr q4, [%[r], #64]\n\t" \
                         "mov x1, #24\n\tmov x2, #-8\n\t"                            \
                         INSN "\n\t"                                                 \
                         "stp q0, q1, [%[r]]\n\tstp q2, q3, [%[r], #32]\n\tstr q4, [%[r], #64]" \
                         : "+&r"(base) : [r] "r"(regs)                               \
                         : "x1", "x2", "v0", "v1", "v2", "v3", "v4", "memory");      \
        show(INSN, (int64_t)(base - b0));                                            \
    } while (0)

static const uint64_t lit_d = 0x1122334455667788ull;

int main(void)
{
    /* scalar FP loads/stores; the base register is %0 */
    T("ldr b0, [%0, #3]"); T("ldr h1, [%0, #6]"); T("ldr s2, [%0, #12]"); T("ldr d3, [%0, #16]");
    T("ldr q4, [%0, #32]"); T("ldur q0, [%0, #-9]"); T("ldur d1, [%0, #1]"); T("ldur s2, [%0, #-1]");
    T("ldr q1, [%0, #16]!"); T("ldr d2, [%0], #-24"); T("ldr s0, [%0, #-4]!"); T("ldr h3, [%0], #2");
    T("ldr b4, [%0], #255"); T("ldr q2, [%0, x1]"); T("ldr q3, [%0, x1, lsl #4]");
    T("ldr d0, [%0, w2, sxtw]"); T("ldr d0, [%0, w2, sxtw #3]"); T("ldr s1, [%0, x2, lsl #2]");
    T("ldr h2, [%0, w1, uxtw #1]"); T("ldr b3, [%0, x1]");
    T("str b0, [%0, #3]"); T("str h1, [%0, #6]"); T("str s2, [%0, #12]"); T("str d3, [%0, #16]");
    T("str q4, [%0, #32]"); T("stur q0, [%0, #-9]"); T("str q1, [%0, #-16]!"); T("str d2, [%0], #8");
    T("str q3, [%0, x1, lsl #4]"); T("str s4, [%0, w2, sxtw #2]"); T("stur h0, [%0, #-3]");
    T("ldp q0, q1, [%0]"); T("ldp d2, d3, [%0, #-16]"); T("ldp s3, s4, [%0, #4]!");
    T("ldp q1, q2, [%0], #-32"); T("ldnp q3, q4, [%0, #32]"); T("ldnp d0, d1, [%0, #8]");
    T("stp q0, q1, [%0, #16]"); T("stp d2, d3, [%0, #-8]!"); T("stp s1, s2, [%0], #12");
    T("stp q3, q4, [%0, #-64]!"); T("stnp q0, q1, [%0]"); T("stnp s2, s3, [%0, #-4]");
    /* structures */
    T("ld1 {v0.16b}, [%0]"); T("ld1 {v1.8b, v2.8b}, [%0]"); T("ld1 {v0.4s, v1.4s, v2.4s}, [%0], #48");
    T("ld1 {v1.2d, v2.2d, v3.2d, v4.2d}, [%0], #64"); T("ld1 {v0.8h}, [%0], x1");
    T("ld2 {v0.16b, v1.16b}, [%0]"); T("ld2 {v1.4h, v2.4h}, [%0], #16"); T("ld2 {v2.2d, v3.2d}, [%0]");
    T("ld3 {v0.8b, v1.8b, v2.8b}, [%0]"); T("ld3 {v1.4s, v2.4s, v3.4s}, [%0], #48");
    T("ld4 {v0.16b, v1.16b, v2.16b, v3.16b}, [%0]"); T("ld4 {v1.2s, v2.2s, v3.2s, v4.2s}, [%0], x1");
    T("st1 {v0.16b}, [%0]"); T("st1 {v1.8b, v2.8b}, [%0], #16"); T("st1 {v0.2d, v1.2d, v2.2d, v3.2d}, [%0]");
    T("st2 {v0.8h, v1.8h}, [%0]"); T("st2 {v2.8b, v3.8b}, [%0], #16"); T("st3 {v1.16b, v2.16b, v3.16b}, [%0]");
    T("st3 {v0.4h, v1.4h, v2.4h}, [%0], x1"); T("st4 {v0.4s, v1.4s, v2.4s, v3.4s}, [%0]");
    T("st4 {v1.8b, v2.8b, v3.8b, v4.8b}, [%0], #32");
    T("ld1 {v0.b}[5], [%0]"); T("ld1 {v1.h}[6], [%0], #2"); T("ld1 {v2.s}[3], [%0], x1");
    T("ld1 {v3.d}[1], [%0]"); T("ld2 {v0.s, v1.s}[1], [%0]"); T("ld3 {v1.b, v2.b, v3.b}[14], [%0], #3");
    T("ld4 {v0.h, v1.h, v2.h, v3.h}[7], [%0]"); T("ld4 {v1.d, v2.d, v3.d, v4.d}[0], [%0], #32");
    T("st1 {v0.b}[9], [%0]"); T("st1 {v1.d}[1], [%0], #8"); T("st2 {v2.h, v3.h}[3], [%0]");
    T("st3 {v0.s, v1.s, v2.s}[2], [%0], x1"); T("st4 {v1.b, v2.b, v3.b, v4.b}[15], [%0]");
    T("ld1r {v0.16b}, [%0]"); T("ld1r {v1.4h}, [%0], #2"); T("ld1r {v2.2d}, [%0], x1");
    T("ld2r {v0.4s, v1.4s}, [%0]"); T("ld3r {v1.8b, v2.8b, v3.8b}, [%0], #3"); T("ld4r {v0.2d, v1.2d, v2.2d, v3.2d}, [%0]");
    /* literal loads */
    {
        uint64_t d, s, q0, q1;
        __asm__ volatile("ldr d0, 1f\n\tldr s1, 1f\n\tldr q2, 1f\n\tb 2f\n\t.align 4\n1:\t.quad 0x1122334455667788\n\t"
                         ".quad 0x99aabbccddeeff00\n2:\tfmov %0, d0\n\tfmov %1, d1\n\tmov %2, v2.d[0]\n\tmov %3, v2.d[1]"
                         : "=r"(d), "=r"(s), "=r"(q0), "=r"(q1) : : "v0", "v1", "v2");
        printf("literal %016llx %016llx %016llx%016llx %d\n", (unsigned long long)d, (unsigned long long)s,
               (unsigned long long)q1, (unsigned long long)q0, d == lit_d);
    }
    return 0;
}
