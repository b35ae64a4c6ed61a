/* user-segv: a load from an unmapped address must kill the program with
 * SIGSEGV (the runner compares the signal with the reference). */
#include <stdio.h>

int main(void)
{
    printf("about to fault\n");
    fflush(stdout);
    volatile int *p = (volatile int *)(unsigned long)0x10;
    return *p;
}
