/*
 * aot-elf.c - what an AArch64 ELF file says about where code starts: its
 * executable sections and the seeds of code discovery (entry, symbols,
 * relocation targets, init/fini arrays).  libelf reads the file; every
 * header, section and table is checked against the file size before use,
 * so a truncated or corrupted file gives one line of reason, never a crash.
 */
#define _GNU_SOURCE
#include "aot/aot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const aot_source_names[AOT_SRC_COUNT] = {
    "entry", "symbols", "relocs", "pointers", "descent", "sweep",
};

static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static void elf_init(void)
{
    elf_version(EV_CURRENT);
}

static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool add_seed(AotModule *m, uint64_t pc, AotSource src)
{
    if (m->n_seeds == m->cap_seeds) {
        size_t cap = m->cap_seeds ? m->cap_seeds * 2 : 256;
        AotSeed *n = realloc(m->seeds, cap * sizeof *n);
        if (!n)
            return false;
        m->seeds = n;
        m->cap_seeds = cap;
    }
    m->seeds[m->n_seeds++] = (AotSeed){ pc, (uint8_t)src };
    return true;
}

static bool add_text(AotModule *m, uint64_t start, uint64_t end)
{
    AotRange *n = realloc(m->text, (m->n_text + 1) * sizeof *n);
    if (!n)
        return false;
    m->text = n;
    m->text[m->n_text++] = (AotRange){ start, end };
    return true;
}

static bool add_data(AotModule *m, uint64_t start, uint64_t end)
{
    AotRange *n = realloc(m->data, (m->n_data + 1) * sizeof *n);
    if (!n)
        return false;
    m->data = n;
    m->data[m->n_data++] = (AotRange){ start, end };
    return true;
}

static int range_cmp(const void *a, const void *b)
{
    const AotRange *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

bool aot_module_in_text(const AotModule *m, uint64_t pc)
{
    size_t lo = 0, hi = m->n_text;
    while (lo < hi) {   /* first range with end > pc */
        size_t mid = (lo + hi) / 2;
        if (m->text[mid].end <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n_text && m->text[lo].start <= pc;
}

uint64_t aot_module_text_bytes(const AotModule *m)
{
    uint64_t n = 0;
    for (size_t i = 0; i < m->n_text; i++)
        n += m->text[i].end - m->text[i].start;
    return n;
}

void aot_module_free(AotModule *m)
{
    free(m->path);
    free(m->text);
    free(m->data);
    free(m->seeds);
    memset(m, 0, sizeof *m);
}

/* The section's data, checked to lie inside the file.  NULL: err set. */
static Elf_Data *section_data(Elf_Scn *scn, const GElf_Shdr *sh, size_t idx, uint64_t fsize,
                              char *err, size_t errlen)
{
    if (sh->sh_type != SHT_NOBITS &&
        (sh->sh_offset > fsize || sh->sh_size > fsize - sh->sh_offset)) {
        fail(err, errlen, "truncated or corrupt: section %zu (offset 0x%llx, size 0x%llx) "
             "ends past the end of the file (%llu bytes)", idx,
             (unsigned long long)sh->sh_offset, (unsigned long long)sh->sh_size,
             (unsigned long long)fsize);
        return NULL;
    }
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d || (sh->sh_size && !d->d_buf && sh->sh_type != SHT_NOBITS)) {
        fail(err, errlen, "cannot read section %zu: %s", idx, elf_errmsg(-1));
        return NULL;
    }
    return d;
}

/* Read one 8-byte guest slot through the optional reader. */
static bool mem_u64(const AotMemReader *mem, uint64_t addr, uint64_t *v)
{
    return mem && mem->read && mem->read(mem->opaque, addr, v, 8);
}

typedef struct ElfScan {
    Elf *elf;
    uint64_t fsize;
    AotModule *m;
    const AotMemReader *mem;
    char *err;
    size_t errlen;
} ElfScan;

static bool scan_symbols(ElfScan *s, Elf_Data *d, const GElf_Shdr *sh)
{
    size_t n = d->d_size / sizeof(Elf64_Sym);
    for (size_t i = 1; i < n; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(d, (int)i, &sym))
            break;
        unsigned type = GELF_ST_TYPE(sym.st_info);
        if ((type == STT_FUNC || type == STT_GNU_IFUNC) && sym.st_shndx != SHN_UNDEF &&
            sym.st_value && !add_seed(s->m, sym.st_value + s->m->bias, AOT_SRC_SYMBOL))
            return fail(s->err, s->errlen, "out of memory");
    }
    return true;
}

static bool scan_relocs(ElfScan *s, Elf_Data *d, const GElf_Shdr *sh, size_t idx)
{
    /* the symbol table the relocations refer to (may be absent: sh_link 0) */
    Elf_Data *symd = NULL;
    if (sh->sh_link) {
        Elf_Scn *ss = elf_getscn(s->elf, sh->sh_link);
        GElf_Shdr ssh;
        if (!ss || !gelf_getshdr(ss, &ssh))
            return fail(s->err, s->errlen, "corrupt: section %zu links to missing section %u",
                        idx, (unsigned)sh->sh_link);
        if (ssh.sh_type == SHT_SYMTAB || ssh.sh_type == SHT_DYNSYM) {
            symd = section_data(ss, &ssh, sh->sh_link, s->fsize, s->err, s->errlen);
            if (!symd)
                return false;
        }
    }
    size_t nsym = symd ? symd->d_size / sizeof(Elf64_Sym) : 0;
    size_t n = d->d_size / sizeof(Elf64_Rela);
    AotModule *m = s->m;
    for (size_t i = 0; i < n; i++) {
        GElf_Rela r;
        if (!gelf_getrela(d, (int)i, &r))
            break;
        unsigned type = (unsigned)GELF_R_TYPE(r.r_info);
        size_t si = GELF_R_SYM(r.r_info);
        uint64_t cand[2];
        unsigned nc = 0;
        switch (type) {
        case R_AARCH64_RELATIVE:
        case R_AARCH64_IRELATIVE:
            cand[nc++] = (uint64_t)r.r_addend + m->bias;
            break;
        case R_AARCH64_ABS64:
        case R_AARCH64_GLOB_DAT:
        case R_AARCH64_JUMP_SLOT: {
            GElf_Sym sym;
            if (si && si < nsym && gelf_getsym(symd, (int)si, &sym) &&
                sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE)
                cand[nc++] = sym.st_value + (uint64_t)r.r_addend + m->bias;
            break;
        }
        default:
            continue;
        }
        /* what ld.so (or the static startup) actually stored there */
        uint64_t v;
        if (mem_u64(s->mem, r.r_offset + m->bias, &v))
            cand[nc++] = v;
        for (unsigned k = 0; k < nc; k++)
            if (!add_seed(m, cand[k], AOT_SRC_RELOC))
                return fail(s->err, s->errlen, "out of memory");
    }
    return true;
}

static bool scan_array(ElfScan *s, Elf_Data *d, const GElf_Shdr *sh)
{
    AotModule *m = s->m;
    size_t n = sh->sh_size / 8;
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        if (d->d_buf && d->d_size >= (i + 1) * 8) {   /* link-time value */
            memcpy(&v, (const uint8_t *)d->d_buf + i * 8, 8);
            if (v && v != ~0ull && !add_seed(m, v + m->bias, AOT_SRC_RELOC))
                return fail(s->err, s->errlen, "out of memory");
        }
        if (mem_u64(s->mem, sh->sh_addr + m->bias + i * 8, &v) &&   /* relocated */
            !add_seed(m, v, AOT_SRC_RELOC))
            return fail(s->err, s->errlen, "out of memory");
    }
    return true;
}

static bool scan_dynamic(ElfScan *s, Elf_Data *d)
{
    size_t n = d->d_size / sizeof(Elf64_Dyn);
    for (size_t i = 0; i < n; i++) {
        GElf_Dyn dyn;
        if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
            break;
        if ((dyn.d_tag == DT_INIT || dyn.d_tag == DT_FINI) && dyn.d_un.d_ptr &&
            !add_seed(s->m, dyn.d_un.d_ptr + s->m->bias, AOT_SRC_ENTRY))
            return fail(s->err, s->errlen, "out of memory");
    }
    return true;
}

static bool scan_elf(ElfScan *s)
{
    Elf *elf = s->elf;
    AotModule *m = s->m;
    char *err = s->err;
    size_t errlen = s->errlen;
    if (elf_kind(elf) != ELF_K_ELF)
        return fail(err, errlen, "not an ELF file");
    const char *ident = elf_getident(elf, NULL);
    if (!ident || ident[EI_CLASS] != ELFCLASS64)
        return fail(err, errlen, "not a 64-bit ELF file");
    if (ident[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, "not a little-endian ELF file");
    GElf_Ehdr eh;
    if (!gelf_getehdr(elf, &eh))
        return fail(err, errlen, "truncated or corrupt ELF header: %s", elf_errmsg(-1));
    if (eh.e_machine != EM_AARCH64)
        return fail(err, errlen, "not an AArch64 ELF file (e_machine %u)", (unsigned)eh.e_machine);
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
        return fail(err, errlen, "not an executable or shared object (e_type %u)",
                    (unsigned)eh.e_type);
    size_t phnum, shnum;
    if (elf_getphdrnum(elf, &phnum) != 0)
        return fail(err, errlen, "corrupt program header count: %s", elf_errmsg(-1));
    if (elf_getshdrnum(elf, &shnum) != 0)
        return fail(err, errlen, "corrupt section header count: %s", elf_errmsg(-1));
    /* from the header itself: libelf reports 0 sections when the table is
     * cut off */
    uint64_t n_ph = eh.e_phnum > phnum ? eh.e_phnum : phnum;
    uint64_t n_sh = eh.e_shnum > shnum ? eh.e_shnum : shnum;
    if (eh.e_shoff && !n_sh)
        n_sh = 1;   /* extended numbering: the count is in section 0 */
    if (n_ph && (eh.e_phoff > s->fsize || n_ph * sizeof(Elf64_Phdr) > s->fsize - eh.e_phoff))
        return fail(err, errlen, "truncated or corrupt: program headers past the end of the file");
    if (eh.e_shoff && (eh.e_shoff > s->fsize || n_sh * sizeof(Elf64_Shdr) >
                                                    s->fsize - eh.e_shoff))
        return fail(err, errlen, "truncated or corrupt: section headers past the end of the file");
    if (!n_ph)
        return fail(err, errlen, "no program headers");
    bool have_text_sections = false;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph))
            return fail(err, errlen, "cannot read program header %zu: %s", i, elf_errmsg(-1));
        if (ph.p_type == PT_LOAD &&
            (ph.p_offset > s->fsize || ph.p_filesz > s->fsize - ph.p_offset))
            return fail(err, errlen, "truncated: segment %zu ends past the end of the file "
                        "(%llu bytes)", i, (unsigned long long)s->fsize);
    }
    for (size_t i = 1; i < shnum; i++) {
        Elf_Scn *scn = elf_getscn(elf, i);
        GElf_Shdr sh;
        if (!scn || !gelf_getshdr(scn, &sh))
            return fail(err, errlen, "cannot read section header %zu: %s", i, elf_errmsg(-1));
        if ((sh.sh_flags & SHF_ALLOC) && (sh.sh_flags & SHF_EXECINSTR) && sh.sh_size &&
            sh.sh_type != SHT_NOBITS) {
            if (sh.sh_offset > s->fsize || sh.sh_size > s->fsize - sh.sh_offset)
                return fail(err, errlen, "truncated or corrupt: executable section %zu ends "
                            "past the end of the file (%llu bytes)", i,
                            (unsigned long long)s->fsize);
            if (sh.sh_addr + m->bias + sh.sh_size < sh.sh_addr + m->bias)
                return fail(err, errlen, "corrupt: section %zu address overflows", i);
            if (!add_text(m, sh.sh_addr + m->bias, sh.sh_addr + m->bias + sh.sh_size))
                return fail(err, errlen, "out of memory");
            have_text_sections = true;
        }
        if ((sh.sh_flags & SHF_ALLOC) && !(sh.sh_flags & SHF_EXECINSTR) &&
            sh.sh_type == SHT_PROGBITS && sh.sh_size >= 8) {
            /* scanned for code pointers later: bounded by the file */
            if (sh.sh_offset > s->fsize || sh.sh_size > s->fsize - sh.sh_offset)
                return fail(err, errlen, "truncated or corrupt: section %zu ends past the end "
                            "of the file (%llu bytes)", i, (unsigned long long)s->fsize);
            if (!add_data(m, sh.sh_addr + m->bias, sh.sh_addr + m->bias + sh.sh_size))
                return fail(err, errlen, "out of memory");
        }
        bool want = sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM ||
                    sh.sh_type == SHT_RELA || sh.sh_type == SHT_INIT_ARRAY ||
                    sh.sh_type == SHT_FINI_ARRAY || sh.sh_type == SHT_PREINIT_ARRAY ||
                    sh.sh_type == SHT_DYNAMIC;
        if (!want)
            continue;
        Elf_Data *d = section_data(scn, &sh, i, s->fsize, err, errlen);
        if (!d)
            return false;
        bool ok = true;
        switch (sh.sh_type) {
        case SHT_SYMTAB:
        case SHT_DYNSYM:
            ok = scan_symbols(s, d, &sh);
            break;
        case SHT_RELA:
            ok = scan_relocs(s, d, &sh, i);
            break;
        case SHT_DYNAMIC:
            ok = scan_dynamic(s, d);
            break;
        default:
            ok = scan_array(s, d, &sh);
            break;
        }
        if (!ok)
            return false;
    }
    if (!have_text_sections) {
        /* no section headers (stripped with sstrip): executable segments */
        for (size_t i = 0; i < phnum; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
                ph.p_filesz &&
                !add_text(m, ph.p_vaddr + m->bias, ph.p_vaddr + m->bias + ph.p_filesz))
                return fail(err, errlen, "out of memory");
        }
    }
    if (!m->n_text)
        return fail(err, errlen, "no executable section or segment");
    if (eh.e_entry && !add_seed(m, eh.e_entry + m->bias, AOT_SRC_ENTRY))
        return fail(err, errlen, "out of memory");
    return true;
}

bool aot_module_open(AotModule *m, const char *path, uint64_t bias, const AotMemReader *mem,
                     char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    pthread_once(&elf_once, elf_init);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "%s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, "not a regular file");
    }
    m->path = strdup(path);
    m->bias = bias;
    ElfScan s = { .fsize = (uint64_t)st.st_size, .m = m, .mem = mem, .err = err,
                  .errlen = errlen };
    /* ELF_C_READ: libelf reads (no mmap), so a file shrinking under us
     * cannot turn into SIGBUS */
    s.elf = elf_begin(fd, ELF_C_READ, NULL);
    bool ok = m->path != NULL;
    if (!ok)
        fail(err, errlen, "out of memory");
    else if (!s.elf)
        ok = fail(err, errlen, "cannot read ELF: %s", elf_errmsg(-1));
    else
        ok = scan_elf(&s);
    if (s.elf)
        elf_end(s.elf);
    close(fd);
    if (!ok) {
        aot_module_free(m);
        return false;
    }
    /* sort and merge the text ranges, keep the seeds that fall inside */
    qsort(m->text, m->n_text, sizeof *m->text, range_cmp);
    size_t k = 0;
    for (size_t i = 0; i < m->n_text; i++) {
        if (k && m->text[i].start <= m->text[k - 1].end) {
            if (m->text[i].end > m->text[k - 1].end)
                m->text[k - 1].end = m->text[i].end;
        } else {
            m->text[k++] = m->text[i];
        }
    }
    m->n_text = k;
    /* function-pointer tables: aligned words of the data sections (as the
     * guest sees them, relocated) that point into the text */
    uint64_t buf[512];
    for (size_t i = 0; mem && mem->read && i < m->n_data; i++) {
        uint64_t a = (m->data[i].start + 7) & ~7ull;
        while (a + 8 <= m->data[i].end) {
            size_t n = (m->data[i].end - a) / 8;
            if (n > 512)
                n = 512;
            if (!mem->read(mem->opaque, a, buf, n * 8)) {
                a += 8 * n;
                continue;
            }
            for (size_t w = 0; w < n; w++)
                if (!(buf[w] & 3) && aot_module_in_text(m, buf[w]) &&
                    !add_seed(m, buf[w], AOT_SRC_POINTER)) {
                    aot_module_free(m);
                    return fail(err, errlen, "out of memory");
                }
            a += 8 * n;
        }
    }
    k = 0;
    for (size_t i = 0; i < m->n_seeds; i++)
        if (!(m->seeds[i].pc & 3) && aot_module_in_text(m, m->seeds[i].pc))
            m->seeds[k++] = m->seeds[i];
    m->n_seeds = k;
    return true;
}
