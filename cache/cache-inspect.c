/*
 * cache-inspect.c - read-only views of the cache for the emu-cache tool:
 * list packs, open one pack file, read its entries, verify everything
 * (API in cache-admin.h).  No identity check here: the tool shows packs of
 * every build and host CPU.
 */
#include "cache/cache-admin.h"
#include "cache/pack.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cache/hash.h"
#include <zstd.h>

struct EmuCacheFile {
    uint8_t *buf;
    size_t len;
    PackView v;
    uint8_t **chunks; /* decompressed on demand */
    ZSTD_DCtx *dctx;
};

EmuCacheFile *emu_cache_file_open(const char *path, char *err, size_t errlen)
{
    EmuCacheFile *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!cache_read_file(path, &f->buf, &f->len)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(f);
        return NULL;
    }
    if (!pack_parse(f->buf, f->len, &f->v, err, errlen))
        goto fail;
    f->chunks = calloc(f->v.hdr.n_chunks + 1, sizeof *f->chunks);
    f->dctx = ZSTD_createDCtx();
    if (!f->chunks || !f->dctx) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return f;
fail:
    emu_cache_file_close(f);
    return NULL;
}

void emu_cache_file_close(EmuCacheFile *f)
{
    if (!f)
        return;
    if (f->chunks)
        for (uint32_t i = 0; i < f->v.hdr.n_chunks; i++)
            free(f->chunks[i]);
    free(f->chunks);
    ZSTD_freeDCtx(f->dctx);
    free(f->buf);
    free(f);
}

size_t emu_cache_file_entries(const EmuCacheFile *f) { return f->v.hdr.n_entries; }

void emu_cache_file_entry(const EmuCacheFile *f, size_t i, EmuCacheEntryInfo *out)
{
    const PackEntry *e = &f->v.entries[i];
    out->guest_offset = e->guest_offset;
    out->flags = e->flags;
    out->kind = e->kind;
    memcpy(out->content_hash, e->content_hash, 16);
    out->size = e->size;
    out->guest_len = e->guest_len;
    out->chunk = e->chunk;
    out->chunk_stored = f->v.chunks[e->chunk].stored;
    out->chunk_raw = f->v.chunks[e->chunk].raw;
}

bool emu_cache_file_payload(EmuCacheFile *f, size_t i, const void **data, size_t *len, char *err,
                            size_t errlen)
{
    if (i >= f->v.hdr.n_entries) {
        snprintf(err, errlen, "no entry %zu", i);
        return false;
    }
    const PackEntry *e = &f->v.entries[i];
    if (!f->chunks[e->chunk] &&
        !pack_chunk_data(&f->v, e->chunk, f->dctx, &f->chunks[e->chunk], err, errlen))
        return false;
    const uint8_t *d = f->chunks[e->chunk] + e->chunk_offset;
    if (emu_hash64(d, e->size) != e->checksum) {
        snprintf(err, errlen, "payload checksum mismatch");
        return false;
    }
    *data = d;
    *len = e->size;
    return true;
}

static char *strndup_or_empty(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = 0;
    }
    return r;
}

static int info_cmp(const void *a, const void *b)
{
    const EmuCachePackInfo *x = a, *y = b;
    int c = strcmp(x->binary, y->binary);
    return c ? c : strcmp(x->name, y->name);
}

static bool is_pack_name(const char *s)
{
    size_t n = strlen(s);
    if (n != 32 + 5 || strcmp(s + 32, ".pack") != 0)
        return false;
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static void fill_info(EmuCachePackInfo *in)
{
    uint8_t *buf;
    size_t len;
    PackView v;
    if (!cache_read_file(in->file, &buf, &len)) {
        snprintf(in->error, sizeof in->error, "cannot read: %s", strerror(errno));
        return;
    }
    in->file_bytes = len;
    if (!pack_parse(buf, len, &v, in->error, sizeof in->error)) {
        free(buf);
        return;
    }
    free(in->binary);
    in->binary = strndup_or_empty(v.path, v.hdr.path_len);
    in->build_id = strndup_or_empty(v.build_id, v.hdr.build_id_len);
    in->host_cpu = strndup_or_empty(v.host_cpu, v.hdr.host_cpu_len);
    memcpy(in->module_hash, v.hdr.module_hash, 16);
    in->n_entries = v.hdr.n_entries;
    in->n_chunks = v.hdr.n_chunks;
    for (uint32_t i = 0; i < v.hdr.n_chunks; i++) {
        in->raw_bytes += v.chunks[i].raw;
        in->stored_bytes += v.chunks[i].stored;
    }
    char hex[33];
    pack_hex(v.hdr.pack_key, hex);
    uint8_t key[16];
    if (in->build_id && in->host_cpu)
        pack_key(v.hdr.module_hash, in->build_id, in->host_cpu, key);
    if (!in->binary || !in->build_id || !in->host_cpu)
        snprintf(in->error, sizeof in->error, "out of memory");
    else if (strcmp(hex, in->name) != 0 || memcmp(key, v.hdr.pack_key, 16) != 0)
        snprintf(in->error, sizeof in->error, "file name does not match the pack identity");
    else
        in->ok = true;
    free(buf);
}

bool emu_cache_list(const char *dir, EmuCachePackInfo **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    char packs[PATH_MAX];
    snprintf(packs, sizeof packs, "%s/packs", dir);
    DIR *d = opendir(packs);
    if (!d) {
        if (errno == ENOENT)
            return true;
        snprintf(err, errlen, "%s: %s", packs, strerror(errno));
        return false;
    }
    EmuCachePackInfo *v = NULL;
    size_t cap = 0, k = 0;
    struct dirent *de;
    bool ok = true;
    while ((de = readdir(d))) {
        if (!is_pack_name(de->d_name))
            continue;
        if (k == cap) {
            cap = cap ? cap * 2 : 32;
            EmuCachePackInfo *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                ok = false;
                break;
            }
            v = nv;
        }
        EmuCachePackInfo *in = &v[k];
        memset(in, 0, sizeof *in);
        memcpy(in->name, de->d_name, 32);
        size_t fl = strlen(packs) + strlen(de->d_name) + 2;
        in->file = malloc(fl);
        in->binary = strdup("");
        if (!in->file || !in->binary) {
            free(in->file);
            free(in->binary);
            ok = false;
            break;
        }
        k++;
        snprintf(in->file, fl, "%s/%s", packs, de->d_name);
        struct stat st;
        if (stat(in->file, &st) == 0) {
            in->mtime = st.st_mtime;
            in->file_bytes = (uint64_t)st.st_size;
        }
        fill_info(in);
    }
    closedir(d);
    if (!ok) {
        emu_cache_list_free(v, k);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (k)
        qsort(v, k, sizeof *v, info_cmp);
    *out = v;
    *n = k;
    return true;
}

void emu_cache_list_free(EmuCachePackInfo *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].file);
        free(v[i].binary);
        free(v[i].build_id);
        free(v[i].host_cpu);
    }
    free(v);
}

long emu_cache_verify(const char *dir, FILE *report, uint64_t *packs, uint64_t *entries)
{
    EmuCachePackInfo *v;
    size_t n;
    char err[256];
    *packs = *entries = 0;
    if (!emu_cache_list(dir, &v, &n, err, sizeof err)) {
        if (report)
            fprintf(report, "%s\n", err);
        return -1;
    }
    long bad = 0;
    for (size_t i = 0; i < n; i++) {
        (*packs)++;
        if (!v[i].ok) {
            if (report)
                fprintf(report, "%s: pack %s (%s): %s\n", v[i].file, v[i].name, v[i].binary,
                        v[i].error);
            bad++;
            continue;
        }
        EmuCacheFile *f = emu_cache_file_open(v[i].file, err, sizeof err);
        if (!f) { /* changed since listed */
            if (report)
                fprintf(report, "%s: pack %s: %s\n", v[i].file, v[i].name, err);
            bad++;
            continue;
        }
        for (size_t j = 0; j < emu_cache_file_entries(f); j++) {
            const void *d;
            size_t len;
            (*entries)++;
            if (!emu_cache_file_payload(f, j, &d, &len, err, sizeof err)) {
                EmuCacheEntryInfo e;
                emu_cache_file_entry(f, j, &e);
                if (report)
                    fprintf(report, "%s: entry %s:%llx:%x:%u (%s): %s\n", v[i].file, v[i].name,
                            (unsigned long long)e.guest_offset, e.flags, e.kind, v[i].binary, err);
                bad++;
            }
        }
        emu_cache_file_close(f);
    }
    emu_cache_list_free(v, n);
    return bad;
}
