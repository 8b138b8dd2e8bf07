#!/usr/bin/env bash
# Start what the tests need when it is not already there: Redis on 127.0.0.1:6379
# and Debian's Chromium (for the admin page test). Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

redis_answers() {
  python3 - <<'PY'
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
        s.sendall(b"PING\r\n")
        sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

if ! redis_answers; then
  if ! command -v redis-server >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  mkdir -p /tmp/crmbot-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/crmbot-redis --logfile /tmp/crmbot-redis/redis.log
  for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  redis_answers || { echo "Redis did not start on 127.0.0.1:6379" >&2; exit 1; }
fi

if [ -x "$here/install-browser.sh" ] || [ -f "$here/install-browser.sh" ]; then
  bash "$here/install-browser.sh"
fi
