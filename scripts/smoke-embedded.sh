#!/usr/bin/env bash
# The embedded default as a newcomer meets it: a clone inside a freshly made 0700 directory (root's
# home is one), the README's `npm install && npm start` with no DATABASE_URL, then /ready and one
# send between two demo users over HTTP, a clean SIGTERM, and one test file on the embedded database.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

home="$(mktemp -d /tmp/duet-smoke-home-XXXXXX)" # mktemp makes it 0700
clone="$home/duet"
git clone -q "$repo" "$clone"
cd "$clone"
unset DATABASE_URL

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
export PORT="$(free_port)" EMBEDDED_PG_PORT="$(free_port)"
log="$home/server.log"
pid=""

stop_server() {
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 80); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.25; done
  return 1
}
cleanup() {
  stop_server || true
  # As root the cluster lives outside the 0700 tree (.data/pg links to it): remove it too.
  if [ -L .data/pg ]; then rm -rf "$(readlink .data/pg)"; fi
  rm -rf "$home"
}
trap cleanup EXIT

npm install --no-audit --no-fund >"$home/install.log" 2>&1 || { cat "$home/install.log"; exit 1; }
# Its own process group, so SIGTERM reaches the server itself and not only npm.
setsid npm start >"$log" 2>&1 &
pid=$!

for _ in $(seq 1 240); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "server exited:"; cat "$log"; exit 1; }
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null || { echo "server never became ready:"; cat "$log"; exit 1; }
grep -q '^Embedded PostgreSQL data: ' "$log" || { echo "the server did not say where its data lives:"; cat "$log"; exit 1; }

token="$(node dist/scripts/token.js 1)"
status="$(curl -s -o "$home/send.json" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/api/chat/send" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"receiverId":2,"content":"hello from the embedded smoke test"}')"
if [ "$status" != "201" ]; then
  echo "send answered $status:"; cat "$home/send.json"; echo; cat "$log"; exit 1
fi
# The typed client from the built package, as a host loads it: with require and with import.
client_call='.rest.unreadCount().then((u) => { if (typeof u.total !== "number") process.exit(1); })'
TOKEN="$token" BASE="http://127.0.0.1:$PORT" node -e "require('duet-chat/client').createDuetClient({ baseUrl: process.env.BASE, token: process.env.TOKEN })$client_call" \
  || { echo "require('duet-chat/client') failed"; exit 1; }
TOKEN="$token" BASE="http://127.0.0.1:$PORT" node --input-type=module -e "import { createDuetClient } from 'duet-chat/client'; await createDuetClient({ baseUrl: process.env.BASE, token: process.env.TOKEN })$client_call" \
  || { echo "import from 'duet-chat/client' failed"; exit 1; }
stop_server || { echo "the server did not stop on SIGTERM:"; cat "$log"; exit 1; }
if pgrep -f "postgres -D .*-p $EMBEDDED_PG_PORT" >/dev/null; then echo "the embedded PostgreSQL outlived the server"; exit 1; fi
echo "embedded smoke ($(id -un), clone in a 0700 directory): $(grep '^Embedded PostgreSQL data: ' "$log"), /ready ok, send 201, the client loaded with require and import, clean stop"

# One test file on a throwaway embedded database from the same clone.
npx jest --runInBand tests/integration/send.test.ts
