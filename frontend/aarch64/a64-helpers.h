/*
 * a64-helpers.h - constants the AArch64 lifters and helpers agree on.
 * (Helper prototypes come from ir/ir-helpers.h via a64-helpers.def.)
 */
#ifndef EMU_FRONTEND_AARCH64_A64_HELPERS_H
#define EMU_FRONTEND_AARCH64_A64_HELPERS_H

#include <stdint.h>

/* CNTFRQ_EL0: the counter (helper_a64_cntvct) counts nanoseconds. */
#define A64_CNTFRQ_HZ 1000000000ull
/* DCZID_EL0: DC ZVA zeroes 2^(4+2) = 64 bytes (BS = 4, DZP = 0). */
#define A64_DCZID_BS 4
#define A64_DCZVA_BYTES 64

#endif /* EMU_FRONTEND_AARCH64_A64_HELPERS_H */
