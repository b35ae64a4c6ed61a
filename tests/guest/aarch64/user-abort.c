/* user-abort: abort() raises SIGABRT with signals blocked around tgkill;
 * the pending signal is delivered when the mask is restored. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("calling abort\n");
    fflush(stdout);
    abort();
}
