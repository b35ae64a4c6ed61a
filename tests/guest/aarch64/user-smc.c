/* user-smc: self-modifying code.  Code written into an RWX page, run,
 * rewritten in place and run again must give the new result. */
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
    return sum == 1500 ? 0 : 1;
}
