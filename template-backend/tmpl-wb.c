/*
 * tmpl-wb.c - the write-back map (TmplCode.wb) after translation: its
 * validation (code from a file), and its use at a host fault, from the
 * signal context's registers.  tmpl-gen-mem.c builds it.
 */
#define _GNU_SOURCE /* REG_RAX... */
#include "template-backend/tmpl-internal.h"

#include <string.h>
#include <ucontext.h>

/* An allocatable register and a size of 1, 2, 4 or 8 bytes (bit masks: a
 * warm start checks ~10 pairs for each of its tens of thousands of blocks). */
static bool wb_pair_ok(uint32_t w)
{
    unsigned reg = w & 0xFF, bytes = (w >> 8) & 0xFF;
    return reg < 16 && ((TMPL_ALLOC_MASK >> reg) & 1) && bytes <= 8 && ((0x116u >> bytes) & 1);
}

/* Walk the sites in order; false as soon as the map is malformed.  The
 * site at host offset `at` (UINT32_MAX: none), if any, is returned as the
 * index of its first pair (*found) and its number of pairs (*count). */
static bool wb_walk(const uint32_t *wb, uint32_t n_wb, uint32_t code_size, uint32_t at,
                    uint32_t *found, uint32_t *count)
{
    uint32_t i = 0, prev = 0;
    *count = 0;
    while (i < n_wb) {
        if (n_wb - i < 2)
            return false;
        uint32_t off = wb[i], n = wb[i + 1];
        if ((i && off <= prev) || off >= code_size || n == 0 || n > TMPL_WB_MAX_PAIRS ||
            n > n_wb - i - 2)
            return false;
        for (uint32_t k = 0; k < n; k++)
            if (!wb_pair_ok(wb[i + 2 + k]))
                return false;
        if (off == at) {
            *found = i + 2;
            *count = n;
        }
        prev = off;
        i += 2 + n;
    }
    return true;
}

bool tmpl_wb_valid(const uint32_t *wb, uint32_t n_wb, uint32_t code_size)
{
    uint32_t found, count;
    return wb_walk(wb, n_wb, code_size, UINT32_MAX, &found, &count);
}

bool tmpl_wb_apply(const uint32_t *wb, uint32_t n_wb, uint32_t host_off, const uint64_t regs[16],
                   void *env, uint32_t env_lo, uint32_t env_hi)
{
    uint32_t first = 0, count = 0;
    if (!wb_walk(wb, n_wb, UINT32_MAX, host_off, &first, &count))
        return false;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t w = wb[first + k], bytes = (w >> 8) & 0xFF, off = w >> 16;
        if (off < env_lo || off > env_hi || env_hi - off < bytes)
            return false;
    }
    for (uint32_t k = 0; k < count; k++) {
        uint32_t w = wb[first + k];
        uint64_t v = regs[w & 0xFF];
        memcpy((uint8_t *)env + (w >> 16), &v, (w >> 8) & 0xFF);   /* little-endian: low bytes */
    }
    return true;
}

void tmpl_host_regs(const void *ucontext, uint64_t regs[16])
{
    static const int greg[16] = {
        REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
        REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
    };
    const greg_t *gr = ((const ucontext_t *)ucontext)->uc_mcontext.gregs;
    for (int r = 0; r < 16; r++)
        regs[r] = (uint64_t)gr[greg[r]];
}
