#!/usr/bin/env bash
# Starts Duet the way the README does (npm start, no DATABASE_URL: embedded PostgreSQL), then checks
# /ready and one send between two demo users over HTTP, and stops it with SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
export PORT="$(free_port)" EMBEDDED_PG_PORT="$(free_port)"
export DATA_DIR="$(mktemp -d /tmp/duet-smoke-XXXXXX)"
chmod 755 "$DATA_DIR"
log="$DATA_DIR/server.log"
unset DATABASE_URL

# Its own process group, so SIGTERM reaches the server itself and not only npm.
setsid npm start >"$log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
  wait "$pid" 2>/dev/null || true
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "server exited:"; cat "$log"; exit 1; }
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null || { echo "server never became ready:"; cat "$log"; exit 1; }

token="$(node dist/scripts/token.js 1)"
status="$(curl -s -o "$DATA_DIR/send.json" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/api/chat/send" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"receiverId":2,"content":"hello from the embedded smoke test"}')"
if [ "$status" != "201" ]; then
  echo "send answered $status:"; cat "$DATA_DIR/send.json"; echo; cat "$log"; exit 1
fi
echo "embedded smoke: /ready ok, send 201"
