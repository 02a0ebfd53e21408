#!/usr/bin/env bash
# Self-test of the peer, without Openhouse: one peer in `serve` mode (accepts follows, then
# posts a Note to its followers) and one in `follow` mode with --reply --undo against it.
# Proves that follow mode itself works before Openhouse has an inbox.
#
#   bash tests/interop/selftest.sh        (after: cd tests/interop && npm ci)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -d "$HERE/node_modules/@fedify/fedify" ] || { echo "selftest: run (cd tests/interop && npm ci) first" >&2; exit 3; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/openhouse-interop-self.XXXXXX")"
SERVE_PID=""
cleanup() {
  local status=$?
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  timeout 10 node -e '
    const s = require("net").createServer();
    s.listen(0, process.argv[1], () => { console.log(s.address().port); s.close(); });
  ' "$1"
}
A_PORT="$(free_port 127.0.0.6)"
B_PORT="$(free_port 127.0.0.5)"

timeout 90 node "$HERE/peer.mjs" --listen "127.0.0.6:$A_PORT" --mode serve --timeout 60 \
  --report "$WORK/serve.json" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
for _ in $(seq 1 100); do
  if timeout 5 node -e '
      fetch(process.argv[1], { headers: { accept: "application/activity+json" }, signal: AbortSignal.timeout(2000) })
        .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
    ' "http://127.0.0.6:$A_PORT/users/tester"; then break; fi
  sleep 0.2
done

set +e
timeout 60 node "$HERE/peer.mjs" --listen "127.0.0.5:$B_PORT" --target "http://127.0.0.6:$A_PORT/users/tester" \
  --mode follow --reply --undo --expect-type Person --timeout 30 --settle 1 \
  --report "$WORK/follow.json" 2>"$WORK/follow.err"
status=$?
set -e
if [ "$status" != 0 ]; then
  echo "--- follow peer log"; cat "$WORK/follow.err"
  echo "--- serve peer log"; cat "$WORK/serve.err"
fi
exit "$status"
