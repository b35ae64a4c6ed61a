/*
 * ir_test_util.h - shared fixtures for the IR unit tests: a test CPU state
 * with globals of every type, a small guest memory behind an IrMemIface
 * (with a faulting hole and an unmapped region), and a runner that verifies
 * a block, runs it, and records which ops the interpreter has executed.
 */
#ifndef EMU_TESTS_UNIT_IR_TEST_UTIL_H
#define EMU_TESTS_UNIT_IR_TEST_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ir/ir-helpers.h"
#include "ir/ir.h"
#include "runtime/cpu.h"

typedef struct TEnv {
    CpuCommon common;
    uint64_t x[4];  /* i64 globals x0..x3 */
    uint32_t w[4];  /* i32 */
    uint16_t h[4];  /* i16 */
    uint8_t b[4];   /* i8 */
    uint32_t nf, zf; /* i32 flag globals */
    uint32_t s;     /* f32 */
    uint32_t pad;
    uint64_t d;     /* f64 */
    _Alignas(16) uint64_t q[2][2]; /* i128 globals q0, q1 */
    _Alignas(16) uint8_t v[2][16]; /* v128 globals v0, v1 */
    uint64_t priv[4]; /* not globals: for ldenv/stenv */
} TEnv;

/* Global temp ids. */
typedef struct TGlobals {
    IrGlobalSet set;
    IrTemp x[4], w[4], h[4], b[4], nf, zf, s, d, q[2], v[2];
} TGlobals;

extern TGlobals tg;
void tg_init(void);
/* Global i of integer type t (i8..i64), i in 0..3. */
IrTemp tg_int(IrType t, int i);
/* Read/write the env field behind tg_int(t, i). */
uint64_t tenv_get(const TEnv *e, IrType t, int i);
void tenv_set(TEnv *e, IrType t, int i, uint64_t v);

/* Test memory: guest addresses [TMEM_BASE, TMEM_BASE + TMEM_SIZE) are
 * mapped, except the page at TMEM_HOLE which faults. */
#define TMEM_BASE 0x10000u
#define TMEM_SIZE 0x2000u
#define TMEM_HOLE 0x11000u
extern uint8_t tmem[TMEM_SIZE];
extern const IrMemIface tmem_iface;
extern unsigned tmem_accesses;

/* A new block over tg with insn_start at pc (simplify as given). */
IrBlock *tblock(bool simplify);
/* Verify b (failing the test with the message if bad), run it on e. */
IrInterpStatus trun(IrBlock *b, TEnv *e, IrExitInfo *ex, uint32_t *fault_insn);
/* Verify only; returns the verdict and the message. */
bool tverify(const IrBlock *b, char *err, size_t n);

/* Ops seen in blocks the interpreter has run (coverage check). */
extern bool ir_test_op_covered[IR_OP_COUNT];

#endif
