/*
 * aot-guest.c - the guest program of emu-aot's tests (built static with
 * aarch64-linux-gnu-gcc -O2 by aot/CMakeLists.txt).  aot_test looks up these
 * symbols: aot_leaf and aot_caller (a call with a return site after it, and
 * a function reached only through a pointer), and aot_garbage ..
 * aot_garbage_end, a string table placed inside .text that code discovery
 * must not take for code.  Prints one line when run.
 */
#include <stdio.h>

__attribute__((noinline)) int aot_leaf(int x)
{
    return x * 3 + 1;
}

__attribute__((noinline)) int aot_caller(int x)
{
    int y = aot_leaf(x);   /* BL, then the return site */
    return y + aot_leaf(y + 7) * 5;
}

__attribute__((noinline)) int aot_indirect(int x)
{
    return x ^ 0x55;
}

int (*volatile aot_fp)(int) = aot_indirect;

/* Data in .text: text words, then zero words (UDF #0), as a compiler's
 * literal pool or a hand-written table would be. */
__asm__(".text\n"
        ".balign 16\n"
        ".globl aot_garbage\n"
        ".type aot_garbage, %object\n"
        "aot_garbage:\n"
        ".ascii \"This is data in .text, not code: emu-aot's sweep must skip it.\"\n"
        ".balign 4\n"
        ".word 0, 0\n"
        ".size aot_garbage, .-aot_garbage\n"
        ".globl aot_garbage_end\n"
        "aot_garbage_end:\n"
        ".balign 16\n");

int main(int argc, char **argv)
{
    printf("%d\n", aot_caller(argc) + aot_fp(argc));
    return 0;
}
