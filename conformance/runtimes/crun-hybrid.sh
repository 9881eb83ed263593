#!/bin/sh
# crun 1.8 refuses a hybrid cgroup host (v1 controllers plus an empty cgroup2
# at /sys/fs/cgroup/unified). This runs it in a private mount namespace
# without that cgroup2 mount. The suite uses it for `--runtime crun` on such
# hosts. Usage: crun-hybrid.sh /path/to/crun ARGS...
crun="$1"
shift
exec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' "$crun" "$@"
