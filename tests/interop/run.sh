#!/usr/bin/env bash
# Interoperability test: a real Openhouse (release binary) against a Fedify peer, on loopback.
#
#   bash tests/interop/run.sh [path/to/openhouse]        (after: cd tests/interop && npm ci)
#
# Environment:
#   MODE=lookup|follow|converse  what the peer does (default lookup; see README.md).
#                           converse: follow, receive an update, reply and like it; acme answers
#                           the reply with `openhouse publish --in-reply-to`; then this script
#                           checks on Openhouse that the reply is threaded and the like counted
#   PEER_TIMEOUT=60         seconds the peer may take, in total
#   PUBLISH_CMD=...         follow mode: shell command that makes acme publish a Note once the
#                           peer's Follow is accepted; it runs with the OPENHOUSE_* variables of
#                           the test instance and OPENHOUSE_BIN set
#   REPLY=1                 follow mode: reply to and like the received Note
#   UNDO=1                  follow mode: finish with Undo(Follow)
#   REPORT_OUT=path         also copy the JSON report there (e.g. a CI artifact directory)
#   KEEP_WORK=1             keep the temporary directory (data, logs, report) for inspection
#
# Everything runs on 127.0.0.2 (Openhouse) and 127.0.0.5 (the peer); every process is
# bounded by `timeout` and stopped on exit. Nothing is written inside the repository.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

MODE="${MODE:-lookup}"
PEER_TIMEOUT="${PEER_TIMEOUT:-60}"
OH_HOST=127.0.0.2
PEER_HOST=127.0.0.5

START_DIR="$PWD"
BIN="${1:-${OPENHOUSE_BIN:-$ROOT/target/release/openhouse}}"
case "$BIN" in /*) ;; *) BIN="$START_DIR/$BIN" ;; esac

die() { echo "interop: $*" >&2; exit 3; }
[ -x "$BIN" ] || die "no openhouse binary at $BIN (build it with: cargo build --release)"
[ -d "$HERE/node_modules/@fedify/fedify" ] || die "Fedify is not installed: run (cd tests/interop && npm ci) first"
command -v node >/dev/null || die "node is not on PATH"
case "$MODE" in lookup|follow|converse) ;; *) die "MODE must be lookup, follow or converse, not $MODE" ;; esac
case "$PEER_TIMEOUT" in ''|*[!0-9]*) die "PEER_TIMEOUT must be a whole number of seconds" ;; esac

WORK="$(mktemp -d "${TMPDIR:-/tmp}/openhouse-interop.XXXXXX")"
OH_PID=""

cleanup() {
  local status=$?
  if [ -n "$OH_PID" ] && kill -0 "$OH_PID" 2>/dev/null; then
    kill -TERM "$OH_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$OH_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$OH_PID" 2>/dev/null || true
    wait "$OH_PID" 2>/dev/null || true
  fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "interop: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free TCP port on the given loopback address (the kernel picks it).
free_port() {
  timeout 10 node -e '
    const s = require("net").createServer();
    s.listen(0, process.argv[1], () => { console.log(s.address().port); s.close(); });
  ' "$1"
}

OH_PORT="$(free_port "$OH_HOST")"
PEER_PORT="$(free_port "$PEER_HOST")"
ORIGIN="http://$OH_HOST:$OH_PORT"
TARGET="$ORIGIN/users/acme"

# The test instance's configuration. It runs in $WORK so that no ./openhouse.toml is read.
export OPENHOUSE_BIN="$BIN"
export OPENHOUSE_BIND="$OH_HOST:$OH_PORT"
export OPENHOUSE_PUBLIC_URL="$ORIGIN"
export OPENHOUSE_DATA_DIR="$WORK/data"
export OPENHOUSE_ALLOW_PRIVATE_FETCH="127.0.0.0/8:*"
unset OPENHOUSE_CONFIG OPENHOUSE_DATABASE_URL
mkdir -p "$OPENHOUSE_DATA_DIR"
cd "$WORK"

echo "interop: openhouse $("$BIN" --version 2>/dev/null || echo '?') at $ORIGIN, Fedify peer at http://$PEER_HOST:$PEER_PORT, mode $MODE"

# 1. The brand account (this also creates and migrates the database).
timeout 60 "$BIN" actor create acme --kind brand --name "Acme" >"$WORK/actor-create.log" 2>&1 || {
  cat "$WORK/actor-create.log" >&2
  die "openhouse actor create failed"
}

API_TOKEN=""
if [ "$MODE" = converse ]; then
  API_TOKEN="$(timeout 60 "$BIN" token create interop 2>"$WORK/token.log")" || {
    cat "$WORK/token.log" >&2
    die "openhouse token create failed"
  }
fi

# 2. The server, bounded so that it stops even if this script is killed hard.
timeout --signal=TERM --kill-after=5 $((PEER_TIMEOUT + 120)) "$BIN" serve >"$WORK/openhouse.log" 2>&1 &
OH_PID=$!

ready=0
for _ in $(seq 1 150); do
  if ! kill -0 "$OH_PID" 2>/dev/null; then break; fi
  if timeout 5 node -e '
      fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
        .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
    ' "$ORIGIN/readyz"; then
    ready=1
    break
  fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  tail -n 40 "$WORK/openhouse.log" >&2 || true
  die "openhouse did not become ready at $ORIGIN/readyz within 30s"
fi

# 3. The peer.
PEER_MODE="$MODE"
if [ "$MODE" = converse ]; then PEER_MODE=follow; fi
PEER_ARGS=(--listen "$PEER_HOST:$PEER_PORT" --target "$TARGET" --mode "$PEER_MODE"
  --report "$WORK/report.json" --timeout "$PEER_TIMEOUT"
  --expect-type Organization --expect-username acme)
if [ "$MODE" = follow ]; then
  if [ -n "${PUBLISH_CMD:-}" ]; then PEER_ARGS+=(--publish-cmd "$PUBLISH_CMD"); fi
  if [ "${REPLY:-0}" = 1 ]; then PEER_ARGS+=(--reply); fi
  if [ "${UNDO:-0}" = 1 ]; then PEER_ARGS+=(--undo); fi
fi
if [ "$MODE" = converse ]; then
  # The peer runs its follow flow with a reply, a Like and an answer from acme.
  PEER_ARGS+=(--reply
    --publish-cmd "${PUBLISH_CMD:-printf 'Acme v3 is out: tell us what you think. #release' | \"\$OPENHOUSE_BIN\" publish --actor acme --file -}"
    --answer-cmd "${ANSWER_CMD:-printf 'Thanks for trying it! Tell us if anything breaks.' | \"\$OPENHOUSE_BIN\" publish --actor acme --in-reply-to \"\$REPLY_URL\" --file -}")
fi

set +e
timeout --signal=TERM --kill-after=5 $((PEER_TIMEOUT + 30)) node "$HERE/peer.mjs" "${PEER_ARGS[@]}" >"$WORK/peer.out" 2>"$WORK/peer.err"
PEER_STATUS=$?
set -e

echo "--- peer log"
cat "$WORK/peer.err"
if [ -f "$WORK/report.json" ]; then
  echo "--- report"
  cat "$WORK/report.json"
  if [ -n "${REPORT_OUT:-}" ]; then
    case "$REPORT_OUT" in /*) cp "$WORK/report.json" "$REPORT_OUT" ;; *) cp "$WORK/report.json" "$START_DIR/$REPORT_OUT" ;; esac
  fi
fi
if [ "$PEER_STATUS" != 0 ]; then
  echo "--- openhouse log (last 60 lines)"
  tail -n 60 "$WORK/openhouse.log" || true
fi
# Converse mode: what Openhouse itself shows once the peer is done (threaded reply, like counted,
# conversation answered). These checks only run when the peer's own checks passed.
if [ "$MODE" = converse ] && [ "$PEER_STATUS" = 0 ]; then
  set +e
  timeout 60 node "$HERE/check-thread.mjs" "$WORK/report.json" "$ORIGIN" "$API_TOKEN" >>"$WORK/peer.out" 2>"$WORK/check.err"
  CHECK_STATUS=$?
  set -e
  cat "$WORK/check.err" >&2
  if [ "$CHECK_STATUS" != 0 ]; then
    PEER_STATUS=1
    echo "--- openhouse log (last 60 lines)"
    tail -n 60 "$WORK/openhouse.log" || true
  fi
fi

echo "--- checks"
cat "$WORK/peer.out"
if [ "$PEER_STATUS" = 124 ] || [ "$PEER_STATUS" = 137 ]; then
  echo "interop: the peer itself was stopped by timeout (status $PEER_STATUS)"
fi
exit "$PEER_STATUS"
