/*
 * user_test.c - Linux user mode: ELF validation on crafted files, the
 * initial stack, the guest address space rules, and syscall argument
 * checking (a guest pointer outside guest memory gives -EFAULT).
 */
#define _GNU_SOURCE
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "user/elf-load.h"
#include "user/guest-mem.h"
#include "user/process.h"
#include "user/stack.h"

static GuestMem *new_mem(void)
{
    char err[256];
    GuestMem *m = guest_mem_new(GUEST_MEM_DEFAULT_LIMIT, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    return m;
}

/* Does writing one byte at host address p kill a child with SIGSEGV? */
static bool host_write_faults(void *p)
{
    pid_t pid = fork();
    if (pid == 0) {
        *(volatile char *)p = 1;
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

static bool host_read_faults(void *p)
{
    pid_t pid = fork();
    if (pid == 0) {
        (void)*(volatile char *)p;
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

/* ---- crafted ELF files --------------------------------------------------- */

typedef struct TestElf {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[3];
    uint8_t code[64];
} TestElf;

/* A valid static AArch64 ET_EXEC: text at 0x400000 (RX), data at 0x410000
 * (RW, filesz 8, memsz 0x2000). */
static TestElf good_elf(void)
{
    TestElf t;
    memset(&t, 0, sizeof t);
    memcpy(t.eh.e_ident, ELFMAG, SELFMAG);
    t.eh.e_ident[EI_CLASS] = ELFCLASS64;
    t.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    t.eh.e_ident[EI_VERSION] = EV_CURRENT;
    t.eh.e_type = ET_EXEC;
    t.eh.e_machine = EM_AARCH64;
    t.eh.e_version = EV_CURRENT;
    t.eh.e_ehsize = sizeof(Elf64_Ehdr);
    t.eh.e_phoff = offsetof(TestElf, ph);
    t.eh.e_phentsize = sizeof(Elf64_Phdr);
    t.eh.e_phnum = 2;
    uint64_t code_off = offsetof(TestElf, code);
    t.eh.e_entry = 0x400000 + code_off;
    t.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
                            .p_vaddr = 0x400000, .p_paddr = 0x400000,
                            .p_filesz = sizeof t, .p_memsz = sizeof t, .p_align = 0x10000 };
    t.ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
                            .p_offset = code_off, .p_vaddr = 0x410000 + code_off,
                            .p_filesz = 8, .p_memsz = 0x2000, .p_align = 0x10000 };
    memcpy(t.code, "\x20\x00\x80\xd2" "ABCDEFGH", 12);   /* mov x0, #1 */
    return t;
}

static char tmp_dir[] = "/tmp/user_test.XXXXXX";

static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

/* Load `data` and expect failure with `reason` in the message. */
static void expect_elf_error(const void *data, size_t len, const char *reason)
{
    GuestMem *m = new_mem();
    ElfImage img;
    char err[256] = "";
    const char *path = write_file("bad", data, len);
    ck_assert_msg(!elf_load(m, path, &img, err, sizeof err), "accepted, expected '%s'", reason);
    ck_assert_msg(strstr(err, reason), "error '%s' does not mention '%s'", err, reason);
    ck_assert_msg(!strchr(err, '\n'), "error is not one line: %s", err);
    /* Nothing may have been mapped. */
    GuestVma *v;
    ck_assert_uint_eq(guest_mem_vmas(m, &v), 0);
    free(v);
    guest_mem_free(m);
}

START_TEST(elf_good_loads)
{
    GuestMem *m = new_mem();
    TestElf t = good_elf();
    const char *path = write_file("good", &t, sizeof t);
    ElfImage img;
    char err[256];
    ck_assert_msg(elf_load(m, path, &img, err, sizeof err), "%s", err);
    ck_assert_uint_eq(img.entry, t.eh.e_entry);
    ck_assert_uint_eq(img.load_bias, 0);
    ck_assert_uint_eq(img.phdr_addr, 0x400000 + t.eh.e_phoff);
    ck_assert_uint_eq(img.phnum, 2);
    ck_assert_uint_eq(img.end, 0x410000 + offsetof(TestElf, code) + 0x2000);
    /* text: readable, executable, not writable; its bytes are the file's */
    ck_assert(guest_mem_check(m, 0x400000, sizeof t, PROT_READ | PROT_EXEC));
    ck_assert(!guest_mem_check(m, 0x400000, 1, PROT_WRITE));
    ck_assert_mem_eq(guest_mem_g2h(m, img.entry), "\x20\x00\x80\xd2", 4);
    ck_assert(host_write_faults(guest_mem_g2h(m, 0x400000)));
    /* data: file bytes then zeros (bss), writable */
    uint64_t d = 0x410000 + offsetof(TestElf, code);
    ck_assert(guest_mem_check(m, d, 0x2000, PROT_READ | PROT_WRITE));
    ck_assert_mem_eq(guest_mem_g2h(m, d), "\x20\x00\x80\xd2" "ABCD", 8);
    ck_assert_int_eq(((uint8_t *)guest_mem_g2h(m, d))[8], 0);
    /* the gap between the segments is unmapped */
    ck_assert(!guest_mem_check(m, 0x401000, 1, PROT_NONE));
    ck_assert(host_read_faults(guest_mem_g2h(m, 0x401000)));
    guest_mem_free(m);
}
END_TEST

START_TEST(elf_pie_gets_bias)
{
    TestElf t = good_elf();
    t.eh.e_type = ET_DYN;
    t.eh.e_entry -= 0x400000;
    t.ph[0].p_vaddr = 0;
    t.ph[1].p_vaddr -= 0x400000;
    GuestMem *m = new_mem();
    const char *path = write_file("pie", &t, sizeof t);
    ElfImage img;
    char err[256];
    ck_assert_msg(elf_load(m, path, &img, err, sizeof err), "%s", err);
    ck_assert_uint_eq(img.load_bias, ELF_ET_DYN_BIAS);
    ck_assert_uint_eq(img.entry, ELF_ET_DYN_BIAS + offsetof(TestElf, code));
    ck_assert(guest_mem_check(m, img.entry, 4, PROT_EXEC));
    guest_mem_free(m);
}
END_TEST

START_TEST(elf_not_elf)
{
    const char text[] = "#!/bin/sh\necho this is not an ELF file\n";
    expect_elf_error(text, sizeof text, "not an ELF file");
    expect_elf_error("", 0, "not an ELF file");
}
END_TEST

START_TEST(elf_wrong_machine)
{
    TestElf t = good_elf();
    t.eh.e_machine = EM_X86_64;
    expect_elf_error(&t, sizeof t, "not an AArch64 program");
}
END_TEST

START_TEST(elf_wrong_class_and_endianness)
{
    TestElf t = good_elf();
    t.eh.e_ident[EI_CLASS] = ELFCLASS32;
    expect_elf_error(&t, sizeof t, "not a 64-bit ELF");
    t = good_elf();
    t.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    expect_elf_error(&t, sizeof t, "little-endian");
}
END_TEST

START_TEST(elf_truncated_phdrs)
{
    TestElf t = good_elf();
    /* cut the file in the middle of the program headers */
    expect_elf_error(&t, offsetof(TestElf, ph) + 20, "program headers lie outside the file");
    t.eh.e_phoff = 1u << 20;
    expect_elf_error(&t, sizeof t, "program headers lie outside the file");
}
END_TEST

START_TEST(elf_overlapping_segments)
{
    TestElf t = good_elf();
    t.ph[1].p_vaddr = 0x400000 + offsetof(TestElf, code);   /* inside segment 0 */
    expect_elf_error(&t, sizeof t, "overlaps");
}
END_TEST

START_TEST(elf_filesz_gt_memsz)
{
    TestElf t = good_elf();
    t.ph[1].p_memsz = 4;
    expect_elf_error(&t, sizeof t, "larger than memory size");
}
END_TEST

START_TEST(elf_segment_outside_file_or_space)
{
    TestElf t = good_elf();
    t.ph[1].p_filesz = t.ph[1].p_memsz = 0x100000;
    expect_elf_error(&t, sizeof t, "outside the file");
    t = good_elf();
    t.ph[1].p_vaddr = (1ull << 40) + offsetof(TestElf, code);
    expect_elf_error(&t, sizeof t, "does not fit in the guest address space");
    t = good_elf();
    t.ph[1].p_vaddr = ~0ull - 0x0fff + offsetof(TestElf, code);
    expect_elf_error(&t, sizeof t, "does not fit");
}
END_TEST

START_TEST(elf_bad_alignment_and_entry)
{
    TestElf t = good_elf();
    t.ph[1].p_vaddr += 8;   /* vaddr and offset no longer congruent */
    expect_elf_error(&t, sizeof t, "modulo the page size");
    t = good_elf();
    t.ph[1].p_align = 0x3000;
    expect_elf_error(&t, sizeof t, "not a power of two");
    t = good_elf();
    t.eh.e_entry = 0x410000 + offsetof(TestElf, code);   /* data segment */
    expect_elf_error(&t, sizeof t, "entry point");
}
END_TEST

START_TEST(elf_interp_rejected)
{
    /* A PT_INTERP that is not a NUL-terminated string ("\177ELF"). */
    TestElf t = good_elf();
    t.eh.e_phnum = 3;
    t.ph[2] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = 0, .p_filesz = 4 };
    expect_elf_error(&t, sizeof t, "bad interpreter path");
    t.ph[2].p_offset = 1u << 20;   /* outside the file */
    expect_elf_error(&t, sizeof t, "outside the file");
}
END_TEST

START_TEST(elf_interp_reported)
{
    GuestMem *m = new_mem();
    TestElf t = good_elf();
    t.eh.e_phnum = 3;
    memcpy(&t.code[40], "/lib/ld.so", 11);
    t.ph[2] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = offsetof(TestElf, code) + 40,
                            .p_filesz = 11 };
    const char *path = write_file("dyn", &t, sizeof t);
    ElfImage img;
    char err[256] = "";
    ck_assert_msg(elf_load(m, path, &img, err, sizeof err), "%s", err);
    ck_assert_str_eq(img.interp, "/lib/ld.so");
    /* An interpreter may not ask for another one. */
    GuestMem *m2 = new_mem();
    ck_assert(!elf_load_interp(m2, path, &img, err, sizeof err));
    ck_assert_msg(strstr(err, "interpreter itself"), "%s", err);
    guest_mem_free(m2);
    guest_mem_free(m);
}
END_TEST

/* An ET_DYN interpreter goes 64 KiB aligned into the free top of the mmap
 * area, clear of what is mapped; an ET_EXEC one stays where it is linked. */
START_TEST(elf_interp_placed)
{
    GuestMem *m = new_mem();
    TestElf t = good_elf();
    t.eh.e_type = ET_DYN;
    const char *path = write_file("ld.so", &t, sizeof t);
    ElfImage a, b;
    char err[256] = "";
    ck_assert_msg(elf_load_interp(m, path, &a, err, sizeof err), "%s", err);
    ck_assert_uint_eq(a.start & 0xffff, 0);
    ck_assert_uint_eq(a.entry - a.start, offsetof(TestElf, code));
    ck_assert_uint_eq(a.load_bias, a.start - 0x400000);
    ck_assert_uint_gt(a.start, 1ull << 32);
    ck_assert_uint_le(a.end, m->mmap_top);
    ck_assert_msg(elf_load_interp(m, path, &b, err, sizeof err), "%s", err);
    ck_assert_uint_le(b.end, a.start);   /* a second one goes below the first */
    ck_assert_int_eq(*(uint32_t *)guest_mem_g2h(m, b.entry), 0xd2800020);
    t.eh.e_type = ET_EXEC;
    path = write_file("ld-exec.so", &t, sizeof t);
    ck_assert_msg(elf_load_interp(m, path, &a, err, sizeof err), "%s", err);
    ck_assert_uint_eq(a.start, 0x400000);
    ck_assert_uint_eq(a.load_bias, 0);
    guest_mem_free(m);
}
END_TEST

START_TEST(elf_missing_file)
{
    GuestMem *m = new_mem();
    ElfImage img;
    char err[256];
    ck_assert(!elf_load(m, "/nonexistent/prog", &img, err, sizeof err));
    ck_assert_str_eq(err, strerror(ENOENT));
    guest_mem_free(m);
}
END_TEST

/* Random corruption of the headers: every outcome is a clean accept or a
 * one-line error, never a crash (the fork of each Check test would report
 * a crash as an error). */
START_TEST(elf_corrupt_headers_never_crash)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 3000; iter++) {
        TestElf t = good_elf();
        uint8_t *bytes = (uint8_t *)&t;
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t off = (x >> 8) % offsetof(TestElf, code);   /* headers only */
            bytes[off] = (uint8_t)(x >> 40);
        }
        int fd = memfd_create("fuzz", 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, &t, sizeof t), sizeof t);
        ElfImage img;
        char err[256] = "";
        if (elf_check(fd, GUEST_MEM_DEFAULT_LIMIT, &img, err, sizeof err)) {
            accepted++;
            ck_assert(img.entry < GUEST_MEM_DEFAULT_LIMIT && img.end <= GUEST_MEM_DEFAULT_LIMIT);
        } else {
            rejected++;
            ck_assert(err[0] && !strchr(err, '\n'));
        }
        close(fd);
    }
    ck_assert_int_gt(rejected, 0);
    ck_assert_int_gt(accepted, 0);   /* harmless flips (e.g. p_paddr) still load */
}
END_TEST

/* ---- initial stack ------------------------------------------------------- */

static uint64_t rd64(GuestMem *m, uint64_t a)
{
    uint64_t v;
    ck_assert(guest_mem_read(m, a, &v, 8));
    return v;
}

static const char *gstr(GuestMem *m, uint64_t a)
{
    ck_assert(guest_mem_strlen(m, a, 4096) >= 0);
    return guest_mem_g2h(m, a);
}

START_TEST(stack_layout_parses_back)
{
    GuestMem *m = new_mem();
    ElfImage img = { .entry = 0x400123, .phdr_addr = 0x400040, .phnum = 7, .phentsize = 56 };
    char *argv[] = { "prog", "a", "bc d", NULL };
    char *envp[] = { "X=1", "LONGER=two words", NULL };
    UserStackArgs a = { .argc = 3, .argv = argv, .envp = envp, .execfn = "/bin/prog",
                        .img = &img, .hwcap = 3, .hwcap2 = 0 };
    uint64_t sp;
    char err[256];
    ck_assert_msg(user_stack_setup(m, &a, &sp, err, sizeof err), "%s", err);
    ck_assert_uint_eq(sp % 16, 0);
    ck_assert(sp < m->limit && sp > m->limit - GUEST_STACK_SIZE);
    ck_assert_uint_eq(rd64(m, sp), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(gstr(m, rd64(m, sp + 8 + 8 * i)), argv[i]);
    ck_assert_uint_eq(rd64(m, sp + 32), 0);
    uint64_t e = sp + 40;
    ck_assert_str_eq(gstr(m, rd64(m, e)), "X=1");
    ck_assert_str_eq(gstr(m, rd64(m, e + 8)), "LONGER=two words");
    ck_assert_uint_eq(rd64(m, e + 16), 0);
    uint64_t seen = 0, aux = e + 24;
    for (int n = 0;; n++, aux += 16) {
        ck_assert_int_lt(n, 64);
        uint64_t k = rd64(m, aux), v = rd64(m, aux + 8);
        if (k == GUEST_AT_NULL)
            break;
        if (k < 64)
            seen |= 1ull << k;
        switch (k) {
        case GUEST_AT_PAGESZ: ck_assert_uint_eq(v, 4096); break;
        case GUEST_AT_ENTRY: ck_assert_uint_eq(v, 0x400123); break;
        case GUEST_AT_PHDR: ck_assert_uint_eq(v, 0x400040); break;
        case GUEST_AT_PHNUM: ck_assert_uint_eq(v, 7); break;
        case GUEST_AT_PHENT: ck_assert_uint_eq(v, 56); break;
        case GUEST_AT_HWCAP: ck_assert_uint_eq(v, 3); break;
        case GUEST_AT_UID: ck_assert_uint_eq(v, getuid()); break;
        case GUEST_AT_PLATFORM: ck_assert_str_eq(gstr(m, v), "aarch64"); break;
        case GUEST_AT_EXECFN: ck_assert_str_eq(gstr(m, v), "/bin/prog"); break;
        case GUEST_AT_RANDOM:
            ck_assert(v > sp && v + 16 <= m->limit);
            ck_assert(guest_mem_check(m, v, 16, PROT_READ));
            break;
        }
    }
    uint64_t want = (1ull << GUEST_AT_PHDR) | (1ull << GUEST_AT_PHENT) |
                    (1ull << GUEST_AT_PHNUM) | (1ull << GUEST_AT_PAGESZ) |
                    (1ull << GUEST_AT_ENTRY) | (1ull << GUEST_AT_RANDOM) |
                    (1ull << GUEST_AT_HWCAP) | (1ull << GUEST_AT_HWCAP2) |
                    (1ull << GUEST_AT_EXECFN) | (1ull << GUEST_AT_PLATFORM) |
                    (1ull << GUEST_AT_SECURE) | (1ull << GUEST_AT_CLKTCK) |
                    (1ull << GUEST_AT_BASE) | (1ull << GUEST_AT_EGID);
    ck_assert_uint_eq(seen & want, want);
    guest_mem_free(m);
}
END_TEST

START_TEST(stack_too_big_env_fails_cleanly)
{
    GuestMem *m = new_mem();
    size_t big = GUEST_STACK_SIZE / 2;
    char *s = malloc(big + 1);
    memset(s, 'x', big);
    s[0] = 'A';
    s[1] = '=';
    s[big] = 0;
    char *argv[] = { "p", NULL };
    char *envp[] = { s, NULL };
    UserStackArgs a = { .argc = 1, .argv = argv, .envp = envp, .execfn = "p" };
    uint64_t sp;
    char err[256];
    ck_assert(!user_stack_setup(m, &a, &sp, err, sizeof err));
    ck_assert(strstr(err, "too long"));
    free(s);
    guest_mem_free(m);
}
END_TEST

/* ---- guest address space ------------------------------------------------- */

START_TEST(mem_mmap_rules)
{
    GuestMem *m = new_mem();
    int64_t a = guest_mmap(m, 0, 3 * 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL);
    ck_assert_int_gt(a, 0);
    ck_assert_uint_eq(a % 4096, 0);
    ck_assert((uint64_t)a + 3 * 4096 <= m->limit);
    ck_assert(guest_mem_check(m, a, 3 * 4096, PROT_READ | PROT_WRITE));
    memset(guest_mem_g2h(m, a), 0x5a, 3 * 4096);
    /* a second mapping does not overlap */
    int64_t b = guest_mmap(m, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL);
    ck_assert_int_gt(b, 0);
    ck_assert((uint64_t)b + 4096 <= (uint64_t)a || (uint64_t)b >= (uint64_t)a + 3 * 4096);
    /* a free hint is honoured; MAP_FIXED_NOREPLACE refuses to clobber */
    ck_assert_int_eq(guest_mmap(m, 0x20000000, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
                                -1, 0, NULL), 0x20000000);
    ck_assert_int_eq(guest_mmap(m, a, 4096, PROT_READ,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, NULL),
                     -EEXIST);
    /* bad arguments */
    ck_assert_int_eq(guest_mmap(m, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL),
                     -EINVAL);
    ck_assert_int_eq(guest_mmap(m, 0x1001, 4096, PROT_READ,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL), -EINVAL);
    ck_assert_int_eq(guest_mmap(m, m->limit, 4096, PROT_READ,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL), -ENOMEM);
    ck_assert_int_eq(guest_mmap(m, 0, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0, NULL), -EINVAL);
    ck_assert_int_eq(guest_mmap(m, 0, 4096, PROT_READ, MAP_PRIVATE, 12345, 0, NULL), -EBADF);

    /* mprotect: the host mirrors the guest's protection */
    ck_assert_int_eq(guest_mprotect(m, a + 4096, 4096, PROT_READ), 0);
    ck_assert(!guest_mem_check(m, a, 3 * 4096, PROT_WRITE));
    ck_assert(guest_mem_check(m, a, 4096, PROT_WRITE));
    ck_assert(host_write_faults(guest_mem_g2h(m, a + 4096)));
    ck_assert(!host_write_faults(guest_mem_g2h(m, a + 8192)));
    ck_assert_int_eq(guest_mprotect(m, a + 1, 4096, PROT_READ), -EINVAL);
    ck_assert_int_eq(guest_mprotect(m, 0x30000000, 4096, PROT_READ), -ENOMEM);
    GuestVma *v;
    size_t n = guest_mem_vmas(m, &v);
    ck_assert_uint_ge(n, 4);   /* a split in three, b, the hinted page */
    free(v);

    /* munmap a hole: unmapped on the host too */
    ck_assert_int_eq(guest_munmap(m, a + 4096, 4096), 0);
    ck_assert(!guest_mem_check(m, a + 4096, 1, PROT_NONE));
    ck_assert(guest_mem_check(m, a + 8192, 4096, PROT_READ | PROT_WRITE));
    ck_assert(host_read_faults(guest_mem_g2h(m, a + 4096)));
    ck_assert_int_eq(guest_munmap(m, a + 1, 4096), -EINVAL);
    ck_assert_int_eq(guest_munmap(m, 0x30000000, 4096), 0);   /* nothing there: fine */
    guest_mem_free(m);
}
END_TEST

START_TEST(mem_mremap_keeps_contents)
{
    GuestMem *m = new_mem();
    int64_t a = guest_mmap(m, 0x10000000, 8192, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL);
    ck_assert_int_eq(a, 0x10000000);
    memset(guest_mem_g2h(m, a), 7, 8192);
    /* grow in place (free space follows) */
    ck_assert_int_eq(guest_mremap(m, a, 8192, 16384, 0, 0), a);
    ck_assert(guest_mem_check(m, a, 16384, PROT_READ | PROT_WRITE));
    ck_assert_int_eq(((uint8_t *)guest_mem_g2h(m, a))[8191], 7);
    /* block the tail, then growing must move */
    ck_assert_int_eq(guest_mmap(m, a + 16384, 4096, PROT_READ,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL),
                     a + 16384);
    ck_assert_int_eq(guest_mremap(m, a, 16384, 32768, 0, 0), -ENOMEM);
    int64_t b = guest_mremap(m, a, 16384, 32768, MREMAP_MAYMOVE, 0);
    ck_assert_int_gt(b, 0);
    ck_assert_int_ne(b, a);
    ck_assert_int_eq(((uint8_t *)guest_mem_g2h(m, b))[100], 7);
    ck_assert(!guest_mem_check(m, a, 1, PROT_NONE));
    ck_assert(host_read_faults(guest_mem_g2h(m, a)));
    /* shrink */
    ck_assert_int_eq(guest_mremap(m, b, 32768, 4096, 0, 0), b);
    ck_assert(!guest_mem_check(m, b + 4096, 1, PROT_NONE));
    ck_assert_int_eq(guest_mremap(m, 0x50000000, 4096, 8192, MREMAP_MAYMOVE, 0), -EFAULT);
    guest_mem_free(m);
}
END_TEST

START_TEST(mem_brk)
{
    GuestMem *m = new_mem();
    guest_mem_brk_init(m, 0x600123);
    uint64_t b0 = guest_brk(m, 0);
    ck_assert_uint_eq(b0, 0x601000);
    ck_assert_uint_eq(guest_brk(m, b0 + 10000), b0 + 10000);
    ck_assert(guest_mem_check(m, b0, 10000, PROT_READ | PROT_WRITE));
    memset(guest_mem_g2h(m, b0), 1, 10000);
    ck_assert_uint_eq(guest_brk(m, b0 + 100), b0 + 100);   /* shrink */
    ck_assert(!guest_mem_check(m, b0 + 4096, 1, PROT_NONE));
    ck_assert_uint_eq(guest_brk(m, b0 + 10000), b0 + 10000);   /* regrown pages are zero */
    ck_assert_int_eq(((uint8_t *)guest_mem_g2h(m, b0))[5000], 0);
    ck_assert_int_eq(((uint8_t *)guest_mem_g2h(m, b0))[50], 1);
    /* the heap cannot grow over another mapping or below its start */
    ck_assert_int_eq(guest_mmap(m, b0 + 0x10000, 4096, PROT_READ,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL),
                     b0 + 0x10000);
    ck_assert_uint_eq(guest_brk(m, b0 + 0x20000), b0 + 10000);
    ck_assert_uint_eq(guest_brk(m, 0x1000), b0 + 10000);
    guest_mem_free(m);
}
END_TEST

START_TEST(mem_code_page_protection)
{
    GuestMem *m = new_mem();
    int64_t a = guest_mmap(m, 0x40000000, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL);
    ck_assert_int_eq(a, 0x40000000);
    uint32_t insn = 0xd65f03c0, got = 0;
    memcpy(guest_mem_g2h(m, a), &insn, 4);
    ck_assert(guest_mem_read_code(m, a, &got, 4));
    ck_assert_uint_eq(got, insn);
    ck_assert(!guest_mem_read_code(m, 0x50000000, &got, 4));
    guest_mem_protect_code_page(m, a);
    ck_assert(host_write_faults(guest_mem_g2h(m, a)));
    ck_assert(!host_write_faults(guest_mem_g2h(m, a + 4096)));   /* only that page */
    guest_mem_unprotect_code_page(m, a);
    ck_assert(!host_write_faults(guest_mem_g2h(m, a)));
    /* non-executable pages are never readable as code */
    ck_assert_int_eq(guest_mprotect(m, a, 4096, PROT_READ), 0);
    ck_assert(!guest_mem_read_code(m, a, &got, 4));
    guest_mem_free(m);
}
END_TEST

/* The page map LLVM regions test (GuestMem.perm): NEXT_READ = this and the
 * next page readable, NEXT_WRITE = both readable and writable. */
START_TEST(mem_page_map_bits)
{
    GuestMem *m = new_mem();
    const uint64_t a = 0x40000000, p = a / GUEST_PAGE_SIZE;
    const uint8_t R = GUEST_PERM_READ, W = GUEST_PERM_WRITE, NR = GUEST_PERM_NEXT_READ,
                  NW = GUEST_PERM_NEXT_WRITE;
    ck_assert_int_eq(guest_mmap(m, a, 3 * 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL), (int64_t)a);
    ck_assert_int_eq(guest_mprotect(m, a + 2 * 4096, 4096, PROT_READ), 0);
    ck_assert_uint_eq(m->perm[p - 1], 0);
    ck_assert_uint_eq(m->perm[p], R | W | NR | NW);
    ck_assert_uint_eq(m->perm[p + 1], R | W | NR);  /* the next page is read-only */
    ck_assert_uint_eq(m->perm[p + 2], R);           /* the next page is unmapped */
    guest_mem_protect_code_page(m, a + 4096);       /* SMC: no writes there */
    ck_assert_uint_eq(m->perm[p], R | W | NR);
    ck_assert_uint_eq(m->perm[p + 1], R | NR);
    guest_mem_unprotect_code_page(m, a + 4096);
    ck_assert_uint_eq(m->perm[p], R | W | NR | NW);
    ck_assert_uint_eq(m->perm[p + 1], R | W | NR);
    ck_assert_int_eq(guest_mprotect(m, a, 4096, PROT_READ), 0);
    ck_assert_uint_eq(m->perm[p], R | NR);          /* no write here: no NEXT_WRITE */
    ck_assert_int_eq(guest_munmap(m, a + 4096, 4096), 0);
    ck_assert_uint_eq(m->perm[p], R);
    ck_assert_uint_eq(m->perm[p + 1], 0);
    guest_mem_free(m);
}
END_TEST

static uint64_t invalidated_start, invalidated_len;
static void record_invalidate(void *o, uint64_t s, uint64_t l)
{
    invalidated_start = s;
    invalidated_len = l;
}
static bool page_is_code(void *o, uint64_t start, uint64_t len)
{
    return start < 0x40001000 && start + len > 0x40000000;   /* the page 0x40000000 */
}

START_TEST(mem_writes_invalidate_code)
{
    GuestMem *m = new_mem();
    GuestMemHooks h = { .invalidate = record_invalidate, .any_code_page = page_is_code };
    guest_mem_set_hooks(m, &h);
    guest_mmap(m, 0x40000000, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL);
    invalidated_len = 0;
    ck_assert_ptr_nonnull(guest_mem_ptr(m, 0x40001000, 16, PROT_WRITE));
    ck_assert_uint_eq(invalidated_len, 0);   /* not a code page */
    ck_assert_ptr_nonnull(guest_mem_ptr(m, 0x40000ff0, 32, PROT_WRITE));
    ck_assert_uint_eq(invalidated_start, 0x40000ff0);
    ck_assert_uint_eq(invalidated_len, 32);
    invalidated_len = 0;
    ck_assert_int_eq(guest_munmap(m, 0x40000000, 4096), 0);
    ck_assert_uint_eq(invalidated_len, 4096);
    guest_mem_free(m);
}
END_TEST

/* A file mapping past the end of its file: the host raises SIGBUS on the
 * access.  With the fault routed to guest_mem_note_host_fault (as emu-user's
 * host handler does), syscall-argument copies fail instead of crashing,
 * the note is not left behind, and a second fault is caught too (the jump
 * must not leave SIGBUS blocked). */
static GuestMem *bus_mem;
static void bus_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    guest_mem_note_host_fault(bus_mem, sig, si->si_addr);
    _exit(99);   /* not caught: the test fails */
}

START_TEST(mem_past_eof_is_efault_not_crash)
{
    GuestMem *m = bus_mem = new_mem();
    char path[] = "/tmp/emu-user-test-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(ftruncate(fd, 100), 0);
    int64_t a = guest_mmap(m, 0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, NULL);
    close(fd);
    ck_assert_int_gt(a, 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = bus_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, &old);
    uint64_t v = 0x1122334455667788ull, got = 0;
    ck_assert(guest_mem_write(m, a + 8, &v, 8));   /* inside the file */
    ck_assert(guest_mem_read(m, a + 8, &got, 8));
    ck_assert_uint_eq(got, v);
    for (int i = 0; i < 2; i++) {
        ck_assert(!guest_mem_read(m, a + 4096, &got, 8));
        ck_assert(!guest_mem_write(m, a + 4096 + 16, &v, 8));
    }
    uint64_t addr;
    ck_assert(!guest_mem_take_bus(&addr));   /* syscall faults leave no note */
    sigaction(SIGBUS, &old, NULL);
    guest_mem_free(m);
}
END_TEST

/* Page ids (guest_mem_page_id, for execve in place): a clean private file
 * mapping has one, equal for the same file, state and offset; writable,
 * shared and anonymous memory has none, nor a file changed since. */
START_TEST(mem_page_ids)
{
    GuestMem *m = new_mem();
    char path[] = "/tmp/emu-user-test-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(ftruncate(fd, 3 * 4096), 0);
    uint8_t a0[16], b0[16], a1[16], x[16];
    int64_t a = guest_mmap(m, 0, 3 * 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0, NULL);
    int64_t b = guest_mmap(m, 0, 2 * 4096, PROT_READ, MAP_PRIVATE, fd, 4096, NULL);
    ck_assert(a > 0 && b > 0);
    ck_assert(guest_mem_page_id(m, a + 4096 + 12, a1));
    ck_assert(guest_mem_page_id(m, b, b0));
    ck_assert_mem_eq(a1, b0, 16);                      /* same file, same offset */
    ck_assert(guest_mem_page_id(m, a, a0));
    ck_assert(memcmp(a0, a1, 16) != 0);                /* another offset */
    /* writable once: its pages may be the guest's own from then on */
    ck_assert_int_eq(guest_mprotect(m, a, 4096, PROT_READ | PROT_WRITE), 0);
    ck_assert_int_eq(guest_mprotect(m, a, 4096, PROT_READ | PROT_EXEC), 0);
    ck_assert(!guest_mem_page_id(m, a, x));
    ck_assert(guest_mem_page_id(m, a + 4096, x));      /* the rest stays clean */
    ck_assert(!guest_mem_page_id(m, a + 3 * 4096, x)); /* unmapped */
    int64_t w = guest_mmap(m, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0, NULL);
    int64_t sh = guest_mmap(m, 0, 4096, PROT_READ, MAP_SHARED, fd, 0, NULL);
    int64_t an = guest_mmap(m, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, NULL);
    ck_assert(!guest_mem_page_id(m, w, x));
    ck_assert(!guest_mem_page_id(m, sh, x));
    ck_assert(!guest_mem_page_id(m, an, x));
    /* the file written after b was mapped: a new mapping has another id */
    struct timespec later[2] = {{0, UTIME_OMIT}, {time(NULL) + 10, 0}};
    ck_assert_int_eq(pwrite(fd, "x", 1, 4096), 1);
    ck_assert_int_eq(futimens(fd, later), 0);
    int64_t c = guest_mmap(m, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 4096, NULL);
    ck_assert(guest_mem_page_id(m, c, x));
    ck_assert(memcmp(x, b0, 16) != 0);
    ck_assert(guest_mem_page_id(m, b, x));             /* b keeps its own */
    ck_assert_mem_eq(x, b0, 16);
    close(fd);
    guest_mem_free(m);
}
END_TEST

START_TEST(mem_strlen_stops_at_unmapped)
{
    GuestMem *m = new_mem();
    guest_mmap(m, 0x10000000, 4096, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL);
    char *h = guest_mem_g2h(m, 0x10000000);
    memset(h, 'a', 4096);
    ck_assert_int_eq(guest_mem_strlen(m, 0x10000ff0, 4096), -1);   /* runs off the page */
    h[4095] = 0;
    ck_assert_int_eq(guest_mem_strlen(m, 0x10000ff0, 4096), 15);
    ck_assert_int_eq(guest_mem_strlen(m, 0x10000000, 100), -2);
    ck_assert_int_eq(guest_mem_strlen(m, 1ull << 50, 100), -1);
    guest_mem_free(m);
}
END_TEST

/* ---- syscalls ------------------------------------------------------------ */

static UserProcess *new_proc(void)
{
    UserProcess *p = calloc(1, sizeof *p);
    p->mem = new_mem();
    p->exe_path = "/usr/bin/true-guest";
    return p;
}

static int64_t sc5(UserProcess *p, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
                   uint64_t a3, uint64_t a4)
{
    static A64State env;
    uint64_t a[6] = { a0, a1, a2, a3, a4, 0 };
    return user_syscall_args(p, &env, nr, a);
}

static int64_t sc(UserProcess *p, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
                  uint64_t a3)
{
    return sc5(p, nr, a0, a1, a2, a3, 0);
}

enum { NR_openat = 56, NR_close = 57, NR_pipe2 = 59, NR_read = 63, NR_write = 64,
       NR_readv = 65, NR_readlinkat = 78, NR_newfstatat = 79, NR_fstat = 80,
       NR_clock_gettime = 113, NR_uname = 160, NR_brk = 214, NR_munmap = 215,
       NR_mmap = 222, NR_mprotect = 226, NR_getrandom = 278 };

START_TEST(syscall_pointers_are_checked)
{
    UserProcess *p = new_proc();
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "hello", 5), 5);
    uint64_t buf = 0x10000000;
    ck_assert_int_eq(guest_mmap(p->mem, buf, 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL), buf);
    /* outside the reservation, unmapped, and running past a mapping */
    ck_assert_int_eq(sc(p, NR_read, fds[0], 1ull << 41, 5, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_read, fds[0], (uint64_t)(uintptr_t)&fds, 5, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_read, fds[0], 0x20000000, 5, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_read, fds[0], buf + 4090, 100, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_read, fds[0], ~0ull - 2, 5, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_read, fds[0], buf, 5, 0), 5);
    ck_assert_mem_eq(guest_mem_g2h(p->mem, buf), "hello", 5);
    /* writes need readable memory, reads need writable memory */
    ck_assert_int_eq(sc(p, NR_write, fds[1], buf, 5, 0), 5);
    guest_mprotect(p->mem, buf, 4096, PROT_READ);
    ck_assert_int_eq(sc(p, NR_read, fds[0], buf, 5, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_clock_gettime, 0, buf, 0, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_uname, buf, 0, 0, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_getrandom, buf, 16, 0, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_pipe2, buf, 0, 0, 0), -EFAULT);
    /* readv: the iovec array and every buffer are checked */
    guest_mprotect(p->mem, buf, 4096, PROT_READ | PROT_WRITE);
    uint64_t iov[4] = { buf + 64, 2, 1ull << 45, 3 };
    memcpy(guest_mem_g2h(p->mem, buf), iov, sizeof iov);
    ck_assert_int_eq(sc(p, NR_readv, fds[0], buf, 2, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_readv, fds[0], buf, 1, 0), 2);
    /* a path that runs into unmapped memory */
    memset(guest_mem_g2h(p->mem, buf), 'x', 4096);
    ck_assert_int_eq(sc(p, NR_openat, (uint64_t)AT_FDCWD, buf + 4000, 0, 0), -EFAULT);
    close(fds[0]);
    close(fds[1]);
    guest_mem_free(p->mem);
    free(p);
}
END_TEST

/* -L: absolute paths go to PREFIX/path when it exists, else the host path;
 * /proc/self/auxv is the guest's vector. */
START_TEST(syscall_ld_prefix_and_auxv)
{
    UserProcess *p = new_proc();
    uint64_t buf = 0x10000000;
    guest_mmap(p->mem, buf, 8192, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL);
    char *h = guest_mem_g2h(p->mem, buf);
    char root[600], pb[PATH_MAX];
    snprintf(root, sizeof root, "%s/root", tmp_dir);
    mkdir(root, 0755);
    char guest_file[700];
    snprintf(guest_file, sizeof guest_file, "%s/only-in-root", root);
    FILE *f = fopen(guest_file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("guest", f);
    fclose(f);
    p->ld_prefix = root;
    ck_assert_str_eq(user_path(p, "/only-in-root", pb), guest_file);
    ck_assert_str_eq(user_path(p, "/etc/hostname-missing-in-root", pb),
                     "/etc/hostname-missing-in-root");
    ck_assert_str_eq(user_path(p, "only-in-root", pb), "only-in-root");   /* relative */
    strcpy(h + 4096, "/only-in-root");
    int64_t fd = sc(p, NR_openat, (uint64_t)AT_FDCWD, buf + 4096, O_RDONLY, 0);
    ck_assert_int_ge(fd, 0);
    char got[8] = "";
    ck_assert_int_eq(read((int)fd, got, sizeof got), 5);
    ck_assert_mem_eq(got, "guest", 5);
    close((int)fd);
    ck_assert_int_eq(sc(p, NR_newfstatat, (uint64_t)AT_FDCWD, buf + 4096, buf, 0), 0);
    p->ld_prefix = NULL;
    ck_assert_int_eq(sc(p, NR_newfstatat, (uint64_t)AT_FDCWD, buf + 4096, buf, 0), -ENOENT);
    /* auxv: two pairs in guest memory */
    uint64_t av[4] = { 16, 0x83, 0, 0 };
    memcpy(h + 256, av, sizeof av);
    p->auxv_addr = buf + 256;
    p->auxv_len = sizeof av;
    strcpy(h + 4096, "/proc/self/auxv");
    fd = sc(p, NR_openat, (uint64_t)AT_FDCWD, buf + 4096, O_RDONLY, 0);
    ck_assert_int_ge(fd, 0);
    uint64_t back[5];
    ck_assert_int_eq(read((int)fd, back, sizeof back), sizeof av);
    ck_assert_mem_eq(back, av, sizeof av);
    close((int)fd);
    guest_mem_free(p->mem);
    free(p);
}
END_TEST

START_TEST(syscall_translations)
{
    UserProcess *p = new_proc();
    uint64_t buf = 0x10000000;
    guest_mmap(p->mem, buf, 8192, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL);
    char *h = guest_mem_g2h(p->mem, buf);
    /* uname says aarch64 */
    ck_assert_int_eq(sc(p, NR_uname, buf, 0, 0, 0), 0);
    ck_assert_str_eq(((struct utsname *)h)->machine, "aarch64");
    /* fstat writes the arm64 layout: st_size at offset 48, st_mode at 16 */
    const char *path = write_file("stat", "0123456789", 10);
    strcpy(h + 4096, path);
    int64_t fd = sc(p, NR_openat, (uint64_t)AT_FDCWD, buf + 4096, O_RDONLY, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sc(p, NR_fstat, fd, buf, 0, 0), 0);
    int64_t size;
    uint32_t mode;
    memcpy(&size, h + 48, 8);
    memcpy(&mode, h + 16, 4);
    ck_assert_int_eq(size, 10);
    ck_assert(S_ISREG(mode));
    ck_assert_int_eq(sc(p, NR_close, fd, 0, 0, 0), 0);
    ck_assert_int_eq(sc(p, NR_newfstatat, (uint64_t)AT_FDCWD, buf + 4096, buf, 0), 0);
    memcpy(&size, h + 48, 8);
    ck_assert_int_eq(size, 10);
    /* arm64's O_DIRECTORY (040000) is x86-64's O_DIRECT: must be translated */
    ck_assert_int_eq(sc(p, NR_openat, (uint64_t)AT_FDCWD, buf + 4096, 040000, 0), -ENOTDIR);
    /* /proc/self/exe is the guest program */
    strcpy(h + 4096, "/proc/self/exe");
    ck_assert_int_eq(sc(p, NR_readlinkat, (uint64_t)AT_FDCWD, buf + 4096, buf, 100),
                     (int64_t)strlen(p->exe_path));
    ck_assert_mem_eq(h, p->exe_path, strlen(p->exe_path));
    /* /proc/self/maps lists guest mappings with guest addresses */
    strcpy(h + 4096, "/proc/self/maps");
    fd = sc(p, NR_openat, (uint64_t)AT_FDCWD, buf + 4096, O_RDONLY, 0);
    ck_assert_int_ge(fd, 0);
    char maps[4096] = "";
    ck_assert_int_gt(read((int)fd, maps, sizeof maps - 1), 0);
    ck_assert_msg(strstr(maps, "10000000-10002000 rw-p 00000000 00:00 0\n"), "%s", maps);
    close((int)fd);
    /* unknown and unimplemented syscalls */
    ck_assert_int_eq(sc(p, 4000, 0, 0, 0, 0), -ENOSYS);
    ck_assert_int_eq(sc(p, 0 /* io_setup */, 0, 0, 0, 0), -ENOSYS);
    ck_assert_str_eq(user_syscall_name(0), "io_setup");
    ck_assert_str_eq(user_syscall_name(64), "write");
    guest_mem_free(p->mem);
    free(p);
}
END_TEST

START_TEST(syscall_memory)
{
    UserProcess *p = new_proc();
    guest_mem_brk_init(p->mem, 0x800000);
    ck_assert_int_eq(sc(p, NR_brk, 0, 0, 0, 0), 0x800000);
    ck_assert_int_eq(sc(p, NR_brk, 0x802000, 0, 0, 0), 0x802000);
    int64_t a = sc5(p, NR_mmap, 0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   (uint64_t)-1);
    ck_assert_int_gt(a, 0);
    ck_assert((uint64_t)a < p->mem->limit);
    ck_assert_int_eq(sc(p, NR_mprotect, a, 4096, PROT_READ, 0), 0);
    ck_assert_int_eq(sc(p, NR_clock_gettime, 0, a, 0, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_clock_gettime, 0, a + 4096, 0, 0), 0);
    ck_assert_int_eq(sc(p, NR_munmap, a, 65536, 0, 0), 0);
    ck_assert_int_eq(sc(p, NR_clock_gettime, 0, a + 4096, 0, 0), -EFAULT);
    /* a guest can't map outside its space */
    ck_assert_int_eq(sc5(p, NR_mmap, 1ull << 41, 4096, PROT_READ,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, (uint64_t)-1), -ENOMEM);
    guest_mem_free(p->mem);
    free(p);
}
END_TEST

START_TEST(syscall_socket_pointers)
{
    UserProcess *p = new_proc();
    uint64_t buf = 0x10000000;
    guest_mmap(p->mem, buf, 8192, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL);
    uint8_t *h = guest_mem_g2h(p->mem, buf);
    enum { NR_socketpair = 199, NR_getsockopt = 209, NR_sendmsg = 211, NR_recvmsg = 212 };
    ck_assert_int_eq(sc(p, NR_socketpair, AF_UNIX, SOCK_STREAM, 0, 1ull << 42), -EFAULT);
    ck_assert_int_eq(sc(p, NR_socketpair, AF_UNIX, SOCK_STREAM, 0, buf), 0);
    int sv[2];
    memcpy(sv, h, sizeof sv);
    /* msghdr at buf+64: one iovec at buf+128 -> "hi" at buf+256 */
    uint64_t msg[7] = { 0, 0, buf + 128, 1, 0, 0, 0 };
    uint64_t iov[2] = { buf + 256, 2 };
    memcpy(h + 64, msg, sizeof msg);
    memcpy(h + 128, iov, sizeof iov);
    memcpy(h + 256, "hi", 2);
    ck_assert_int_eq(sc(p, NR_sendmsg, sv[0], buf + 64, 0, 0), 2);
    /* an iovec pointing outside guest memory */
    iov[0] = (uint64_t)(uintptr_t)h;   /* a host address, not a guest one */
    memcpy(h + 128, iov, sizeof iov);
    ck_assert_int_eq(sc(p, NR_sendmsg, sv[0], buf + 64, 0, 0), -EFAULT);
    ck_assert_int_eq(sc(p, NR_sendmsg, sv[0], 1ull << 45, 0, 0), -EFAULT);
    /* recvmsg into buf+512 */
    iov[0] = buf + 512;
    memcpy(h + 128, iov, sizeof iov);
    ck_assert_int_eq(sc(p, NR_recvmsg, sv[1], buf + 64, 0, 0), 2);
    ck_assert_mem_eq(h + 512, "hi", 2);
    /* getsockopt: the length pointer must be writable guest memory */
    uint32_t len = 4;
    memcpy(h + 1024, &len, 4);
    ck_assert_int_eq(sc5(p, NR_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, buf + 1028, buf + 1024), 0);
    ck_assert_int_eq(*(int *)(h + 1028), SOCK_STREAM);
    ck_assert_int_eq(sc5(p, NR_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, buf + 1028, 1ull << 41),
                     -EFAULT);
    close(sv[0]);
    close(sv[1]);
    guest_mem_free(p->mem);
    free(p);
}
END_TEST

/* A signal frame built for a handler and taken down by rt_sigreturn gives
 * back every register, the flags, the vector state and the mask. */
START_TEST(sigframe_round_trip)
{
    UserProcess *p = new_proc();
    ck_assert_int_eq(guest_mmap(p->mem, 0x7000000, 65536, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, NULL), 0x7000000);
    static A64State env;
    for (int i = 0; i < 31; i++)
        env.x[i] = 3 * (uint64_t)i + 1;
    env.x[A64_SP] = 0x7010000 - 0x108;   /* not 16-aligned on purpose */
    env.common.pc = 0x400100;
    env.nf = 0x80000000u, env.zf = 0, env.cf = 1, env.vf = 0;
    env.v[5][0] = 0x42;
    env.fpcr = 0x3000000;
    user_thread_self()->sigmask = 1ull << (SIGUSR2 - 1);
    p->sigact[SIGUSR1] = (GuestSigAction){ .handler = 0x400800, .flags = SA_SIGINFO | 0x04000000,
                                           .restorer = 0x400900,
                                           .mask = 1ull << (SIGTERM - 1) };
    uint8_t info[128] = { SIGUSR1 };
    ck_assert(user_sigframe_setup(p, &env, SIGUSR1, info, 0));
    uint64_t sp = env.x[A64_SP];
    ck_assert_uint_eq(sp % 16, 0);
    ck_assert(sp < 0x7010000 - 0x108 - 4688);
    ck_assert_uint_eq(env.common.pc, 0x400800);
    ck_assert_uint_eq(env.x[0], SIGUSR1);
    ck_assert_uint_eq(env.x[1], sp);
    ck_assert_uint_eq(env.x[2], sp + 128);
    ck_assert_uint_eq(env.x[30], 0x400900);
    ck_assert_uint_eq(*(uint32_t *)guest_mem_g2h(p->mem, sp), SIGUSR1);   /* si_signo */
    /* uc_mcontext.pc and the frame record (x29, x30 of the interrupted code) */
    ck_assert_uint_eq(*(uint64_t *)guest_mem_g2h(p->mem, sp + 128 + 176 + 264), 0x400100);
    ck_assert_uint_eq(*(uint64_t *)guest_mem_g2h(p->mem, env.x[29]), 3 * 29 + 1);
    ck_assert_uint_eq(user_thread_self()->sigmask, (1ull << (SIGUSR2 - 1)) | (1ull << (SIGTERM - 1)) |
                                  (1ull << (SIGUSR1 - 1)));
    /* the handler clobbers state, then returns through rt_sigreturn */
    env.x[5] = 999;
    env.nf = 0, env.zf = 1, env.cf = 0;
    env.v[5][0] = 0;
    env.fpcr = 0;
    ck_assert_int_eq(user_sigframe_return(p, &env), 1);   /* restored x0 */
    for (int i = 0; i < 31; i++)
        ck_assert_uint_eq(env.x[i], 3 * (uint64_t)i + 1);
    ck_assert_uint_eq(env.x[A64_SP], 0x7010000 - 0x108);
    ck_assert_uint_eq(env.common.pc, 0x400100);
    ck_assert_uint_eq(env.nf >> 31, 1);
    ck_assert_uint_eq(env.zf, 0);   /* Z was set */
    ck_assert_uint_eq(env.cf, 1);
    ck_assert_uint_eq(env.v[5][0], 0x42);
    ck_assert_uint_eq(env.fpcr, 0x3000000);
    ck_assert_uint_eq(user_thread_self()->sigmask, 1ull << (SIGUSR2 - 1));
    guest_mem_free(p->mem);
    free(p);
}
END_TEST

/* rt_sigreturn on garbage kills with SIGSEGV (no handler installed). */
START_TEST(sigreturn_bad_frame_is_segv)
{
    UserProcess *p = new_proc();
    static A64State env;
    env.x[A64_SP] = 0x3000000;   /* unmapped */
    user_sigframe_return(p, &env);
}
END_TEST

static Suite *user_suite(void)
{
    Suite *s = suite_create("user");
    TCase *elf = tcase_create("elf");
    tcase_add_test(elf, elf_good_loads);
    tcase_add_test(elf, elf_pie_gets_bias);
    tcase_add_test(elf, elf_not_elf);
    tcase_add_test(elf, elf_wrong_machine);
    tcase_add_test(elf, elf_wrong_class_and_endianness);
    tcase_add_test(elf, elf_truncated_phdrs);
    tcase_add_test(elf, elf_overlapping_segments);
    tcase_add_test(elf, elf_filesz_gt_memsz);
    tcase_add_test(elf, elf_segment_outside_file_or_space);
    tcase_add_test(elf, elf_bad_alignment_and_entry);
    tcase_add_test(elf, elf_interp_rejected);
    tcase_add_test(elf, elf_interp_reported);
    tcase_add_test(elf, elf_interp_placed);
    tcase_add_test(elf, elf_missing_file);
    tcase_add_test(elf, elf_corrupt_headers_never_crash);
    suite_add_tcase(s, elf);
    TCase *stack = tcase_create("stack");
    tcase_add_test(stack, stack_layout_parses_back);
    tcase_add_test(stack, stack_too_big_env_fails_cleanly);
    suite_add_tcase(s, stack);
    TCase *mem = tcase_create("guest-mem");
    tcase_add_test(mem, mem_mmap_rules);
    tcase_add_test(mem, mem_mremap_keeps_contents);
    tcase_add_test(mem, mem_brk);
    tcase_add_test(mem, mem_code_page_protection);
    tcase_add_test(mem, mem_page_map_bits);
    tcase_add_test(mem, mem_writes_invalidate_code);
    tcase_add_test(mem, mem_strlen_stops_at_unmapped);
    tcase_add_test(mem, mem_page_ids);
    tcase_add_test(mem, mem_past_eof_is_efault_not_crash);
    suite_add_tcase(s, mem);
    TCase *sys = tcase_create("syscall");
    tcase_add_test(sys, syscall_pointers_are_checked);
    tcase_add_test(sys, syscall_translations);
    tcase_add_test(sys, syscall_ld_prefix_and_auxv);
    tcase_add_test(sys, syscall_memory);
    tcase_add_test(sys, syscall_socket_pointers);
    TCase *sig = tcase_create("signals");
    tcase_add_test(sig, sigframe_round_trip);
    tcase_add_test_raise_signal(sig, sigreturn_bad_frame_is_segv, SIGSEGV);
    suite_add_tcase(s, sig);
    suite_add_tcase(s, sys);
    return s;
}

int main(void)
{
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    SRunner *r = srunner_create(user_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_dir);
    return failed ? 1 : 0;
}
