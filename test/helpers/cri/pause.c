// The pod sandbox's process, as Kubernetes' pause image has: it holds the
// pod's namespaces, reaps what is reparented to it (pid 1 of a shared pid
// namespace) and exits 0 on SIGINT or SIGTERM. The signals are blocked and
// taken with sigwait, so the kernel delivers them to a pid-namespace init
// from outside even without handlers.
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

int main(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  for (;;) {
    int sig;
    if (sigwait(&set, &sig) != 0) return 1;
    if (sig != SIGCHLD) return 0;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
  }
}
