/* user-smc-write: code rewritten by plain stores and by the kernel (read()
 * into a code page) without cache maintenance.  Real hardware needs
 * DC CVAU/IC IVAU here; emulators (qemu, emu) keep code coherent with
 * data, which is what this checks: stores to translated code fault on the
 * write-protected page and invalidate it, syscall writes invalidate first. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*fn_t)(void);

static uint32_t mov_w0(int v)
{
    return 0x52800000u | ((uint32_t)v << 5);   /* mov w0, #v */
}

int main(void)
{
    volatile uint32_t *code = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED)
        return 2;
    fn_t f = (fn_t)code;
    code[1] = 0xd65f03c0u;   /* ret */
    for (int i = 1; i <= 4; i++) {
        code[0] = mov_w0(i * 11);
        printf("store %d: %d\n", i, f());
    }
    /* the kernel writes the new instruction */
    int p[2];
    if (pipe(p) != 0)
        return 3;
    uint32_t insn = mov_w0(1234);
    if (write(p[1], &insn, 4) != 4 || read(p[0], (void *)code, 4) != 4)
        return 4;
    printf("read(): %d\n", f());
    /* data on the same page as code: writing it must not break the code */
    code[512] = 5;
    code[513] = code[512] + 1;
    printf("data next to code: %d %u\n", f(), code[513]);
    return 0;
}
