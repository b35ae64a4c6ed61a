/*
 * aot_test.c - code discovery (aot/) on a real static guest program
 * (tests/aot/aot-guest.c, path in argv[1]), loaded into a plain buffer at
 * its link addresses: known functions and a return site after a call are
 * found, the data-in-text string table is not; branch decoding against
 * encodings from aarch64-linux-gnu-as; bad files give a reason.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "aot/aot.h"
#include "runtime/cpu.h"
#include "runtime/exec.h"
#include "user/guest-mem.h"
#include "user/user-run.h"

static const char *guest_path;

/* The guest image: PT_LOADs copied to [lo, hi) */
static uint8_t *image;
static uint64_t img_lo, img_hi;
static struct { uint64_t start, end; } xseg[8];
static unsigned n_xseg;

static bool read_data(void *opaque, uint64_t addr, void *buf, size_t len)
{
    if (addr < img_lo || addr > img_hi || len > img_hi - addr)
        return false;
    memcpy(buf, image + (addr - img_lo), len);
    return true;
}

static bool read_code(void *opaque, uint64_t pc, void *buf, size_t len)
{
    for (unsigned i = 0; i < n_xseg; i++)
        if (pc >= xseg[i].start && pc < xseg[i].end && len <= xseg[i].end - pc)
            return read_data(opaque, pc, buf, len);
    return false;
}

static const GuestCodeReader code_reader = { NULL, read_code };
static const AotMemReader data_reader = { NULL, read_data };

static void load_guest(void)
{
    elf_version(EV_CURRENT);
    int fd = open(guest_path, O_RDONLY);
    ck_assert_msg(fd >= 0, "cannot open %s", guest_path);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    ck_assert_ptr_nonnull(e);
    size_t n;
    ck_assert_int_eq(elf_getphdrnum(e, &n), 0);
    img_lo = UINT64_MAX;
    img_hi = 0;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        gelf_getphdr(e, (int)i, &ph);
        if (ph.p_type != PT_LOAD)
            continue;
        if (ph.p_vaddr < img_lo)
            img_lo = ph.p_vaddr;
        if (ph.p_vaddr + ph.p_memsz > img_hi)
            img_hi = ph.p_vaddr + ph.p_memsz;
    }
    image = calloc(1, img_hi - img_lo);
    ck_assert_ptr_nonnull(image);
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        gelf_getphdr(e, (int)i, &ph);
        if (ph.p_type != PT_LOAD)
            continue;
        ck_assert(pread(fd, image + (ph.p_vaddr - img_lo), ph.p_filesz, ph.p_offset) ==
                  (ssize_t)ph.p_filesz);
        if ((ph.p_flags & PF_X) && n_xseg < 8)
            xseg[n_xseg++].start = ph.p_vaddr, xseg[n_xseg - 1].end = ph.p_vaddr + ph.p_filesz;
    }
    elf_end(e);
    close(fd);
}

/* Address of a symbol in the guest's .symtab (aborts the test if missing). */
static uint64_t sym(const char *name)
{
    int fd = open(guest_path, O_RDONLY);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    uint64_t v = 0;
    Elf_Scn *s = NULL;
    while (!v && (s = elf_nextscn(e, s))) {
        GElf_Shdr sh;
        gelf_getshdr(s, &sh);
        if (sh.sh_type != SHT_SYMTAB)
            continue;
        Elf_Data *d = elf_getdata(s, NULL);
        for (size_t i = 0; i < sh.sh_size / sizeof(Elf64_Sym); i++) {
            GElf_Sym y;
            gelf_getsym(d, (int)i, &y);
            const char *nm = elf_strptr(e, sh.sh_link, y.st_name);
            if (nm && !strcmp(nm, name))
                v = y.st_value;
        }
    }
    elf_end(e);
    close(fd);
    ck_assert_msg(v, "symbol %s not found", name);
    return v;
}

static const AotBlock *find_block(const AotResult *r, uint64_t pc)
{
    size_t lo = 0, hi = r->n_blocks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->blocks[mid].pc < pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_blocks && r->blocks[lo].pc == pc ? &r->blocks[lo] : NULL;
}

static void discover(unsigned sources, AotModule *m, AotResult *r)
{
    char err[256];
    guest_arch_aarch64.init();
    ck_assert_msg(aot_module_open(m, guest_path, 0, &data_reader, err, sizeof err), "%s", err);
    AotOptions o = { .sources = sources };
    ck_assert(aot_discover(m, &code_reader, &guest_arch_aarch64, 0, 512, &o, r));
}

/* The first BL inside the function at fn: its return site. */
static uint64_t first_return_site(uint64_t fn)
{
    for (uint64_t pc = fn; pc < fn + 64; pc += 4) {
        uint32_t insn;
        ck_assert(read_code(NULL, pc, &insn, 4));
        if ((insn & 0xFC000000u) == 0x94000000u)
            return pc + 4;
    }
    ck_abort_msg("no BL in the first 16 insns at 0x%llx", (unsigned long long)fn);
    return 0;
}

START_TEST(test_branch_decode)
{
    /* encodings from aarch64-linux-gnu-as -march=armv8.8-a at pc 0x1000 */
    struct { uint32_t insn; AotBranchKind kind; uint64_t target; } t[] = {
        { 0x371fffc1, AOT_BR_COND, 0x0ff8 },   /* tbnz w1, #3, .-8 */
        { 0xb4000040, AOT_BR_COND, 0x1008 },   /* cbz x0, .+8 */
        { 0x54000081, AOT_BR_COND, 0x1010 },   /* b.ne .+16 */
        { 0x54000070, AOT_BR_COND, 0x100c },   /* bc.eq .+12 */
        { 0x97ffffff, AOT_BR_BL, 0x0ffc },     /* bl .-4 */
        { 0x14000002, AOT_BR_B, 0x1008 },      /* b .+8 */
        { 0x17ffffff, AOT_BR_B, 0x0ffc },      /* b .-4 */
        { 0xd63f0040, AOT_BR_CALL_INDIRECT, 0 }, /* blr x2 */
        { 0xd73f0864, AOT_BR_CALL_INDIRECT, 0 }, /* blraa x3, x4 */
        { 0xd61f0200, AOT_BR_INDIRECT, 0 },    /* br x16 */
        { 0xd65f03c0, AOT_BR_INDIRECT, 0 },    /* ret */
        { 0xd65f0bff, AOT_BR_INDIRECT, 0 },    /* retaa */
        { 0x91000400, AOT_BR_NONE, 0 },        /* add x0, x0, #1 */
        { 0xd4000001, AOT_BR_NONE, 0 },        /* svc #0 */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        AotBranch b = aot_a64_branch(t[i].insn, 0x1000);
        ck_assert_msg(b.kind == t[i].kind, "0x%08x: kind %d, want %d", t[i].insn, b.kind,
                      t[i].kind);
        if (t[i].kind == AOT_BR_B || t[i].kind == AOT_BR_BL || t[i].kind == AOT_BR_COND)
            ck_assert_msg(b.target == t[i].target, "0x%08x: target 0x%llx", t[i].insn,
                          (unsigned long long)b.target);
    }
}
END_TEST

START_TEST(test_adrp_add_decode)
{
    unsigned rd, rn;
    uint64_t page, imm;
    /* adrp x4, #0x29000 (from python3.11's ld.so at 0xffbf7c6854) */
    ck_assert(aot_a64_adrp(0xb0000144, 0xffbf7c6854ull, &rd, &page));
    ck_assert_uint_eq(rd, 4);
    ck_assert_uint_eq(page, 0xffbf7ef000ull);
    /* adrp x3, -3 pages */
    ck_assert(aot_a64_adrp(0xb0ffffe3, 0x10000, &rd, &page));
    ck_assert_uint_eq(rd, 3);
    ck_assert_uint_eq(page, 0xd000);
    ck_assert(!aot_a64_adrp(0x10000001, 0x1000, &rd, &page));   /* adr x1, . */
    /* add x1, x1, #0x123 and add x2, x3, #0x4, lsl #12 */
    ck_assert(aot_a64_add_imm(0x91048c21, &rd, &rn, &imm));
    ck_assert(rd == 1 && rn == 1 && imm == 0x123);
    ck_assert(aot_a64_add_imm(0x91401062, &rd, &rn, &imm));
    ck_assert(rd == 2 && rn == 3 && imm == 0x4000);
    ck_assert(!aot_a64_add_imm(0x11000421, &rd, &rn, &imm));    /* add w1, w1, #1 */
}
END_TEST

START_TEST(test_module_seeds)
{
    char err[256];
    AotModule m;
    ck_assert_msg(aot_module_open(&m, guest_path, 0, &data_reader, err, sizeof err), "%s", err);
    ck_assert(m.n_text >= 1);
    ck_assert(aot_module_in_text(&m, sym("aot_leaf")));
    ck_assert(!aot_module_in_text(&m, sym("aot_fp")));   /* .data */
    bool entry = false, leaf = false;
    for (size_t i = 0; i < m.n_seeds; i++) {
        entry |= m.seeds[i].src == AOT_SRC_ENTRY && m.seeds[i].pc == sym("_start");
        leaf |= m.seeds[i].src == AOT_SRC_SYMBOL && m.seeds[i].pc == sym("aot_leaf");
        ck_assert(aot_module_in_text(&m, m.seeds[i].pc) && !(m.seeds[i].pc & 3));
    }
    ck_assert(entry && leaf);
    aot_module_free(&m);
}
END_TEST

START_TEST(test_all_sources)
{
    AotModule m;
    AotResult r;
    discover(0, &m, &r);
    ck_assert_msg(r.n_blocks > 1000, "only %zu blocks", r.n_blocks);
    const char *fns[] = { "_start", "main", "aot_leaf", "aot_caller", "aot_indirect", "printf" };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        ck_assert_msg(find_block(&r, sym(fns[i])), "%s not discovered", fns[i]);
    ck_assert(find_block(&r, first_return_site(sym("aot_caller"))));
    uint64_t g0 = sym("aot_garbage"), g1 = sym("aot_garbage_end");
    for (size_t i = 0; i < r.n_blocks; i++)
        ck_assert_msg(r.blocks[i].pc < g0 || r.blocks[i].pc >= g1,
                      "block at 0x%llx inside the data-in-text area",
                      (unsigned long long)r.blocks[i].pc);
    ck_assert(r.rejected > 0);   /* the garbage was looked at and refused */
    size_t sum = 0;
    for (unsigned s = 0; s < AOT_SRC_COUNT; s++)
        sum += r.per_src[s];
    ck_assert_uint_eq(sum, r.n_blocks);
    aot_result_free(&r);
    aot_module_free(&m);
}
END_TEST

/* Symbols and descent only: the return site comes from descent. */
START_TEST(test_descent_return_site)
{
    AotModule m;
    AotResult r;
    discover(1u << AOT_SRC_SYMBOL | 1u << AOT_SRC_DESCENT, &m, &r);
    uint64_t caller = sym("aot_caller"), ret = first_return_site(caller);
    const AotBlock *b = find_block(&r, ret);
    ck_assert_msg(b, "return site 0x%llx not found", (unsigned long long)ret);
    ck_assert_int_eq(b->src, AOT_SRC_DESCENT);
    ck_assert_int_eq(find_block(&r, caller)->src, AOT_SRC_SYMBOL);
    ck_assert_uint_eq(r.per_src[AOT_SRC_SWEEP], 0);
    ck_assert_uint_eq(r.per_src[AOT_SRC_RELOC], 0);
    aot_result_free(&r);
    aot_module_free(&m);
}
END_TEST

/* Without symbols: _start takes the address of main's caller with
 * ADRP+ADD, and aot_indirect's address is stored in .data (aot_fp): both
 * found as pointers, main after them by descent. */
START_TEST(test_pointers)
{
    AotModule m;
    AotResult r;
    discover(1u << AOT_SRC_ENTRY | 1u << AOT_SRC_POINTER | 1u << AOT_SRC_DESCENT, &m, &r);
    ck_assert_uint_eq(r.per_src[AOT_SRC_SYMBOL], 0);
    ck_assert_msg(find_block(&r, sym("main")), "main not found");
    const AotBlock *b = find_block(&r, sym("aot_indirect"));
    ck_assert_msg(b && b->src == AOT_SRC_POINTER, "aot_indirect: %s",
                  b ? aot_source_names[b->src] : "-");
    /* the ADRP+ADD pair in _start */
    uint64_t start = sym("_start"), target = 0;
    for (uint64_t pc = start; pc < start + 64 && !target; pc += 4) {
        uint32_t w[2];
        unsigned rd, rd2, rn;
        uint64_t page, imm;
        ck_assert(read_code(NULL, pc, w, 8));
        if (aot_a64_adrp(w[0], pc, &rd, &page) && aot_a64_add_imm(w[1], &rd2, &rn, &imm) &&
            rn == rd)
            target = page + imm;
    }
    ck_assert_msg(target, "no ADRP+ADD in _start");
    b = find_block(&r, target);
    ck_assert_msg(b && b->src == AOT_SRC_POINTER, "0x%llx: %s", (unsigned long long)target,
                  b ? aot_source_names[b->src] : "not found");
    aot_result_free(&r);
    aot_module_free(&m);
}
END_TEST

/* The sweep alone: covers the functions (a block starts at each or in the
 * alignment padding just before it), never starts inside the garbage. */
START_TEST(test_sweep_rejects_garbage)
{
    AotModule m;
    AotResult r;
    discover(1u << AOT_SRC_SWEEP, &m, &r);
    ck_assert_msg(r.n_blocks > 1000, "only %zu blocks", r.n_blocks);
    ck_assert_uint_eq(r.per_src[AOT_SRC_SWEEP], r.n_blocks);
    const char *fns[] = { "aot_leaf", "aot_caller", "aot_indirect" };
    for (size_t i = 0; i < 3; i++) {
        uint64_t f = sym(fns[i]);
        bool covered = false;
        for (uint64_t pc = f - 12; pc <= f && !covered; pc += 4)
            covered = find_block(&r, pc) != NULL;
        ck_assert_msg(covered, "%s not covered by the sweep", fns[i]);
    }
    uint64_t g0 = sym("aot_garbage"), g1 = sym("aot_garbage_end");
    for (size_t i = 0; i < r.n_blocks; i++)
        ck_assert_msg(r.blocks[i].pc < g0 || r.blocks[i].pc >= g1,
                      "sweep accepted 0x%llx inside the data-in-text area",
                      (unsigned long long)r.blocks[i].pc);
    /* and the code right after it is found again */
    ck_assert(find_block(&r, g1) || find_block(&r, (g1 + 15) & ~15ull));
    aot_result_free(&r);
    aot_module_free(&m);
}
END_TEST

/* UserConfig.at_entry: called with the guest at AT_ENTRY, before anything
 * there is translated; user_run returns the hook's value. */
static uint64_t hook_pc;
static size_t hook_vmas, hook_blocks_before;
static bool hook_has_entry_block;

static int entry_hook(void *opaque, ExecEngine *e, ExecCpu *cpu, struct GuestMem *mem)
{
    CpuCommon *c = exec_cpu_env(cpu);
    hook_pc = c->pc;
    GuestVma *v;
    hook_vmas = guest_mem_vmas(mem, &v);
    free(v);
    hook_blocks_before = exec_block_count(e);
    hook_has_entry_block = exec_lookup(e, c->pc, c->mode_flags) != NULL;
    /* translating works from here as in the dispatcher */
    if (!exec_get_block(e, c->pc, c->mode_flags))
        return 3;
    return 42;
}

START_TEST(test_user_run_at_entry)
{
    char *argv[] = { (char *)guest_path, NULL }, *envp[] = { "PATH=/bin", NULL };
    UserConfig uc = { .prog = guest_path, .argc = 1, .argv = argv, .envp = envp,
                      .tier = EXEC_TIER_TEMPLATE, .at_entry = entry_hook };
    fflush(stdout);
    int st = user_run(&uc);   /* the guest would print a line if it ran */
    ck_assert_int_eq(st, 42);
    ck_assert_uint_eq(hook_pc, sym("_start"));
    ck_assert(!hook_has_entry_block);
    ck_assert_uint_eq(hook_blocks_before, 0);   /* a static program: nothing ran */
    ck_assert(hook_vmas >= 2);
}
END_TEST

static char tmpdir[] = "/tmp/aot_test.XXXXXX";

static const char *write_tmp(const char *name, const void *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert(fwrite(data, 1, len, f) == len);
    fclose(f);
    return path;
}

/* Truncated and corrupted copies of the guest: a reason or a clean parse,
 * never a crash. */
START_TEST(test_bad_files)
{
    FILE *f = fopen(guest_path, "rb");
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    rewind(f);
    uint8_t *buf = malloc(len);
    ck_assert(fread(buf, 1, len, f) == len);
    fclose(f);
    char err[256];
    AotModule m;
    ck_assert(!aot_module_open(&m, "/nonexistent/aot", 0, NULL, err, sizeof err));
    ck_assert_str_eq(err, "No such file or directory");
    ck_assert(!aot_module_open(&m, write_tmp("empty", "", 0), 0, NULL, err, sizeof err));
    ck_assert(!aot_module_open(&m, write_tmp("text", "hello world\n", 12), 0, NULL, err,
                               sizeof err));
    ck_assert_str_eq(err, "not an ELF file");
    uint8_t *c = malloc(len);
    memcpy(c, buf, len);
    c[18] = 62;   /* e_machine = EM_X86_64 */
    ck_assert(!aot_module_open(&m, write_tmp("x86", c, len), 0, NULL, err, sizeof err));
    ck_assert_str_eq(err, "not an AArch64 ELF file (e_machine 62)");
    /* truncation anywhere: the section headers are at the end, so every
     * shorter copy must fail with a reason */
    for (size_t cut = 0; cut < len; cut += cut < 4096 ? 61 : 4093) {
        err[0] = 0;
        ck_assert_msg(!aot_module_open(&m, write_tmp("cut", buf, cut), 0, NULL, err, sizeof err),
                      "truncated at %zu accepted", cut);
        ck_assert_msg(err[0], "no reason at %zu", cut);
    }
    /* flipped bytes in the headers: either a reason or a usable module */
    srand(1);
    for (int k = 0; k < 300; k++) {
        memcpy(c, buf, len);
        size_t at = k < 150 ? (size_t)rand() % 64 : len - 1 - (size_t)rand() % 4096;
        c[at] ^= (uint8_t)(1 + rand() % 255);
        /* with the guest image as memory: relocated slots, pointer tables */
        if (aot_module_open(&m, write_tmp("flip", c, len), 0, &data_reader, err, sizeof err))
            aot_module_free(&m);
        else
            ck_assert(err[0]);
    }
    free(c);
    free(buf);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: aot_test GUEST_PROGRAM\n");
        return 2;
    }
    guest_path = argv[1];
    if (!mkdtemp(tmpdir))
        return 2;
    Suite *s = suite_create("aot");
    TCase *tc = tcase_create("discovery");
    tcase_add_unchecked_fixture(tc, load_guest, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_branch_decode);
    tcase_add_test(tc, test_adrp_add_decode);
    tcase_add_test(tc, test_module_seeds);
    tcase_add_test(tc, test_pointers);
    tcase_add_test(tc, test_all_sources);
    tcase_add_test(tc, test_descent_return_site);
    tcase_add_test(tc, test_sweep_rejects_garbage);
    tcase_add_test(tc, test_bad_files);
    tcase_add_test(tc, test_user_run_at_entry);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "aot_test: cannot remove %s\n", tmpdir);
    return failed ? 1 : 0;
}
