/*
 * a64_simd_qemu_diff_test.c - the AdvSIMD integer families that are lifted
 * to plain IR (a64_simd_families.h) against qemu-aarch64: random words of
 * each family, each from a random V-register state, run (1) in a static
 * guest program under qemu that dumps V0..V31 and FPSR after every
 * instruction and (2) in-process, lifted and run in the reference
 * interpreter, with the SWAR lifting and with the helper.  Every dump must
 * match.  Needs aarch64-linux-gnu-as/-ld and qemu-aarch64; without them the
 * test says so and passes vacuously (as a64_qemu_diff_test does).
 */
#include "tests/unit/a64_test_util.h"

#include <stdint.h>
#include <unistd.h>

#include "frontend/aarch64/a64-simd-swar.h"
#include "tests/unit/a64_simd_families.h"

#define PER_FAMILY 40
#define N_CASES (A64_SIMD_N_FAMILIES * PER_FAMILY)
#define REC 66 /* quads per case: V0..V31 (64), FPSR, pad */

typedef struct SimdCase {
    uint32_t insn;
    uint8_t v[32][16];
} SimdCase;

static SimdCase *cases;
static int n_cases;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint8_t rnd_byte(void)
{
    static const uint8_t edges[] = { 0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff };
    uint64_t r = rnd64();
    return (r & 1) ? edges[(r >> 8) % sizeof(edges)] : (uint8_t)(r >> 16);
}

static bool have_tools(void)
{
    return system("command -v aarch64-linux-gnu-as >/dev/null 2>&1 && "
                  "command -v aarch64-linux-gnu-ld >/dev/null 2>&1 && "
                  "command -v qemu-aarch64 >/dev/null 2>&1") == 0;
}

/* For each case: load V0..V31 from init[case], clear FPSR, run the
 * instruction, store V0..V31 and FPSR to res[case]; finally write res. */
static bool write_program(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, ".text\n.global _start\n_start:\n");
    for (int i = 0; i < n_cases; i++) {
        unsigned base = (unsigned)i * REC * 8;
        fprintf(f, "adrp x30, init\nadd x30, x30, :lo12:init\n");
        fprintf(f, "add x30, x30, #%u\nadd x30, x30, #%u, lsl #12\n", base & 0xfff, base >> 12);
        for (int r = 0; r < 32; r += 2)
            fprintf(f, "ldp q%d, q%d, [x30, #%d]\n", r, r + 1, r * 16);
        fprintf(f, "msr fpsr, xzr\n.inst 0x%08x\n", cases[i].insn);
        fprintf(f, "adrp x0, res\nadd x0, x0, :lo12:res\n");
        fprintf(f, "add x0, x0, #%u\nadd x0, x0, #%u, lsl #12\n", base & 0xfff, base >> 12);
        for (int r = 0; r < 32; r += 2)
            fprintf(f, "stp q%d, q%d, [x0, #%d]\n", r, r + 1, r * 16);
        fprintf(f, "mrs x1, fpsr\nstr x1, [x0, #512]\n");
    }
    fprintf(f, "mov x0, #1\nadrp x1, res\nadd x1, x1, :lo12:res\nldr x2, =%u\n"
               "mov x8, #64\nsvc #0\nmov x0, #0\nmov x8, #93\nsvc #0\n.ltorg\n",
            (unsigned)(n_cases * REC * 8));
    fprintf(f, ".data\n.balign 16\ninit:\n");
    for (int i = 0; i < n_cases; i++) {
        fprintf(f, ".byte ");
        for (int r = 0; r < 32; r++)
            for (int k = 0; k < 16; k++)
                fprintf(f, "%u,", cases[i].v[r][k]);
        fprintf(f, "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n");
    }
    fprintf(f, ".bss\n.balign 16\nres: .skip %u\n", (unsigned)(n_cases * REC * 8 + 16));
    return fclose(f) == 0;
}

static void check_case(const SimdCase *c, const uint64_t *want, bool swar)
{
    A64State st = a64t_state();
    memcpy(st.v, c->v, sizeof(st.v));
    st.fpsr = 0;
    uint32_t code[2] = { c->insn, 0xd4000001u /* svc #0 */ };
    a64_simd_swar_enable(swar);
    a64t_run(code, 2, &st);
    a64_simd_swar_enable(true);
    for (int r = 0; r < 32; r++) {
        uint64_t lo, hi;
        memcpy(&lo, st.v[r], 8);
        memcpy(&hi, st.v[r] + 8, 8);
        ck_assert_msg(lo == want[2 * r] && hi == want[2 * r + 1],
                      "%08x (%s): v%d = %016llx:%016llx, qemu %016llx:%016llx", c->insn,
                      swar ? "inlined" : "helper", r, (unsigned long long)hi, (unsigned long long)lo,
                      (unsigned long long)want[2 * r + 1], (unsigned long long)want[2 * r]);
    }
    ck_assert_msg(st.fpsr == want[64], "%08x (%s): fpsr %#x, qemu %#llx", c->insn,
                  swar ? "inlined" : "helper", st.fpsr, (unsigned long long)want[64]);
}

START_TEST(test_simd_vs_qemu)
{
    if (!have_tools()) {
        fprintf(stderr, "a64_simd_qemu_diff_test: cross assembler or qemu-aarch64 missing: skipped\n");
        return;
    }
    cases = calloc(N_CASES, sizeof(*cases));
    ck_assert_ptr_nonnull(cases);
    for (int fam = 0; fam < A64_SIMD_N_FAMILIES; fam++) {
        const A64SimdFamily *f = &a64_simd_families[fam];
        for (int k = 0, tries = 0; k < PER_FAMILY && tries < 20 * PER_FAMILY; tries++) {
            uint32_t insn = f->base | ((uint32_t)rnd64() & f->free);
            if (a64t_is_undef(insn))
                continue;
            SimdCase *c = &cases[n_cases++];
            c->insn = insn;
            for (int r = 0; r < 32; r++)
                for (int i = 0; i < 16; i++)
                    c->v[r][i] = rnd_byte();
            int rn = (insn >> 5) & 31, rm = (insn >> 16) & 31;
            if (rnd64() % 3 == 0) {                   /* equal lanes for the compares */
                memcpy(c->v[rm], c->v[rn], 16);
                c->v[rm][rnd64() % 16] = rnd_byte();
            }
            k++;
        }
    }
    char dir[] = "/tmp/emu-a64simddiff-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[1024], src[256], out[256];
    snprintf(src, sizeof(src), "%s/t.s", dir);
    snprintf(out, sizeof(out), "%s/out.bin", dir);
    ck_assert(write_program(src));
    snprintf(cmd, sizeof(cmd),
             "cd %s && aarch64-linux-gnu-as -o t.o t.s && aarch64-linux-gnu-ld -static -o t t.o "
             "&& qemu-aarch64 ./t > out.bin",
             dir);
    ck_assert_msg(system(cmd) == 0, "building or running the guest program failed (%s)", dir);

    uint64_t *res = malloc((size_t)n_cases * REC * 8);
    ck_assert_ptr_nonnull(res);
    FILE *f = fopen(out, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(res, 8, (size_t)n_cases * REC, f), (size_t)n_cases * REC);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);

    for (int i = 0; i < n_cases; i++) {
        check_case(&cases[i], &res[i * REC], true);
        check_case(&cases[i], &res[i * REC], false);
    }
    free(res);
    free(cases);
}
END_TEST

static Suite *a64_simd_qemu_diff_suite(void)
{
    Suite *s = suite_create("a64_simd_qemu_diff");
    TCase *tc = tcase_create("simd");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_simd_vs_qemu);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(a64_simd_qemu_diff_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
