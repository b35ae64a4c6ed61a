/*
 * img-info.c - emu-img info and emu-img check: qemu-img's text and JSON
 * layouts, field for field.
 */
#define _GNU_SOURCE
#include "machine/block/img.h"
#include "machine/block/block.h"
#include "machine/block/qcow2.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void img_info_one(BlockDev *bs, bool json, bool last, FILE *out)
{
    char vs[32], ds[32];
    int64_t size = blk_length(bs);
    int64_t alloc = blk_allocated_size(bs);
    const char *fmt = blk_format_name(bs);
    Qcow2State *s = !strcmp(fmt, "qcow2") ? bs->opaque : NULL;
    char full[8192] = "";
    if (bs->backing_file[0]) {
        const char *slash = strrchr(bs->filename, '/');
        if (bs->backing_file[0] != '/' && slash)
            snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - bs->filename), bs->filename,
                     bs->backing_file);
        else
            snprintf(full, sizeof(full), "%s", bs->backing_file);
    }
    if (json) {
        fprintf(out, "{\n");
        if (bs->backing_file[0] && bs->backing_fmt[0])
            fprintf(out, "    \"backing-filename-format\": \"%s\",\n", bs->backing_fmt);
        fprintf(out, "    \"virtual-size\": %" PRId64 ",\n", size);
        fprintf(out, "    \"filename\": \"%s\",\n", bs->filename);
        if (s)
            fprintf(out, "    \"cluster-size\": %" PRIu64 ",\n", s->cluster_size);
        fprintf(out, "    \"format\": \"%s\",\n", fmt);
        if (alloc >= 0)
            fprintf(out, "    \"actual-size\": %" PRId64 ",\n", alloc);
        if (s) {
            fprintf(out, "    \"format-specific\": {\n        \"type\": \"qcow2\",\n"
                         "        \"data\": {\n");
            if (s->version >= 3)
                fprintf(out, "            \"compat\": \"1.1\",\n"
                             "            \"compression-type\": \"%s\",\n"
                             "            \"lazy-refcounts\": %s,\n"
                             "            \"refcount-bits\": %u,\n"
                             "            \"corrupt\": %s,\n"
                             "            \"extended-l2\": false\n",
                        s->compression_type == QCOW2_COMP_ZSTD ? "zstd" : "zlib",
                        (s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) ? "true" : "false",
                        1u << s->refcount_order,
                        (s->incompat & QCOW2_INCOMPAT_CORRUPT) ? "true" : "false");
            else
                fprintf(out, "            \"compat\": \"0.10\",\n"
                             "            \"compression-type\": \"zlib\",\n"
                             "            \"refcount-bits\": 16\n");
            fprintf(out, "        }\n    },\n");
        }
        if (bs->backing_file[0])
            fprintf(out, "    \"full-backing-filename\": \"%s\",\n"
                         "    \"backing-filename\": \"%s\",\n", full, bs->backing_file);
        fprintf(out, "    \"dirty-flag\": %s\n}%s\n",
                s && (s->incompat & QCOW2_INCOMPAT_DIRTY) ? "true" : "false", last ? "" : ",");
        return;
    }
    img_format_size(size, vs, sizeof(vs));
    fprintf(out, "image: %s\nfile format: %s\nvirtual size: %s (%" PRId64 " bytes)\n",
            bs->filename, fmt, vs, size);
    if (alloc >= 0) {
        img_format_size(alloc, ds, sizeof(ds));
        fprintf(out, "disk size: %s\n", ds);
    } else {
        fprintf(out, "disk size: unavailable\n");
    }
    if (s)
        fprintf(out, "cluster_size: %" PRIu64 "\n", s->cluster_size);
    if (bs->backing_file[0]) {
        if (strcmp(full, bs->backing_file))
            fprintf(out, "backing file: %s (actual path: %s)\n", bs->backing_file, full);
        else
            fprintf(out, "backing file: %s\n", bs->backing_file);
        if (bs->backing_fmt[0])
            fprintf(out, "backing file format: %s\n", bs->backing_fmt);
    }
    if (s && (s->incompat & QCOW2_INCOMPAT_DIRTY))
        fprintf(out, "cleanly shut down: no\n");
    if (s) {
        fprintf(out, "Format specific information:\n");
        if (s->version >= 3)
            fprintf(out, "    compat: 1.1\n    compression type: %s\n    lazy refcounts: %s\n"
                         "    refcount bits: %u\n    corrupt: %s\n    extended l2: false\n",
                    s->compression_type == QCOW2_COMP_ZSTD ? "zstd" : "zlib",
                    (s->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) ? "true" : "false",
                    1u << s->refcount_order,
                    (s->incompat & QCOW2_INCOMPAT_CORRUPT) ? "true" : "false");
        else
            fprintf(out, "    compat: 0.10\n    compression type: zlib\n    refcount bits: 16\n");
    }
}

int img_info(const char *filename, const char *fmt, bool json, bool chain, FILE *out)
{
    BlockDev *bs;
    if (blk_open(filename, fmt, BLK_O_RDONLY | (chain ? 0 : BLK_O_NO_BACKING), &bs) < 0) {
        img_error("Could not open '%s': %s", filename, blk_errmsg());
        return 1;
    }
    if (chain && json)
        fprintf(out, "[\n");
    for (BlockDev *b = bs; b; b = chain ? b->backing : NULL) {
        if (chain && !json && b != bs)
            fprintf(out, "\n");
        if (!(chain && json)) {
            img_info_one(b, json, !chain || !b->backing, out);
            continue;
        }
        /* In a JSON list every line is indented once more. */
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (!m)
            break;
        img_info_one(b, json, !b->backing, m);
        fclose(m);
        for (char *line = text, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl)
                nl = line + strlen(line) - 1;
            fprintf(out, "    %.*s\n", (int)(nl - line), line);
        }
        free(text);
    }
    if (chain && json)
        fprintf(out, "]\n");
    blk_close(bs);
    return 0;
}

int img_check(const char *filename, const char *fmt, int fix, bool json, bool quiet, FILE *out)
{
    BlockDev *bs;
    int flags = BLK_O_CHECK | BLK_O_NO_BACKING | (fix ? BLK_O_RDWR : 0);
    if (blk_open(filename, fmt, flags, &bs) < 0) {
        img_error("Could not open '%s': %s", filename, blk_errmsg());
        return 1;
    }
    if (strcmp(blk_format_name(bs), "qcow2")) {
        img_error("This image format does not support checks");
        blk_close(bs);
        return 63;
    }
    Qcow2CheckResult r;
    FILE *msg = (quiet || json) ? NULL : out;
    int ret = qcow2_check(bs, fix, &r, msg);
    if (ret == 0 && fix && (r.leaks_fixed || r.corruptions_fixed)) {
        if (msg)
            fprintf(out, "The following inconsistencies were found and repaired:\n\n"
                         "    %" PRId64 " leaked clusters\n    %" PRId64 " corruptions\n\n"
                         "Double checking the fixed image now...\n",
                    r.leaks_fixed, r.corruptions_fixed);
        ret = qcow2_check(bs, 0, &r, msg);
    }
    if (ret < 0) {
        img_error("Check failed: %s", blk_errmsg());
        blk_close(bs);
        return 1;
    }
    Qcow2State *s = bs->opaque;
    if (s->incompat & QCOW2_INCOMPAT_CORRUPT && fix && r.corruptions == 0)
        qcow2_update_incompat(s, s->incompat & ~QCOW2_INCOMPAT_CORRUPT);
    if (json) {
        fprintf(out, "{\n    \"image-end-offset\": %" PRIu64 ",\n    \"total-clusters\": %" PRIu64
                ",\n    \"check-errors\": %" PRId64 ",\n", r.image_end_offset, r.total_clusters,
                r.check_errors);
        if (r.leaks)
            fprintf(out, "    \"leaks\": %" PRId64 ",\n", r.leaks);
        if (r.corruptions)
            fprintf(out, "    \"corruptions\": %" PRId64 ",\n", r.corruptions);
        if (r.allocated_clusters)
            fprintf(out, "    \"allocated-clusters\": %" PRIu64 ",\n", r.allocated_clusters);
        fprintf(out, "    \"filename\": \"%s\",\n    \"format\": \"qcow2\"\n}\n", filename);
    } else if (!quiet) {
        if (r.corruptions == 0 && r.leaks == 0 && r.check_errors == 0)
            fprintf(out, "No errors were found on the image.\n");
        if (r.corruptions)
            fprintf(out, "\n%" PRId64 " errors were found on the image.\nData may be corrupted, "
                         "or further writes to the image may corrupt it.\n", r.corruptions);
        if (r.leaks)
            fprintf(out, "\n%" PRId64 " leaked clusters were found on the image.\nThis means "
                         "waste of disk space, but no harm to data.\n", r.leaks);
        if (r.check_errors)
            fprintf(out, "\n%" PRId64 " internal errors have occurred during the check.\n",
                    r.check_errors);
        if (r.total_clusters && r.allocated_clusters)
            fprintf(out, "%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, "
                         "%0.2f%% compressed clusters\n", r.allocated_clusters, r.total_clusters,
                    r.allocated_clusters * 100.0 / r.total_clusters,
                    r.fragmented_clusters * 100.0 / r.allocated_clusters,
                    r.compressed_clusters * 100.0 / r.allocated_clusters);
        if (r.image_end_offset)
            fprintf(out, "Image end offset: %" PRIu64 "\n", r.image_end_offset);
    }
    blk_close(bs);
    if (r.check_errors)
        return 1;
    if (r.corruptions)
        return 2;
    if (r.leaks)
        return 3;
    return 0;
}
