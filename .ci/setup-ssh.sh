#!/usr/bin/env bash
# Test hosts for weft's ssh executor: sshd daemons on loopback, one per "host", reachable
# as weft-host1 … weft-hostN through ~/.ssh/config with a generated key, in BatchMode.
#
# Run as root on a fresh machine (no systemd needed); idempotent: running it again restarts
# nothing that already listens and regenerates nothing that exists.
#
#   WEFT_SSH_HOSTS   number of hosts (default 3)
#   WEFT_SSH_PORT0   port of the first host; host i listens on PORT0 + i - 1 (default 2201)
#
# Each host is one sshd on 127.0.0.1 with its own pid file, so a fault test can kill one
# host (its sshd and the sessions it serves) and leave the others: `.ci/setup-ssh.sh --kill 2`.
set -euo pipefail

hosts="${WEFT_SSH_HOSTS:-3}"
port0="${WEFT_SSH_PORT0:-2201}"
state=/run/weft-sshd

port_of() { echo $((port0 + $1 - 1)); }

# `--kill N`: stop host N as a crash would: its listening sshd and every process below it
# (session daemons, the shells and workers they started), all at once with SIGKILL.
descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    descendants "$child"
    echo "$child"
  done
}
if [ "${1:-}" = "--kill" ]; then
  n="$2"
  pidfile="$state/host$n.pid"
  [ -f "$pidfile" ] || { echo "host $n is not running"; exit 0; }
  pid="$(cat "$pidfile")"
  # Stop the listener first so that the tree cannot grow while it is being killed, then
  # stop everything before killing anything: nothing on the host gets a last word out.
  kill -STOP "$pid" 2>/dev/null || true
  tree="$(descendants "$pid")"
  # shellcheck disable=SC2086
  kill -STOP $tree 2>/dev/null || true
  # shellcheck disable=SC2086
  kill -KILL "$pid" $tree 2>/dev/null || true
  rm -f "$pidfile"
  echo "host $n killed"
  exit 0
fi

if ! command -v sshd >/dev/null && [ ! -x /usr/sbin/sshd ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null
fi
sshd=/usr/sbin/sshd

mkdir -p "$state" /run/sshd
chmod 0755 /run/sshd

# The hosts' key, shared by every test host (they are all this machine).
[ -f "$state/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$state/host_ed25519"

# The user's key, authorised for the user on every host.
home="$(getent passwd "$(id -un)" | cut -d: -f6)"
mkdir -p "$home/.ssh"
chmod 0700 "$home/.ssh"
[ -f "$home/.ssh/weft_test_ed25519" ] ||
  ssh-keygen -q -t ed25519 -N '' -f "$home/.ssh/weft_test_ed25519" -C weft-test
touch "$home/.ssh/authorized_keys"
grep -qxF "$(cat "$home/.ssh/weft_test_ed25519.pub")" "$home/.ssh/authorized_keys" ||
  cat "$home/.ssh/weft_test_ed25519.pub" >>"$home/.ssh/authorized_keys"
chmod 0600 "$home/.ssh/authorized_keys"

# Known hosts: every test host presents the same key on its own port. The spare host (the
# port after the last host) gets no daemon here: fault tests start and kill their own.
spare_port="$(port_of $((hosts + 1)))"
known="$home/.ssh/known_hosts"
touch "$known"
for i in $(seq 1 $((hosts + 1))); do
  entry="[127.0.0.1]:$(port_of "$i") $(cut -d' ' -f1-2 "$state/host_ed25519.pub")"
  grep -qxF "$entry" "$known" || echo "$entry" >>"$known"
done

# ~/.ssh/config: one block per host, between markers so a rerun replaces them.
config="$home/.ssh/config"
touch "$config"
chmod 0600 "$config"
sed -i '/^# >>> weft test hosts/,/^# <<< weft test hosts/d' "$config"
{
  echo "# >>> weft test hosts"
  for i in $(seq 1 "$hosts"); do
    echo "Host weft-host$i"
    echo "  HostName 127.0.0.1"
    echo "  Port $(port_of "$i")"
    echo "  User $(id -un)"
    echo "  IdentityFile $home/.ssh/weft_test_ed25519"
    echo "  IdentitiesOnly yes"
    echo "  StrictHostKeyChecking yes"
  done
  echo "Host weft-spare"
  echo "  HostName 127.0.0.1"
  echo "  Port $spare_port"
  echo "  User $(id -un)"
  echo "  IdentityFile $home/.ssh/weft_test_ed25519"
  echo "  IdentitiesOnly yes"
  echo "  StrictHostKeyChecking yes"
  echo "# <<< weft test hosts"
} >>"$config"

for i in $(seq 1 "$hosts"); do
  port="$(port_of "$i")"
  pidfile="$state/host$i.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    continue
  fi
  cat >"$state/sshd_host$i.conf" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $state/host_ed25519
PidFile $pidfile
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
UsePAM no
StrictModes no
# Many attempts multiplexed on one connection, and many test connections at once.
MaxSessions 100
MaxStartups 100:30:200
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
EOF
  "$sshd" -f "$state/sshd_host$i.conf" -E "$state/sshd_host$i.log"
done

# Wait until every host answers, so the tests that follow find them up.
for i in $(seq 1 "$hosts"); do
  for _ in $(seq 1 50); do
    ssh -o BatchMode=yes -o ConnectTimeout=2 "weft-host$i" true 2>/dev/null && break
    sleep 0.2
  done
  ssh -o BatchMode=yes -o ConnectTimeout=2 "weft-host$i" true
done
echo "ssh test hosts up: $(seq -s ' ' -f 'weft-host%g' 1 "$hosts")"
