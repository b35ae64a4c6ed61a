/*
 * img-map.c - emu-img map (qemu-img's human and JSON layouts) and
 * emu-img resize.
 */
#define _GNU_SOURCE
#include "machine/block/img.h"
#include "machine/block/block.h"

#include <inttypes.h>
#include <string.h>

typedef struct MapEntry {
    uint64_t start, length, offset;
    int depth, st;
    bool has_offset;
    const char *file;
} MapEntry;

/* Returns -1 when the human format cannot show the entry (no host offset). */
static int map_print(const MapEntry *e, bool json, bool first, FILE *out)
{
    if (json) {
        fprintf(out, "%s{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, "
                "\"present\": %s, \"zero\": %s, \"data\": %s", first ? "[" : ",\n", e->start,
                e->length, e->depth, (e->st & BLK_S_ALLOCATED) ? "true" : "false",
                (e->st & BLK_S_ZERO) ? "true" : "false", (e->st & BLK_S_DATA) ? "true" : "false");
        if (e->has_offset)
            fprintf(out, ", \"offset\": %" PRIu64, e->offset);
        fprintf(out, "}");
    } else if ((e->st & BLK_S_DATA) && e->has_offset) {
        fprintf(out, "%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", e->start, e->length,
                e->offset, e->file);
    } else if (e->st & BLK_S_DATA) {
        img_error("File contains external, encrypted or compressed clusters.");
        return -1;
    }
    return 0;
}

int img_map(const char *filename, const char *fmt, bool json, FILE *out)
{
    BlockDev *bs;
    if (blk_open(filename, fmt, BLK_O_RDONLY, &bs) < 0) {
        img_error("Could not open '%s': %s", filename, blk_errmsg());
        return 1;
    }
    int64_t size = blk_length(bs);
    MapEntry cur = {0};
    bool have = false, first = true;
    if (!json)
        fprintf(out, "%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    for (uint64_t off = 0; off < (uint64_t)size;) {
        uint64_t pnum, map;
        int depth;
        BlockDev *layer;
        uint64_t want = (uint64_t)size - off < (1ull << 30) ? (uint64_t)size - off : 1ull << 30;
        int st = blk_block_status_above(bs, off, want, &pnum, &map, &depth, &layer);
        if (st < 0) {
            img_error("error while mapping offset %" PRIu64 ": %s", off, blk_errmsg());
            blk_close(bs);
            return 1;
        }
        st &= BLK_S_DATA | BLK_S_ZERO | BLK_S_ALLOCATED | BLK_S_OFFSET;
        bool has_off = (st & BLK_S_OFFSET) && (st & BLK_S_DATA);
        if (!(st & BLK_S_DATA))
            st &= ~BLK_S_OFFSET;
        const char *file = layer->filename;
        if (have && cur.st == st && cur.depth == depth && cur.has_offset == has_off &&
            (!has_off || (cur.offset + cur.length == map && !strcmp(cur.file, file)))) {
            cur.length += pnum;
        } else {
            if (have) {
                if (map_print(&cur, json, first, out) < 0) {
                    blk_close(bs);
                    return 1;
                }
                first = false;
            }
            cur = (MapEntry){off, pnum, map, depth, st, has_off, file};
            have = true;
        }
        off += pnum;
    }
    if (have && map_print(&cur, json, first, out) < 0) {
        blk_close(bs);
        return 1;
    }
    if (json)
        fprintf(out, first && !have ? "[]\n" : "]\n");
    blk_close(bs);
    return 0;
}

int img_resize(const char *filename, const char *fmt, const char *size, bool shrink, bool quiet,
               FILE *out)
{
    int sign = size[0] == '+' ? 1 : size[0] == '-' ? -1 : 0;
    int64_t v = img_parse_size(sign ? size + 1 : size);
    if (v < 0) {
        img_error("Invalid image size specified. Must be between 0 and 9223372036854775807.");
        return 1;
    }
    BlockDev *bs;
    if (blk_open(filename, fmt, BLK_O_RDWR | BLK_O_NO_BACKING, &bs) < 0) {
        img_error("Could not open '%s': %s", filename, blk_errmsg());
        return 1;
    }
    int64_t cur = blk_length(bs), want = sign > 0 ? cur + v : sign < 0 ? cur - v : v;
    if (want < 0) {
        img_error("New image size must be positive");
        blk_close(bs);
        return 1;
    }
    int rc = 0;
    if (blk_truncate(bs, (uint64_t)want, shrink) < 0 || blk_flush(bs) < 0) {
        img_error("%s", blk_errmsg());
        rc = 1;
    } else if (!quiet) {
        fprintf(out, "Image resized.\n");
    }
    blk_close(bs);
    return rc;
}
