/*
 * a64_decode_test.c - AArch64 frontend, integer data processing: each case
 * is lifted by guest_arch_aarch64, run in the reference interpreter (raw and
 * optimized IR, which must agree) and compared with a straightforward C
 * model of the architecture (AddWithCarry, DecodeBitMasks, the BFM
 * pseudocode, ConditionHolds).  Fixed encodings come from
 * aarch64-linux-gnu-as (the comment is the source line); sweeps build
 * encodings from the documented fields and check a few against the
 * assembler's words.
 */
#include "tests/unit/a64_test_util.h"

#define SVC0 0xd4000001u /* svc #0: ends every snippet */

/* Runs a single instruction followed by svc #0. */
static void run1(uint32_t insn, A64State *st)
{
    uint32_t code[2] = {insn, SVC0};
    A64TResult r = a64t_run(code, 2, st);
    ck_assert_int_eq(r.status, IR_INTERP_EXITED);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_SYSCALL);
    ck_assert_uint_eq(st->common.pc, A64T_CODE + 8);
}

static const uint64_t edge[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
    0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0x8000000000000001ull,
    0xfffffffffffffffeull, 0xffffffffffffffffull, 0x123456789abcdef0ull, 0xfedcba9876543210ull,
};
#define N_EDGE (sizeof(edge) / sizeof(edge[0]))

/* ---- reference models ------------------------------------------------------ */
static uint64_t ref_mask(unsigned bits)
{
    return bits == 64 ? ~0ull : (1ull << bits) - 1;
}

static int64_t ref_sext(uint64_t v, unsigned bits)
{
    return bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
}

/* AddWithCarry from the Arm ARM. */
static uint64_t ref_awc(unsigned bits, uint64_t x, uint64_t y, unsigned cin, unsigned *nzcv)
{
    x &= ref_mask(bits);
    y &= ref_mask(bits);
    unsigned __int128 usum = (unsigned __int128)x + y + cin;
    __int128 ssum = (__int128)ref_sext(x, bits) + ref_sext(y, bits) + cin;
    uint64_t r = (uint64_t)usum & ref_mask(bits);
    unsigned n = (r >> (bits - 1)) & 1, z = r == 0;
    unsigned c = (unsigned __int128)r != usum;
    unsigned v = (__int128)ref_sext(r, bits) != ssum;
    *nzcv = n << 3 | z << 2 | c << 1 | v;
    return r;
}

static uint64_t ref_ror(uint64_t x, unsigned r, unsigned esize)
{
    uint64_t m = ref_mask(esize);
    x &= m;
    r %= esize;
    return r ? ((x >> r) | (x << (esize - r))) & m : x;
}

static uint64_t ref_replicate(uint64_t elem, unsigned esize)
{
    uint64_t out = 0;
    for (unsigned i = 0; i < 64; i += esize)
        out |= (elem & ref_mask(esize)) << i;
    return out;
}

/* DecodeBitMasks(N, imms, immr, immediate) for a register of `bits`. */
static bool ref_bitmasks(unsigned n, unsigned imms, unsigned immr, bool immediate, unsigned bits,
                         uint64_t *wmask, uint64_t *tmask)
{
    unsigned v = n << 6 | (~imms & 0x3f);
    int len = -1;
    for (int i = 6; i >= 0; i--)
        if (v & (1u << i)) {
            len = i;
            break;
        }
    if (len < 1)
        return false;
    unsigned esize = 1u << len;
    if (esize > bits)
        return false;
    unsigned levels = esize - 1;
    if (immediate && (imms & levels) == levels)
        return false;
    unsigned s = imms & levels, r = immr & levels;
    unsigned d = (s - r) & levels;
    uint64_t welem = ref_mask(s + 1), telem = ref_mask(d + 1);
    *wmask = ref_replicate(ref_ror(welem, r, esize), esize) & ref_mask(bits);
    *tmask = ref_replicate(telem, esize) & ref_mask(bits);
    return true;
}

/* ---- add/sub/adc/sbc flags ------------------------------------------------------ */
START_TEST(test_addsub_flags_edges)
{
    /* op 0 adds, 1 subs, 2 adcs, 3 sbcs; register forms, x0 = x1 op x2 */
    static const uint32_t enc64[4] = {
        0xab020020, /* adds x0, x1, x2 */
        0xeb020020, /* subs x0, x1, x2 */
        0xba020020, /* adcs x0, x1, x2 */
        0xfa020020, /* sbcs x0, x1, x2 */
    };
    for (int op = 0; op < 4; op++)
        for (int sf = 0; sf < 2; sf++)
            for (unsigned cin = 0; cin < (op >= 2 ? 2u : 1u); cin++)
                for (size_t i = 0; i < N_EDGE; i++)
                    for (size_t j = 0; j < N_EDGE; j++) {
                        unsigned bits = sf ? 64 : 32, want_nzcv;
                        uint64_t x = edge[i], y = edge[j], want;
                        switch (op) {
                        case 0: want = ref_awc(bits, x, y, 0, &want_nzcv); break;
                        case 1: want = ref_awc(bits, x, ~y, 1, &want_nzcv); break;
                        case 2: want = ref_awc(bits, x, y, cin, &want_nzcv); break;
                        default: want = ref_awc(bits, x, ~y, cin, &want_nzcv); break;
                        }
                        A64State st = a64t_state();
                        st.x[1] = x;
                        st.x[2] = y;
                        a64t_set_nzcv(&st, cin ? 2 : 0);
                        run1(sf ? enc64[op] : enc64[op] & 0x7fffffffu, &st);
                        ck_assert_msg(st.x[0] == want && a64t_nzcv(&st) == want_nzcv,
                                      "op %d sf %d cin %u: %#llx, %#llx -> %#llx nzcv %x, want "
                                      "%#llx nzcv %x",
                                      op, sf, cin, (unsigned long long)x, (unsigned long long)y,
                                      (unsigned long long)st.x[0], a64t_nzcv(&st),
                                      (unsigned long long)want, want_nzcv);
                    }
}
END_TEST

START_TEST(test_addsub_forms)
{
    static const uint32_t code[] = {
        0x91001020, /* add x0, x1, #0x4 */
        0x31400462, /* adds w2, w3, #0x1, lsl #12 */
        0xcb8213e4, /* neg x4, x2, asr #4 */
        0x8b2143e5, /* add x5, sp, w1, uxtw #0 */
        0x8b21c3e6, /* add x6, sp, w1, sxtw */
        0xcb2173e7, /* sub x7, sp, x1, lsl #4 */
        0x4b210c68, /* sub w8, w3, w1, uxtb #3 */
        0x910003e9, /* mov x9, sp */
        0xd10043ff, /* sub sp, sp, #0x10 */
        0xab21a3ea, /* adds x10, sp, w1, sxth */
        SVC0,
    };
    A64State st = a64t_state();
    st.x[1] = 0xffffffff80000005ull;
    st.x[3] = 0xfffff000u;
    st.x[31] = 0x1000;
    a64t_run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], 0xffffffff80000009ull);
    ck_assert_uint_eq(st.x[2], 0);                                 /* 0xfffff000 + 0x1000 */
    ck_assert_uint_eq(st.x[4], 0);                                 /* -(0 >> 4) */
    ck_assert_uint_eq(st.x[5], 0x1000 + 0x80000005ull);
    ck_assert_uint_eq(st.x[6], 0x1000 + 0xffffffff80000005ull);
    ck_assert_uint_eq(st.x[7], 0x1000 - (0xffffffff80000005ull << 4));
    ck_assert_uint_eq(st.x[8], (uint32_t)(0xfffff000u - (0x05u << 3)));
    ck_assert_uint_eq(st.x[9], 0x1000);
    ck_assert_uint_eq(st.x[31], 0xff0);
    ck_assert_uint_eq(st.x[10], 0xff0 + 5);                         /* sxth(0x0005) */
    ck_assert_uint_eq(a64t_nzcv(&st), 0);
}
END_TEST

/* ---- logical ------------------------------------------------------------------- */
START_TEST(test_decode_bitmask_all)
{
    unsigned valid = 0;
    for (int sf = 0; sf < 2; sf++)
        for (unsigned n = 0; n < 2; n++)
            for (unsigned immr = 0; immr < 64; immr++)
                for (unsigned imms = 0; imms < 64; imms++) {
                    uint64_t w = 0, t = 0, got = 0;
                    bool ok = ref_bitmasks(n, imms, immr, true, sf ? 64 : 32, &w, &t);
                    /* 32-bit: N = 1 is unallocated; immr<5> is simply ignored */
                    bool got_ok = a64_decode_bitmask((int)n, (int)imms, (int)immr, sf, &got);
                    ck_assert_msg(ok == got_ok, "validity sf %d N %u immr %u imms %u", sf, n, immr,
                                  imms);
                    if (!ok)
                        continue;
                    ck_assert_msg(got == w, "sf %d N %u immr %u imms %u: %#llx want %#llx", sf, n,
                                  immr, imms, (unsigned long long)got, (unsigned long long)w);
                    valid++;
                }
    /* 64-bit: 4032 encodings with N = 1 and 3648 with N = 0; 32-bit: 3648 */
    ck_assert_uint_eq(valid, 4032 + 3648 + 3648);
}
END_TEST

START_TEST(test_logical_imm_lifted)
{
    /* and/orr/eor/ands Xd/Wd, Xn, #imm for a stride of all encodings,
     * including the reserved ones (must be UNDEF) */
    ck_assert_uint_eq(0xb200f3e0u, /* mov x0, #0x5555555555555555 */
                      1u << 31 | 1u << 29 | 0x24u << 23 | 0u << 22 | 0u << 16 | 0x3cu << 10 |
                          31u << 5);
    unsigned count = 0;
    for (unsigned sf = 0; sf < 2; sf++)
        for (unsigned opc = 0; opc < 4; opc++)
            for (unsigned n = 0; n < 2; n++)
                for (unsigned immr = 0; immr < 64; immr += 5)
                    for (unsigned imms = 0; imms < 64; imms += 3) {
                        uint32_t insn = sf << 31 | opc << 29 | 0x24u << 23 | n << 22 |
                                        immr << 16 | imms << 10 | 1u << 5 | 0u;
                        uint64_t w, t;
                        bool ok = ref_bitmasks(n, imms, immr, true, sf ? 64 : 32, &w, &t);
                        if (!ok) {
                            ck_assert_msg(a64t_is_undef(insn), "%08x should be undefined", insn);
                            continue;
                        }
                        A64State st = a64t_state();
                        uint64_t x = 0xf0f0a5a5c3c39669ull;
                        st.x[1] = x;
                        run1(insn, &st);
                        uint64_t m = ref_mask(sf ? 64 : 32), want;
                        switch (opc) {
                        case 1: want = (x | w) & m; break;
                        case 2: want = (x ^ w) & m; break;
                        default: want = x & w & m; break;
                        }
                        ck_assert_msg(st.x[0] == want, "%08x: %#llx want %#llx", insn,
                                      (unsigned long long)st.x[0], (unsigned long long)want);
                        if (opc == 3) {
                            unsigned nz = ((want >> ((sf ? 64 : 32) - 1)) & 1) << 3 |
                                          (want == 0) << 2;
                            ck_assert_uint_eq(a64t_nzcv(&st), nz);
                        }
                        count++;
                    }
    ck_assert_uint_gt(count, 500);
}
END_TEST

START_TEST(test_logical_shifted)
{
    static const uint32_t code[] = {
        0x8a020820, /* and x0, x1, x2, lsl #2 */
        0x8a220823, /* bic x3, x1, x2, lsl #2 */
        0xaa620824, /* orn x4, x1, x2, lsr #2 */
        0xca820825, /* eor x5, x1, x2, asr #2 */
        0xcae20826, /* eon x6, x1, x2, ror #2 */
        0x2a0203e7, /* mov w7, w2 */
        0x0ae20828, /* bic w8, w1, w2, ror #2 */
        0xea220829, /* bics x9, x1, x2, lsl #2 */
        SVC0,
    };
    A64State st = a64t_state();
    uint64_t x1 = 0x0123456789abcdefull, x2 = 0x8000000000000003ull;
    st.x[1] = x1;
    st.x[2] = x2;
    a64t_set_nzcv(&st, 0x3);
    a64t_run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], x1 & (x2 << 2));
    ck_assert_uint_eq(st.x[3], x1 & ~(x2 << 2));
    ck_assert_uint_eq(st.x[4], x1 | ~(x2 >> 2));
    ck_assert_uint_eq(st.x[5], x1 ^ (uint64_t)((int64_t)x2 >> 2));
    ck_assert_uint_eq(st.x[6], ~(x1 ^ ref_ror(x2, 2, 64)));
    ck_assert_uint_eq(st.x[7], 3);
    ck_assert_uint_eq(st.x[8], (uint32_t)x1 & ~(uint32_t)ref_ror(3, 2, 32));
    uint64_t r9 = x1 & ~(x2 << 2);
    ck_assert_uint_eq(st.x[9], r9);
    ck_assert_uint_eq(a64t_nzcv(&st), (unsigned)((r9 >> 63) << 3 | (r9 == 0) << 2)); /* C, V = 0 */
}
END_TEST

/* ---- move wide, pc-relative ----------------------------------------------------------- */
START_TEST(test_movw_adr)
{
    static const uint32_t code[] = {
        0xd2bfffe0, /* mov x0, #0xffff0000 */
        0xf2dbde00, /* movk x0, #0xdef0, lsl #32 */
        0x92800001, /* mov x1, #0xffffffffffffffff */
        0x12a00022, /* mov w2, #0xfffeffff */
        0x72800243, /* movk w3, #0x12 */
        0x10000084, /* adr x4, 0x400024 (pc + 16 + 4*... ) */
        0x90000005, /* adrp x5, 0x400000 */
        0xb0000006, /* adrp x6, +0x1000 */
        0x10fffe07, /* adr x7, pc - 0x40 */
        SVC0,
    };
    A64State st = a64t_state();
    st.x[3] = 0xffffffffaaaaaaaaull;
    a64t_run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], 0x0000def0ffff0000ull);
    ck_assert_uint_eq(st.x[1], ~0ull);
    ck_assert_uint_eq(st.x[2], 0xfffeffffull);
    ck_assert_uint_eq(st.x[3], 0xaaaa0012ull);
    ck_assert_uint_eq(st.x[4], A64T_CODE + 20 + 16);
    ck_assert_uint_eq(st.x[5], A64T_CODE);
    ck_assert_uint_eq(st.x[6], A64T_CODE + 0x1000);
    ck_assert_uint_eq(st.x[7], A64T_CODE + 32 - 0x40);
}
END_TEST

/* ---- bitfield moves: every (immr, imms), all three opcodes -------------------------------- */
START_TEST(test_bitfield_sweep)
{
    ck_assert_uint_eq(0xd3431c20u, 1u << 31 | 2u << 29 | 0x26u << 23 | 1u << 22 | 3u << 16 |
                                       7u << 10 | 1u << 5); /* ubfx x0, x1, #3, #5 */
    const uint64_t src = 0x8badf00ddeadbeefull, dst0 = 0x0123456789abcdefull;
    for (unsigned sf = 0; sf < 2; sf++)
        for (unsigned opc = 0; opc < 3; opc++)
            for (unsigned immr = 0; immr < (sf ? 64u : 32u); immr += (sf ? 3 : 1))
                for (unsigned imms = 0; imms < (sf ? 64u : 32u); imms++) {
                    unsigned bits = sf ? 64 : 32;
                    uint32_t insn = sf << 31 | opc << 29 | 0x26u << 23 | sf << 22 | immr << 16 |
                                    imms << 10 | 1u << 5 | 0u;
                    uint64_t w, t;
                    ck_assert(ref_bitmasks(sf, imms, immr, false, bits, &w, &t));
                    uint64_t m = ref_mask(bits);
                    uint64_t d = opc == 1 ? dst0 & m : 0;
                    uint64_t bot = (d & ~w) | (ref_ror(src, immr, bits) & w);
                    uint64_t top = opc == 0 ? (((src >> imms) & 1) ? m : 0) : d;
                    uint64_t want = ((top & ~t) | (bot & t)) & m;
                    A64State st = a64t_state();
                    st.x[0] = dst0;
                    st.x[1] = src;
                    run1(insn, &st);
                    ck_assert_msg(st.x[0] == want, "%08x: %#llx want %#llx", insn,
                                  (unsigned long long)st.x[0], (unsigned long long)want);
                }
}
END_TEST

START_TEST(test_bitfield_aliases_and_extr)
{
    static const uint32_t code[] = {
        0xd37ff820, /* lsl x0, x1, #1 */
        0xd37ffc22, /* lsr x2, x1, #63 */
        0x937ffc23, /* asr x3, x1, #63 */
        0x93401c24, /* sxtb x4, w1 */
        0x53003c25, /* uxth w5, w1 */
        0x93407c26, /* sxtw x6, w1 */
        0xb3780c27, /* bfi x7, x1, #8, #4 */
        0xd3780c28, /* ubfiz x8, x1, #8, #4 */
        0x93780c29, /* sbfiz x9, x1, #8, #4 */
        0x93c1102a, /* extr x10, x1, x1, #4 (ror) */
        0x93c2102b, /* extr x11, x1, x2, #4 */
        0x138b7d6c, /* extr w12, w11, w11, #31 */
        SVC0,
    };
    A64State st = a64t_state();
    uint64_t x1 = 0x80000000000000fbull;
    st.x[1] = x1;
    st.x[7] = 0xffffffffffffffffull;
    a64t_run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], x1 << 1);
    ck_assert_uint_eq(st.x[2], 1);
    ck_assert_uint_eq(st.x[3], ~0ull);
    ck_assert_uint_eq(st.x[4], (uint64_t)(int64_t)(int8_t)0xfb);
    ck_assert_uint_eq(st.x[5], 0xfb);
    ck_assert_uint_eq(st.x[6], 0xfb);
    ck_assert_uint_eq(st.x[7], 0xfffffffffffffbffull);
    ck_assert_uint_eq(st.x[8], 0xb00);
    ck_assert_uint_eq(st.x[9], 0xfffffffffffffb00ull);
    ck_assert_uint_eq(st.x[10], ref_ror(x1, 4, 64));
    uint64_t x11 = (1ull >> 4) | (x1 << 60);
    ck_assert_uint_eq(st.x[11], x11);
    ck_assert_uint_eq(st.x[12], ref_ror((uint32_t)x11, 31, 32));
}
END_TEST

/* ---- conditional select / compare ------------------------------------------------------------ */
START_TEST(test_csel_family)
{
    static const uint32_t base[4] = {
        0x9a820020, /* csel x0, x1, x2, eq */
        0x9a820420, /* csinc x0, x1, x2, eq */
        0xda820020, /* csinv x0, x1, x2, eq */
        0xda820420, /* csneg x0, x1, x2, eq */
    };
    for (unsigned sf = 0; sf < 2; sf++)
        for (unsigned op = 0; op < 4; op++)
            for (unsigned cc = 0; cc < 16; cc++)
                for (unsigned nzcv = 0; nzcv < 16; nzcv++) {
                    uint32_t insn = (base[op] & ~(0xfu << 12)) | cc << 12;
                    if (!sf)
                        insn &= 0x7fffffffu;
                    A64State st = a64t_state();
                    uint64_t x1 = 0x1122334455667788ull, x2 = 0xffffffff00000000ull | 7;
                    st.x[1] = x1;
                    st.x[2] = x2;
                    a64t_set_nzcv(&st, nzcv);
                    run1(insn, &st);
                    uint64_t m = ref_mask(sf ? 64 : 32), alt;
                    switch (op) {
                    case 0: alt = x2; break;
                    case 1: alt = x2 + 1; break;
                    case 2: alt = ~x2; break;
                    default: alt = -x2; break;
                    }
                    uint64_t want = (a64t_ref_cond(cc, nzcv) ? x1 : alt) & m;
                    ck_assert_msg(st.x[0] == want, "%08x nzcv %x: %#llx want %#llx", insn, nzcv,
                                  (unsigned long long)st.x[0], (unsigned long long)want);
                    ck_assert_uint_eq(a64t_nzcv(&st), nzcv);
                }
}
END_TEST

START_TEST(test_ccmp_ccmn)
{
    for (unsigned kind = 0; kind < 4; kind++)
        for (unsigned cc = 0; cc < 16; cc++)
            for (unsigned nzcv = 0; nzcv < 16; nzcv += 3)
                for (size_t i = 0; i < N_EDGE; i += 3) {
                    /* kind: 0 ccmp x1, x2; 1 ccmn x1, #3; 2 ccmp w1, w2; 3 ccmn w1, #3 */
                    static const uint32_t enc[4] = {
                        0xfa420025, /* ccmp x1, x2, #0x5, eq */
                        0xba430825, /* ccmn x1, #0x3, #0x5, eq */
                        0x7a420025, /* ccmp w1, w2, #0x5, eq */
                        0x3a430825, /* ccmn w1, #0x3, #0x5, eq */
                    };
                    uint32_t insn = (enc[kind] & ~(0xfu << 12)) | cc << 12;
                    uint64_t x1 = edge[i], x2 = edge[(i + 7) % N_EDGE];
                    unsigned bits = kind < 2 ? 64 : 32, want;
                    if (a64t_ref_cond(cc, nzcv)) {
                        if (kind & 1)
                            ref_awc(bits, x1, 3, 0, &want);
                        else
                            ref_awc(bits, x1, ~x2, 1, &want);
                    } else {
                        want = 5;
                    }
                    A64State st = a64t_state();
                    st.x[1] = x1;
                    st.x[2] = x2;
                    a64t_set_nzcv(&st, nzcv);
                    run1(insn, &st);
                    ck_assert_msg(a64t_nzcv(&st) == want, "%08x nzcv %x x1 %#llx: %x want %x",
                                  insn, nzcv, (unsigned long long)x1, a64t_nzcv(&st), want);
                }
}
END_TEST


/* ---- compare fused into the next instruction (a64_cond_fused) ------------------------------ */
START_TEST(test_fused_conditions)
{
    static const uint32_t setters[] = {
        0xeb020021, /* subs x1, x1, x2: overwrites its own operand */
        0x6b020021, /* subs w1, w1, w2 */
        0xea020023, /* ands x3, x1, x2 */
        0x6a020023, /* ands w3, w1, w2 */
        0xab020021, /* adds x1, x1, x2 (not fused: flags path) */
    };
    static const uint32_t users[] = {
        0x54000040, /* b.eq .+8 (then mov x0, #1) */
        0x9a850080, /* csel x0, x4, x5, eq */
        0x1a850080, /* csel w0, w4, w5, eq */
        0xfa450085, /* ccmp x4, x5, #0x5, eq */
    };
    for (size_t k = 0; k < 5; k++)
        for (size_t u = 0; u < 4; u++)
            for (unsigned cc = 0; cc < 16; cc++)
                for (size_t i = 0; i < N_EDGE; i += 2)
                    for (size_t j = 1; j < N_EDGE; j += 3) {
                        uint64_t x1 = edge[i], x2 = edge[j];
                        unsigned bits = (k & 1) ? 32 : 64, nzcv;
                        if (k == 4) {
                            ref_awc(64, x1, x2, 0, &nzcv);
                        } else if (k < 2) {
                            ref_awc(bits, x1, ~x2, 1, &nzcv);
                        } else {
                            uint64_t r = x1 & x2 & ref_mask(bits);
                            nzcv = ((r >> (bits - 1)) & 1) << 3 | (r == 0) << 2;
                        }
                        bool hold = a64t_ref_cond(cc, nzcv);
                        uint32_t insn = u == 0 ? users[0] | cc : (users[u] & ~(0xfu << 12)) | cc << 12;
                        uint32_t code[4] = {setters[k], insn, 0xd2800020 /* mov x0, #1 */, SVC0};
                        A64State st = a64t_state();
                        st.x[1] = x1;
                        st.x[2] = x2;
                        st.x[4] = 0x4444444444444444ull;
                        st.x[5] = 0x5555555555555555ull;
                        st.x[0] = 0x77;
                        uint32_t n = u == 0 ? 4 : 2;
                        if (u != 0)
                            code[1 + 1] = SVC0;
                        A64TResult r = a64t_run(code, n + (u != 0 ? 1 : 0), &st);
                        ck_assert_int_eq(r.status, IR_INTERP_EXITED);
                        switch (u) {
                        case 0:
                            ck_assert_msg(st.x[0] == (hold ? 0x77u : 1u), "k %zu cc %u %#llx %#llx",
                                          k, cc, (unsigned long long)x1, (unsigned long long)x2);
                            break;
                        case 1:
                        case 2: {
                            uint64_t want = hold ? st.x[4] : st.x[5];
                            if (u == 2)
                                want &= 0xffffffffu;
                            ck_assert_msg(st.x[0] == want, "k %zu u %zu cc %u %#llx %#llx", k, u,
                                          cc, (unsigned long long)x1, (unsigned long long)x2);
                            break;
                        }
                        default: {
                            unsigned want;
                            if (hold)
                                ref_awc(64, st.x[4], ~st.x[5], 1, &want);
                            else
                                want = 5;
                            ck_assert_msg(a64t_nzcv(&st) == want, "k %zu ccmp cc %u", k, cc);
                            break;
                        }
                        }
                    }
}
END_TEST

/* ---- multiply, divide, shifts, bit ops, crc ---------------------------------------------------- */
START_TEST(test_mul_div)
{
    static const uint32_t code[] = {
        0x9b020c20, /* madd x0, x1, x2, x3 */
        0x9b028c24, /* msub x4, x1, x2, x3 */
        0x9b220c25, /* smaddl x5, w1, w2, x3 */
        0x9ba28c26, /* umsubl x6, w1, w2, x3 */
        0x9b427c27, /* smulh x7, x1, x2 */
        0x9bc27c28, /* umulh x8, x1, x2 */
        0x9ac20c29, /* sdiv x9, x1, x2 */
        0x9ac2082a, /* udiv x10, x1, x2 */
        0x1ac30c2b, /* sdiv w11, w1, w3 */
        0x9ac40c2c, /* sdiv x12, x1, x4 (x4 = divisor 0 case below?) */
        0x1b037c4d, /* mul w13, w2, w3 */
        SVC0,
    };
    A64State st = a64t_state();
    uint64_t x1 = 0xfffffffffffffff9ull /* -7 */, x2 = 3, x3 = 100;
    st.x[1] = x1;
    st.x[2] = x2;
    st.x[3] = x3;
    a64t_run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], x3 + x1 * x2);
    ck_assert_uint_eq(st.x[4], x3 - x1 * x2);
    ck_assert_uint_eq(st.x[5], (uint64_t)(100 + (int64_t)(int32_t)0xfffffff9 * 3));
    ck_assert_uint_eq(st.x[6], 100 - (uint64_t)0xfffffff9u * 3);
    ck_assert_uint_eq(st.x[7], ~0ull);                 /* high of -21 */
    ck_assert_uint_eq(st.x[8], 2);                     /* (2^64-7)*3 >> 64 */
    ck_assert_uint_eq(st.x[9], (uint64_t)-2);          /* -7/3 */
    ck_assert_uint_eq(st.x[10], x1 / 3);
    ck_assert_uint_eq(st.x[11], (uint32_t)(-7 / 100)); /* 0 */
    /* x4 (msub result) is nonzero: check against C */
    ck_assert_uint_eq(st.x[12], (uint64_t)((int64_t)x1 / (int64_t)(x3 - x1 * x2)));
    ck_assert_uint_eq(st.x[13], 300);

    /* division by zero and INT_MIN / -1 */
    static const uint32_t code2[] = {
        0x9ac20c20, /* sdiv x0, x1, x2 */
        0x9ac20823, /* udiv x3, x1, x2 */
        0x9ac50c24, /* sdiv x4, x1, x5 */
        0x1ac50c26, /* sdiv w6, w1, w5 */
        SVC0,
    };
    st = a64t_state();
    st.x[1] = 0x8000000000000000ull;
    st.x[2] = 0;
    st.x[5] = ~0ull;
    a64t_run(code2, sizeof(code2) / 4, &st);
    ck_assert_uint_eq(st.x[0], 0);
    ck_assert_uint_eq(st.x[3], 0);
    ck_assert_uint_eq(st.x[4], 0x8000000000000000ull);
    ck_assert_uint_eq(st.x[6], 0); /* w1 = 0 -> 0 / -1 */
}
END_TEST

START_TEST(test_shift_bitops)
{
    static const uint32_t code[] = {
        0x9ac22020, /* lsl x0, x1, x2 */
        0x9ac22423, /* lsr x3, x1, x2 */
        0x9ac22824, /* asr x4, x1, x2 */
        0x9ac22c25, /* ror x5, x1, x2 */
        0x1ac22026, /* lsl w6, w1, w2 */
        0xdac00027, /* rbit x7, x1 */
        0xdac00428, /* rev16 x8, x1 */
        0xdac00829, /* rev32 x9, x1 */
        0xdac00c2a, /* rev x10, x1 */
        0x5ac0082b, /* rev w11, w1 */
        0xdac0102c, /* clz x12, x1 */
        0xdac0142d, /* cls x13, x1 */
        0x5ac0106e, /* clz w14, w3 */
        0x5ac0146f, /* cls w15, w3 */
        0xdac01450, /* cls x16, x2 */
        0xdac013f1, /* clz x17, xzr */
        SVC0,
    };
    A64State st = a64t_state();
    uint64_t x1 = 0xf123456789abcdefull, x2 = 68; /* shift count taken mod 64 -> 4 */
    st.x[1] = x1;
    st.x[2] = x2;
    a64t_run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], x1 << 4);
    ck_assert_uint_eq(st.x[3], x1 >> 4);
    ck_assert_uint_eq(st.x[4], (uint64_t)((int64_t)x1 >> 4));
    ck_assert_uint_eq(st.x[5], ref_ror(x1, 4, 64));
    ck_assert_uint_eq(st.x[6], (uint32_t)((uint32_t)x1 << 4));
    uint64_t rb = 0;
    for (int i = 0; i < 64; i++)
        rb |= ((x1 >> i) & 1) << (63 - i);
    ck_assert_uint_eq(st.x[7], rb);
    ck_assert_uint_eq(st.x[8], 0x23f16745ab89efcdull);
    ck_assert_uint_eq(st.x[9], 0x674523f1efcdab89ull);
    ck_assert_uint_eq(st.x[10], __builtin_bswap64(x1));
    ck_assert_uint_eq(st.x[11], __builtin_bswap32((uint32_t)x1));
    ck_assert_uint_eq(st.x[12], 0);
    ck_assert_uint_eq(st.x[13], 3);                    /* 1111 0001... : 3 more ones */
    uint32_t w3 = (uint32_t)(x1 >> 4);
    ck_assert_uint_eq(st.x[14], (uint64_t)__builtin_clz(w3));
    ck_assert_uint_eq(st.x[15], 0);                    /* w3 = 0x789abcde */
    ck_assert_uint_eq(st.x[16], 56);                   /* 68 = 0b1000100: 57 zeros, minus sign */
    ck_assert_uint_eq(st.x[17], 64);
}
END_TEST

/* NZCV of n - m (sub) or n + m, 64- or 32-bit: the reference for CCMP. */
static unsigned ref_nzcv(bool sub, bool sf, uint64_t n, uint64_t m)
{
    unsigned w = sf ? 64 : 32;
    uint64_t mask = sf ? ~0ull : 0xffffffffull, sign = 1ull << (w - 1);
    n &= mask;
    m &= mask;
    uint64_t r = (sub ? n - m : n + m) & mask;
    bool c = sub ? n >= m : r < n;
    bool v = sub ? ((n ^ m) & (n ^ r) & sign) != 0 : (~(n ^ m) & (n ^ r) & sign) != 0;
    return ((r & sign) ? 8u : 0) | (r == 0 ? 4u : 0) | (c ? 2u : 0) | (v ? 1u : 0);
}

/* CCMP/CCMN for every condition and NZCV immediate (lazy where a compare
 * pair can stand for the immediate, selected flags where none can), read by
 * all 16 conditions in the same block and, after a "b .+4", in the next,
 * and as NZCV at the end. */
START_TEST(test_ccmp_every_cond_and_nzcv)
{
    static const uint64_t vals[][4] = {
        {5, 5, 7, 9},                                   /* first cmp EQ */
        {1, 2, 0x8000000000000000ull, 1},               /* first cmp LT/LO */
        {0xffffffff00000003ull, 3, 0x7fffffff, 0xffffffff80000000ull},
    };
    for (int sf = 0; sf < 2; sf++)
    for (int sub = 0; sub < 2; sub++)
    for (int split = 0; split < 2; split++)
    for (int cond = 0; cond < 16; cond++)
    for (int nzcv = 0; nzcv < 16; nzcv++)
    for (size_t vi = 0; vi < sizeof(vals) / sizeof(vals[0]); vi++) {
        uint32_t code[24];
        unsigned k = 0;
        code[k++] = (sf ? 0xeb02003fu : 0x6b02003fu); /* cmp x1, x2 */
        code[k++] = (uint32_t)sf << 31 | (uint32_t)sub << 30 | 0x3a400000u | 4u << 16 |
                    (uint32_t)cond << 12 | 3u << 5 | (uint32_t)nzcv; /* ccmp x3, x4, #nzcv, cond */
        if (split)
            code[k++] = 0x14000001; /* b .+4 */
        for (int cc = 0; cc < 16; cc++) /* csinc x(5+cc), xzr, xzr, cc */
            code[k++] = 0x9a9f07e0u | (uint32_t)cc << 12 | (uint32_t)(5 + cc);
        code[k++] = SVC0;
        A64State st = a64t_state();
        for (int i = 0; i < 4; i++)
            st.x[1 + i] = vals[vi][i];
        a64t_run(code, k, &st);
        unsigned f1 = ref_nzcv(true, sf, vals[vi][0], vals[vi][1]);
        unsigned f2 = a64t_ref_cond((unsigned)cond, f1) ? ref_nzcv(sub, sf, vals[vi][2], vals[vi][3])
                                          : (unsigned)nzcv;
        for (int cc = 0; cc < 16; cc++)
            ck_assert_msg(st.x[5 + cc] == (a64t_ref_cond((unsigned)cc, f2) ? 0u : 1u),
                          "sf %d %s cond %d nzcv %d vals %zu split %d: cc %d wrong", sf,
                          sub ? "ccmp" : "ccmn", cond, nzcv, vi, split, cc);
        ck_assert_uint_eq(a64t_nzcv(&st), f2);
    }
}
END_TEST

/* "rbit; clz" is lifted as ctz of the rbit's source (a64-trans-dp.c): in
 * place, into another register, of zero, in 32 bits; a clz that does not
 * read the rbit's result, or reads it a later insn, stays a clz. */
START_TEST(test_rbit_clz_idiom)
{
    static const uint32_t code[] = {
        0xdac00020, /* rbit x0, x1 */
        0xdac01002, /* clz  x2, x0 */
        0xdac00063, /* rbit x3, x3 (in place) */
        0xdac01063, /* clz  x3, x3 */
        0xdac00084, /* rbit x4, x4 */
        0xdac01084, /* clz  x4, x4 (x4 = 0: 64) */
        0x5ac000a5, /* rbit w5, w5 */
        0x5ac010a5, /* clz  w5, w5 */
        0xdac000c6, /* rbit x6, x6 */
        0xdac01027, /* clz  x7, x1 (not the rbit's result) */
        0xdac00108, /* rbit x8, x8 */
        0xd503201f, /* nop */
        0xdac01108, /* clz  x8, x8 (not right after) */
        SVC0,
    };
    A64State st = a64t_state();
    st.x[1] = 0x0000100000000000ull;
    st.x[3] = 0x8000000000000000ull;
    st.x[4] = 0;
    st.x[5] = 0xffffffff00000100ull;
    st.x[6] = 1;
    st.x[8] = 0x10;
    a64t_run(code, sizeof(code) / 4, &st);
    ck_assert_uint_eq(st.x[0], 0x0000000000080000ull);
    ck_assert_uint_eq(st.x[2], 44);
    ck_assert_uint_eq(st.x[3], 63);
    ck_assert_uint_eq(st.x[4], 64);
    ck_assert_uint_eq(st.x[5], 8);
    ck_assert_uint_eq(st.x[6], 0x8000000000000000ull);
    ck_assert_uint_eq(st.x[7], 19);
    ck_assert_uint_eq(st.x[8], 4);
}
END_TEST

START_TEST(test_crc32)
{
    static const uint32_t code[] = {
        0x1ac24020, /* crc32b w0, w1, w2 */
        0x1ac24423, /* crc32h w3, w1, w2 */
        0x1ac24824, /* crc32w w4, w1, w2 */
        0x9ac24c25, /* crc32x w5, w1, x2 */
        0x1ac25026, /* crc32cb w6, w1, w2 */
        0x9ac25c27, /* crc32cx w7, w1, x2 */
        SVC0,
    };
    A64State st = a64t_state();
    st.x[1] = 0xffffffff;
    st.x[2] = 0x3938373635343332ull; /* "23456789" */
    a64t_run(code, sizeof(code) / 4, &st);
    /* reference: bitwise CRC-32 / CRC-32C with init ~0 and no final xor */
    uint32_t want[6];
    static const unsigned nbytes[6] = {1, 2, 4, 8, 1, 8};
    for (int k = 0; k < 6; k++) {
        uint32_t poly = k >= 4 ? 0x82F63B78u : 0xEDB88320u, c = 0xffffffffu;
        for (unsigned i = 0; i < nbytes[k]; i++) {
            c ^= (uint8_t)(st.x[2] >> (8 * i));
            for (int j = 0; j < 8; j++)
                c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        }
        want[k] = c;
    }
    ck_assert_uint_eq(st.x[0], want[0]);
    ck_assert_uint_eq(st.x[3], want[1]);
    ck_assert_uint_eq(st.x[4], want[2]);
    ck_assert_uint_eq(st.x[5], want[3]);
    ck_assert_uint_eq(st.x[6], want[4]);
    ck_assert_uint_eq(st.x[7], want[5]);
    /* crc32 of "123456789" with the standard final xor is 0xcbf43926 */
    A64State s2 = a64t_state();
    static const uint32_t code2[] = {
        0x1ac24020, /* crc32b w0, w1, w2 */
        0x9ac34c00, /* crc32x w0, w0, x3 */
        SVC0,
    };
    s2.x[1] = 0xffffffff;
    s2.x[2] = '1';
    s2.x[3] = 0x3938373635343332ull;
    a64t_run(code2, 3, &s2);
    ck_assert_uint_eq((uint32_t)s2.x[0] ^ 0xffffffffu, 0xcbf43926u);
}
END_TEST

/* ---- unallocated encodings ---------------------------------------------------------------------- */
START_TEST(test_unallocated)
{
    static const uint32_t undef[] = {
        0x00000000, /* udf #0 */
        0x12c00000, /* movn with sf=0 hw=2 */
        0x13800000 | 1u << 22, /* extr w with N=1 */
        0x33400000, /* bfm w with N=1 */
        0x72000000 | 1u << 22, /* ands w with N=1 */
        0x0b800000 | 3u << 22, /* add (shifted) with shift=11 */
        0x0b208000 | 5u << 10, /* add (extended) with imm3=5 */
        0x0b008000, /* add w0, w0, w0, lsl #32 (imm6 >= 32 with sf = 0) */
        0x5ac00c00, /* rev (64-bit opcode) with sf=0 */
        0x1ac24c00, /* crc32x with sf=0 */
        0x9ac24000, /* crc32b with sf=1 */
        0xd4200001, /* brk with LL=01 (unallocated) */
        0xd6bf03e0, /* drps: not at EL0 */
        0xd69f03e0, /* eret */
        0xd53bf000, /* mrs x0, s3_3_c15_c0_0 (IMPLEMENTATION DEFINED) */
        0x38a0c000, /* ldapr form with Rs != 11111 */
        0xb8620820, /* ldr w0, [x1, w2, uxtw] with option = 000 */
        0x69800000, /* stgp (pre-index): MTE, not implemented */
        0xf9800000 | 3u << 22, /* ldrsw (uimm) with size=11 opc=11 */
    };
    for (size_t i = 0; i < sizeof(undef) / sizeof(undef[0]); i++)
        ck_assert_msg(a64t_is_undef(undef[i]), "%08x should be unallocated", undef[i]);
    /* and a run of one gives IR_EXIT_UNDEF at its pc */
    A64State st = a64t_state();
    uint32_t code[1] = {0};
    A64TResult r = a64t_run(code, 1, &st);
    ck_assert_uint_eq(r.exit.kind, IR_OP_exit);
    ck_assert_uint_eq(r.exit.reason, IR_EXIT_UNDEF);
    ck_assert_uint_eq(st.common.pc, A64T_CODE);
}
END_TEST


/* ---- robustness: random words lift to valid IR and run safely ------------------------------ */
START_TEST(test_random_words)
{
    uint64_t seed = 0x243f6a8885a308d3ull;
    unsigned undef = 0, n = 40000;
    for (unsigned i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        uint32_t insn = (uint32_t)(seed >> 16);
        a64t_code[0] = insn;
        a64t_code[1] = SVC0;
        a64t_code_len = 2;
        /* a64t_lift verifies the raw and the optimized block */
        IrBlock *b = a64t_lift(A64T_CODE, (i & 1) != 0, 2);
        for (uint32_t k = 0; k < b->n_ops; k++)
            if (b->ops[k].opc == IR_OP_exit && b->ops[k].c[0] == IR_EXIT_UNDEF)
                undef++;
        A64State st = a64t_state();
        for (int r = 0; r < 31; r++)
            st.x[r] = A64T_MEM + 0x800 + (uint64_t)r * 8;
        st.x[31] = A64T_MEM + 0x1000;
        IrExitInfo ex;
        uint32_t fi;
        IrInterpStatus rs = ir_interp_run(b, &st, &a64t_iface, &ex, &fi);
        ck_assert_msg(rs == IR_INTERP_EXITED || rs == IR_INTERP_FAULT, "%08x: status %d", insn, rs);
        ir_block_free(b);
    }
    /* most of the space is allocated in A64: a sanity bound, not a spec */
    ck_assert_uint_lt(undef, n);
    ck_assert_uint_gt(undef, n / 20);
}
END_TEST

static Suite *a64_decode_suite(void)
{
    Suite *s = suite_create("a64_decode");
    TCase *tc = tcase_create("dp");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_addsub_flags_edges);
    tcase_add_test(tc, test_addsub_forms);
    tcase_add_test(tc, test_decode_bitmask_all);
    tcase_add_test(tc, test_logical_imm_lifted);
    tcase_add_test(tc, test_logical_shifted);
    tcase_add_test(tc, test_movw_adr);
    tcase_add_test(tc, test_bitfield_sweep);
    tcase_add_test(tc, test_bitfield_aliases_and_extr);
    tcase_add_test(tc, test_csel_family);
    tcase_add_test(tc, test_ccmp_ccmn);
    tcase_add_test(tc, test_fused_conditions);
    tcase_add_test(tc, test_mul_div);
    tcase_add_test(tc, test_shift_bitops);
    tcase_add_test(tc, test_rbit_clz_idiom);
    tcase_add_test(tc, test_ccmp_every_cond_and_nzcv);
    tcase_add_test(tc, test_crc32);
    tcase_add_test(tc, test_unallocated);
    tcase_add_test(tc, test_random_words);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(a64_decode_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
