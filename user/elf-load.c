/*
 * elf-load.c - ELF validation (libelf) and loading into guest memory.
 *
 * The whole address range of the image is mapped read-write anonymous
 * first, segments are mapped from the file (whole pages of their own) or
 * read into it with pread (pages shared or partial), then every page gets the
 * union of the protections of the segments that touch it and the gaps
 * between segments are unmapped.  This handles segments that share a page
 * and a .bss that starts mid-page without special cases.
 */
#define _GNU_SOURCE
#include "user/elf-load.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PHDRS 256

typedef struct ElfInfo {
    ElfImage img;
    unsigned n_load;
    GElf_Phdr load[MAX_PHDRS];  /* PT_LOAD segments with p_memsz > 0, in order */
} ElfInfo;

static int seg_prot(const GElf_Phdr *ph)
{
    return ((ph->p_flags & PF_R) ? PROT_READ : 0) | ((ph->p_flags & PF_W) ? PROT_WRITE : 0) |
           ((ph->p_flags & PF_X) ? PROT_EXEC : 0);
}

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}


/* PT_INTERP: a NUL-terminated absolute path inside the file. */
static bool get_interp(int fd, const GElf_Phdr *ph, uint64_t file_size, char *out, size_t outlen,
                       char *err, size_t errlen)
{
    if (ph->p_offset > file_size || ph->p_filesz > file_size - ph->p_offset)
        return fail(err, errlen, "interpreter path (PT_INTERP) lies outside the file");
    if (ph->p_filesz < 2 || ph->p_filesz > outlen)
        return fail(err, errlen, "bad interpreter path (PT_INTERP) size %llu",
                    (unsigned long long)ph->p_filesz);
    if (!elf_pread_full(fd, out, ph->p_filesz, ph->p_offset))
        return fail(err, errlen, "cannot read the interpreter path (PT_INTERP)");
    if (out[ph->p_filesz - 1] != 0 || strlen(out) != ph->p_filesz - 1)
        return fail(err, errlen, "bad interpreter path (PT_INTERP): not one NUL-terminated string");
    return true;
}

/* bias: where an ET_DYN image goes (ET_EXEC: 0). */
static bool check_elf(Elf *e, int fd, uint64_t file_size, uint64_t limit, uint64_t dyn_bias,
                      ElfInfo *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    if (elf_kind(e) != ELF_K_ELF)
        return fail(err, errlen, "not an ELF file");
    size_t id_len = 0;
    const char *ident = elf_getident(e, &id_len);
    if (!ident || id_len < EI_NIDENT)
        return fail(err, errlen, "truncated ELF header");
    if (ident[EI_CLASS] != ELFCLASS64)
        return fail(err, errlen, "not a 64-bit ELF file (class %d)", ident[EI_CLASS]);
    if (ident[EI_DATA] != ELFDATA2LSB)
        return fail(err, errlen, "not a little-endian ELF file");
    if (ident[EI_VERSION] != EV_CURRENT)
        return fail(err, errlen, "unknown ELF version %d", ident[EI_VERSION]);
    if (file_size < sizeof(Elf64_Ehdr))
        return fail(err, errlen, "truncated ELF header");
    GElf_Ehdr eh;
    if (!gelf_getehdr(e, &eh))
        return fail(err, errlen, "bad ELF header: %s", elf_errmsg(-1));
    if (eh.e_machine != EM_AARCH64)
        return fail(err, errlen, "not an AArch64 program (ELF machine %u)", eh.e_machine);
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
        return fail(err, errlen, "not an executable (ELF type %u)", eh.e_type);
    if (eh.e_phnum == 0)
        return fail(err, errlen, "no program headers");
    if (eh.e_phentsize != sizeof(Elf64_Phdr))
        return fail(err, errlen, "bad program header size %u", eh.e_phentsize);
    if (eh.e_phnum >= PN_XNUM || eh.e_phnum > MAX_PHDRS)
        return fail(err, errlen, "too many program headers (%u)", eh.e_phnum);
    uint64_t ph_size = (uint64_t)eh.e_phnum * eh.e_phentsize;
    if (eh.e_phoff > file_size || ph_size > file_size - eh.e_phoff)
        return fail(err, errlen, "program headers lie outside the file (truncated?)");

    uint64_t bias = eh.e_type == ET_DYN ? dyn_bias : 0;
    uint64_t prev_end = 0, phdr_vaddr = 0;
    bool have_phdr = false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph))
            return fail(err, errlen, "program header %u: %s", i, elf_errmsg(-1));
        switch (ph.p_type) {
        case PT_INTERP:
            if (info->img.interp[0])
                return fail(err, errlen, "more than one PT_INTERP");
            if (!get_interp(fd, &ph, file_size, info->img.interp, sizeof info->img.interp, err,
                            errlen))
                return false;
            continue;
        case PT_PHDR:
            phdr_vaddr = ph.p_vaddr;
            have_phdr = true;
            break;
        case PT_GNU_STACK:
            info->img.exec_stack = (ph.p_flags & PF_X) != 0;
            break;
        case PT_LOAD:
            break;
        default:
            continue;
        }
        if (ph.p_type != PT_LOAD)
            continue;
        if (ph.p_filesz > ph.p_memsz)
            return fail(err, errlen, "segment %u: file size 0x%llx is larger than memory size 0x%llx",
                        i, (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_memsz);
        if (ph.p_offset > file_size || ph.p_filesz > file_size - ph.p_offset)
            return fail(err, errlen, "segment %u lies outside the file (truncated?)", i);
        if (ph.p_align > 1 && !is_pow2(ph.p_align))
            return fail(err, errlen, "segment %u: alignment 0x%llx is not a power of two", i,
                        (unsigned long long)ph.p_align);
        if ((ph.p_vaddr ^ ph.p_offset) & (GUEST_PAGE_SIZE - 1))
            return fail(err, errlen,
                        "segment %u: address and file offset differ modulo the page size", i);
        if (ph.p_memsz == 0)
            continue;
        if (ph.p_vaddr > limit || ph.p_memsz > limit - ph.p_vaddr || bias > limit ||
            ph.p_vaddr + ph.p_memsz > limit - bias)
            return fail(err, errlen, "segment %u (0x%llx+0x%llx) does not fit in the guest "
                        "address space", i, (unsigned long long)ph.p_vaddr,
                        (unsigned long long)ph.p_memsz);
        if (info->n_load && ph.p_vaddr < prev_end)
            return fail(err, errlen, "segment %u overlaps the previous loadable segment "
                        "(or segments are not in address order)", i);
        prev_end = ph.p_vaddr + ph.p_memsz;
        info->load[info->n_load++] = ph;
    }
    if (info->n_load == 0)
        return fail(err, errlen, "no loadable segments");

    ElfImage *img = &info->img;
    img->load_bias = bias;
    img->entry = eh.e_entry + bias;
    img->phnum = eh.e_phnum;
    img->phentsize = eh.e_phentsize;
    img->start = (info->load[0].p_vaddr & GUEST_PAGE_MASK) + bias;
    img->end = prev_end + bias;
    if (img->start == 0)
        return fail(err, errlen, "segments start at address 0");

    bool entry_ok = false;
    for (unsigned i = 0; i < info->n_load; i++) {
        const GElf_Phdr *ph = &info->load[i];
        if ((ph->p_flags & PF_X) && eh.e_entry >= ph->p_vaddr &&
            eh.e_entry - ph->p_vaddr < ph->p_memsz)
            entry_ok = true;
        if (!have_phdr && eh.e_phoff >= ph->p_offset &&
            eh.e_phoff + ph_size <= ph->p_offset + ph->p_filesz) {
            phdr_vaddr = ph->p_vaddr + (eh.e_phoff - ph->p_offset);
            have_phdr = true;
        }
    }
    if (!entry_ok)
        return fail(err, errlen, "entry point 0x%llx is not in an executable segment",
                    (unsigned long long)eh.e_entry);
    img->phdr_addr = have_phdr ? phdr_vaddr + bias : 0;
    return true;
}

static bool check_fd(int fd, uint64_t limit, uint64_t dyn_bias, ElfInfo *info, char *err,
                     size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(err, errlen, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(err, errlen, "not a regular file");
    if (elf_version(EV_CURRENT) == EV_NONE)
        return fail(err, errlen, "libelf: %s", elf_errmsg(-1));
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e)
        return fail(err, errlen, "not an ELF file (%s)", elf_errmsg(-1));
    bool ok = check_elf(e, fd, (uint64_t)st.st_size, limit, dyn_bias, info, err, errlen);
    elf_end(e);
    return ok;
}

bool elf_check(int fd, uint64_t guest_limit, ElfImage *img, char *err, size_t errlen)
{
    ElfInfo *info = malloc(sizeof *info);
    if (!info)
        return fail(err, errlen, "out of memory");
    bool ok = check_fd(fd, guest_limit, ELF_ET_DYN_BIAS, info, err, errlen);
    if (ok)
        *img = info->img;
    free(info);
    return ok;
}

bool elf_pread_full(int fd, void *buf, uint64_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        len -= (uint64_t)r;
        off += (uint64_t)r;
    }
    return true;
}

static bool map_image(GuestMem *m, int fd, const char *path, const ElfInfo *info, char *err,
                      size_t errlen)
{
    const ElfImage *img = &info->img;
    uint64_t bias = img->load_bias;
    uint64_t lo = img->start, hi = guest_page_round_up(img->end);
    int64_t r = guest_mmap(m, lo, hi - lo, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, path);
    if (r < 0)
        return fail(err, errlen, "cannot map the image at 0x%llx: %s",
                    (unsigned long long)lo, strerror((int)-r));
    for (unsigned i = 0; i < info->n_load; i++) {
        const GElf_Phdr *ph = &info->load[i];
        uint64_t v = ph->p_vaddr + bias, vend = v + ph->p_filesz;
        /* The whole pages of the segment that no other segment shares are
         * mapped from the file (copy-on-write, loaded lazily by the host, as
         * a native loader does: reading a 2 MB program was a quarter of a
         * short run); the partial pages at either end are read.  Read-only
         * until the protections below: a text segment's pages stay clean
         * file pages (guest_mem_page_id). */
        uint64_t a = guest_page_round_up(v), b = vend & GUEST_PAGE_MASK;
        if (i > 0)
            a = a > guest_page_round_up(info->load[i - 1].p_vaddr + bias + info->load[i - 1].p_memsz)
                    ? a
                    : guest_page_round_up(info->load[i - 1].p_vaddr + bias + info->load[i - 1].p_memsz);
        if (i + 1 < info->n_load && b > ((info->load[i + 1].p_vaddr + bias) & GUEST_PAGE_MASK))
            b = (info->load[i + 1].p_vaddr + bias) & GUEST_PAGE_MASK;
        bool whole = a < b && ((ph->p_offset + (a - v)) & ~GUEST_PAGE_MASK) == 0 &&
                     guest_mmap(m, a, b - a, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd,
                                ph->p_offset + (a - v), path) == (int64_t)a;
        if (!whole)
            a = b = vend;
        if (!elf_pread_full(fd, guest_mem_g2h(m, v), a - v, ph->p_offset) ||
            !elf_pread_full(fd, guest_mem_g2h(m, b), vend - b, ph->p_offset + (b - v)))
            return fail(err, errlen, "cannot read segment %u", i);
    }
    /* Protections page by page run: each segment's pages, shared boundary
     * pages get the union; pages between segments are unmapped. */
    uint64_t prev_hi = lo;
    int prev_prot = 0;
    for (unsigned i = 0; i < info->n_load; i++) {
        const GElf_Phdr *ph = &info->load[i];
        uint64_t s = (ph->p_vaddr + bias) & GUEST_PAGE_MASK;
        uint64_t e = guest_page_round_up(ph->p_vaddr + bias + ph->p_memsz);
        int prot = seg_prot(ph);
        if (s > prev_hi)
            guest_munmap(m, prev_hi, s - prev_hi);
        if (guest_mprotect(m, s, e - s, prot) != 0)
            return fail(err, errlen, "cannot protect segment %u", i);
        if (i > 0 && s < prev_hi)   /* first page shared with the previous segment */
            guest_mprotect(m, s, GUEST_PAGE_SIZE, prot | prev_prot);
        prev_hi = e;
        prev_prot = prot;
    }
    return true;
}

bool elf_load(GuestMem *m, const char *path, ElfImage *img, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "%s", strerror(errno));
    ElfInfo *info = malloc(sizeof *info);
    bool ok = info && check_fd(fd, m->limit, ELF_ET_DYN_BIAS, info, err, errlen);
    if (!info)
        fail(err, errlen, "out of memory");
    if (ok)
        ok = map_image(m, fd, path, info, err, errlen);
    if (ok)
        *img = info->img;
    free(info);
    close(fd);
    return ok;
}

/* The interpreter is validated once at a trial bias (only an ET_DYN image
 * moves) to learn its span, then placed 64 KiB aligned in the top-down
 * mmap area and validated again at the final bias. */
bool elf_load_interp(GuestMem *m, const char *path, ElfImage *img, char *err, size_t errlen)
{
    const uint64_t align = 0x10000;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "%s", strerror(errno));
    ElfInfo *info = malloc(sizeof *info);
    bool ok = info && check_fd(fd, m->limit, align, info, err, errlen);
    if (!info)
        fail(err, errlen, "out of memory");
    if (ok && info->img.interp[0])
        ok = fail(err, errlen, "the interpreter itself asks for an interpreter (%s)",
                  info->img.interp);
    if (ok && info->img.load_bias != 0) {
        uint64_t lo = info->img.start - info->img.load_bias;   /* unbiased first page */
        uint64_t span = guest_page_round_up(info->img.end) - info->img.start;
        uint64_t probe = guest_mem_find_free(m, span + align);
        if (!probe)
            ok = fail(err, errlen, "no room for the interpreter (0x%llx bytes)",
                      (unsigned long long)span);
        else
            ok = check_fd(fd, m->limit, ((probe + align - 1) & ~(align - 1)) - lo, info, err,
                          errlen);
    }
    if (ok)
        ok = map_image(m, fd, path, info, err, errlen);
    if (ok)
        *img = info->img;
    free(info);
    close(fd);
    return ok;
}
