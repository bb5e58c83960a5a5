#!/usr/bin/env bash
# temporal-dev.sh: owns the local Temporal dev server (Temporal CLI `server start-dev`:
# server + Web UI in one process, SQLite persistence) for this checkout.
#
#   ./temporal-dev.sh ensure    find or build the Temporal CLI; its path is the last stdout line
#   ./temporal-dev.sh start     start (or reuse) the dev server, wait until SERVING
#   ./temporal-dev.sh stop      stop the server this script started on the port
#   ./temporal-dev.sh status    exit 0 only when the server on the port answers SERVING
#   ./temporal-dev.sh ui-url    print the Web UI URL
#
# Environment: TEMPORAL_CLI, TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233),
# PRVNG_DATA_DIR (<checkout>/.data), TEMPORAL_START_TIMEOUT (60 s), XDG_CACHE_HOME.
set -euo pipefail

readonly CLI_VERSION="v1.5.1"
readonly CLI_MODULE="github.com/temporalio/cli/cmd/temporal"
# Search attributes the workflows set; all Keyword.
readonly SEARCH_ATTRIBUTES=(ExtensionType ExtensionName ExtensionVersion InstallStep TargetServer)

CHECKOUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
readonly CHECKOUT
readonly HOST="127.0.0.1"
PORT="${TEMPORAL_PORT:-7233}"
UI_PORT="${TEMPORAL_UI_PORT:-8233}"
DATA_DIR="${PRVNG_DATA_DIR:-$CHECKOUT/.data}"
START_TIMEOUT="${TEMPORAL_START_TIMEOUT:-60}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/prvng-extensions"
BUILD_DIR="$CACHE_ROOT/temporal-cli-$CLI_VERSION"

TEMPORAL_BIN=""          # set by ensure_cli
CLI_ISOLATION_FLAGS=()   # set by ensure_cli
CLI_ARGV=()              # set by ensure_cli: env -u TEMPORAL_... <cli>
HAVE_TIMEOUT=0           # set by ensure_cli: coreutils timeout(1) is available

log() { printf 'temporal-dev: %s\n' "$*" >&2; }
die() { printf 'temporal-dev: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
Usage: $(basename "$0") <command>

Commands:
  ensure    Find the Temporal CLI (\$TEMPORAL_CLI, then 'temporal' on PATH, then
            $BUILD_DIR/temporal),
            building it with 'go install $CLI_MODULE@$CLI_VERSION' when none exists.
            Prints the CLI path as the last line of stdout.
  start     Start 'temporal server start-dev' on $HOST (reuse one already SERVING),
            wait until it is SERVING, register the search attributes.
  stop      Stop the server this script started on the port.
  status    Print SERVING / NOT SERVING; exit 0 only when SERVING.
  ui-url    Print the Web UI URL.
  help      Show this help.

Environment:
  TEMPORAL_CLI            path to an existing Temporal CLI binary
  TEMPORAL_PORT           gRPC port (default 7233)
  TEMPORAL_UI_PORT        Web UI port (default 8233)
  PRVNG_DATA_DIR          SQLite database, server log and pid files (default <checkout>/.data)
  TEMPORAL_START_TIMEOUT  seconds to wait for SERVING (default 60)
  XDG_CACHE_HOME          where the built CLI is kept (default ~/.cache)
EOF
}

validate_port() { # name value
  [[ "$2" =~ ^[0-9]+$ ]] && (( 10#$2 >= 1 && 10#$2 <= 65535 )) || die "$1 must be a port number (1-65535), got '$2'"
}

# ---------------------------------------------------------------------------------------------
# ensure: locate or build the CLI
# ---------------------------------------------------------------------------------------------

# Runs while holding the lock; the binary is built in a temp dir beside the final one and renamed
# into place, so a half-written binary is never visible and concurrent builds cannot collide.
build_cli() {
  local target="$BUILD_DIR/temporal"
  command -v go >/dev/null 2>&1 || die "the Temporal CLI was not found and Go is needed to build it.
  Install Go (https://go.dev/dl/), or set TEMPORAL_CLI to an existing temporal binary,
  or put 'temporal' on PATH."
  local tmp
  tmp="$(mktemp -d "$BUILD_DIR/.build.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  log "building the Temporal CLI $CLI_VERSION (server + Web UI) into $BUILD_DIR"
  log "this takes several minutes the first time (downloads modules and compiles); later runs reuse it"
  local started=$SECONDS
  if ! GOBIN="$tmp" GOFLAGS="${GOFLAGS:-}" go install -v "$CLI_MODULE@$CLI_VERSION" >&2; then
    die "'go install $CLI_MODULE@$CLI_VERSION' failed (see the output above)"
  fi
  [[ -x "$tmp/temporal" ]] || die "go install finished but produced no $tmp/temporal"
  mv -f "$tmp/temporal" "$target"
  rm -rf "$tmp"
  trap - EXIT
  log "built $target in $((SECONDS - started)) s"
}

with_build_lock() { # command...
  local lockfile="$CACHE_ROOT/temporal-cli-$CLI_VERSION.lock"
  if command -v flock >/dev/null 2>&1; then
    (
      exec 9>"$lockfile"
      if ! flock -n 9; then
        log "another process is building the Temporal CLI; waiting for it (lock $lockfile)"
        flock 9
      fi
      "$@"
    )
  else
    # No flock (e.g. macOS): mkdir is atomic; a stale lock older than an hour is broken.
    local lockdir="$lockfile.d" waited=0
    until mkdir "$lockdir" 2>/dev/null; do
      if [[ -n "$(find "$lockdir" -maxdepth 0 -mmin +60 2>/dev/null)" ]]; then
        rm -rf "$lockdir"; continue
      fi
      (( waited++ == 0 )) && log "another process is building the Temporal CLI; waiting (lock $lockdir)"
      sleep 2
    done
    ( trap 'rmdir "$lockdir" 2>/dev/null || true' EXIT; "$@" )
  fi
}

build_if_missing() {
  # Re-check under the lock: a concurrent ensure may have finished the build meanwhile.
  [[ -x "$BUILD_DIR/temporal" ]] && return 0
  # Holding the lock, any temp build dir left behind belongs to an interrupted build.
  rm -rf "$BUILD_DIR"/.build.*
  build_cli
}

# Sets TEMPORAL_BIN. Quiet unless it has to build.
ensure_cli() {
  if [[ -n "${TEMPORAL_CLI:-}" ]]; then
    [[ -f "$TEMPORAL_CLI" && -x "$TEMPORAL_CLI" ]] || die "TEMPORAL_CLI is set to '$TEMPORAL_CLI', which is not an executable file"
    TEMPORAL_BIN="$TEMPORAL_CLI"
  elif TEMPORAL_BIN="$(command -v temporal 2>/dev/null)" && [[ -n "$TEMPORAL_BIN" ]]; then
    :
  elif [[ -x "$BUILD_DIR/temporal" ]]; then
    TEMPORAL_BIN="$BUILD_DIR/temporal"
  else
    mkdir -p "$BUILD_DIR"
    with_build_lock build_if_missing
    [[ -x "$BUILD_DIR/temporal" ]] || die "the Temporal CLI build did not produce $BUILD_DIR/temporal"
    TEMPORAL_BIN="$BUILD_DIR/temporal"
  fi
  # Client calls target our local server only: ignore a client config file (a Temporal Cloud
  # profile with TLS or an API key would break them) where this CLI version supports that.
  # The CLI runs without the caller's TEMPORAL_* variables (TEMPORAL_ADDRESS, TEMPORAL_API_KEY,
  # TEMPORAL_TLS_*, ... are meant for the worker and may point at another cluster).
  CLI_ARGV=(env)
  local var
  while IFS= read -r var; do
    if [[ "$var" == TEMPORAL_* ]]; then CLI_ARGV+=(-u "$var"); fi
  done < <(compgen -e)
  CLI_ARGV+=("$TEMPORAL_BIN")
  HAVE_TIMEOUT=0
  command -v timeout >/dev/null 2>&1 && HAVE_TIMEOUT=1
  CLI_ISOLATION_FLAGS=(--env-file /dev/null)
  if "$TEMPORAL_BIN" --help 2>/dev/null | grep -q -- '--disable-config-file'; then
    CLI_ISOLATION_FLAGS+=(--disable-config-file --disable-config-env)
  fi
}

# Client command against our server, bounded in time so a wedged listener cannot hang us.
client() { # subcommand words...
  local t=()
  ((HAVE_TIMEOUT)) && t=(timeout "${CLIENT_TIMEOUT:-15}")
  ${t[@]+"${t[@]}"} "${CLI_ARGV[@]}" "$@" --address "$HOST:$PORT" "${CLI_ISOLATION_FLAGS[@]}"
}

# ---------------------------------------------------------------------------------------------
# server helpers
# ---------------------------------------------------------------------------------------------

pid_file() { printf '%s/temporal-server-%s.pid' "$DATA_DIR" "$PORT"; }

is_serving() {
  local out CLIENT_TIMEOUT=5
  out="$(client operator cluster health 2>/dev/null)" || return 1
  # "NOT_SERVING" must not count: match the word on its own.
  grep -Eq '(^|[^_A-Z])SERVING([^_A-Z]|$)' <<<"$out"
}

# Alive and not a zombie (an exited server whose parent, init here, has not reaped it yet).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ "$(ps -o stat= -p "$1" 2>/dev/null || true)" != Z* ]]
}

# The pid from the pid file when that process is alive and is a start-dev server on our port.
our_server_pid() {
  local pf pid args
  pf="$(pid_file)"
  [[ -f "$pf" ]] || return 1
  pid="$(tr -dc '0-9' <"$pf")"
  [[ -n "$pid" ]] && alive "$pid" || return 1
  args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
  [[ "$args" == *" start-dev "* && "$args " == *" --port $PORT "* ]] || return 1
  printf '%s\n' "$pid"
}

now_ms() { # wall clock in ms (bash 5), else whole seconds
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    local us="${EPOCHREALTIME/[.,]/}"
    echo $(( 10#${us:0:${#us}-3} ))
  else
    echo $((SECONDS * 1000))
  fi
}

print_log_tail() { # byte offset where this run's output starts
  local logf="$DATA_DIR/temporal-server.log"
  [[ -f "$logf" ]] || return 0
  local tail_text
  tail_text="$(tail -c +"$(( ${1:-0} + 1 ))" "$logf" | tail -n 40)"
  if [[ -n "$tail_text" ]]; then
    log "last lines of $logf:"
    sed 's/^/    /' <<<"$tail_text" >&2
  else
    log "the server has written nothing to $logf yet"
  fi
}

ensure_search_attributes() {
  local listing missing=() name
  listing="$(client operator search-attribute list)" || die "could not list search attributes on $HOST:$PORT"
  for name in "${SEARCH_ATTRIBUTES[@]}"; do
    if ! awk -v n="$name" '$1 == n { found = 1 } END { exit !found }' <<<"$listing"; then
      missing+=("$name")
    elif ! awk -v n="$name" '$1 == n && $2 == "Keyword" { found = 1 } END { exit !found }' <<<"$listing"; then
      log "warning: search attribute $name exists with a type other than Keyword"
    fi
  done
  ((${#missing[@]})) || return 0
  log "creating search attributes (Keyword): ${missing[*]}"
  local name_args=()
  for name in "${missing[@]}"; do name_args+=(--name "$name"); done
  client operator search-attribute create "${name_args[@]}" --type Keyword >&2 \
    || die "could not create search attributes ${missing[*]}"
}

print_endpoints() {
  local ui_port="$UI_PORT" pid args
  # A server of ours may have been started with another UI port: its command line says which.
  if pid="$(our_server_pid)"; then
    args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
    [[ "$args" =~ --ui-port\ ([0-9]+) ]] && ui_port="${BASH_REMATCH[1]}"
  fi
  echo "Temporal gRPC: $HOST:$PORT"
  echo "Temporal Web UI: http://$HOST:$ui_port"
  if command -v curl >/dev/null 2>&1 && ! curl -fsS -o /dev/null --max-time 3 "http://$HOST:$ui_port/" 2>/dev/null; then
    log "warning: nothing answers on http://$HOST:$ui_port/ (a reused server may serve its UI elsewhere, or run headless)"
  fi
}

# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------

cmd_ensure() {
  ensure_cli
  printf '%s\n' "$TEMPORAL_BIN"
}

cmd_start() {
  validate_port TEMPORAL_PORT "$PORT"
  validate_port TEMPORAL_UI_PORT "$UI_PORT"
  [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "TEMPORAL_START_TIMEOUT must be a number of seconds"
  ensure_cli
  mkdir -p "$DATA_DIR"
  DATA_DIR="$(cd "$DATA_DIR" && pwd -P)"

  if is_serving; then
    echo "A Temporal server already answers SERVING on $HOST:$PORT; reusing it."
    ensure_search_attributes
    print_endpoints
    return 0
  fi

  # Serialise concurrent starts for this data dir and port.
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$DATA_DIR/temporal-server-$PORT.lock"
    flock 8
    if is_serving; then
      echo "A Temporal server already answers SERVING on $HOST:$PORT; reusing it."
      ensure_search_attributes
      print_endpoints
      return 0
    fi
  fi

  local logf="$DATA_DIR/temporal-server.log" pf pid
  pf="$(pid_file)"
  local log_offset=0
  [[ -f "$logf" ]] && log_offset="$(wc -c <"$logf" | tr -d ' ')"

  if pid="$(our_server_pid)"; then
    log "server pid $pid from $pf is still starting; waiting for it"
  else
    rm -f "$pf"
    # One SQLite file, one server: refuse when another port's server of ours uses this data dir.
    local other opid
    for other in "$DATA_DIR"/temporal-server-*.pid; do
      [[ -f "$other" && "$other" != "$pf" ]] || continue
      opid="$(tr -dc '0-9' <"$other")"
      if [[ -n "$opid" ]] && alive "$opid" && [[ "$(ps -o args= -p "$opid" 2>/dev/null || true)" == *start-dev* ]]; then
        die "another dev server (pid $opid, $other) already uses $DATA_DIR/temporal.sqlite;
  stop it, or set PRVNG_DATA_DIR to a different directory for port $PORT"
      fi
    done

    local args=(server start-dev
      --ip "$HOST"
      --port "$PORT"
      --ui-port "$UI_PORT"
      --db-filename "$DATA_DIR/temporal.sqlite"
      # WAL with synchronous=normal survives a killed server (what the fault tests do); only a
      # power loss can drop the last commits. The default fsyncs every history write.
      --sqlite-pragma journal_mode=wal
      --sqlite-pragma synchronous=normal
      # Hand an activity to the worker in the reply to the workflow task that scheduled it.
      --dynamic-config-value system.enableActivityEagerExecution=true
      --log-level warn
      "${CLI_ISOLATION_FLAGS[@]}")
    local name
    for name in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$name=Keyword"); done

    printf '\n=== %s temporal-dev.sh start: %s %s\n' "$(date '+%Y-%m-%dT%H:%M:%S%z')" "$TEMPORAL_BIN" "${args[*]}" >>"$logf"
    log_offset="$(wc -c <"$logf" | tr -d ' ')"
    echo "Starting Temporal dev server on $HOST:$PORT (UI $UI_PORT, data $DATA_DIR/temporal.sqlite)"
    # Own session and process group, detached from our terminal and stdio, so it outlives this
    # shell and `stop` can signal the whole group.
    if command -v setsid >/dev/null 2>&1; then
      setsid nohup "${CLI_ARGV[@]}" "${args[@]}" >>"$logf" 2>&1 </dev/null 8>&- &
    else
      set -m
      nohup "${CLI_ARGV[@]}" "${args[@]}" >>"$logf" 2>&1 </dev/null 8>&- &
      set +m
    fi
    pid=$!
    printf '%s\n' "$pid" >"$pf"
  fi

  local started_ms deadline=$((SECONDS + START_TIMEOUT))
  started_ms="$(now_ms)"
  until is_serving; do
    if ! alive "$pid"; then
      rm -f "$pf"
      log "the Temporal dev server (pid $pid) exited before it was SERVING"
      print_log_tail "$log_offset"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "the Temporal dev server (pid $pid) was not SERVING after ${START_TIMEOUT} s; it is left running (stop it with '$0 stop')"
      print_log_tail "$log_offset"
      exit 1
    fi
    sleep 0.25
  done
  local waited_ms=$(( $(now_ms) - started_ms ))
  printf 'Temporal dev server is SERVING after %d.%01d s (pid %s, log %s)\n' \
    $((waited_ms / 1000)) $((waited_ms % 1000 / 100)) "$pid" "$logf"
  ensure_search_attributes
  print_endpoints
}

cmd_stop() {
  validate_port TEMPORAL_PORT "$PORT"
  [[ -d "$DATA_DIR" ]] && DATA_DIR="$(cd "$DATA_DIR" && pwd -P)"
  local pf pid
  pf="$(pid_file)"
  if ! pid="$(our_server_pid)"; then
    rm -f "$pf"
    echo "No Temporal dev server started by this script is running on port $PORT."
    # Say so when something else answers there, but leave it alone: it is not ours.
    if ensure_cli_quiet && is_serving; then
      echo "(A server not started from $DATA_DIR answers on $HOST:$PORT; left running.)"
    fi
    return 0
  fi

  echo "Stopping Temporal dev server (pid $pid, port $PORT)"
  local pgid
  pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)"
  # The server leads its own process group (setsid); never signal a group that is not its own.
  signal_server() {
    if [[ -n "$pgid" && "$pgid" == "$pid" ]]; then kill "-$1" -- "-$pgid" 2>/dev/null || true; fi
    kill "-$1" "$pid" 2>/dev/null || true
  }
  signal_server TERM
  local deadline=$((SECONDS + 15))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if alive "$pid"; then
    log "still running after 15 s; sending SIGKILL"
    signal_server KILL
    deadline=$((SECONDS + 10))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if alive "$pid"; then die "pid $pid survived SIGKILL for 10 s; pid file $pf kept"; fi
  fi
  # Children left in the group (none expected) go too.
  if [[ -n "$pgid" && "$pgid" == "$pid" ]]; then kill -KILL -- "-$pgid" 2>/dev/null || true; fi
  rm -f "$pf"
  echo "Stopped."
}

# ensure_cli without building: used where a build would be pointless (stop).
ensure_cli_quiet() {
  if [[ -n "${TEMPORAL_CLI:-}" && -x "${TEMPORAL_CLI}" ]] || command -v temporal >/dev/null 2>&1 || [[ -x "$BUILD_DIR/temporal" ]]; then
    ensure_cli
  else
    return 1
  fi
}

cmd_status() {
  validate_port TEMPORAL_PORT "$PORT"
  ensure_cli
  if is_serving; then
    echo "SERVING ($HOST:$PORT)"
  else
    echo "NOT SERVING ($HOST:$PORT)"
    return 1
  fi
}

main() {
  local cmd="${1:-help}"
  (($#)) && shift
  case "$cmd" in
    ensure) cmd_ensure ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    ui-url) validate_port TEMPORAL_UI_PORT "$UI_PORT"; echo "http://$HOST:$UI_PORT" ;;
    help | -h | --help) usage ;;
    *) die "unknown command '$cmd' (see '$0 help')" ;;
  esac
}

main "$@"
