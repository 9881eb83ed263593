// Hook mode, for createContainer hooks: the namespaces of a container are
// joined (by enter_namespaces, from the records tsrun sent) and the hook,
// whose path was resolved in the runtime's namespace, is exec'd with exactly
// its configured argv and environment. stdin (the container state), stdout
// and stderr are tsrun's; no other fd goes to the hook.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

void run_hook(const Plan &plan) {
  const Record *rec = nullptr;
  for (size_t i = 0; i < plan.n; i++) {
    const Record &r = plan.recs[i];
    if (r.tag == proto::T_HOOK_EXEC) rec = &r;
  }
  if (!rec) fail(EINVAL, "no hook to run");
  proto::HookExecRec exec(*rec);
  g_ref = exec.ref();
  // Errors from here on are the hook's own failure: say them on stderr.
  close(g_sync);
  g_sync = -1;
  close_range(3, ~0U, 0);
  if (chdir("/") < 0) fail(errno, "chdir /");
  char **argv = exec.args().vec();
  char **envp = exec.env().vec();
  const char *path = exec.path();
  execve(path, argv, envp);
  fail(errno, "exec hook %s", path);
}
