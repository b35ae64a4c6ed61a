/* user-sigill: an undefined instruction (UDF) kills the program with
 * SIGILL. */
#include <stdio.h>

int main(void)
{
    printf("executing udf\n");
    fflush(stdout);
    __asm__ volatile(".inst 0x00000000");   /* udf #0 */
    printf("not reached\n");
    return 0;
}
