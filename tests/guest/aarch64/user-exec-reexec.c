/* user-exec-reexec: user-exec with emu started again at every execve, the
 * way of a guest with more than one thread: the mask and the ignored
 * signals reach the new emu through the host's execve. */
// guest-env: EMU_EXEC=reexec
// guest-no-reference: qemu-aarch64 cannot execve a guest program (no binfmt_misc)
#include "user-exec.c"
