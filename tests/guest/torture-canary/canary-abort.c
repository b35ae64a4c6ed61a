/* A deliberately failing guest program: the torture runner must report it
 * FAIL, which proves the runner can fail. */
#include <stdlib.h>
int main(void) { abort(); }
