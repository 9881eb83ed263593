#!/usr/bin/env bash
# Makes an example bundle and runs it with tsrun: a rootfs from busybox if
# the machine has it, otherwise from the host's own /bin/sh and a few tools
# with the libraries they need, plus the config `tsrun spec` writes, set to
# run a short script instead of an interactive shell.
#
# usage: scripts/example.sh [bundle-dir]     (as root, after npm ci)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tsrun="$here/bin/tsrun"
bundle=${1:-"$here/example"}

if [ "$(id -u)" != 0 ]; then
  echo "run this as root: containers need root here" >&2
  exit 1
fi

rootfs="$bundle/rootfs"
if [ ! -x "$rootfs/bin/sh" ]; then
  mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/etc"
  if busybox=$(command -v busybox) && ! ldd "$busybox" >/dev/null 2>&1; then
    # A static busybox: one binary, one link per applet.
    cp "$busybox" "$rootfs/bin/busybox"
    for applet in $("$busybox" --list); do
      [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
    done
  else
    # The host's own tools, with their shared libraries at the same paths.
    for tool in sh ls cat id hostname echo uname ps; do
      path=$(command -v "$tool" || true)
      [ -n "$path" ] && [ -f "$path" ] || continue
      cp "$path" "$rootfs/bin/$tool"
      for lib in $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*'); do
        mkdir -p "$rootfs$(dirname "$lib")"
        cp -L "$lib" "$rootfs$lib"
      done
    done
  fi
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
fi

if [ ! -f "$bundle/config.json" ]; then
  "$tsrun" spec --bundle "$bundle"
  node -e '
    const fs = require("fs");
    const file = process.argv[1];
    const c = JSON.parse(fs.readFileSync(file, "utf8"));
    c.process.terminal = false;
    c.process.args = ["sh", "-c", "echo \"hello from $(hostname), pid $$\"; id; ls /"];
    fs.writeFileSync(file, JSON.stringify(c, null, 2));
  ' "$bundle/config.json"
fi

exec "$tsrun" run --bundle "$bundle" "example-$$"
