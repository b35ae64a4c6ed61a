/* Deliberately failing: exits with status 3.  Must be reported FAIL. */
int main(void) { return 3; }
