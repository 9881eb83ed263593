#!/usr/bin/env bash
# Regenerates the corpus of real OCI config.json files in this directory.
#
# Every JSON file here is the config.json that a real generator wrote on the
# machine that ran this script:
#   - `runc spec` / `crun spec` (plain and --rootless, as root and as uid 1000)
#   - `tsrun spec` (plain and --rootless), from this checkout
#   - podman (rootful, OCI runtime runc, cgroupfs manager, file events backend)
#   - containerd 1.6 driven by `ctr run` with the io.containerd.runc.v2 shim
# The files are only re-indented and sanitized (see sanitize() and README.md).
#
# Run as root on Debian 12.  The script installs its packages, builds a tiny
# busybox image, runs every variation, copies the configs, and then removes
# every container, pod, volume, image, mount and daemon it created.
#
# Usage: sudo ./generate.sh            (rewrites ./*.json and the README table)
set -uo pipefail

OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STANDIN_WORK=/srv/oci-corpus     # stand-in for this run's scratch directory
STANDIN_HOST=oci-host            # stand-in for the machine's hostname
IMAGE=localhost/oci-corpus/busybox:latest
PREFIX=ocicorpus                 # name prefix of every container/pod/volume
RUNC_ROOT=/run/oci-corpus-runc   # podman's runc state dir (kept apart from /run/runc)
CTR_NS=default                   # containerd namespace used by ctr

log() { printf '[generate] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
grep -q '^VERSION_ID="12"' /etc/os-release 2>/dev/null || log "warning: not Debian 12; versions will differ"

# ---------------------------------------------------------------- packages
if [ "${SKIP_APT:-0}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends \
    runc crun podman conmon catatonit netavark aardvark-dns \
    containernetworking-plugins iptables containerd busybox-static \
    python3 bsdutils util-linux >/dev/null || die "apt-get install failed"
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# Refuse to hijack somebody else's containerd.
if [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1; then
  die "a containerd is already serving /run/containerd/containerd.sock; stop it first"
fi

# ---------------------------------------------------------------- scratch
WORK=$(mktemp -d /tmp/oci-corpus.XXXXXX)
RAW=$WORK/raw            # raw config.json copies
mkdir -p "$RAW" "$WORK/spec" "$WORK/vol-ro" "$WORK/vol-rw" "$WORK/hooks.d"
echo "read-only volume" > "$WORK/vol-ro/README"
MANIFEST=$WORK/manifest.tsv   # file <TAB> command <TAB> versions
FAILED=$WORK/failed.tsv       # variant <TAB> command <TAB> error
: > "$MANIFEST"; : > "$FAILED"
CONTAINERD_PID=
PAUSE_IMAGES_BEFORE=

# Host network state that podman's netavark changes (bridge networking).
IPFWD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
NFT_EMPTY_BEFORE=0
[ -z "$(nft list ruleset 2>/dev/null)" ] && NFT_EMPTY_BEFORE=1
NETAVARK_BEFORE=0
iptables-save 2>/dev/null | grep -q NETAVARK && NETAVARK_BEFORE=1
# Parent cgroups that podman (libpod_parent, --cgroup-parent) and containerd
# (one per namespace, --cgroup) create and never remove.
CG_PARENTS="libpod_parent $PREFIX $CTR_NS"
CG_BEFORE=$(for n in $CG_PARENTS; do ls -d /sys/fs/cgroup/*/"$n" 2>/dev/null; done)
NETNS=$PREFIX-netns
RUNNETNS_MOUNTED_BEFORE=0
mountpoint -q /run/netns 2>/dev/null && RUNNETNS_MOUNTED_BEFORE=1

export CONTAINERS_CONF=$WORK/containers.conf
PODMAN_GLOBAL=(--runtime runc --cgroup-manager cgroupfs --events-backend file)
pm() { podman "${PODMAN_GLOBAL[@]}" "$@"; }

cleanup() {
  set +e
  log "cleaning up"
  if command -v podman >/dev/null; then
    for c in $(pm ps -a --format '{{.Names}}' 2>/dev/null | grep "^$PREFIX-"); do
      pm rm -f -t 0 "$c" >/dev/null 2>&1
    done
    for p in $(pm pod ps --format '{{.Name}}' 2>/dev/null | grep "^$PREFIX-"); do
      pm pod rm -f -t 0 "$p" >/dev/null 2>&1
    done
    for v in $(pm volume ls --format '{{.Name}}' 2>/dev/null | grep "^$PREFIX-"); do
      pm volume rm -f "$v" >/dev/null 2>&1
    done
    pm rmi -f "$IMAGE" >/dev/null 2>&1
    # the pause image that `podman pod create` builds, if this run built it
    for i in $(pm images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep '^localhost/podman-pause:'); do
      grep -qxF "$i" <<<"$PAUSE_IMAGES_BEFORE" || pm rmi -f "$i" >/dev/null 2>&1
    done
  fi
  if [ -n "$CONTAINERD_PID" ]; then
    for c in $(ctr -n "$CTR_NS" containers ls -q 2>/dev/null | grep "^$PREFIX-"); do
      ctr -n "$CTR_NS" tasks rm -f "$c" >/dev/null 2>&1
      ctr -n "$CTR_NS" containers rm "$c" >/dev/null 2>&1
    done
    ctr -n "$CTR_NS" images rm --sync "$IMAGE" >/dev/null 2>&1
    kill "$CONTAINERD_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CONTAINERD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$CONTAINERD_PID" 2>/dev/null
    wait "$CONTAINERD_PID" 2>/dev/null
  fi
  # podman's runc state dir: every container must be gone by now
  if [ -d "$RUNC_ROOT" ]; then
    for c in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
      log "warning: runc state for $c left behind; deleting"
      runc --root "$RUNC_ROOT" delete --force "$c" >/dev/null 2>&1
    done
    find "$RUNC_ROOT" -mindepth 1 -type d -empty -delete 2>/dev/null
    rmdir "$RUNC_ROOT" 2>/dev/null
  fi
  ip netns del "$NETNS" 2>/dev/null
  # `ip netns add` and netavark turn /run/netns into a shared bind mount
  if [ "$RUNNETNS_MOUNTED_BEFORE" = 0 ] && mountpoint -q /run/netns 2>/dev/null &&
     [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    umount /run/netns 2>/dev/null
  fi
  # parent cgroups this run created (each is empty once its containers are gone)
  for n in $CG_PARENTS; do
    for d in /sys/fs/cgroup/*/"$n"; do
      [ -d "$d" ] || continue
      grep -qxF "$d" <<<"$CG_BEFORE" && continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  # netavark: restore ip_forward, drop the (empty) chains/tables it left behind
  echo "$IPFWD_BEFORE" > /proc/sys/net/ipv4/ip_forward
  if [ "$NETAVARK_BEFORE" = 0 ] && ! ip link show podman0 >/dev/null 2>&1; then
    iptables -D FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD 2>/dev/null
    iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT 2>/dev/null
    iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT 2>/dev/null
    iptables -t nat -D POSTROUTING -j NETAVARK-HOSTPORT-MASQ 2>/dev/null
    iptables -F NETAVARK_FORWARD 2>/dev/null; iptables -X NETAVARK_FORWARD 2>/dev/null
    for ch in NETAVARK-HOSTPORT-DNAT NETAVARK-HOSTPORT-MASQ NETAVARK-HOSTPORT-SETMARK; do
      iptables -t nat -F "$ch" 2>/dev/null
    done
    for ch in NETAVARK-HOSTPORT-DNAT NETAVARK-HOSTPORT-MASQ NETAVARK-HOSTPORT-SETMARK; do
      iptables -t nat -X "$ch" 2>/dev/null
    done
    if [ "$NFT_EMPTY_BEFORE" = 1 ]; then
      # only the empty base chains iptables-nft created remain: drop them
      for t in nat filter; do
        if nft list table ip "$t" >/dev/null 2>&1 &&
           ! nft list table ip "$t" | grep -qvE '^\s*(table|chain|type|\}|$)'; then
          nft delete table ip "$t" 2>/dev/null
        fi
      done
    fi
  fi
  # nothing should be mounted below the scratch dir; unmount defensively
  grep -o " $WORK[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
# Quote one argument for display (README) the way a person would type it.
q() {
  local a=$1
  if [[ "$a" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then printf '%s' "$a"
  else printf "'%s'" "${a//\'/\'\\\'\'}"; fi
}
qcmd() { local out= a; for a in "$@"; do out+="$(q "$a") "; done; printf '%s' "${out% }"; }

pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null; }
V_RUNC="runc $(pkgver runc)"
V_CRUN="crun $(pkgver crun)"
V_PODMAN="podman $(pkgver podman), conmon $(pkgver conmon), $V_RUNC"
V_CTRD="containerd/ctr $(pkgver containerd) (io.containerd.runc.v2), $V_RUNC"

# record FILE VERSIONS CMD...   /   record_str FILE VERSIONS "COMMAND LINE"
record_str() { printf '%s\t%s\t%s\n' "$1" "$3" "$2" >> "$MANIFEST"; }
record() { local f=$1 v=$2; shift 2; record_str "$f" "$v" "$(qcmd "$@")"; }
# failed NAME CMD-STRING ERRORFILE
failed() {
  local err
  err=$(grep -v '^\s*$' "$3" | grep -iE 'error|fail|invalid|denied|not ' | tail -n 1)
  [ -n "$err" ] || err=$(grep -v '^\s*$' "$3" | tail -n 1)
  err=${err//$'\t'/ }
  printf '%s\t%s\t%s\n' "$1" "$2" "${err:0:300}" >> "$FAILED"
  log "FAILED $1: $err"
}

# ---------------------------------------------------------------- image
log "building the busybox rootfs and image"
R=$WORK/rootfs
mkdir -p "$R"/{bin,etc,tmp,proc,sys,dev,root,home,var,run}
cp /bin/busybox "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
ln -s bin "$R/sbin"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"
chmod 755 "$R" "$R"/{bin,etc,proc,sys,dev,root,home,var,run}; chmod 1777 "$R/tmp"
chmod 644 "$R/etc/passwd" "$R/etc/group"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$R" -cf "$WORK/busybox-rootfs.tar" .

# ---------------------------------------------------------------- runc/crun spec
log "runc spec / crun spec"
spec() { # spec FILE VERSION RUNAS(root|1000) CMD...
  local f=$1 v=$2 who=$3; shift 3
  local d=$WORK/spec/${f%.json}
  mkdir -p "$d"
  local cmd=("$@")
  if [ "$who" != root ]; then
    chown "$who:$who" "$d"
    cmd=(setpriv --reuid="$who" --regid="$who" --clear-groups "$@")
  fi
  if (cd "$d" && "${cmd[@]}") 2>"$d.err" && [ -f "$d/config.json" ]; then
    cp "$d/config.json" "$RAW/$f"
    record "$f" "$v" "${cmd[@]}"
  else
    failed "${f%.json}" "$(qcmd "${cmd[@]}")" "$d.err"
  fi
}
spec runc-spec.json                  "$V_RUNC" root runc spec
spec runc-spec-rootless.json         "$V_RUNC" root runc spec --rootless
spec runc-spec-rootless-uid1000.json "$V_RUNC" 1000 runc spec --rootless
spec crun-spec.json                  "$V_CRUN" root crun spec
spec crun-spec-rootless.json         "$V_CRUN" root crun spec --rootless
spec crun-spec-rootless-uid1000.json "$V_CRUN" 1000 crun spec --rootless
# tsrun spec, from this checkout (built by `npm ci`); run as root only: the
# checkout need not be readable by uid 1000.
PATH="$(cd "$(dirname "$0")/../.." && pwd)/bin:$PATH"
V_TSRUN="tsrun $(tsrun --version | sed -n 's/^tsrun version //p')"
spec tsrun-spec.json                 "$V_TSRUN" root tsrun spec
spec tsrun-spec-rootless.json        "$V_TSRUN" root tsrun spec --rootless

# ---------------------------------------------------------------- podman
log "podman"
# CONTAINERS_CONF replaces the distribution's containers.conf, so start from
# that file (its default_capabilities and default_sysctls shape every config)
# and add only what podman needs on this host:
#  - no systemd: cgroupfs manager, file events, k8s-file logs;
#  - this host's processes may lack CAP_SYS_RESOURCE in their bounding set,
#    and then runc cannot apply podman's rootful default rlimits (nofile and
#    nproc 1048576): use the limits podman itself ends up with instead;
#  - `--runtime runc` resolves to a wrapper that only adds `--root $RUNC_ROOT`,
#    so this run's runc state stays out of the shared default /run/runc.
BASE_CONF=/usr/share/containers/containers.conf
[ -f /etc/containers/containers.conf ] && BASE_CONF=/etc/containers/containers.conf
{
  echo '[containers]'
  echo 'log_driver = "k8s-file"'
  capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  if (( (16#$capbnd >> 24 & 1) == 0 )); then
    nproc=$(cat /proc/sys/kernel/pid_max); hu=$(ulimit -Hu)
    [ "$hu" != unlimited ] && [ "$hu" -lt "$nproc" ] && nproc=$hu
    echo "default_ulimits = [\"nofile=$(ulimit -Hn):$(ulimit -Hn)\", \"nproc=$nproc:$nproc\"]"
  fi
  echo '[engine]'
  echo 'cgroup_manager = "cgroupfs"'
  echo 'events_logger = "file"'
  echo 'runtime = "runc"'
  echo '[engine.runtimes]'
  echo "runc = [\"$WORK/bin/runc\"]"
} > "$WORK/containers.conf.add"
"$PY" - "$BASE_CONF" "$WORK/containers.conf.add" "$CONTAINERS_CONF" <<'PYEOF' || die "cannot write containers.conf"
import sys, tomllib
base, add, out = sys.argv[1:4]
extra, sec = {}, None
for line in open(add):
    line = line.rstrip('\n')
    if line.startswith('['):
        sec = line; extra.setdefault(sec, [])
    else:
        extra[sec].append(line)
lines = open(base).read().split('\n')
res = []
for line in lines:
    res.append(line)
    if line.strip() in extra:
        res.extend(extra.pop(line.strip()))
for sec, body in extra.items():
    res += ['', sec] + body
text = '\n'.join(res)
tomllib.loads(text)     # fails on duplicate keys
open(out, 'w').write(text)
PYEOF
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$(command -v runc)" "$RUNC_ROOT" > "$WORK/bin/runc"
chmod 755 "$WORK/bin/runc"

pm import --change CMD=/bin/sh "$WORK/busybox-rootfs.tar" "$IMAGE" >/dev/null || die "podman import failed"
PAUSE_IMAGES_BEFORE=$(pm images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep '^localhost/podman-pause:' || true)

# Hook used by the "hooks" variation only (selected by annotation).
cat > "$WORK/hooks.d/oci-corpus.json" <<'EOF'
{
  "version": "1.0.0",
  "hook": { "path": "/usr/bin/true", "args": ["true", "oci-corpus-hook"], "env": ["OCI_CORPUS=1"], "timeout": 10 },
  "when": { "annotations": { "^org\\.example\\.corpus\\.hook$": "^true$" } },
  "stages": ["prestart", "createRuntime", "poststart", "poststop"]
}
EOF

copy_podman() { # copy_podman FILE CONTAINER
  local path
  path=$(pm inspect --format '{{.OCIConfigPath}}' "$2" 2>/dev/null)
  [ -f "$path" ] || path=/var/lib/containers/storage/overlay-containers/$(pm inspect --format '{{.Id}}' "$2")/userdata/config.json
  cp "$path" "$RAW/$1"
}

# pv VARIANT [GLOBAL-ARGS... ---] RUN-ARGS...   (command: sleep 600 unless PV_CMD)
pv() {
  local v=$1; shift
  local global=() a
  if printf '%s\n' "$@" | grep -qx -- '---'; then
    while [ "$1" != --- ]; do global+=("$1"); shift; done; shift
  fi
  local name=$PREFIX-$v f=podman-$v.json
  local cmd=(podman "${PODMAN_GLOBAL[@]}" "${global[@]}" run -d --name "$name" "$@" "$IMAGE")
  if [ -n "${PV_CMD:-}" ]; then read -r -a a <<<"$PV_CMD"; cmd+=("${a[@]}"); else cmd+=(sleep 600); fi
  log "  $f"
  if "${cmd[@]}" >"$WORK/$v.out" 2>"$WORK/$v.err"; then
    copy_podman "$f" "$name" && record "$f" "$V_PODMAN" "${cmd[@]}"
  else
    failed "podman-$v" "$(qcmd "${cmd[@]}")" "$WORK/$v.err"
  fi
  pm rm -f -t 0 "$name" >/dev/null 2>&1
}

pv plain
pv tty                -t
pv readonly           --read-only
pv readonly-notmpfs   --read-only --read-only-tmpfs=false
pv user               --user 1000:1000
pv user-groups        --user 1000:1000 --group-add 2000 --group-add 3000
pv caps               --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-drop CHOWN --cap-drop NET_RAW
pv cap-drop-all       --cap-drop ALL --cap-add NET_BIND_SERVICE
pv privileged         --privileged
pv net-none           --network none
pv net-host           --network host
pv pid-host           --pid host
pv ipc-host           --ipc host
pv ipc-private        --ipc private
pv uts-host           --uts host
pv hostname           --hostname corpus-host
pv memory             --memory 64m --memory-reservation 32m --memory-swap 128m --memory-swappiness 10
pv pids-limit         --pids-limit 100
pv cpu                --cpu-shares 512 --cpu-quota 50000 --cpu-period 100000 --cpuset-cpus 0 --cpuset-mems 0
pv cpus               --cpus 1.5
pv blkio-weight       --blkio-weight 500
pv no-new-privileges  --security-opt no-new-privileges
pv seccomp-unconfined --security-opt seccomp=unconfined
pv mask-unmask        --security-opt unmask=/proc/kcore:/proc/keys --security-opt mask=/proc/cmdline
pv userns-map         --uidmap 0:100000:65536 --gidmap 0:100000:65536
pv tmpfs              --tmpfs /scratch:rw,size=16m,mode=1777 --tmpfs /cache:ro,noexec,nosuid \
                      --mount type=tmpfs,destination=/mnt/tmpfs2,tmpfs-size=1m,tmpfs-mode=0700
pv volumes            -v "$WORK/vol-ro:/data-ro:ro" -v "$WORK/vol-rw:/data-rw:rw" \
                      --mount "type=bind,source=$WORK/vol-ro,destination=/data-slave,ro=true,bind-propagation=rslave"
pv volume-named       -v "$PREFIX-vol:/named"
pv device             --device /dev/fuse
pv device-rules       --device /dev/fuse:/dev/myfuse:r --device-cgroup-rule 'c 10:200 rwm'
pv sysctl             --sysctl net.ipv4.ip_unprivileged_port_start=80 --sysctl kernel.msgmax=65536
pv ulimit             --ulimit nofile=1024:2048 --ulimit core=0:0 --ulimit nproc=512:1024
pv env-workdir        -e FOO=bar -e 'MULTI=a b c' -w /tmp --umask 0027
pv init               --init
pv cgroupns-private   --cgroupns private
pv shm-size           --shm-size 128m
pv oom                --oom-score-adj 500 --oom-kill-disable
pv cgroup-parent      --cgroup-parent /ocicorpus
pv cgroups-disabled   --cgroups disabled
pv personality        --personality LINUX32
pv annotations        --annotation org.example.key=value --stop-signal SIGINT
PV_CMD=/sbin/init \
pv systemd-always     --systemd always
pv hooks              --hooks-dir "$WORK/hooks.d" --- --annotation org.example.corpus.hook=true

# a pod: the infra container and a member that joins its namespaces by path
log "  podman pod"
podcmd=(podman "${PODMAN_GLOBAL[@]}" pod create --name "$PREFIX-pod")
if "${podcmd[@]}" >"$WORK/pod.out" 2>"$WORK/pod.err"; then
  pmember=(podman "${PODMAN_GLOBAL[@]}" run -d --name "$PREFIX-pod-member" --pod "$PREFIX-pod" "$IMAGE" sleep 600)
  if "${pmember[@]}" >"$WORK/podm.out" 2>"$WORK/podm.err"; then
    infra=$(pm pod inspect --format '{{.InfraContainerID}}' "$PREFIX-pod")
    both="$(qcmd "${podcmd[@]}") && $(qcmd "${pmember[@]}")"
    copy_podman podman-pod-infra.json "$infra" && record_str podman-pod-infra.json "$V_PODMAN" "$both"
    copy_podman podman-pod-member.json "$PREFIX-pod-member" && record_str podman-pod-member.json "$V_PODMAN" "$both"
  else
    failed podman-pod "$(qcmd "${pmember[@]}")" "$WORK/podm.err"
  fi
else
  failed podman-pod "$(qcmd "${podcmd[@]}")" "$WORK/pod.err"
fi
pm pod rm -f -t 0 "$PREFIX-pod" >/dev/null 2>&1

# ---------------------------------------------------------------- containerd
log "containerd"
cat > "$WORK/containerd.toml" <<'EOF'
version = 2
# no CRI: this host only needs ctr + the runc v2 shim
disabled_plugins = ["io.containerd.grpc.v1.cri"]
EOF
containerd --config "$WORK/containerd.toml" >"$WORK/containerd.log" 2>&1 &
CONTAINERD_PID=$!
for _ in $(seq 50); do ctr version >/dev/null 2>&1 && break; sleep 0.2; done
ctr version >/dev/null 2>&1 || die "containerd did not start: $(tail -n 3 "$WORK/containerd.log")"

pm save --format oci-archive -o "$WORK/busybox-oci.tar" "$IMAGE" >/dev/null 2>&1 || die "podman save failed"
ctr -n "$CTR_NS" images import --base-name localhost/oci-corpus/busybox "$WORK/busybox-oci.tar" >/dev/null \
  || die "ctr images import failed"
TASKDIR=/run/containerd/io.containerd.runtime.v2.task/$CTR_NS
# namespaces for --with-ns: a named network namespace (as CNI tools make them)
# and persistent uts/ipc namespaces bind-mounted on files in the scratch dir
ip netns add "$NETNS" || die "ip netns add failed"
touch "$WORK/utsns" "$WORK/ipcns"
unshare --uts="$WORK/utsns" --ipc="$WORK/ipcns" true || die "unshare failed"

# cv VARIANT ARGS...   (ctr run -d ARGS IMAGE ID sleep 600); CV_TTY=1 runs under script(1)
cv() {
  local v=$1; shift
  local id=$PREFIX-$v f=containerd-$v.json
  local cmd
  if [ "${CV_ROOTFS:-0}" = 1 ]; then
    cmd=(ctr -n "$CTR_NS" run -d "$@" "$id" /bin/sleep 600)
  else
    cmd=(ctr -n "$CTR_NS" run -d "$@" "$IMAGE" "$id" sleep 600)
  fi
  local ok=0
  log "  $f"
  if [ "${CV_TTY:-0}" = 1 ]; then
    # ctr -t needs a console even with -d: give it a pty
    script -qec "$(qcmd "${cmd[@]}")" /dev/null </dev/null >"$WORK/$v.out" 2>"$WORK/$v.err" && ok=1
  else
    "${cmd[@]}" </dev/null >"$WORK/$v.out" 2>"$WORK/$v.err" && ok=1
  fi
  if [ $ok = 1 ] && [ -f "$TASKDIR/$id/config.json" ]; then
    cp "$TASKDIR/$id/config.json" "$RAW/$f"
    if [ "${CV_TTY:-0}" = 1 ]; then record "$f" "$V_CTRD" script -qec "$(qcmd "${cmd[@]}")" /dev/null
    else record "$f" "$V_CTRD" "${cmd[@]}"; fi
  else
    cat "$WORK/$v.out" >> "$WORK/$v.err"
    failed "containerd-$v" "$(qcmd "${cmd[@]}")" "$WORK/$v.err"
  fi
  ctr -n "$CTR_NS" tasks rm -f "$id" >/dev/null 2>&1
  ctr -n "$CTR_NS" containers rm "$id" >/dev/null 2>&1
}

cv plain
CV_TTY=1 cv tty --tty
cv readonly          --read-only
cv privileged        --privileged
cv net-host          --net-host
cv memory-limit      --memory-limit 67108864
cv cpus              --cpus 0.5 --cpu-shares 512
cv cpu-quota         --cpu-quota 50000 --cpu-period 100000
cv mounts            --mount "type=bind,src=$WORK/vol-ro,dst=/data-ro,options=rbind:ro" \
                     --mount "type=bind,src=$WORK/vol-rw,dst=/data-rw,options=rbind:rw" \
                     --mount "type=tmpfs,src=tmpfs,dst=/scratch,options=nosuid:nodev:size=16m"
cv seccomp           --seccomp
cv env-cwd           --env FOO=bar --env 'MULTI=a b c' --cwd /tmp
cv userns-map        --uidmap 0:100000:65536 --gidmap 0:100000:65536
cv caps              --cap-add CAP_SYS_ADMIN --cap-add CAP_NET_ADMIN --cap-drop CAP_CHOWN --cap-drop CAP_NET_RAW
cv allow-new-privs   --allow-new-privs
cv device            --device /dev/fuse
cv annotations       --annotation org.example.key=value --label org.example.label=x
cv with-ns           --with-ns "network:/run/netns/$NETNS" --with-ns "uts:$WORK/utsns" --with-ns "ipc:$WORK/ipcns"
cv cgroup            --cgroup /ocicorpus/ctr-cgroup
cv rootfs-propagation --rootfs-propagation rslave
CV_ROOTFS=1 cv rootfs --rootfs "$WORK/rootfs"
cv combo             --read-only --net-host --memory-limit 33554432 --seccomp \
                     --env LANG=C.UTF-8 --cwd /tmp --mount "type=bind,src=$WORK/vol-rw,dst=/data,options=rbind:rw"
cv systemd-cgroup    --runc-systemd-cgroup --cgroup system.slice:ocicorpus:systemd-cgroup

# ---------------------------------------------------------------- sanitize + write
log "sanitizing"
cat > "$WORK/sanitize.py" <<'PYEOF'
import hashlib, json, os, re, sys

mode, work, host, standin_work, standin_host = sys.argv[1:6]
HEX64 = re.compile(r'(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])')
UUID = re.compile(r'(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])')
TS = re.compile(r'\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)')
PROCNS = re.compile(r'^/proc/(\d+)/')
FIXED_TS = '2000-01-01T00:00:00.000000000Z'

def standin(stem, kind, i, n):
    return hashlib.sha256(f'oci-corpus:{stem}:{kind}:{i}'.encode()).hexdigest()[:n]

class Fixer:
    def __init__(self, stem, text):
        self.stem = stem
        self.ids, self.uuids, self.pids = {}, {}, {}
        for m in HEX64.finditer(text):
            self.ids.setdefault(m.group(0), standin(stem, 'id', len(self.ids), 64))
        for m in UUID.finditer(text):
            if m.group(0) not in self.uuids:
                h = standin(stem, 'uuid', len(self.uuids), 32)
                self.uuids[m.group(0)] = f'{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}'
        # podman also uses the first 32 (container_uuid) and 12 (hostname) hex digits
        self.short = [(re.compile(r'(?<![0-9a-f])' + k[:n] + r'(?![0-9a-f])'), v[:n])
                      for n in (32, 12) for k, v in self.ids.items()]

    def s(self, x):
        if work:
            x = x.replace(work, standin_work)
        x = HEX64.sub(lambda m: self.ids.get(m.group(0), m.group(0)), x)
        for rx, v in self.short:
            x = rx.sub(v, x)
        x = UUID.sub(lambda m: self.uuids.get(m.group(0), m.group(0)), x)
        x = TS.sub(FIXED_TS, x)
        def pid(m):
            p = self.pids.setdefault(m.group(1), str(4242 + len(self.pids)))
            return f'/proc/{p}/'
        x = PROCNS.sub(pid, x)
        if host:
            if x == host:
                x = standin_host
            elif x == 'HOSTNAME=' + host:
                x = 'HOSTNAME=' + standin_host
        return x

    def walk(self, o):
        if isinstance(o, dict):
            return {self.s(k): self.walk(v) for k, v in o.items()}
        if isinstance(o, list):
            return [self.walk(v) for v in o]
        if isinstance(o, str):
            return self.s(o)
        return o

def podman_order(obj):
    """podman builds process.env from a map and sorts mounts only by path depth
    (sort.Sort, not stable), so both orders change from run to run.  Give them
    a canonical order that podman itself could have produced: env and
    additionalGids sorted, mounts of equal depth sorted by destination.  Mount
    depth order is kept."""
    proc = obj.get('process') or {}
    if isinstance(proc.get('env'), list):
        proc['env'] = sorted(proc['env'])
    user = proc.get('user') or {}
    if isinstance(user.get('additionalGids'), list):   # also built from a map
        user['additionalGids'] = sorted(user['additionalGids'])
    mounts = obj.get('mounts')
    if isinstance(mounts, list):
        depth = lambda m: len([p for p in os.path.normpath(m['destination']).split('/') if p])
        depths = [depth(m) for m in mounts]
        if depths == sorted(depths):
            obj['mounts'] = sorted(mounts, key=lambda m: (depth(m), m['destination']))
        else:
            print(f'note: mounts of {stem} are not depth-sorted; order kept', file=sys.stderr)
    return obj

if mode == 'json':
    src, dst = sys.argv[6:8]
    stem = os.path.basename(dst)[:-5]
    with open(src) as f:
        obj = json.load(f)
    if stem.startswith('podman-'):
        obj = podman_order(obj)
    fx = Fixer(stem, json.dumps(obj))
    out = json.dumps(fx.walk(obj), indent=2, ensure_ascii=False) + '\n'
    for bad in filter(None, [work]):
        assert bad not in out, (dst, bad)
    with open(dst, 'w') as f:
        f.write(out)
elif mode == 'text':
    # stdin lines -> stdout; ids become <id>, hostname -> stand-in
    for line in sys.stdin:
        line = line.replace(work, standin_work)
        line = HEX64.sub('<id>', line)
        line = UUID.sub('<uuid>', line)
        line = TS.sub(FIXED_TS, line)
        sys.stdout.write(line)
elif mode == 'readme':
    readme, manifest, failed = sys.argv[6:9]
    def cell(t):
        return t.replace('|', '\\|')
    rows = ['| File | Command | Versions |', '| --- | --- | --- |']
    for line in open(manifest):
        f, cmd, ver = line.rstrip('\n').split('\t')
        rows.append(f'| `{f}` | `{cell(cmd)}` | {cell(ver)} |')
    fails = []
    for line in open(failed):
        name, cmd, err = line.rstrip('\n').split('\t')
        fails.append(f'| {name} | `{cell(cmd)}` | `{cell(err)}` |')
    block = '\n'.join(rows) + '\n'
    if fails:
        block += '\nVariations that failed on the last run (no file written):\n\n'
        block += '| Variation | Command | Error |\n| --- | --- | --- |\n' + '\n'.join(fails) + '\n'
    text = open(readme).read()
    b, e = '<!-- BEGIN GENERATED TABLE -->', '<!-- END GENERATED TABLE -->'
    i, j = text.index(b) + len(b), text.index(e)
    text = text[:i] + '\n' + block + text[j:]
    open(readme, 'w').write(text)
PYEOF

HOST=$(hostname)
sanitize_json() { "$PY" "$WORK/sanitize.py" json "$WORK" "$HOST" "$STANDIN_WORK" "$STANDIN_HOST" "$1" "$2"; }
sanitize_text() { "$PY" "$WORK/sanitize.py" text "$WORK" "$HOST" "$STANDIN_WORK" "$STANDIN_HOST"; }

mkdir -p "$WORK/out"
n=0
for f in "$RAW"/*.json; do
  [ -e "$f" ] || continue
  sanitize_json "$f" "$WORK/out/$(basename "$f")" || die "sanitizing $f failed"
  n=$((n + 1))
done
[ "$n" -ge 1 ] || die "no config captured"
sort "$MANIFEST" | sanitize_text > "$WORK/manifest.clean"
sort "$FAILED" | sanitize_text > "$WORK/failed.clean"

rm -f "$OUT"/*.json
cp "$WORK"/out/*.json "$OUT/"
[ -f "$OUT/README.md" ] || printf '# OCI config corpus\n\n<!-- BEGIN GENERATED TABLE -->\n<!-- END GENERATED TABLE -->\n' > "$OUT/README.md"
"$PY" "$WORK/sanitize.py" readme "$WORK" "$HOST" "$STANDIN_WORK" "$STANDIN_HOST" \
  "$OUT/README.md" "$WORK/manifest.clean" "$WORK/failed.clean"
log "wrote $n configs to $OUT ($(wc -l < "$WORK/failed.clean") variations failed)"
