/*
 * cpu-models.c - the CPUs emu-user can present to the guest (-cpu NAME):
 * feature bits for the auxiliary vector and the MIDR_EL1 value.
 *
 * cortex-a53: ARMv8.0-A.  FP and Advanced SIMD; CRC32 is optional in v8.0
 * but every shipped A53 we know of (and qemu's model) has it, so it is
 * advertised.  The Cryptographic Extension (AES/SHA/PMULL) is left out
 * because emu does not implement it, and there are no LSE atomics (v8.1)
 * and no HWCAP_CPUID (Linux >= 4.11 sets it on any core; we follow the
 * project brief and leave it off so glibc reads no ID registers).
 * The frontend decodes only the model's features (A64_FEAT_*): LSE atomics,
 * LDAPR (RCPC) and LDLAR/STLLR (LOR) raise SIGILL on cortex-a53.
 * max: everything emu implements (hwcap.h USER_A64_HWCAP_MAX, A64_FEAT_MAX).
 */
#include <string.h>
#include "frontend/aarch64/a64-cpu.h"
#include "user/hwcap.h"

const UserCpuModel user_cpu_models[] = {
    { "max", "all features emu implements (FP, ASIMD, CRC32, LSE atomics, CPUID)",
      0x410fd083ull /* Cortex-A72 r0p3: glibc picks its generic routines */,
      USER_A64_HWCAP_MAX, 0, A64_FEAT_MAX },
    { "cortex-a53", "ARMv8.0-A Cortex-A53 r0p4 (FP, ASIMD, CRC32; no LSE, no CPUID)",
      0x410fd034ull, A64_HWCAP_FP | A64_HWCAP_ASIMD | A64_HWCAP_CRC32, 0, A64_FEAT_CRC32 },
    { 0 },
};

const UserCpuModel *user_cpu_model_find(const char *name)
{
    for (const UserCpuModel *c = user_cpu_models; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

void user_cpu_model_apply(const UserCpuModel *cpu)
{
    a64_cpu_set_features(cpu->features);
}
