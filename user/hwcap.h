/*
 * hwcap.h - the AArch64 features emu advertises to the guest (AT_HWCAP,
 * AT_HWCAP2).  The one place to change when the frontend learns a feature:
 * glibc picks string/memory routines (ifuncs) from these bits, so a bit set
 * here for an unimplemented feature makes the guest run into SIGILL.
 */
#ifndef EMU_USER_HWCAP_H
#define EMU_USER_HWCAP_H

#include <stdint.h>

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

/* What the AArch64 frontend implements (see frontend/aarch64/): FP and
 * Advanced SIMD, CRC32 (a64-trans-dp.c), LSE atomics (a64-trans-ldst.c:
 * CAS, CASP, SWP, LD<op>; glibc's outline atomics pick them from this bit)
 * and MRS of the ID registers (a64-trans-sys.c: MIDR_EL1 reads
 * A64State.midr, set by user-run.c).  Not yet: AES/SHA/PMULL, FPHP, SVE. */
#define USER_A64_HWCAP_MAX \
    (A64_HWCAP_FP | A64_HWCAP_ASIMD | A64_HWCAP_CRC32 | A64_HWCAP_ATOMICS | A64_HWCAP_CPUID)

/* A CPU the guest can be shown (-cpu NAME): what AT_HWCAP/AT_HWCAP2 say,
 * what MIDR_EL1 reads, and which optional instructions the frontend
 * decodes (A64_FEAT_*, frontend/aarch64/a64-cpu.h): on cortex-a53 an LSE
 * atomic or LDAPR is unallocated (SIGILL), as on the real core, and
 * ID_AA64ISAR0/1 say so. */
typedef struct UserCpuModel {
    const char *name;
    const char *desc;
    uint64_t midr;
    uint64_t hwcap, hwcap2;
    uint64_t features;   /* A64_FEAT_* */
} UserCpuModel;

/* The CPU called name (NULL: unknown).  "max" is the default. */
const UserCpuModel *user_cpu_model_find(const char *name);
/* The list for -cpu help, NULL-terminated by a zero entry. */
extern const UserCpuModel user_cpu_models[];
/* Makes the frontend model cpu (its A64_FEAT_* mask); call before the
 * first translation. */
void user_cpu_model_apply(const UserCpuModel *cpu);
#define USER_CPU_DEFAULT "max"

#endif /* EMU_USER_HWCAP_H */
