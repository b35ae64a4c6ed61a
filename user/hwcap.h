/*
 * hwcap.h - the AArch64 features emu advertises to the guest (AT_HWCAP,
 * AT_HWCAP2).  The one place to change when the frontend learns a feature:
 * glibc picks string/memory routines (ifuncs) from these bits, so a bit set
 * here for an unimplemented feature makes the guest run into SIGILL.
 */
#ifndef EMU_USER_HWCAP_H
#define EMU_USER_HWCAP_H

/* Bit numbers from the Linux arm64 uapi (asm/hwcap.h). */
#define A64_HWCAP_FP      (1ull << 0)
#define A64_HWCAP_ASIMD   (1ull << 1)
#define A64_HWCAP_AES     (1ull << 3)
#define A64_HWCAP_PMULL   (1ull << 4)
#define A64_HWCAP_SHA1    (1ull << 5)
#define A64_HWCAP_SHA2    (1ull << 6)
#define A64_HWCAP_CRC32   (1ull << 7)
#define A64_HWCAP_ATOMICS (1ull << 8)
#define A64_HWCAP_CPUID   (1ull << 11)

/* MIDR_EL1 shown to the guest: an ARM Cortex-A72 r0p3, a core for which
 * glibc picks its generic string routines. */
#define USER_A64_MIDR 0x410fd083ull

/* What the AArch64 frontend implements (see frontend/aarch64/): FP and
 * Advanced SIMD, CRC32 (a64-trans-dp.c), LSE atomics (a64-trans-ldst.c:
 * CAS, CASP, SWP, LD<op>; glibc's outline atomics pick them from this bit)
 * and MRS of the ID registers (a64-trans-sys.c: MIDR_EL1 reads
 * A64State.midr, set by user-run.c).  Not yet: AES/SHA/PMULL, FPHP, SVE. */
#define USER_A64_HWCAP \
    (A64_HWCAP_FP | A64_HWCAP_ASIMD | A64_HWCAP_CRC32 | A64_HWCAP_ATOMICS | A64_HWCAP_CPUID)
#define USER_A64_HWCAP2 0ull

#endif /* EMU_USER_HWCAP_H */
