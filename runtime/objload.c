/*
 * objload.c - loader of relocatable x86-64 ELF objects for the code cache
 * (see objload.h).  Parsed by hand from <elf.h> structures: the input is an
 * untrusted buffer, every header is copied out (it may be unaligned) and
 * every offset, size and index checked before use.
 *
 * Image layout (one anonymous mapping, so every internal PC-relative
 * reference is in reach):
 *   [ SHF_EXECINSTR sections | PLT stubs ]  page-aligned -> read+execute
 *   [ other SHF_ALLOC sections | GOT ]      page-aligned -> read-only
 * The mapping is read+write while relocations are applied, then
 * mprotect()ed; nothing is ever writable and executable at once.
 *
 * Steps: header -> section headers -> symbol table and its strings ->
 * layout -> relocation pre-pass (validate every entry, count GOT slots and
 * stubs) -> symbol values (undefined ones from the resolver) -> copy ->
 * apply -> protect -> hash table of the defined global symbols (names
 * copied: the input may be freed after the load).
 *
 * Cost (this machine, 1000 random regions of 20..200 IR ops at O2 in one
 * 0.96 MB object, 800 KB of code, 3280 relocations): load + 1000 symbol
 * lookups 0.35 µs per function; page faults and the copy are most of it.
 * LLJIT (LLVMOrcLLJITAddObjectFile + lookups) on the same object: 2.8 µs
 * per function, and ~55 µs for an object of one function (objload: 6 µs).
 * tests/unit/objload_test.c prints the figure for its own batch.
 */
#include "runtime/objload.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "llvm-backend/llvm-tier.h"

#define OBJ_MAX_IMAGE (256u << 20)   /* bytes of sections; a batch is ~1 MiB */
#define OBJ_MAX_ALIGN 4096u
#define OBJ_STUB_SIZE 16u            /* jmp *0(%rip); .quad target; pad */

typedef struct ObjSymEnt {
    const char *name;              /* in ObjImage.names */
    void *addr;
} ObjSymEnt;

struct ObjImage {
    uint8_t *map;
    size_t map_len;
    size_t text_len;               /* first text_len bytes of map: code */
    ObjSymEnt *tab;                /* open addressing, power-of-two size */
    uint32_t tab_mask;
    char *names;
};

/* Per-load scratch state. */
typedef struct ObjLoad {
    const uint8_t *elf;
    size_t len;
    Elf64_Ehdr eh;
    Elf64_Shdr *sh;
    uint8_t **sec_addr;            /* per section: its place in the image (NULL: not loaded) */
    uint32_t symtab, nsyms;
    Elf64_Sym *syms;               /* copied */
    const char *str;               /* symbol names (in the input, checked) */
    size_t str_len;
    uint64_t *val;                 /* per symbol: its address */
    uint8_t *sym_state;            /* bit 0: value known, bit 1: needs GOT, bit 2: needs stub */
    uint32_t *got_slot, *stub_slot; /* per symbol: GOT slot / stub index */
    uint32_t n_got, n_stub;
    char *err;
    size_t errlen;
} ObjLoad;

enum { SYM_KNOWN = 1, SYM_GOT = 2, SYM_STUB = 4, SYM_UNDEF = 8 };

static bool obj_fail(ObjLoad *o, const char *fmt, ...)
{
    if (o->err && o->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->err, o->errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* [off, off+size) lies inside the input. */
static bool in_file(const ObjLoad *o, uint64_t off, uint64_t size)
{
    return off <= o->len && size <= o->len - off;
}

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

static uint64_t align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

static bool check_header(ObjLoad *o)
{
    if (o->len < sizeof(Elf64_Ehdr))
        return obj_fail(o, "object truncated (%zu bytes)", o->len);
    memcpy(&o->eh, o->elf, sizeof o->eh);
    const Elf64_Ehdr *e = &o->eh;
    if (memcmp(e->e_ident, ELFMAG, SELFMAG))
        return obj_fail(o, "not an ELF object");
    if (e->e_ident[EI_CLASS] != ELFCLASS64 || e->e_ident[EI_DATA] != ELFDATA2LSB ||
        e->e_ident[EI_VERSION] != EV_CURRENT)
        return obj_fail(o, "not a little-endian ELF64 object");
    if (e->e_type != ET_REL || e->e_machine != EM_X86_64)
        return obj_fail(o, "not an x86-64 relocatable object (type %u, machine %u)",
                        e->e_type, e->e_machine);
    if (e->e_shentsize != sizeof(Elf64_Shdr) || e->e_shnum == 0 ||
        e->e_shnum >= SHN_LORESERVE)
        return obj_fail(o, "bad section header table (entsize %u, count %u)", e->e_shentsize,
                        e->e_shnum);
    if (!in_file(o, e->e_shoff, (uint64_t)e->e_shnum * sizeof(Elf64_Shdr)))
        return obj_fail(o, "section headers outside the object");
    o->sh = malloc((size_t)e->e_shnum * sizeof *o->sh);
    o->sec_addr = calloc(e->e_shnum, sizeof *o->sec_addr);
    if (!o->sh || !o->sec_addr)
        return obj_fail(o, "out of memory");
    memcpy(o->sh, o->elf + e->e_shoff, (size_t)e->e_shnum * sizeof *o->sh);
    return true;
}

/* Sections the image holds: allocated, with file bytes or NOBITS. */
static bool loadable(const Elf64_Shdr *s)
{
    return (s->sh_flags & SHF_ALLOC) && s->sh_size;
}

static bool check_sections(ObjLoad *o)
{
    o->symtab = 0;
    for (uint32_t i = 1; i < o->eh.e_shnum; i++) {
        const Elf64_Shdr *s = &o->sh[i];
        if (s->sh_type != SHT_NOBITS && !in_file(o, s->sh_offset, s->sh_size))
            return obj_fail(o, "section %u outside the object (offset %#llx size %#llx)", i,
                            (unsigned long long)s->sh_offset, (unsigned long long)s->sh_size);
        if (s->sh_type == SHT_SYMTAB) {
            if (o->symtab)
                return obj_fail(o, "two symbol tables");
            o->symtab = i;
        }
        if (s->sh_type == SHT_REL)
            return obj_fail(o, "section %u: SHT_REL relocations are not supported", i);
        if (!loadable(s))
            continue;
        if (s->sh_type != SHT_PROGBITS && s->sh_type != SHT_NOBITS &&
            s->sh_type != SHT_X86_64_UNWIND)
            return obj_fail(o, "section %u: allocated section of type %#x", i, s->sh_type);
        if (s->sh_flags & (SHF_WRITE | SHF_TLS))
            return obj_fail(o, "section %u: writable or TLS sections are not supported", i);
        uint64_t al = s->sh_addralign ? s->sh_addralign : 1;
        if (!is_pow2(al) || al > OBJ_MAX_ALIGN)
            return obj_fail(o, "section %u: bad alignment %#llx", i, (unsigned long long)al);
        if (s->sh_size > OBJ_MAX_IMAGE)
            return obj_fail(o, "section %u too large", i);
    }
    if (!o->symtab)
        return obj_fail(o, "no symbol table");
    const Elf64_Shdr *st = &o->sh[o->symtab];
    if (st->sh_entsize != sizeof(Elf64_Sym) || st->sh_size % sizeof(Elf64_Sym) ||
        st->sh_size / sizeof(Elf64_Sym) > UINT32_MAX)
        return obj_fail(o, "bad symbol table size");
    o->nsyms = (uint32_t)(st->sh_size / sizeof(Elf64_Sym));
    if (st->sh_link == 0 || st->sh_link >= o->eh.e_shnum ||
        o->sh[st->sh_link].sh_type != SHT_STRTAB)
        return obj_fail(o, "symbol table without a string table");
    const Elf64_Shdr *ss = &o->sh[st->sh_link];
    o->str = (const char *)o->elf + ss->sh_offset;
    o->str_len = ss->sh_size;
    if (o->str_len == 0 || o->str[o->str_len - 1] != 0)
        return obj_fail(o, "symbol string table not terminated");
    size_t n = o->nsyms ? o->nsyms : 1;
    o->syms = malloc(n * sizeof *o->syms);
    o->val = calloc(n, sizeof *o->val);
    o->sym_state = calloc(n, 1);
    o->got_slot = calloc(n, sizeof *o->got_slot);
    o->stub_slot = calloc(n, sizeof *o->stub_slot);
    if (!o->syms || !o->val || !o->sym_state || !o->got_slot || !o->stub_slot)
        return obj_fail(o, "out of memory");
    memcpy(o->syms, o->elf + st->sh_offset, (size_t)o->nsyms * sizeof *o->syms);
    return true;
}

static const char *sym_name(const ObjLoad *o, uint32_t i)
{
    uint32_t off = o->syms[i].st_name;
    return off < o->str_len ? o->str + off : NULL;
}

/* Bytes a relocation type patches, 0 for unknown types. */
static unsigned rel_size(uint32_t type)
{
    switch (type) {
    case R_X86_64_NONE: return 0;
    case R_X86_64_64:
    case R_X86_64_PC64: return 8;
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
    case R_X86_64_32:
    case R_X86_64_32S:
    case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX:
    case R_X86_64_REX_GOTPCRELX: return 4;
    default: return 0;
    }
}

/* The relocation sections that patch loaded sections: validated. */
static bool rela_section(ObjLoad *o, uint32_t i, bool *use)
{
    const Elf64_Shdr *s = &o->sh[i];
    *use = false;
    if (s->sh_type != SHT_RELA)
        return true;
    if (s->sh_info == 0 || s->sh_info >= o->eh.e_shnum)
        return obj_fail(o, "relocation section %u: bad target section %u", i, s->sh_info);
    if (!loadable(&o->sh[s->sh_info]))
        return true; /* relocates something we do not load (debug info) */
    if (s->sh_link != o->symtab)
        return obj_fail(o, "relocation section %u: not against the symbol table", i);
    if (s->sh_entsize != sizeof(Elf64_Rela) || s->sh_size % sizeof(Elf64_Rela))
        return obj_fail(o, "relocation section %u: bad entry size", i);
    if (o->sh[s->sh_info].sh_type == SHT_NOBITS)
        return obj_fail(o, "relocation section %u: patches a NOBITS section", i);
    *use = true;
    return true;
}

/* Pass 1: every relocation's type, symbol and offset; GOT and stub needs. */
static bool scan_relocs(ObjLoad *o)
{
    for (uint32_t i = 1; i < o->eh.e_shnum; i++) {
        bool use;
        if (!rela_section(o, i, &use))
            return false;
        if (!use)
            continue;
        const Elf64_Shdr *s = &o->sh[i];
        uint64_t tsize = o->sh[s->sh_info].sh_size;
        size_t n = s->sh_size / sizeof(Elf64_Rela);
        for (size_t k = 0; k < n; k++) {
            Elf64_Rela r;
            memcpy(&r, o->elf + s->sh_offset + k * sizeof r, sizeof r);
            uint32_t type = ELF64_R_TYPE(r.r_info), sym = ELF64_R_SYM(r.r_info);
            unsigned sz = rel_size(type);
            if (!sz && type != R_X86_64_NONE)
                return obj_fail(o, "relocation %zu of section %u: unknown type %u", k, i, type);
            if (sym >= o->nsyms)
                return obj_fail(o, "relocation %zu of section %u: bad symbol index %u", k, i,
                                sym);
            if (r.r_offset > tsize || sz > tsize - r.r_offset)
                return obj_fail(o, "relocation %zu of section %u: offset %#llx outside", k, i,
                                (unsigned long long)r.r_offset);
            uint8_t *st = &o->sym_state[sym];
            if (type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
                type == R_X86_64_REX_GOTPCRELX) {
                if (!(*st & SYM_GOT)) {
                    *st |= SYM_GOT;
                    o->n_got++;
                }
            } else if (type == R_X86_64_PLT32 && o->syms[sym].st_shndx == SHN_UNDEF &&
                       !(*st & SYM_STUB)) {
                *st |= SYM_STUB;
                o->n_stub++;
            }
        }
    }
    return true;
}

/* Section placement: offsets in the image, code first (off[0]: the stubs).
 * Sets *text_len (page-aligned) and *got_off; false when too large. */
static bool layout(ObjLoad *o, size_t page, uint64_t *off, uint64_t *text_len,
                   uint64_t *got_off)
{
    uint64_t pos = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 1; i < o->eh.e_shnum; i++) {
            const Elf64_Shdr *s = &o->sh[i];
            if (!loadable(s) || !!(s->sh_flags & SHF_EXECINSTR) != (pass == 0))
                continue;
            pos = align_up(pos, s->sh_addralign ? s->sh_addralign : 1);
            off[i] = pos;
            pos += s->sh_size;
            if (pos > OBJ_MAX_IMAGE)
                return obj_fail(o, "object image too large");
        }
        if (pass == 0) {
            pos = align_up(pos, OBJ_STUB_SIZE);
            off[0] = pos; /* stubs (section 0 is never loaded) */
            pos += (uint64_t)o->n_stub * OBJ_STUB_SIZE;
            pos = align_up(pos, page);
            *text_len = pos;
        } else {
            pos = align_up(pos, 8);
            *got_off = pos;
            if (pos + (uint64_t)o->n_got * 8 > OBJ_MAX_IMAGE)
                return obj_fail(o, "object image too large");
        }
    }
    return true;
}

/* Symbol values; undefined ones through the resolver. */
static bool symbol_values(ObjLoad *o, ObjResolver resolve, void *opaque)
{
    for (uint32_t i = 1; i < o->nsyms; i++) {
        const Elf64_Sym *y = &o->syms[i];
        const char *nm = sym_name(o, i);
        if (!nm)
            return obj_fail(o, "symbol %u: name outside the string table", i);
        uint16_t sx = y->st_shndx;
        if (sx == SHN_UNDEF) {
            o->sym_state[i] |= SYM_UNDEF;
            if (!nm[0])
                continue; /* unnamed: an error only if a relocation uses it */
            uint64_t a = 0;
            if (!resolve || !resolve(opaque, nm, &a))
                return obj_fail(o, "undefined symbol %s", nm);
            o->val[i] = a;
        } else if (sx == SHN_ABS) {
            o->val[i] = y->st_value;
        } else if (sx == SHN_COMMON || sx >= SHN_LORESERVE) {
            return obj_fail(o, "symbol %s: unsupported section index %#x", nm, sx);
        } else if (sx >= o->eh.e_shnum) {
            return obj_fail(o, "symbol %s: bad section index %u", nm, sx);
        } else if (!o->sec_addr[sx]) {
            continue; /* in a section we do not load */
        } else {
            if (y->st_value > o->sh[sx].sh_size)
                return obj_fail(o, "symbol %s: value outside its section", nm);
            o->val[i] = (uint64_t)(uintptr_t)o->sec_addr[sx] + y->st_value;
        }
        o->sym_state[i] |= SYM_KNOWN;
    }
    /* symbol 0 is the null symbol: value 0 */
    o->sym_state[0] |= SYM_KNOWN;
    return true;
}

static bool fits_s32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

/* Pass 2: patch. */
static bool apply_relocs(ObjLoad *o, uint8_t *stubs, uint8_t *got)
{
    for (uint32_t i = 1; i < o->eh.e_shnum; i++) {
        bool use;
        if (!rela_section(o, i, &use))
            return false;
        if (!use)
            continue;
        const Elf64_Shdr *s = &o->sh[i];
        uint8_t *base = o->sec_addr[s->sh_info];
        size_t n = s->sh_size / sizeof(Elf64_Rela);
        for (size_t k = 0; k < n; k++) {
            Elf64_Rela r;
            memcpy(&r, o->elf + s->sh_offset + k * sizeof r, sizeof r);
            uint32_t type = ELF64_R_TYPE(r.r_info), sym = ELF64_R_SYM(r.r_info);
            if (type == R_X86_64_NONE)
                continue;
            if (!(o->sym_state[sym] & SYM_KNOWN) ||
                (sym && (o->sym_state[sym] & SYM_UNDEF) && !sym_name(o, sym)[0]))
                return obj_fail(o, "relocation %zu of section %u: symbol %u has no value", k, i,
                                sym);
            uint8_t *p = base + r.r_offset;
            uint64_t P = (uint64_t)(uintptr_t)p, S = o->val[sym];
            int64_t A = r.r_addend;
            uint64_t v64;
            int64_t d;
            switch (type) {
            case R_X86_64_64:
                v64 = S + (uint64_t)A;
                memcpy(p, &v64, 8);
                continue;
            case R_X86_64_PC64:
                v64 = S + (uint64_t)A - P;
                memcpy(p, &v64, 8);
                continue;
            case R_X86_64_32:
                v64 = S + (uint64_t)A;
                if (v64 > UINT32_MAX)
                    return obj_fail(o, "relocation %zu of section %u: R_X86_64_32 overflow", k,
                                    i);
                break;
            case R_X86_64_32S:
                v64 = S + (uint64_t)A;
                if (!fits_s32((int64_t)v64))
                    return obj_fail(o, "relocation %zu of section %u: R_X86_64_32S overflow", k,
                                    i);
                break;
            case R_X86_64_PLT32:
            case R_X86_64_PC32:
                d = (int64_t)(S + (uint64_t)A - P);
                if (!fits_s32(d) && type == R_X86_64_PLT32 && (o->sym_state[sym] & SYM_STUB))
                    d = (int64_t)((uint64_t)(uintptr_t)(stubs + (size_t)o->stub_slot[sym] * OBJ_STUB_SIZE) +
                                  (uint64_t)A - P);
                if (!fits_s32(d))
                    return obj_fail(o, "relocation %zu of section %u: target out of reach", k, i);
                v64 = (uint64_t)d;
                break;
            default: /* GOTPCREL, GOTPCRELX, REX_GOTPCRELX (rel_size checked the type) */
                d = (int64_t)((uint64_t)(uintptr_t)(got + (size_t)o->got_slot[sym] * 8) + (uint64_t)A - P);
                if (!fits_s32(d))
                    return obj_fail(o, "relocation %zu of section %u: GOT out of reach", k, i);
                v64 = (uint64_t)d;
                break;
            }
            uint32_t v32 = (uint32_t)v64;
            memcpy(p, &v32, 4);
        }
    }
    return true;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Hash table of the defined global symbols, names copied. */
static bool build_table(ObjLoad *o, ObjImage *img)
{
    uint32_t n = 0;
    size_t bytes = 0;
    for (uint32_t i = 1; i < o->nsyms; i++) {
        const Elf64_Sym *y = &o->syms[i];
        unsigned bind = ELF64_ST_BIND(y->st_info);
        if ((bind != STB_GLOBAL && bind != STB_WEAK) || (o->sym_state[i] & SYM_UNDEF) ||
            !(o->sym_state[i] & SYM_KNOWN))
            continue;
        n++;
        bytes += strlen(sym_name(o, i)) + 1;
    }
    uint32_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    img->tab = calloc(cap, sizeof *img->tab);
    img->names = malloc(bytes ? bytes : 1);
    if (!img->tab || !img->names)
        return obj_fail(o, "out of memory");
    img->tab_mask = cap - 1;
    char *w = img->names;
    for (uint32_t i = 1; i < o->nsyms; i++) {
        const Elf64_Sym *y = &o->syms[i];
        unsigned bind = ELF64_ST_BIND(y->st_info);
        if ((bind != STB_GLOBAL && bind != STB_WEAK) || (o->sym_state[i] & SYM_UNDEF) ||
            !(o->sym_state[i] & SYM_KNOWN))
            continue;
        const char *nm = sym_name(o, i);
        size_t l = strlen(nm) + 1;
        memcpy(w, nm, l);
        uint32_t h = name_hash(w) & img->tab_mask;
        while (img->tab[h].name && strcmp(img->tab[h].name, w))
            h = (h + 1) & img->tab_mask;
        img->tab[h].name = w; /* a duplicate name: the last one wins */
        img->tab[h].addr = (void *)(uintptr_t)o->val[i];
        w += l;
    }
    return true;
}

ObjImage *objload(const void *elf, size_t len, ObjResolver resolve, void *opaque, char *err,
                  size_t n)
{
    ObjLoad o = { .elf = elf, .len = elf ? len : 0, .err = err, .errlen = n };
    if (err && n)
        err[0] = 0;
    ObjImage *img = calloc(1, sizeof *img);
    uint64_t *off = NULL;
    bool ok = false;
    if (!img) {
        obj_fail(&o, "out of memory");
        goto fail;
    }
    img->map = MAP_FAILED;
    if (!check_header(&o) || !check_sections(&o) || !scan_relocs(&o))
        goto fail;
    off = calloc(o.eh.e_shnum, sizeof *off);
    if (!off) {
        obj_fail(&o, "out of memory");
        goto fail;
    }
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t text_len = 0, got_off = 0;
    if (!layout(&o, page, off, &text_len, &got_off))
        goto fail;
    uint64_t total = align_up(got_off + (uint64_t)o.n_got * 8, page);
    if (total == 0)
        total = page;
    /* MAP_POPULATE: one kernel call instead of a page fault per page (the
     * copy touches every page anyway): a third off the load time. */
    img->map = mmap(NULL, total, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (img->map == MAP_FAILED) {
        obj_fail(&o, "cannot map %llu bytes for the object", (unsigned long long)total);
        goto fail;
    }
    img->map_len = total;
    img->text_len = text_len;
    for (uint32_t i = 1; i < o.eh.e_shnum; i++)
        if (loadable(&o.sh[i]))
            o.sec_addr[i] = img->map + off[i];
    uint8_t *stubs = img->map + off[0], *got = img->map + got_off;
    if (!symbol_values(&o, resolve, opaque))
        goto fail;
    /* GOT slots and PLT stubs, one per symbol that needs them. */
    uint32_t ng = 0, ns = 0;
    for (uint32_t i = 0; i < o.nsyms; i++) {
        if (o.sym_state[i] & SYM_GOT) {
            o.got_slot[i] = ng;
            memcpy(got + (size_t)ng++ * 8, &o.val[i], 8);
        }
        if (o.sym_state[i] & SYM_STUB) {
            static const uint8_t jmp[6] = { 0xff, 0x25, 0, 0, 0, 0 }; /* jmp *0(%rip) */
            uint8_t *st = stubs + (size_t)ns * OBJ_STUB_SIZE;
            o.stub_slot[i] = ns++;
            memcpy(st, jmp, sizeof jmp);
            memcpy(st + 6, &o.val[i], 8);
            memset(st + 14, 0xcc, OBJ_STUB_SIZE - 14); /* int3 */
        }
    }
    for (uint32_t i = 1; i < o.eh.e_shnum; i++)
        if (o.sec_addr[i] && o.sh[i].sh_type != SHT_NOBITS)
            memcpy(o.sec_addr[i], o.elf + o.sh[i].sh_offset, o.sh[i].sh_size);
    if (!apply_relocs(&o, stubs, got))
        goto fail;
    if (text_len && mprotect(img->map, text_len, PROT_READ | PROT_EXEC)) {
        obj_fail(&o, "mprotect (code) failed");
        goto fail;
    }
    if (total > text_len && mprotect(img->map + text_len, total - text_len, PROT_READ)) {
        obj_fail(&o, "mprotect (data) failed");
        goto fail;
    }
    if (!build_table(&o, img))
        goto fail;
    ok = true;
fail:
    free(off);
    free(o.sh);
    free(o.sec_addr);
    free(o.syms);
    free(o.val);
    free(o.sym_state);
    free(o.got_slot);
    free(o.stub_slot);
    if (ok)
        return img;
    objload_free(img);
    return NULL;
}

void *objload_sym(const ObjImage *img, const char *name)
{
    if (!img || !name)
        return NULL;
    uint32_t h = name_hash(name) & img->tab_mask;
    while (img->tab[h].name) {
        if (!strcmp(img->tab[h].name, name))
            return img->tab[h].addr;
        h = (h + 1) & img->tab_mask;
    }
    return NULL;
}

void objload_text(const ObjImage *img, const void **start, size_t *len)
{
    *start = img ? img->map : NULL;
    *len = img ? img->text_len : 0;
}

void objload_free(ObjImage *img)
{
    if (!img)
        return;
    if (img->map && img->map != MAP_FAILED)
        munmap(img->map, img->map_len);
    free(img->tab);
    free(img->names);
    free(img);
}

/* ---- the resolver for compile_object's objects --------------------------- */

/* Routines LLVM code generation may call on its own (i128 division,
 * block copies); the generated code never calls anything else of libc. */
extern __int128 __divti3(__int128, __int128);
extern __int128 __modti3(__int128, __int128);
extern unsigned __int128 __udivti3(unsigned __int128, unsigned __int128);
extern unsigned __int128 __umodti3(unsigned __int128, unsigned __int128);
static const struct {
    const char *name;
    void *fn;
} obj_libcalls[] = {
    { "memcpy", (void *)memcpy },       { "memmove", (void *)memmove },
    { "memset", (void *)memset },       { "__divti3", (void *)__divti3 },
    { "__modti3", (void *)__modti3 },   { "__udivti3", (void *)__udivti3 },
    { "__umodti3", (void *)__umodti3 },
};

/* Decimal index after prefix p, ending at *end; false if malformed. */
static bool parse_index(const char *s, const char **end, uint32_t *out)
{
    uint64_t v = 0;
    const char *q = s;
    while (*q >= '0' && *q <= '9' && v <= UINT32_MAX)
        v = v * 10 + (uint64_t)(*q++ - '0');
    if (q == s || v > UINT32_MAX || (q - s > 1 && *s == '0'))
        return false;
    *end = q;
    *out = (uint32_t)v;
    return true;
}

bool objload_emu_resolve(void *opaque, const char *name, uint64_t *addr)
{
    const ObjEmuNames *nm = opaque;
    const char *e;
    uint32_t i, j;
    size_t lt = strlen(EMU_LLVM_OBJ_TAG_PREFIX), lh = strlen(EMU_LLVM_OBJ_HELPER_PREFIX),
           lc = strlen(EMU_LLVM_OBJ_COUNT_PREFIX);
    if (!strncmp(name, EMU_LLVM_OBJ_TAG_PREFIX, lt)) {
        if (!parse_index(name + lt, &e, &i) || *e || i >= nm->n_tags || !nm->tags)
            return false;
        *addr = nm->tags[i];
        return true;
    }
    if (!strncmp(name, EMU_LLVM_OBJ_HELPER_PREFIX, lh)) {
        for (uint32_t k = 0; k < nm->n_helpers; k++) {
            const IrHelperInfo *h = &nm->helpers[k];
            if (h->name && h->fn && !strcmp(h->name, name + lh)) {
                *addr = (uint64_t)(uintptr_t)h->fn;
                return true;
            }
        }
        return false;
    }
    if (!strncmp(name, EMU_LLVM_OBJ_COUNT_PREFIX, lc)) {
        if (!parse_index(name + lc, &e, &i) || *e != '_' || !parse_index(e + 1, &e, &j) || *e ||
            i >= nm->n_tags || !nm->counters || !nm->n_counters || !nm->counters[i] ||
            j >= nm->n_counters[i] || !nm->counters[i][j])
            return false;
        *addr = (uint64_t)(uintptr_t)nm->counters[i][j];
        return true;
    }
    for (size_t k = 0; k < sizeof obj_libcalls / sizeof obj_libcalls[0]; k++) {
        if (!strcmp(name, obj_libcalls[k].name)) {
            *addr = (uint64_t)(uintptr_t)obj_libcalls[k].fn;
            return true;
        }
    }
    return false;
}
