/*
 * a64_ldst_test.c - AArch64 frontend, loads and stores: every addressing
 * mode, sign extension, pairs, literals, exclusives (success and each
 * failure), acquire/release, LSE atomics, CAS/CASP, and precise faults
 * (a faulting access leaves every register as it was).  Encodings come
 * from aarch64-linux-gnu-as; the comment is the source line.
 */
#include "tests/unit/a64_test_util.h"

#define SVC0 0xd4000001u
#define BASE (A64T_MEM + 0x100) /* x1 in most snippets */

static uint64_t mem_rd(uint64_t addr, unsigned n)
{
    uint64_t v = 0;
    ck_assert(a64t_range(addr, n));
    memcpy(&v, a64t_mem.data + (addr - A64T_MEM), n);
    return v;
}

static void mem_wr(uint64_t addr, uint64_t v, unsigned n)
{
    ck_assert(a64t_range(addr, n));
    memcpy(a64t_mem.data + (addr - A64T_MEM), &v, n);
}

static void mem_fill(void)
{
    for (unsigned i = 0; i < A64T_MEM_SIZE; i++)
        a64t_mem.data[i] = (uint8_t)(i * 37 + 0x81);
}

static int64_t sx(uint64_t v, unsigned bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

static A64TResult run(const uint32_t *code, unsigned n, A64State *st)
{
    A64TResult r = a64t_run(code, n, st);
    ck_assert_int_eq(r.status, IR_INTERP_EXITED);
    return r;
}

START_TEST(test_loads_all_modes)
{
    static const uint32_t code[] = {
        0xf9400020, /* ldr x0, [x1] */
        0xf9400422, /* ldr x2, [x1, #8] */
        0x39400423, /* ldrb w3, [x1, #1] */
        0x39801c24, /* ldrsb x4, [x1, #7] */
        0x79c00c25, /* ldrsh w5, [x1, #6] */
        0xb9800426, /* ldrsw x6, [x1, #4] */
        0xf85f8027, /* ldur x7, [x1, #-8] */
        0xf8410c28, /* ldr x8, [x1, #16]! */
        0xf85f8429, /* ldr x9, [x1], #-8 */
        0xf86b782a, /* ldr x10, [x1, x11, lsl #3] */
        0x786dd82c, /* ldrh w12, [x1, w13, sxtw #1] */
        0x38ef682e, /* ldrsb w14, [x1, x15] */
        0x18000090, /* ldr w16, lit */
        0x98000071, /* ldrsw x17, lit */
        0xf9800020, /* prfm pldl1keep, [x1] */
        SVC0,
        0x80000001, /* lit: .word 0x80000001 */
    };
    mem_fill();
    A64State st = a64t_state();
    st.x[1] = BASE;
    st.x[11] = 3;
    st.x[13] = 0xfffffffe; /* sxtw -> -2 */
    st.x[15] = 0x20;
    A64TResult r = run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_SYSCALL);
    ck_assert_uint_eq(st.x[0], mem_rd(BASE, 8));
    ck_assert_uint_eq(st.x[2], mem_rd(BASE + 8, 8));
    ck_assert_uint_eq(st.x[3], mem_rd(BASE + 1, 1));
    ck_assert_uint_eq(st.x[4], (uint64_t)sx(mem_rd(BASE + 7, 1), 8));
    ck_assert_uint_eq(st.x[5], (uint32_t)sx(mem_rd(BASE + 6, 2), 16));
    ck_assert_uint_eq(st.x[6], (uint64_t)sx(mem_rd(BASE + 4, 4), 32));
    ck_assert_uint_eq(st.x[7], mem_rd(BASE - 8, 8));
    ck_assert_uint_eq(st.x[8], mem_rd(BASE + 16, 8));
    ck_assert_uint_eq(st.x[9], mem_rd(BASE + 16, 8));
    ck_assert_uint_eq(st.x[1], BASE + 8);
    ck_assert_uint_eq(st.x[10], mem_rd(BASE + 8 + 24, 8));
    ck_assert_uint_eq(st.x[12], mem_rd(BASE + 8 - 4, 2));
    ck_assert_uint_eq(st.x[14], (uint32_t)sx(mem_rd(BASE + 8 + 0x20, 1), 8));
    ck_assert_uint_eq(st.x[16], 0x80000001u);
    ck_assert_uint_eq(st.x[17], 0xffffffff80000001ull);
}
END_TEST

START_TEST(test_stores_all_modes)
{
    static const uint32_t code[] = {
        0xf9000020, /* str x0, [x1] */
        0x39002420, /* strb w0, [x1, #9] */
        0x79001420, /* strh w0, [x1, #10] */
        0xb9000c20, /* str w0, [x1, #12] */
        0xf81f8020, /* stur x0, [x1, #-8] */
        0xf8020c20, /* str x0, [x1, #32]! */
        0xf8010420, /* str x0, [x1], #16 */
        0xf8226820, /* str x0, [x1, x2] */
        0xf8000820, /* sttr x0, [x1] */
        0xf8400823, /* ldtr x3, [x1] */
        0xf800843f, /* str xzr, [x1], #8 */
        SVC0,
    };
    memset(&a64t_mem, 0, sizeof(a64t_mem));
    A64State st = a64t_state();
    uint64_t v = 0x1122334455667788ull;
    st.x[0] = v;
    st.x[1] = BASE;
    st.x[2] = 0x40;
    mem_wr(BASE + 48, ~0ull, 8);
    run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(mem_rd(BASE, 8), v);
    ck_assert_uint_eq(mem_rd(BASE + 9, 1), 0x88);
    ck_assert_uint_eq(mem_rd(BASE + 10, 2), 0x7788);
    ck_assert_uint_eq(mem_rd(BASE + 12, 4), 0x55667788);
    ck_assert_uint_eq(mem_rd(BASE - 8, 8), v);
    ck_assert_uint_eq(mem_rd(BASE + 32, 8), v);
    ck_assert_uint_eq(mem_rd(BASE + 48 + 0x40, 8), v);
    ck_assert_uint_eq(mem_rd(BASE + 48, 8), 0); /* str xzr after sttr/ldtr at BASE+48 */
    ck_assert_uint_eq(st.x[3], v);
    ck_assert_uint_eq(st.x[1], BASE + 56);
}
END_TEST

START_TEST(test_pairs)
{
    static const uint32_t code[] = {
        0xa9400820, /* ldp x0, x2, [x1] */
        0x29411023, /* ldp w3, w4, [x1, #8] */
        0x697f1825, /* ldpsw x5, x6, [x1, #-8] */
        0xa9c12027, /* ldp x7, x8, [x1, #16]! */
        0xa8ff2829, /* ldp x9, x10, [x1], #-16 */
        0xa840302b, /* ldnp x11, x12, [x1] */
        0xa9be382d, /* stp x13, x14, [x1, #-32]! */
        0x2908382d, /* stp w13, w14, [x1, #64] */
        0xa805382d, /* stnp x13, x14, [x1, #80] */
        0xa880b82d, /* stp x13, x14, [x1], #8 */
        SVC0,
    };
    mem_fill();
    static A64TMem before;
    memcpy(&before, &a64t_mem, sizeof(before));
#define OLD(addr, n) ({ uint64_t v_ = 0; memcpy(&v_, before.data + ((addr) - A64T_MEM), n); v_; })
    A64State st = a64t_state();
    st.x[1] = BASE;
    st.x[13] = 0xa1a2a3a4a5a6a7a8ull;
    st.x[14] = 0xb1b2b3b4b5b6b7b8ull;
    run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], OLD(BASE, 8));
    ck_assert_uint_eq(st.x[2], OLD(BASE + 8, 8));
    ck_assert_uint_eq(st.x[3], OLD(BASE + 8, 4));
    ck_assert_uint_eq(st.x[4], OLD(BASE + 12, 4));
    ck_assert_uint_eq(st.x[5], (uint64_t)sx(OLD(BASE - 8, 4), 32));
    ck_assert_uint_eq(st.x[6], (uint64_t)sx(OLD(BASE - 4, 4), 32));
    ck_assert_uint_eq(st.x[7], OLD(BASE + 16, 8));
    ck_assert_uint_eq(st.x[8], OLD(BASE + 24, 8));
    ck_assert_uint_eq(st.x[9], OLD(BASE + 16, 8));
    ck_assert_uint_eq(st.x[10], OLD(BASE + 24, 8));
    ck_assert_uint_eq(st.x[11], OLD(BASE, 8));
    ck_assert_uint_eq(st.x[12], OLD(BASE + 8, 8));
    /* x1: BASE -> +16 -> BASE -> BASE-32 -> (post) BASE-24 */
    ck_assert_uint_eq(st.x[1], BASE - 24);
    ck_assert_uint_eq(mem_rd(BASE - 32, 8), st.x[13]);
    ck_assert_uint_eq(mem_rd(BASE - 24, 8), st.x[14]);
    ck_assert_uint_eq(mem_rd(BASE - 32 + 64, 4), (uint32_t)st.x[13]);
    ck_assert_uint_eq(mem_rd(BASE - 32 + 68, 4), (uint32_t)st.x[14]);
    ck_assert_uint_eq(mem_rd(BASE - 32 + 72, 8), OLD(BASE - 32 + 72, 8));
    ck_assert_uint_eq(mem_rd(BASE - 32 + 80, 8), st.x[13]);
    ck_assert_uint_eq(mem_rd(BASE - 32 + 88, 8), st.x[14]);
#undef OLD
}
END_TEST

START_TEST(test_precise_fault)
{
    /* the second access of the pair faults: nothing may change */
    static const uint32_t code[] = {
        0xa8c10820, /* ldp x0, x2, [x1], #16 */
        SVC0,
    };
    A64State st = a64t_state();
    st.x[0] = 0x5a5a;
    st.x[2] = 0x6b6b;
    st.x[1] = A64T_MEM + A64T_MEM_SIZE - 8;
    A64TResult r = a64t_run(code, 2, &st);
    ck_assert_int_eq(r.status, IR_INTERP_FAULT);
    ck_assert_uint_eq(st.x[0], 0x5a5a);
    ck_assert_uint_eq(st.x[2], 0x6b6b);
    ck_assert_uint_eq(st.x[1], A64T_MEM + A64T_MEM_SIZE - 8);
    ck_assert_uint_eq(st.common.pc, A64T_CODE);

    /* store with pre-index writeback to an unmapped address */
    static const uint32_t code2[] = {
        0xf8010c20, /* str x0, [x1, #16]! */
        SVC0,
    };
    st = a64t_state();
    st.x[1] = 0x100;
    r = a64t_run(code2, 2, &st);
    ck_assert_int_eq(r.status, IR_INTERP_FAULT);
    ck_assert_uint_eq(st.x[1], 0x100);

    /* exclusives need alignment */
    static const uint32_t code3[] = {
        0xc85f7c20, /* ldxr x0, [x1] */
        SVC0,
    };
    st = a64t_state();
    st.x[1] = BASE + 4;
    r = a64t_run(code3, 2, &st);
    ck_assert_int_eq(r.status, IR_INTERP_FAULT);
}
END_TEST

START_TEST(test_exclusive_success)
{
    static const uint32_t code[] = {
        0xc85f7c20, /* ldxr x0, [x1] */
        0xc8027c23, /* stxr w2, x3, [x1] */
        0x085f7c27, /* ldxrb w7, [x1] */
        0x08087c29, /* stxrb w8, w9, [x1] */
        0xc87f2c2a, /* ldxp x10, x11, [x1] */
        0xc82c382d, /* stxp w12, x13, x14, [x1] */
        0x887fc02f, /* ldaxp w15, w16, [x1] */
        0x8831cc32, /* stlxp w17, w18, w19, [x1] */
        SVC0,
    };
    mem_fill();
    uint64_t m0 = mem_rd(BASE, 8), m1 = mem_rd(BASE + 8, 8);
    A64State st = a64t_state();
    st.x[1] = BASE;
    st.x[2] = st.x[8] = st.x[12] = st.x[17] = 77;
    st.x[3] = 0x0102030405060708ull;
    st.x[9] = 0xabcd;
    st.x[13] = 0x1111111111111111ull;
    st.x[14] = 0x2222222222222222ull;
    st.x[18] = 0x33333333;
    st.x[19] = 0x44444444;
    run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], m0);
    ck_assert_uint_eq(st.x[2], 0);
    ck_assert_uint_eq(st.x[7], 0x08);
    ck_assert_uint_eq(st.x[8], 0);
    ck_assert_uint_eq(st.x[10], 0x01020304050607cdull);
    ck_assert_uint_eq(st.x[11], m1);
    ck_assert_uint_eq(st.x[12], 0);
    ck_assert_uint_eq(st.x[15], 0x11111111);
    ck_assert_uint_eq(st.x[16], 0x11111111);
    ck_assert_uint_eq(st.x[17], 0);
    ck_assert_uint_eq(mem_rd(BASE, 8), 0x4444444433333333ull);
    ck_assert_uint_eq(mem_rd(BASE + 8, 8), 0x2222222222222222ull);
    ck_assert_uint_eq(st.excl_addr, ~0ull);
}
END_TEST

START_TEST(test_exclusive_failures)
{
    mem_fill();
    uint64_t m0 = mem_rd(BASE, 8);
    /* no reservation */
    static const uint32_t c1[] = {
        0xc8027c23, /* stxr w2, x3, [x1] */
        SVC0,
    };
    A64State st = a64t_state();
    st.x[1] = BASE;
    st.x[3] = 42;
    run(c1, 2, &st);
    ck_assert_uint_eq(st.x[2], 1);
    ck_assert_uint_eq(mem_rd(BASE, 8), m0);

    /* clrex in between; and a second stxr after a successful one */
    static const uint32_t c2[] = {
        0xc85f7c20, /* ldxr x0, [x1] */
        0xd5033f5f, /* clrex */
        0xc8027c23, /* stxr w2, x3, [x1] */
        0xc85f7c20, /* ldxr x0, [x1] */
        0xc8047c23, /* stxr w4, x3, [x1] */
        0xc8057c26, /* stxr w5, x6, [x1] */
        SVC0,
    };
    st = a64t_state();
    st.x[1] = BASE;
    st.x[3] = 42;
    st.x[6] = 43;
    run(c2, sizeof(c2) / 4, &st);
    ck_assert_uint_eq(st.x[2], 1);
    ck_assert_uint_eq(st.x[4], 0);
    ck_assert_uint_eq(st.x[5], 1);
    ck_assert_uint_eq(mem_rd(BASE, 8), 42);

    /* other address; value changed behind the monitor's back */
    static const uint32_t c3[] = {
        0xc85f7c20, /* ldxr x0, [x1] */
        0xc8027c83, /* stxr w2, x3, [x4] */
        0xc85f7c20, /* ldxr x0, [x1] */
        0xf9000026, /* str x6, [x1] */
        0xc8057c23, /* stxr w5, x3, [x1] */
        SVC0,
    };
    st = a64t_state();
    st.x[1] = BASE;
    st.x[4] = BASE + 8;
    st.x[3] = 42;
    st.x[6] = 99;
    uint64_t m8 = mem_rd(BASE + 8, 8);
    run(c3, sizeof(c3) / 4, &st);
    ck_assert_uint_eq(st.x[2], 1);
    ck_assert_uint_eq(mem_rd(BASE + 8, 8), m8);
    ck_assert_uint_eq(st.x[5], 1);
    ck_assert_uint_eq(mem_rd(BASE, 8), 99);
}
END_TEST

START_TEST(test_acquire_release)
{
    static const uint32_t code[] = {
        0xc8dffc34, /* ldar x20, [x1] */
        0xc89ffc35, /* stlr x21, [x1] */
        0x08dffc36, /* ldarb w22, [x1] */
        0x489ffc37, /* stlrh w23, [x1] */
        0xf8bfc038, /* ldapr x24, [x1] */
        0xc8df7c39, /* ldlar x25, [x1] */
        0xc89f7c3a, /* stllr x26, [x1] */
        0x885ffc24, /* ldaxr w4, [x1] */
        0x8805fc26, /* stlxr w5, w6, [x1] */
        SVC0,
    };
    mem_fill();
    uint64_t m0 = mem_rd(BASE, 8);
    A64State st = a64t_state();
    st.x[1] = BASE;
    st.x[21] = 0x2121212121212121ull;
    st.x[23] = 0xbeef;
    st.x[26] = 0x2626262626262626ull;
    st.x[6] = 0x66666666;
    run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[20], m0);
    ck_assert_uint_eq(st.x[22], 0x21);
    ck_assert_uint_eq(st.x[24], 0x212121212121beefull);
    ck_assert_uint_eq(st.x[25], 0x212121212121beefull);
    ck_assert_uint_eq(st.x[4], 0x26262626);
    ck_assert_uint_eq(st.x[5], 0);
    ck_assert_uint_eq(mem_rd(BASE, 8), 0x2626262666666666ull);
}
END_TEST

START_TEST(test_lse_atomics)
{
    /* each: Rs = x2, Rt = x3, [x1]; memory starts at mval */
    static const struct {
        uint32_t insn;
        unsigned size;
        uint64_t (*op)(uint64_t old, uint64_t v, unsigned bits);
    } cases[] = {
        {0xf8220023 /* ldadd x2, x3, [x1] */, 8, NULL},
        {0xb8e21023 /* ldclral w2, w3, [x1] */, 4, NULL},
        {0x38222023 /* ldeorb w2, w3, [x1] */, 1, NULL},
        {0x78223023 /* ldseth w2, w3, [x1] */, 2, NULL},
        {0xf8224023 /* ldsmax x2, x3, [x1] */, 8, NULL},
        {0x38225023 /* ldsminb w2, w3, [x1] */, 1, NULL},
        {0xb8226023 /* ldumax w2, w3, [x1] */, 4, NULL},
        {0x78227023 /* lduminh w2, w3, [x1] */, 2, NULL},
        {0xf8e28023 /* swpal x2, x3, [x1] */, 8, NULL},
    };
    static const uint64_t vals[][2] = {
        {0x8000000000000081ull, 0x7fffffffffffff7full},
        {0x0000000000000001ull, 0xffffffffffffffffull},
        {0x123456789abcdef0ull, 0x0fedcba987654321ull},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t j = 0; j < 3; j++) {
            unsigned bits = cases[i].size * 8;
            uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1;
            uint64_t old = vals[j][0], v = vals[j][1];
            uint64_t o = old & m, w = v & m, want;
            switch (i) {
            case 0: want = o + w; break;
            case 1: want = o & ~w; break;
            case 2: want = o ^ w; break;
            case 3: want = o | w; break;
            case 4: want = sx(o, bits) > sx(w, bits) ? o : w; break;
            case 5: want = sx(o, bits) < sx(w, bits) ? o : w; break;
            case 6: want = o > w ? o : w; break;
            case 7: want = o < w ? o : w; break;
            default: want = w; break;
            }
            want &= m;
            memset(&a64t_mem, 0xee, sizeof(a64t_mem));
            mem_wr(BASE, old, 8);
            A64State st = a64t_state();
            st.x[1] = BASE;
            st.x[2] = v;
            st.x[3] = 0xdead;
            uint32_t code[2] = {cases[i].insn, SVC0};
            run(code, 2, &st);
            ck_assert_msg(st.x[3] == o, "case %zu/%zu: old %#llx want %#llx", i, j,
                          (unsigned long long)st.x[3], (unsigned long long)o);
            uint64_t mem = mem_rd(BASE, 8);
            ck_assert_msg((mem & m) == want, "case %zu/%zu: mem %#llx want %#llx", i, j,
                          (unsigned long long)mem, (unsigned long long)want);
            ck_assert_uint_eq(mem & ~m, old & ~m);
        }
    /* stadd: the result is discarded (Rt = XZR) */
    static const uint32_t c2[] = {
        0xf822003f, /* stadd x2, [x1] */
        SVC0,
    };
    mem_wr(BASE, 40, 8);
    A64State st = a64t_state();
    st.x[1] = BASE;
    st.x[2] = 2;
    run(c2, 2, &st);
    ck_assert_uint_eq(mem_rd(BASE, 8), 42);
}
END_TEST

START_TEST(test_cas)
{
    static const uint32_t c[] = {
        0xc8a27c23, /* cas x2, x3, [x1] */
        SVC0,
    };
    /* success */
    mem_wr(BASE, 1000, 8);
    A64State st = a64t_state();
    st.x[1] = BASE;
    st.x[2] = 1000;
    st.x[3] = 2000;
    run(c, 2, &st);
    ck_assert_uint_eq(st.x[2], 1000);
    ck_assert_uint_eq(mem_rd(BASE, 8), 2000);
    /* failure: Rs gets the current value */
    st = a64t_state();
    st.x[1] = BASE;
    st.x[2] = 1000;
    st.x[3] = 3000;
    run(c, 2, &st);
    ck_assert_uint_eq(st.x[2], 2000);
    ck_assert_uint_eq(mem_rd(BASE, 8), 2000);

    /* casb compares only the low byte of Ws */
    static const uint32_t cb[] = {
        0x08a27c23, /* casb w2, w3, [x1] */
        SVC0,
    };
    mem_wr(BASE, 0x1111111111111155ull, 8);
    st = a64t_state();
    st.x[1] = BASE;
    st.x[2] = 0xffffff55;
    st.x[3] = 0x77;
    run(cb, 2, &st);
    ck_assert_uint_eq(st.x[2], 0x55);
    ck_assert_uint_eq(mem_rd(BASE, 8), 0x1111111111111177ull);

    /* casal w: fail leaves memory */
    static const uint32_t cw[] = {
        0x88e2fc23, /* casal w2, w3, [x1] */
        SVC0,
    };
    st = a64t_state();
    st.x[1] = BASE;
    st.x[2] = 5;
    st.x[3] = 6;
    run(cw, 2, &st);
    ck_assert_uint_eq(st.x[2], 0x11111177);
    ck_assert_uint_eq(mem_rd(BASE, 8), 0x1111111111111177ull);

    /* casp x: 128-bit */
    static const uint32_t cp[] = {
        0x48227c24, /* casp x2, x3, x4, x5, [x1] */
        SVC0,
    };
    mem_wr(BASE, 0xaaaa, 8);
    mem_wr(BASE + 8, 0xbbbb, 8);
    st = a64t_state();
    st.x[1] = BASE;
    st.x[2] = 0xaaaa;
    st.x[3] = 0xbbbb;
    st.x[4] = 0xcccc;
    st.x[5] = 0xdddd;
    run(cp, 2, &st);
    ck_assert_uint_eq(st.x[2], 0xaaaa);
    ck_assert_uint_eq(st.x[3], 0xbbbb);
    ck_assert_uint_eq(mem_rd(BASE, 8), 0xcccc);
    ck_assert_uint_eq(mem_rd(BASE + 8, 8), 0xdddd);
    st.x[2] = 0xaaaa; /* mismatch now */
    run(cp, 2, &st);
    ck_assert_uint_eq(st.x[2], 0xcccc);
    ck_assert_uint_eq(st.x[3], 0xdddd);

    /* caspal w: 2 x 32-bit */
    static const uint32_t cpw[] = {
        0x0862fc24, /* caspal w2, w3, w4, w5, [x1] */
        SVC0,
    };
    mem_wr(BASE, 0x0000000200000001ull, 8);
    st = a64t_state();
    st.x[1] = BASE;
    st.x[2] = 1;
    st.x[3] = 2;
    st.x[4] = 0x30;
    st.x[5] = 0x40;
    run(cpw, 2, &st);
    ck_assert_uint_eq(st.x[2], 1);
    ck_assert_uint_eq(st.x[3], 2);
    ck_assert_uint_eq(mem_rd(BASE, 8), 0x0000004000000030ull);
}
END_TEST

static Suite *a64_ldst_suite(void)
{
    Suite *s = suite_create("a64_ldst");
    TCase *tc = tcase_create("ldst");
    tcase_add_test(tc, test_loads_all_modes);
    tcase_add_test(tc, test_stores_all_modes);
    tcase_add_test(tc, test_pairs);
    tcase_add_test(tc, test_precise_fault);
    tcase_add_test(tc, test_exclusive_success);
    tcase_add_test(tc, test_exclusive_failures);
    tcase_add_test(tc, test_acquire_release);
    tcase_add_test(tc, test_lse_atomics);
    tcase_add_test(tc, test_cas);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(a64_ldst_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
