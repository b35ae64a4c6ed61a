/*
 * block-int.h - helpers shared by the block layer's own files (not public).
 */
#ifndef MACHINE_BLOCK_BLOCK_INT_H
#define MACHINE_BLOCK_BLOCK_INT_H

#include "machine/block/block.h"

/* A new device of driver `drv` (state not yet set); NULL if out of memory. */
BlockDev *blk_new(const BlockDriver *drv, const char *name, int flags);
/* Frees a device whose driver state is already gone. */
void blk_free(BlockDev *bs);

static inline uint16_t blk_be16(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] << 8 | b[1]);
}
static inline uint32_t blk_be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static inline uint64_t blk_be64(const void *p)
{
    return (uint64_t)blk_be32(p) << 32 | blk_be32((const uint8_t *)p + 4);
}
static inline void blk_put_be16(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = v >> 8;
    b[1] = v;
}
static inline void blk_put_be32(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = v >> 24;
    b[1] = v >> 16;
    b[2] = v >> 8;
    b[3] = v;
}
static inline void blk_put_be64(void *p, uint64_t v)
{
    blk_put_be32(p, v >> 32);
    blk_put_be32((uint8_t *)p + 4, (uint32_t)v);
}

#endif
