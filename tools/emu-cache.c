/*
 * emu-cache - inspect and maintain emu's code cache (cache/).  Every command
 * prints an aligned table for people or, with --json, one JSON document.
 * Exit codes: 0 ok, 1 error or corruption found, 2 usage.
 *
 *   emu-cache stats                      entries, bytes, hit rates per guest binary
 *   emu-cache ls [--binary /usr/bin/ls]  packs; or the entries of one binary
 *   emu-cache show 3fa2:1a40:0:1         one entry (KEY as printed by ls)
 *   emu-cache verify                     every checksum; names what is corrupt
 *   emu-cache prune --max-size 500M      evict least recently used packs
 *   emu-cache clear
 */
#include "cache/cache-admin.h"
#include "cache/cache.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef EMU_CACHE_HAVE_DISAS /* the runtime is linked */
#include "runtime/disas.h"
#include "runtime/tmplcache.h"
#endif
#ifdef EMU_CACHE_HAVE_DEEP    /* and the AArch64 frontend */
#include "runtime/guest-arch.h"
#endif

static bool json;
static const char *dir_opt, *binary_opt, *max_size_opt;
static bool deep;

static void usage(FILE *f)
{
    fputs("usage: emu-cache [--cache-dir DIR] [--json] COMMAND\n"
          "  stats                   entries, bytes raw/compressed, hit rate of the last runs,\n"
          "                          per guest binary\n"
          "  ls [--binary PATH]      packs; with --binary, the entries of that binary\n"
          "  show KEY                one entry (KEY = PACK:OFFSET:FLAGS:KIND as ls prints it;\n"
          "                          PACK may be a unique prefix, FLAGS and KIND may be left out)\n"
          "  verify [--deep]         check every pack's and entry's checksums; --deep also\n"
          "                          translates every template block again from its guest\n"
          "                          binary and compares (LLVM regions are not deep-checked)\n"
          "  prune --max-size N      evict least recently used packs down to N bytes (K/M/G)\n"
          "  clear                   remove every pack\n"
          "DIR defaults to $EMU_CACHE_DIR, else $XDG_CACHE_HOME/emu, else ~/.cache/emu.\n"
          "Exit status: 0 ok, 1 error or corruption found, 2 usage.\n", f);
}

/* ---- output helpers ---- */

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static const char *human(uint64_t b, char *buf, size_t n)
{
    static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4)
        v /= 1024, i++;
    if (i == 0)
        snprintf(buf, n, "%llu B", (unsigned long long)b);
    else
        snprintf(buf, n, "%.1f %s", v, u[i]);
    return buf;
}

static const char *age(int64_t t, char *buf, size_t n)
{
    int64_t d = (int64_t)time(NULL) - t;
    if (d < 0)
        d = 0;
    if (d < 120)
        snprintf(buf, n, "%llds ago", (long long)d);
    else if (d < 7200)
        snprintf(buf, n, "%lldm ago", (long long)d / 60);
    else if (d < 172800)
        snprintf(buf, n, "%lldh ago", (long long)d / 3600);
    else
        snprintf(buf, n, "%lldd ago", (long long)d / 86400);
    return buf;
}

static void hex16(const uint8_t h[16], char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static const char *kind_name(unsigned k)
{
    static const char *const tmpl[4] = { "template", "template/auto", "template/stats",
                                         "template/auto/stats" };
    if (k >= EMU_CACHE_KIND_TEMPLATE && k < EMU_CACHE_KIND_TEMPLATE + 4u)
        return tmpl[k - EMU_CACHE_KIND_TEMPLATE];
    return k == EMU_CACHE_KIND_OBJECT ? "object" : k == EMU_CACHE_KIND_IR ? "ir" : "?";
}

/* ---- stats ---- */

static double rate(const EmuCacheRun *r)
{
    uint64_t n = r->hits + r->misses;
    return n ? 100.0 * (double)r->hits / (double)n : 0;
}

static int cmd_stats(const char *dir, EmuCachePackInfo *v, size_t n)
{
    EmuCacheRun *runs;
    size_t nr;
    char err[256], b1[32], b2[32], b3[32];
    if (!emu_cache_runlog_read(dir, &runs, &nr, err, sizeof err)) {
        fprintf(stderr, "emu-cache: %s\n", err);
        return 1;
    }
    uint64_t entries = 0, raw = 0, stored = 0, files = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        entries += v[i].n_entries;
        raw += v[i].raw_bytes;
        stored += v[i].stored_bytes;
        files += v[i].file_bytes;
        bad += !v[i].ok;
    }
    if (json) {
        printf("{\"dir\": ");
        json_str(dir);
        printf(", \"packs\": %zu, \"corrupt_packs\": %llu, \"entries\": %llu, \"raw_bytes\": %llu, "
               "\"stored_bytes\": %llu, \"file_bytes\": %llu, \"binaries\": [",
               n, (unsigned long long)bad, (unsigned long long)entries, (unsigned long long)raw,
               (unsigned long long)stored, (unsigned long long)files);
    } else {
        printf("cache %s: %zu packs, %llu entries, payloads %s raw, %s stored (%.2fx), files %s\n",
               dir, n, (unsigned long long)entries, human(raw, b1, sizeof b1),
               human(stored, b2, sizeof b2), stored ? (double)raw / (double)stored : 0.0,
               human(files, b3, sizeof b3));
        if (bad)
            printf("%llu corrupt packs (see: emu-cache verify)\n", (unsigned long long)bad);
        printf("\n%-40s %5s %8s %10s %10s %4s  %s\n", "BINARY", "PACKS", "ENTRIES", "RAW", "STORED",
               "RUNS", "HIT RATE (last runs, newest last)");
    }
    /* Packs are sorted by binary: one group per binary. */
    bool first = true;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t e = 0, r = 0, s = 0;
        for (; j < n && strcmp(v[j].binary, v[i].binary) == 0; j++)
            e += v[j].n_entries, r += v[j].raw_bytes, s += v[j].stored_bytes;
        size_t nruns = 0;
        for (size_t k = 0; k < nr; k++)
            nruns += strcmp(runs[k].binary, v[i].binary) == 0;
        if (json) {
            printf("%s{\"binary\": ", first ? "" : ", ");
            json_str(v[i].binary);
            printf(", \"packs\": %zu, \"entries\": %llu, \"raw_bytes\": %llu, \"stored_bytes\": "
                   "%llu, \"runs\": [", j - i, (unsigned long long)e, (unsigned long long)r,
                   (unsigned long long)s);
            bool f2 = true;
            for (size_t k = 0; k < nr; k++) {
                if (strcmp(runs[k].binary, v[i].binary) != 0)
                    continue;
                printf("%s{\"time\": %lld, \"pack\": \"%s\", \"hits\": %llu, \"misses\": %llu, "
                       "\"mismatches\": %llu, \"corrupt\": %llu, \"stored\": %llu}",
                       f2 ? "" : ", ", (long long)runs[k].time, runs[k].pack,
                       (unsigned long long)runs[k].hits, (unsigned long long)runs[k].misses,
                       (unsigned long long)runs[k].mismatches, (unsigned long long)runs[k].corrupt,
                       (unsigned long long)runs[k].stored);
                f2 = false;
            }
            printf("]}");
        } else {
            const char *name = v[i].binary[0] ? v[i].binary : "(unreadable pack)";
            printf("%-40s %5zu %8llu %10s %10s %4zu ", name, j - i, (unsigned long long)e,
                   human(r, b1, sizeof b1), human(s, b2, sizeof b2), nruns);
            size_t shown = 0;
            for (size_t k = 0; k < nr; k++) {
                if (strcmp(runs[k].binary, v[i].binary) != 0)
                    continue;
                if (++shown + 5 <= nruns) /* the last five */
                    continue;
                if (runs[k].hits + runs[k].misses)
                    printf(" %5.1f%%", rate(&runs[k]));
                else
                    printf("  store");
            }
            putchar('\n');
        }
        first = false;
        i = j;
    }
    if (json)
        printf("]}\n");
    free(runs);
    return 0;
}

/* ---- ls ---- */

static bool binary_matches(const char *stored, const char *want)
{
    if (strcmp(stored, want) == 0)
        return true;
    char real[PATH_MAX];
    if (realpath(want, real) && strcmp(stored, real) == 0)
        return true;
    if (!strchr(want, '/')) { /* a bare name matches the basename */
        const char *b = strrchr(stored, '/');
        return strcmp(b ? b + 1 : stored, want) == 0;
    }
    return false;
}

static int cmd_ls_packs(EmuCachePackInfo *v, size_t n)
{
    char b1[32], b2[32], b3[32];
    if (json)
        printf("[");
    else
        printf("%-32s %8s %10s %10s %-9s %-6s %s\n", "PACK", "ENTRIES", "RAW", "STORED", "USED",
               "STATUS", "BINARY");
    for (size_t i = 0; i < n; i++) {
        const EmuCachePackInfo *p = &v[i];
        if (json) {
            char mh[33];
            hex16(p->module_hash, mh);
            printf("%s{\"pack\": \"%s\", \"binary\": ", i ? ", " : "", p->name);
            json_str(p->binary);
            printf(", \"entries\": %u, \"chunks\": %u, \"raw_bytes\": %llu, \"stored_bytes\": %llu, "
                   "\"file_bytes\": %llu, \"mtime\": %lld, \"ok\": %s, \"module_hash\": \"%s\"",
                   p->n_entries, p->n_chunks, (unsigned long long)p->raw_bytes,
                   (unsigned long long)p->stored_bytes, (unsigned long long)p->file_bytes,
                   (long long)p->mtime, p->ok ? "true" : "false", mh);
            printf(", \"build_id\": ");
            json_str(p->build_id ? p->build_id : "");
            printf(", \"host_cpu\": ");
            json_str(p->host_cpu ? p->host_cpu : "");
            if (!p->ok) {
                printf(", \"error\": ");
                json_str(p->error);
            }
            printf("}");
        } else {
            printf("%-32s %8u %10s %10s %-9s %-6s %s%s%s\n", p->name, p->n_entries,
                   human(p->raw_bytes, b1, sizeof b1), human(p->stored_bytes, b2, sizeof b2),
                   age(p->mtime, b3, sizeof b3), p->ok ? "ok" : "BAD", p->binary,
                   p->ok ? "" : "  ", p->ok ? "" : p->error);
        }
    }
    if (json)
        printf("]\n");
    return 0;
}

static int cmd_ls_entries(EmuCachePackInfo *v, size_t n, const char *want)
{
    int rc = 0;
    size_t matched = 0, shown = 0;
    if (json)
        printf("[");
    else
        printf("%-52s %-7s %10s %8s\n", "KEY", "KIND", "SIZE", "CHUNK");
    for (size_t i = 0; i < n; i++) {
        if (!binary_matches(v[i].binary, want))
            continue;
        matched++;
        char err[256];
        EmuCacheFile *f = v[i].ok ? emu_cache_file_open(v[i].file, err, sizeof err) : NULL;
        if (!f) {
            fprintf(stderr, "emu-cache: pack %s: %s\n", v[i].name, v[i].ok ? err : v[i].error);
            rc = 1;
            continue;
        }
        for (size_t k = 0; k < emu_cache_file_entries(f); k++) {
            EmuCacheEntryInfo e;
            emu_cache_file_entry(f, k, &e);
            char key[80];
            snprintf(key, sizeof key, "%s:%llx:%x:%u", v[i].name,
                     (unsigned long long)e.guest_offset, e.flags, e.kind);
            if (json) {
                char ch[33];
                hex16(e.content_hash, ch);
                printf("%s{\"key\": \"%s\", \"pack\": \"%s\", \"offset\": %llu, \"flags\": %u, "
                       "\"kind\": %u, \"size\": %u, \"chunk\": %u, \"content_hash\": \"%s\"}",
                       shown ? ", " : "", key, v[i].name, (unsigned long long)e.guest_offset,
                       e.flags, e.kind, e.size, e.chunk, ch);
            } else {
                printf("%-52s %-7s %10u %8u\n", key, kind_name(e.kind), e.size, e.chunk);
            }
            shown++;
        }
        emu_cache_file_close(f);
    }
    if (json)
        printf("]\n");
    if (!matched) {
        fprintf(stderr, "emu-cache: no pack for binary %s\n", want);
        return 1;
    }
    return rc;
}

/* ---- show ---- */

static void hexdump(const uint8_t *d, size_t n, size_t max)
{
    for (size_t i = 0; i < n && i < max; i += 16) {
        printf("  %06zx ", i);
        for (size_t k = i; k < i + 16; k++)
            k < n ? printf(" %02x", d[k]) : printf("   ");
        printf("  ");
        for (size_t k = i; k < i + 16 && k < n; k++)
            putchar(isprint(d[k]) ? d[k] : '.');
        putchar('\n');
    }
    if (n > max)
        printf("  ... %zu more bytes\n", n - max);
}

static void disas_for(const char *triple, const uint8_t *code, size_t len, uint64_t addr)
{
#ifdef EMU_CACHE_HAVE_DISAS
    disas_print(stdout, triple, code, len, addr);
#else
    (void)triple;
    printf("  (no disassembler in this build)\n");
    hexdump(code, len, 256);
#endif
}

static void disas(const uint8_t *code, size_t len, uint64_t addr)
{
#ifdef EMU_CACHE_HAVE_DISAS
    disas_print(stdout, "x86_64-linux-gnu", code, len, addr);
#else
    printf("  (no disassembler in this build)\n");
    hexdump(code, len, 256);
#endif
}

typedef struct Sym {
    uint64_t value;
    const char *name;
} Sym;

static int sym_cmp(const void *a, const void *b)
{
    const Sym *x = a, *y = b;
    return x->value < y->value ? -1 : x->value > y->value;
}

/* Named function/notype symbols defined in section ndx, sorted by value. */
static size_t section_symbols(Elf *e, size_t ndx, Sym *out, size_t max)
{
    size_t n = 0;
    Elf_Scn *s = NULL;
    while ((s = elf_nextscn(e, s))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(s, NULL);
        if (!d)
            continue;
        size_t count = d->d_size / sh.sh_entsize;
        for (size_t i = 0; i < count && n < max; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx != ndx)
                continue;
            int t = GELF_ST_TYPE(sym.st_info);
            const char *name = elf_strptr(e, sh.sh_link, sym.st_name);
            if ((t == STT_FUNC || t == STT_NOTYPE) && name && *name)
                out[n++] = (Sym){sym.st_value, name};
        }
    }
    qsort(out, n, sizeof *out, sym_cmp);
    return n;
}

/* Host object payload: disassemble the executable sections of an ELF
 * relocatable object, or the bytes as they are if it is not ELF. */
#ifdef EMU_CACHE_HAVE_DISAS
/* A template block: its header and host code (relocated fields hold the
 * values of the process that stored it). */
static void show_template(const uint8_t *d, size_t n, uint64_t off)
{
    TmplCacheInfo ti;
    if (!tmplcache_payload_info(d, n, &ti)) {
        printf("template block: malformed payload\n");
        hexdump(d, n, 256);
        return;
    }
    printf("template block: guest pc 0x%llx (bias 0x%llx), %u guest bytes, %u insns, %u host "
           "bytes, %u relocations%s\n",
           (unsigned long long)(ti.bias + off), (unsigned long long)ti.bias, ti.guest_size,
           ti.n_insns, ti.code_size, ti.n_relocs, ti.latch ? ", tier-up countdown" : "");
    printf("host code:\n");
    disas(ti.code, ti.code_size, 0);
}
#endif

static void show_object(const uint8_t *d, size_t n)
{
    if (n < 4 || memcmp(d, ELFMAG, 4) != 0) {
        printf("host code (%zu bytes, not ELF):\n", n);
        disas(d, n, 0);
        return;
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        printf("libelf unusable: %s\n", elf_errmsg(-1));
        return;
    }
    Elf *e = elf_memory((char *)d, n);
    size_t shstr;
    if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstr) != 0) {
        printf("host object: bad ELF (%s)\n", elf_errmsg(-1));
        hexdump(d, n, 256);
        if (e)
            elf_end(e);
        return;
    }
    printf("host object (ELF, %zu bytes):\n", n);
    Elf_Scn *s = NULL;
    while ((s = elf_nextscn(e, s))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(s, &sh))
            continue;
        const char *name = elf_strptr(e, shstr, sh.sh_name);
        if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR))
            continue;
        Elf_Data *data = elf_getdata(s, NULL);
        if (!data || !data->d_buf || data->d_size == 0)
            continue;
        printf("section %s (%zu bytes):\n", name ? name : "?", (size_t)data->d_size);
        /* Label the functions of this section (one per region or block). */
        Sym syms[1024];
        size_t ns = section_symbols(e, elf_ndxscn(s), syms, 1024);
        uint64_t at = 0, size = data->d_size;
        for (size_t i = 0; i <= ns; i++) {
            uint64_t end = i < ns ? syms[i].value : size;
            if (end > size)
                end = size;
            if (end > at)
                disas((const uint8_t *)data->d_buf + at, end - at, at);
            if (i < ns) {
                printf("<%s>:\n", syms[i].name);
                at = end;
            }
        }
    }
    elf_end(e);
}

/* The guest code of an entry, read from the guest binary: the offset is an
 * ELF virtual address (cache.h), found through the PT_LOAD headers. */
/* The bytes of a guest ELF at module-relative offset off (= ELF virtual
 * address): up to max of them from its PT_LOAD segment, *len how many (at
 * least min).  NULL + message in err otherwise; *machine = e_machine. */
static uint8_t *read_guest(const char *binary, uint64_t off, size_t min, size_t max, size_t *len,
                           unsigned *machine, char *err, size_t errlen)
{
    int fd = open(binary, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", binary, strerror(errno));
        return NULL;
    }
    Elf *e = NULL;
    size_t n;
    GElf_Ehdr eh;
    uint8_t *buf = NULL;
    snprintf(err, errlen, "offset 0x%llx+%zu is not in a loaded segment of %s",
             (unsigned long long)off, min, binary);
    if (elf_version(EV_CURRENT) == EV_NONE || !(e = elf_begin(fd, ELF_C_READ, NULL)) ||
        elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, &n) != 0) {
        snprintf(err, errlen, "%s: not a readable ELF file (%s)", binary, elf_errmsg(-1));
        goto out;
    }
    *machine = eh.e_machine;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || off < ph.p_vaddr ||
            off - ph.p_vaddr >= ph.p_filesz || min > ph.p_filesz - (off - ph.p_vaddr))
            continue;
        size_t want = ph.p_filesz - (off - ph.p_vaddr);
        want = want < max ? want : max;
        buf = malloc(want ? want : 1);
        if (!buf || pread(fd, buf, want, (off_t)(ph.p_offset + (off - ph.p_vaddr))) != (ssize_t)want) {
            snprintf(err, errlen, "cannot read %zu bytes of %s", want, binary);
            free(buf);
            buf = NULL;
        } else {
            *len = want;
        }
        break;
    }
out:
    if (e)
        elf_end(e);
    close(fd);
    return buf;
}

static void show_guest(const char *binary, uint64_t off, uint32_t glen, const uint8_t hash[16])
{
    if (!glen) {
        printf("guest code:   length not recorded by the writer\n");
        return;
    }
    char err[PATH_MAX + 128];
    size_t len;
    unsigned machine = 0;
    uint8_t *buf = read_guest(binary, off, glen, glen, &len, &machine, err, sizeof err);
    if (!buf) {
        printf("guest code:   %s\n", err);
        return;
    }
    const char *triple = machine == EM_AARCH64  ? "aarch64-linux-gnu"
                         : machine == EM_X86_64 ? "x86_64-linux-gnu"
                                                : NULL;
    uint8_t h[16];
    emu_cache_hash128(buf, glen, h);
    printf("guest code:   %u bytes of %s; %s\n", glen, binary,
           memcmp(h, hash, 16) == 0 ? "guest hash matches"
                                    : "guest hash differs (binary changed, or the entry "
                                      "depends on more than these bytes)");
    if (triple)
        disas_for(triple, buf, glen, off);
    else
        hexdump(buf, glen, 512);
    free(buf);
}

static int cmd_show(EmuCachePackInfo *v, size_t n, const char *key)
{
    char pfx[33] = "";
    unsigned long long off;
    unsigned flags = 0, kind = 0;
    int got = sscanf(key, "%32[0-9a-f]:%llx:%x:%u", pfx, &off, &flags, &kind);
    if (got < 2 || strlen(pfx) < 4) {
        fprintf(stderr, "emu-cache: bad KEY '%s' (expected PACK:OFFSET[:FLAGS:KIND], PACK at "
                        "least 4 hex digits)\n", key);
        return 2;
    }
    const EmuCachePackInfo *p = NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(v[i].name, pfx, strlen(pfx)) == 0) {
            if (p) {
                fprintf(stderr, "emu-cache: pack prefix %s is ambiguous\n", pfx);
                return 1;
            }
            p = &v[i];
        }
    if (!p) {
        fprintf(stderr, "emu-cache: no pack %s\n", pfx);
        return 1;
    }
    char err[256];
    EmuCacheFile *f = p->ok ? emu_cache_file_open(p->file, err, sizeof err) : NULL;
    if (!f) {
        fprintf(stderr, "emu-cache: pack %s: %s\n", p->name, p->ok ? err : p->error);
        return 1;
    }
    int shown = 0;
    bool any_bad = false;
    if (json)
        printf("[");
    for (size_t k = 0; k < emu_cache_file_entries(f); k++) {
        EmuCacheEntryInfo e;
        emu_cache_file_entry(f, k, &e);
        if (e.guest_offset != off || (got >= 3 && e.flags != flags) || (got >= 4 && e.kind != kind))
            continue;
        const void *d = NULL;
        size_t len = 0;
        bool ok = emu_cache_file_payload(f, k, &d, &len, err, sizeof err);
        char ch[33];
        hex16(e.content_hash, ch);
        if (json) {
            printf("%s{\"key\": \"%s:%llx:%x:%u\", \"binary\": ", shown ? ", " : "", p->name,
                   (unsigned long long)e.guest_offset, e.flags, e.kind);
            json_str(p->binary);
            printf(", \"offset\": %llu, \"flags\": %u, \"kind\": %u, \"content_hash\": \"%s\", "
                   "\"size\": %u, \"guest_len\": %u, \"chunk\": %u, \"chunk_stored\": %u, "
                   "\"chunk_raw\": %u, \"ok\": %s", (unsigned long long)e.guest_offset, e.flags,
                   e.kind, ch, e.size, e.guest_len, e.chunk, e.chunk_stored, e.chunk_raw,
                   ok ? "true" : "false");
            if (!ok) {
                printf(", \"error\": ");
                json_str(err);
            }
            printf("}");
        } else {
            printf("key:          %s:%llx:%x:%u\n", p->name, (unsigned long long)e.guest_offset,
                   e.flags, e.kind);
            printf("binary:       %s\n", p->binary);
            printf("build, cpu:   %s | %s\n", p->build_id, p->host_cpu);
            printf("guest offset: 0x%llx (module-relative)\n", (unsigned long long)e.guest_offset);
            printf("mode flags:   0x%x\n", e.flags);
            printf("kind:         %u (%s)\n", e.kind, kind_name(e.kind));
            printf("guest hash:   %s\n", ch);
            printf("payload:      %u bytes, in chunk %u (%u bytes stored, %u raw)\n", e.size,
                   e.chunk, e.chunk_stored, e.chunk_raw);
            printf("checksum:     %s%s\n", ok ? "ok" : "BAD: ", ok ? "" : err);
            const uint8_t *guest_hash = e.content_hash;
#ifdef EMU_CACHE_HAVE_DISAS
            TmplCacheInfo ti; /* its key hash covers the mode only: the guest hash is inside */
            if (ok && tmplcache_is_kind(e.kind) && tmplcache_payload_info(d, len, &ti))
                guest_hash = ti.guest_hash;
#endif
            show_guest(p->binary, e.guest_offset, e.guest_len, guest_hash);
#ifdef EMU_CACHE_HAVE_DISAS
            const void *obj;
            size_t obj_len;
            uint32_t n_members;
            if (ok && e.kind == EMU_CACHE_KIND_OBJECT &&
                tiercache_payload_dropped(d, len, &n_members)) {
                printf("LLVM region dropped by the probe: %u guest blocks, no code\n", n_members);
            } else if (ok && e.kind == EMU_CACHE_KIND_OBJECT &&
                tiercache_payload_object(d, len, &obj, &obj_len, &n_members)) {
                printf("LLVM region:  %u guest blocks\n", n_members);
                show_object(obj, obj_len);
            } else if (ok && tmplcache_is_kind(e.kind)) {
                show_template(d, len, e.guest_offset);
            } else
#endif
            if (ok && e.kind == EMU_CACHE_KIND_OBJECT)
                show_object(d, len);
            else if (ok) {
                printf("payload bytes:\n");
                hexdump(d, len, 512);
            }
            putchar('\n');
        }
        shown++;
        any_bad |= !ok;
    }
    if (json)
        printf("]\n");
    emu_cache_file_close(f);
    if (!shown)
        fprintf(stderr, "emu-cache: no entry %s in pack %s\n", key + strlen(pfx), p->name);
    return !shown || any_bad;
}

/* ---- verify, prune, clear ---- */

#ifdef EMU_CACHE_HAVE_DEEP
/* verify --deep: every template block translated again from its guest
 * binary and compared (runtime/tmplcache.h).  LLVM region objects are
 * counted as not checked: recompiling them needs LLVM and every member. */
static long verify_deep(const char *dir, FILE *report, uint64_t *checked, uint64_t *skipped)
{
    EmuCachePackInfo *v;
    size_t n;
    char err[PATH_MAX + 128];
    if (!emu_cache_list(dir, &v, &n, err, sizeof err)) {
        fprintf(report, "%s\n", err);
        return -1;
    }
    long bad = 0;
    for (size_t i = 0; i < n; i++) {
        EmuCacheFile *f = emu_cache_file_open(v[i].file, err, sizeof err);
        if (!f)
            continue; /* the checksum pass has reported it */
        /* the -cpu model of the run that wrote it (what is UNDEF differs) */
        const char *other = tmplcache_deep_identity(&guest_arch_aarch64, v[i].build_id);
        for (size_t k = 0; k < emu_cache_file_entries(f); k++) {
            EmuCacheEntryInfo e;
            emu_cache_file_entry(f, k, &e);
            const void *d;
            size_t len;
            if (!tmplcache_is_kind(e.kind) || !*v[i].binary || other) {
                ++*skipped;
                continue;
            }
            if (!emu_cache_file_payload(f, k, &d, &len, err, sizeof err))
                continue; /* reported by the checksum pass */
            size_t glen = 0, before = e.guest_offset & 0xFFF;
            unsigned machine = 0;
            /* from the page's start: the frontend reads code around the block */
            uint8_t *g = read_guest(v[i].binary, e.guest_offset - before,
                                    before + (e.guest_len ? e.guest_len : 1), 64 * 1024, &glen,
                                    &machine, err, sizeof err);
            if (!g) {
                before = 0;
                g = read_guest(v[i].binary, e.guest_offset, e.guest_len ? e.guest_len : 1,
                               64 * 1024, &glen, &machine, err, sizeof err);
            }
            const char *why = !g ? err
                              : machine != EM_AARCH64
                                  ? "not an AArch64 binary"
                                  : tmplcache_deep_check(&guest_arch_aarch64, d, len,
                                                         e.guest_offset, g, glen, before, e.flags);
            ++*checked;
            if (why) {
                fprintf(report, "%s: entry 0x%llx/%u/%u (%s): %s\n", v[i].name,
                        (unsigned long long)e.guest_offset, e.flags, e.kind, v[i].binary, why);
                bad++;
            }
            free(g);
        }
        emu_cache_file_close(f);
    }
    emu_cache_list_free(v, n);
    return bad;
}
#endif

static int cmd_verify(const char *dir)
{
#ifndef EMU_CACHE_HAVE_DEEP
    if (deep) {
        fprintf(stderr, "emu-cache: verify --deep needs the translator, and this emu-cache was "
                        "built without it\n");
        return 2;
    }
#endif
    char *out = NULL;
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    if (!f) {
        perror("emu-cache");
        return 1;
    }
    uint64_t packs, entries, deep_checked = 0, deep_skipped = 0;
    long bad = emu_cache_verify(dir, f, &packs, &entries);
#ifdef EMU_CACHE_HAVE_DEEP
    if (deep && bad >= 0) {
        long d = verify_deep(dir, f, &deep_checked, &deep_skipped);
        bad = d < 0 ? d : bad + d;
    }
#endif
    fclose(f);
    if (json) {
        printf("{\"packs\": %llu, \"entries\": %llu, \"corrupt\": %ld, ",
               (unsigned long long)packs, (unsigned long long)entries, bad < 0 ? 0 : bad);
        if (deep)
            printf("\"deep_checked\": %llu, \"deep_skipped\": %llu, ",
                   (unsigned long long)deep_checked, (unsigned long long)deep_skipped);
        printf("\"problems\": [");
        char *line = out, *nl;
        bool first = true;
        while (line && *line && (nl = strchr(line, '\n'))) {
            *nl = 0;
            printf("%s", first ? "" : ", ");
            json_str(line);
            first = false;
            line = nl + 1;
        }
        printf("]}\n");
    } else {
        fputs(out, stdout);
        if (bad >= 0)
            printf("%llu packs, %llu entries checked: %s\n", (unsigned long long)packs,
                   (unsigned long long)entries, bad ? "CORRUPTION FOUND" : "all ok");
        if (deep && bad >= 0)
            printf("deep: %llu template blocks translated again and compared, %llu entries not "
                   "deep-checked (LLVM regions, unknown binary, other pinned registers)\n",
                   (unsigned long long)deep_checked, (unsigned long long)deep_skipped);
    }
    free(out);
    return bad != 0;
}

static int cmd_prune(const char *dir)
{
    uint64_t max;
    if (!max_size_opt || !emu_cache_parse_size(max_size_opt, &max)) {
        fprintf(stderr, "emu-cache: prune needs --max-size N (bytes, or with K/M/G)\n");
        return 2;
    }
    EmuCacheEvictResult r;
    char err[256];
    if (!emu_cache_evict(dir, max, NULL, NULL, &r, err, sizeof err)) {
        fprintf(stderr, "emu-cache: %s\n", err);
        return 1;
    }
    if (json)
        printf("{\"removed_packs\": %u, \"removed_temps\": %u, \"before_bytes\": %llu, "
               "\"after_bytes\": %llu}\n", r.packs_removed, r.temps_removed,
               (unsigned long long)r.before_bytes, (unsigned long long)r.after_bytes);
    else {
        char b1[32], b2[32];
        printf("removed %u packs: %s -> %s\n", r.packs_removed,
               human(r.before_bytes, b1, sizeof b1), human(r.after_bytes, b2, sizeof b2));
    }
    return 0;
}

static int cmd_clear(const char *dir)
{
    uint32_t removed;
    char err[256];
    bool ok = emu_cache_clear(dir, &removed, err, sizeof err);
    if (!ok)
        fprintf(stderr, "emu-cache: %s\n", err);
    if (json)
        printf("{\"removed_packs\": %u}\n", removed);
    else
        printf("removed %u packs from %s\n", removed, dir);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *cmd = NULL, *arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (!strcmp(a, "--json"))
            json = true;
        else if (!strcmp(a, "--deep"))
            deep = true;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strncmp(a, "--cache-dir", 11))
            val = &dir_opt;
        else if (!strncmp(a, "--binary", 8))
            val = &binary_opt;
        else if (!strncmp(a, "--max-size", 10))
            val = &max_size_opt;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "emu-cache: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else if (!cmd)
            cmd = a;
        else if (!arg)
            arg = a;
        else {
            fprintf(stderr, "emu-cache: unexpected argument %s\n", a);
            return 2;
        }
        if (val) { /* --opt VALUE or --opt=VALUE */
            const char *eq = strchr(a, '=');
            size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
            if (nlen != (val == &dir_opt ? 11u : val == &binary_opt ? 8u : 10u)) {
                fprintf(stderr, "emu-cache: unknown option %s\n", a);
                return 2;
            }
            if (eq)
                *val = eq + 1;
            else if (i + 1 < argc)
                *val = argv[++i];
            else {
                fprintf(stderr, "emu-cache: %s needs a value\n", a);
                return 2;
            }
        }
    }
    if (!cmd) {
        usage(stderr);
        return 2;
    }
    bool known = !strcmp(cmd, "stats") || !strcmp(cmd, "ls") || !strcmp(cmd, "show") ||
                 !strcmp(cmd, "verify") || !strcmp(cmd, "prune") || !strcmp(cmd, "clear");
    if (!known) {
        fprintf(stderr, "emu-cache: unknown command %s\n", cmd);
        usage(stderr);
        return 2;
    }
    if ((arg && strcmp(cmd, "show") != 0) || (!arg && !strcmp(cmd, "show")) ||
        (binary_opt && strcmp(cmd, "ls") != 0) || (deep && strcmp(cmd, "verify") != 0) ||
        (max_size_opt && strcmp(cmd, "prune") != 0)) {
        fprintf(stderr, "emu-cache: wrong arguments for %s\n", cmd);
        usage(stderr);
        return 2;
    }
    char dir[PATH_MAX];
    if (dir_opt)
        snprintf(dir, sizeof dir, "%s", dir_opt);
    else if (!emu_cache_default_dir(dir, sizeof dir)) {
        fprintf(stderr, "emu-cache: no cache directory: use --cache-dir or set EMU_CACHE_DIR\n");
        return 2;
    }
    if (!strcmp(cmd, "verify"))
        return cmd_verify(dir);
    if (!strcmp(cmd, "prune"))
        return cmd_prune(dir);
    if (!strcmp(cmd, "clear"))
        return cmd_clear(dir);
    EmuCachePackInfo *v;
    size_t n;
    char err[256];
    if (!emu_cache_list(dir, &v, &n, err, sizeof err)) {
        fprintf(stderr, "emu-cache: %s\n", err);
        return 1;
    }
    int rc;
    if (!strcmp(cmd, "stats"))
        rc = cmd_stats(dir, v, n);
    else if (!strcmp(cmd, "ls"))
        rc = binary_opt ? cmd_ls_entries(v, n, binary_opt) : cmd_ls_packs(v, n);
    else
        rc = cmd_show(v, n, arg);
    emu_cache_list_free(v, n);
    return rc;
}
