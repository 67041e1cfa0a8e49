#!/usr/bin/env bash
# What the tests need, set up by `npm test` itself (its pretest step) on a fresh Debian 12 machine; on a
# machine that has everything, only checks (a few milliseconds):
#   - Node.js 24 in node_modules/.bin, brought by the `node` devDependency: `npm install` when missing;
#   - Debian's Chromium (/usr/bin/chromium, the browser tests) and OpenSSH's server (/usr/sbin/sshd, the
#     SFTP tests): `apt-get install`, as root;
#   - PostgreSQL answering on 127.0.0.1:5432: the local cluster started when installed but stopped, as root.
# What it cannot set up stops it at once with one line: what is missing, and the command that fixes it.
#
# The checks can be pointed elsewhere (test/unit/test-setup.test.ts does): GALLRA_SETUP_NODE,
# GALLRA_SETUP_NPM, GALLRA_SETUP_CHROMIUM, GALLRA_SETUP_SSHD, GALLRA_SETUP_PG_ISREADY, GALLRA_SETUP_PG_CONF
# (where the clusters are configured), and GALLRA_SETUP_ROOT=0 to act as a user who is not root.
set -uo pipefail
cd "$(dirname "$0")/.."

node=${GALLRA_SETUP_NODE:-node_modules/.bin/node}
npm=${GALLRA_SETUP_NPM:-npm}
chromium=${GALLRA_SETUP_CHROMIUM:-/usr/bin/chromium}
sshd=${GALLRA_SETUP_SSHD:-/usr/sbin/sshd}
pg_isready=${GALLRA_SETUP_PG_ISREADY:-pg_isready}
pg_conf=${GALLRA_SETUP_PG_CONF:-/etc/postgresql}
root=false
if [ "$(id -u)" -eq 0 ] && [ "${GALLRA_SETUP_ROOT:-}" != 0 ]; then root=true; fi

stop() {
  echo "test set-up: $1" >&2
  exit 1
}

# Node.js: the major version package.json's engines asks for ("node": ">=24").
want=$(grep -Eo '"node": ">=[0-9]+' package.json | grep -Eo '[0-9]+$')
[ -n "$want" ] || stop 'package.json: engines.node must read ">=<major>"'
node_ok() { [ "$("$node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge "$want" ]; }
if ! node_ok; then
  echo "test set-up: Node.js $want is missing from $node; bringing it: npm install"
  "$npm" install --no-audit --no-fund && node_ok || stop "Node.js $want is missing ($node) and npm install did not bring it: npm install"
fi

# Debian packages, installed together.
missing=()
packages=()
[ -x "$chromium" ] || { missing+=("$chromium"); packages+=(chromium); }
[ -x "$sshd" ] || { missing+=("$sshd"); packages+=(openssh-server); }
if [ ${#packages[@]} -gt 0 ]; then
  fix="apt-get update && apt-get install -y ${packages[*]}"
  if [ ${#missing[@]} -eq 1 ]; then what="${missing[0]} is missing"; else what="${missing[0]} and ${missing[1]} are missing"; fi
  $root || stop "$what: as root, $fix"
  echo "test set-up: $what; installing: $fix"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null &&
    [ -x "$chromium" ] && [ -x "$sshd" ]) || stop "$what and could not be installed: as root, $fix"
fi

# PostgreSQL on 127.0.0.1:5432 (trust for user postgres; the tests create and drop their databases).
if ! "$pg_isready" -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  cluster=$(ls -d "$pg_conf"/*/main 2>/dev/null | sort -V | tail -n 1)
  [ -n "$cluster" ] ||
    stop "PostgreSQL is not installed (nothing answers on 127.0.0.1:5432, no cluster in $pg_conf): as root, apt-get install -y postgresql, then trust user postgres on 127.0.0.1 (README, Tests)"
  version=$(basename "$(dirname "$cluster")")
  $root || stop "PostgreSQL $version is installed but stopped: as root, pg_ctlcluster $version main start"
  echo "test set-up: PostgreSQL $version is stopped; starting it: pg_ctlcluster $version main start"
  (pg_ctlcluster --skip-systemctl-redirect "$version" main start && "$pg_isready" -q -h 127.0.0.1 -p 5432) ||
    stop "PostgreSQL $version did not start: read /var/log/postgresql/postgresql-$version-main.log"
fi
