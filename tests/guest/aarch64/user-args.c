/* user-args: argv, envp and the auxiliary vector as the kernel gives them. */
// guest-args: one "two words" 3 ""
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv, char **envp)
{
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=\"%s\"\n", i, argv[i]);
    int bad = argv[argc] != NULL;
    /* envp follows argv's NULL, and is the environ glibc uses */
    bad |= envp != argv + argc + 1 || envp != environ;
    int n = 0;
    for (char **e = envp; *e; e++, n++)
        bad |= strchr(*e, '=') == NULL;
    printf("environment: %s\n", n > 0 ? "present" : "empty");
    printf("pagesz=%lu\n", getauxval(AT_PAGESZ));
    const char *plat = (const char *)getauxval(AT_PLATFORM);
    printf("platform=%s\n", plat ? plat : "(none)");
    unsigned long hw = getauxval(AT_HWCAP);
    printf("hwcap fp=%lu asimd=%lu\n", hw & 1, (hw >> 1) & 1);
    bad |= getauxval(AT_RANDOM) == 0;
    bad |= getauxval(AT_ENTRY) == 0 || getauxval(AT_PHDR) == 0;
    bad |= getauxval(AT_PHENT) != sizeof(Elf64_Phdr);
    bad |= getauxval(AT_UID) != getuid() || getauxval(AT_EGID) != getegid();
    const char *fn = (const char *)getauxval(AT_EXECFN);
    bad |= fn == NULL || strstr(fn, "user-args") == NULL;
    /* the stack pointer was 16-byte aligned */
    bad |= ((unsigned long)__builtin_frame_address(0) & 15) != 0;
    printf("args: %s\n", bad ? "FAILED" : "ok");
    return bad;
}
