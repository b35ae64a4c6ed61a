/* user-smc: self-modifying code.  Code written into an RWX page, run,
 * rewritten in place and run again must give the new result. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn_t)(void);

static void put(uint32_t *code, int value)
{
    code[0] = 0x52800000u | ((uint32_t)value << 5);   /* mov w0, #value */
    code[1] = 0xd65f03c0u;                             /* ret */
    __builtin___clear_cache((char *)code, (char *)(code + 2));
}

/* "cmp x0, x1; b .+4; cmp x2, x3; cset w0, eq; ret": the first block's
 * flags are dead where it exits (the second compare overwrites them), so
 * it need not write them.  With that compare made a nop they are live:
 * the first block depends on code outside its own bytes and must be
 * translated again. */
typedef int (*fn4_t)(long, long, long, long);

static void put_flags(uint32_t *code, bool second_cmp)
{
    code[0] = 0xeb01001fu;                              /* cmp x0, x1 */
    code[1] = 0x14000001u;                              /* b .+4 */
    code[2] = second_cmp ? 0xeb03005fu : 0xd503201fu;   /* cmp x2, x3 / nop */
    code[3] = 0x1a9f17e0u;                              /* cset w0, eq */
    code[4] = 0xd65f03c0u;                              /* ret */
    __builtin___clear_cache((char *)code, (char *)(code + 5));
}

static int flags_across_blocks(uint32_t *code)
{
    fn4_t g = (fn4_t)code;
    int ok = 1;
    for (int round = 0; round < 4; round++) {
        bool second = round % 2 == 0;
        put_flags(code, second);
        for (int i = 0; i < 3; i++) /* x0 == x1, x2 != x3 */
            ok &= g(5, 5, 6, 7) == (second ? 0 : 1);
    }
    printf("flags across blocks: %s\n", ok ? "ok" : "WRONG");
    return ok;
}

int main(void)
{
    uint32_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED)
        return 2;
    fn_t f = (fn_t)code;
    int sum = 0;
    for (int i = 1; i <= 5; i++) {
        put(code, i * 100);
        int r = f();
        printf("run %d: %d\n", i, r);
        sum += r;
    }
    /* W^X style: write while RW, run while RX */
    mprotect(code, 4096, PROT_READ | PROT_WRITE);
    put(code, 7);
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    printf("after mprotect: %d\n", f());
    mprotect(code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    int flags_ok = flags_across_blocks(code);
    return sum == 1500 && flags_ok ? 0 : 1;
}
