/* user-exit: the exit status reaches the parent, atexit handlers and stdio
 * buffers run first. */
#include <stdio.h>
#include <stdlib.h>

static void bye(void)
{
    printf("atexit handler ran\n");
}

int main(void)
{
    atexit(bye);
    printf("buffered output before exit\n");
    exit(42);
}
