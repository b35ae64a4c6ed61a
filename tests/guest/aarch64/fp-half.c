/*
 * fp-half.c - half-precision conversions (FCVT between H and S/D, FCVTN and
 * FCVTL with half lanes) on edge values, with IEEE and alternative
 * (FPCR.AHP) half precision, in every rounding mode and with FZ/DN.
 * Prints one line per value and FPCR: results and FPSR.
 */
#include <stdint.h>
#include <stdio.h>

static const uint32_t svals[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x477fe000, 0x477ff000, 0x477fefff,
    0x47800000, 0xc7800000, 0x477fffff, 0x38800000, 0x387fc000, 0x33800000, 0x33000000,
    0x33000001, 0xb3400000, 0x7f800000, 0xff800000, 0x7fc01234, 0xffa0abcd, 0x00000001,
    0x3eaaaaab, 0x4cbebc20, 0x37800000, 0x38000000, 0x47ffe000, 0x47fff000, 0x3fffffff,
};
static const uint16_t hvals[] = {
    0x0000, 0x8000, 0x3c00, 0x0001, 0x83ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x7d55,
    0xfd00, 0x7fff, 0xffff, 0x7c01, 0x3555, 0xc000,
};
static const uint64_t fpcrs[] = { 0, 1u << 22, 2u << 22, 3u << 22, 1u << 24, 1u << 25,
                                  1u << 26, (1u << 26) | (3u << 22), (1u << 26) | (1u << 25),
                                  (1u << 26) | (2u << 22) | (1u << 24), 1u << 19 };
#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t fpsr_after(void)
{
    uint64_t v;
    __asm__ volatile("mrs %0, fpsr\n\tmsr fpcr, xzr" : "=r"(v));
    return v;
}
static void setup(uint64_t fpcr) { __asm__ volatile("msr fpcr, %0\n\tmsr fpsr, xzr" : : "r"(fpcr)); }

int main(void)
{
    for (unsigned c = 0; c < N(fpcrs); c++) {
        uint64_t fc = fpcrs[c];
        for (unsigned i = 0; i < N(svals); i++) {
            uint32_t sv = svals[i];
            uint64_t dv = 0, h1, h2, f1, f2, f3;
            setup(fc);
            __asm__ volatile("fmov s1, %w1\n\tfcvt h0, s1\n\tfmov %w0, s0" : "=r"(h1) : "r"(sv) : "v0", "v1");
            f1 = fpsr_after();
            __asm__ volatile("fmov s1, %w1\n\tfcvt d0, s1\n\tfmov %0, d0" : "=r"(dv) : "r"(sv) : "v0", "v1");
            setup(fc);
            __asm__ volatile("fmov d1, %1\n\tfcvt h0, d1\n\tfmov %w0, s0" : "=r"(h2) : "r"(dv + (i & 1)) : "v0", "v1");
            f2 = fpsr_after();
            uint64_t lo;
            setup(fc);
            __asm__ volatile("dup v1.4s, %w1\n\tfcvtn v0.4h, v1.4s\n\tfmov %0, d0" : "=r"(lo) : "r"(sv) : "v0", "v1");
            f3 = fpsr_after();
            printf("fpcr=%08llx s=%08x -> h=%04llx %02llx  d+%u -> h=%04llx %02llx  fcvtn %016llx %02llx\n",
                   (unsigned long long)fc, sv, (unsigned long long)h1, (unsigned long long)f1, i & 1,
                   (unsigned long long)h2, (unsigned long long)f2, (unsigned long long)lo,
                   (unsigned long long)f3);
        }
        for (unsigned i = 0; i < N(hvals); i++) {
            uint64_t s, d, l, f1, f2, f3;
            setup(fc);
            __asm__ volatile("fmov s1, %w1\n\tfcvt s0, h1\n\tfmov %w0, s0" : "=r"(s) : "r"((uint32_t)hvals[i]) : "v0", "v1");
            f1 = fpsr_after();
            setup(fc);
            __asm__ volatile("fmov s1, %w1\n\tfcvt d0, h1\n\tfmov %0, d0" : "=r"(d) : "r"((uint32_t)hvals[i]) : "v0", "v1");
            f2 = fpsr_after();
            setup(fc);
            __asm__ volatile("dup v1.8h, %w1\n\tfcvtl2 v0.4s, v1.8h\n\tmov %0, v0.d[1]" : "=r"(l) : "r"((uint32_t)hvals[i]) : "v0", "v1");
            f3 = fpsr_after();
            printf("fpcr=%08llx h=%04x -> s=%08llx %02llx  d=%016llx %02llx  fcvtl2 %016llx %02llx\n",
                   (unsigned long long)fc, hvals[i], (unsigned long long)s, (unsigned long long)f1,
                   (unsigned long long)d, (unsigned long long)f2, (unsigned long long)l,
                   (unsigned long long)f3);
        }
    }
    return 0;
}
