/*
 * a64-helpers.c - runtime helpers of the AArch64 integer lifters (declared
 * in a64-helpers.def): CRC32/CRC32C and the generic timer.
 *
 * The virtual counter runs at CNTFRQ_EL0 = 1 GHz and reads the host
 * CLOCK_MONOTONIC in nanoseconds, so guest timing code sees real time.
 */
#define _GNU_SOURCE
#include "frontend/aarch64/a64-helpers.h"

#include <time.h>

#include "ir/ir-helpers.h"

/* Reflected CRC over `bytes` bytes of val, polynomial poly (reflected). */
static uint32_t a64_crc_bytes(uint32_t crc, uint64_t val, unsigned bytes, uint32_t poly)
{
    for (unsigned i = 0; i < bytes; i++) {
        crc ^= (uint8_t)(val >> (8 * i));
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (poly & (0u - (crc & 1)));
    }
    return crc;
}

uint64_t helper_a64_crc32(uint64_t acc, uint64_t val, uint64_t bytes)
{
    return a64_crc_bytes((uint32_t)acc, val, (unsigned)(bytes & 15), 0xEDB88320u);
}

uint64_t helper_a64_crc32c(uint64_t acc, uint64_t val, uint64_t bytes)
{
    return a64_crc_bytes((uint32_t)acc, val, (unsigned)(bytes & 15), 0x82F63B78u);
}

uint64_t helper_a64_cntvct(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
