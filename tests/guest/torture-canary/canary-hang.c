/* Deliberately failing: never ends.  Must be reported FAIL (timeout). */
int main(void) { for (volatile int i = 0;; i++) {} }
