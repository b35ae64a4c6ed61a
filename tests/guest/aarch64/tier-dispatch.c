/*
 * tier-dispatch.c - bytecode interpreters whose loop closes only through
 * indirect jumps: a switch compiled to a jump table (br xN) and a
 * computed-goto dispatch.  Under --tier=auto with a low EMU_HOT_THRESHOLD
 * their dispatch blocks become LLVM regions that follow the recorded
 * goto_ptr targets (runtime/tierup.c); the output must not change.
 * By hand, that the region took the handlers in (and ran):
 *   EMU_REGION_PTR=1 emu-user --tier=auto --stats tier-dispatch 30
 *   -> "region indirect jumps  1 regions took in ..." and llvm ~60%
 */
// guest-env: EMU_REGION_PTR=1
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { OP_PUSH, OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_DUP, OP_SWAP, OP_DROP, OP_SHL, OP_SHR,
       OP_JNZ, OP_DEC, OP_HALT, OP_ROT, OP_INC, OP_AND };

/* Sum of a mixing function over n iterations, written in the bytecode. */
static const int32_t prog[] = {
    OP_PUSH, 0,        /* acc */
    OP_PUSH, 0,        /* n, patched */
    /* loop: stack = acc n */
    OP_SWAP,           /* n acc */
    OP_DUP, OP_PUSH, 5, OP_SHL, OP_XOR, /* n acc^(acc<<5) */
    OP_PUSH, 0x9E37, OP_ADD,
    OP_DUP, OP_PUSH, 3, OP_SHR, OP_XOR,
    OP_PUSH, 7, OP_MUL,
    OP_PUSH, 0xFFFFFF, OP_AND,
    OP_SWAP,           /* acc n */
    OP_DEC, OP_DUP, OP_INC, OP_DROP,
    OP_DUP, OP_JNZ, -28,
    OP_DROP, OP_HALT,
};

static int64_t run_switch(const int32_t *code, int64_t n)
{
    int64_t st[16];
    int sp = 0;
    const int32_t *pc = code;
    for (;;) {
        int32_t op = *pc++;
        switch (op) {
        case OP_PUSH: st[sp++] = *pc++; if (pc == code + 4) st[sp - 1] = n; break;
        case OP_ADD: sp--; st[sp - 1] += st[sp]; break;
        case OP_SUB: sp--; st[sp - 1] -= st[sp]; break;
        case OP_MUL: sp--; st[sp - 1] *= st[sp]; break;
        case OP_XOR: sp--; st[sp - 1] ^= st[sp]; break;
        case OP_AND: sp--; st[sp - 1] &= st[sp]; break;
        case OP_SHL: sp--; st[sp - 1] <<= st[sp]; break;
        case OP_SHR: sp--; st[sp - 1] = (int64_t)((uint64_t)st[sp - 1] >> st[sp]); break;
        case OP_DUP: st[sp] = st[sp - 1]; sp++; break;
        case OP_SWAP: { int64_t t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; break; }
        case OP_ROT: { int64_t t = st[sp - 3]; st[sp - 3] = st[sp - 2]; st[sp - 2] = st[sp - 1]; st[sp - 1] = t; break; }
        case OP_DROP: sp--; break;
        case OP_DEC: st[sp - 1]--; break;
        case OP_INC: st[sp - 1]++; break;
        case OP_JNZ: { int32_t off = *pc++; if (st[--sp]) pc += off; break; }
        case OP_HALT: return st[sp - 1];
        default: return -1;
        }
    }
}

static int64_t run_goto(const int32_t *code, int64_t n)
{
    static void *const tab[] = {
        [OP_PUSH] = &&push, [OP_ADD] = &&add, [OP_SUB] = &&sub, [OP_MUL] = &&mul,
        [OP_XOR] = &&xor_, [OP_DUP] = &&dup, [OP_SWAP] = &&swap, [OP_DROP] = &&drop,
        [OP_SHL] = &&shl, [OP_SHR] = &&shr, [OP_JNZ] = &&jnz, [OP_DEC] = &&dec,
        [OP_HALT] = &&halt, [OP_ROT] = &&rot, [OP_INC] = &&inc, [OP_AND] = &&and_,
    };
    int64_t st[16];
    int sp = 0;
    const int32_t *pc = code;
#define NEXT goto *tab[*pc++]
    NEXT;
push: st[sp++] = *pc++; if (pc == code + 4) st[sp - 1] = n; NEXT;
add: sp--; st[sp - 1] += st[sp]; NEXT;
sub: sp--; st[sp - 1] -= st[sp]; NEXT;
mul: sp--; st[sp - 1] *= st[sp]; NEXT;
xor_: sp--; st[sp - 1] ^= st[sp]; NEXT;
and_: sp--; st[sp - 1] &= st[sp]; NEXT;
shl: sp--; st[sp - 1] <<= st[sp]; NEXT;
shr: sp--; st[sp - 1] = (int64_t)((uint64_t)st[sp - 1] >> st[sp]); NEXT;
dup: st[sp] = st[sp - 1]; sp++; NEXT;
swap: { int64_t t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; } NEXT;
rot: { int64_t t = st[sp - 3]; st[sp - 3] = st[sp - 2]; st[sp - 2] = st[sp - 1]; st[sp - 1] = t; } NEXT;
drop: sp--; NEXT;
dec: st[sp - 1]--; NEXT;
inc: st[sp - 1]++; NEXT;
jnz: { int32_t off = *pc++; if (st[--sp]) pc += off; } NEXT;
halt: return st[sp - 1];
#undef NEXT
}

/* The same function in C, the reference. */
static int64_t run_c(int64_t n)
{
    int64_t acc = 0;
    while (n) {
        acc ^= acc << 5;
        acc += 0x9E37;
        acc ^= (int64_t)((uint64_t)acc >> 3);
        acc *= 7;
        acc &= 0xFFFFFF;
        n--;
    }
    return acc;
}

int main(int argc, char **argv)
{
    int bad = 0;
    int64_t max = 200000; /* an argument scales it (by hand: regions need time to compile) */
    if (argc > 1)
        max *= atoi(argv[1]);
    for (int64_t n = 1; n <= max; n *= 7) {
        int64_t a = run_switch(prog, n), b = run_goto(prog, n), c = run_c(n);
        printf("n=%lld switch=%lld goto=%lld c=%lld\n", (long long)n, (long long)a, (long long)b,
               (long long)c);
        bad |= a != c || b != c;
    }
    puts(bad ? "MISMATCH" : "ok");
    return bad;
}
