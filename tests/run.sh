#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run all tests.
# Servers (PostgreSQL, redis-server, dovecot) are started by the tests themselves, on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || need+=(nodejs npm)  # console tests (jsdom)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

python3 -m pip install -q -e ".[test]"
npm ci --prefix tests/console --no-audit --no-fund --loglevel=error >/dev/null  # jsdom, as locked
exec python3 -m pytest -q "$@"
