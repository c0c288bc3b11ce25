#!/usr/bin/env bash
# Benchmarks the LiveGrains gateway on this host and prints a Markdown table for docs/benchmarks.md.
#
#   bash bench/run.sh [scenario ...] [--duration 20] [--runs 3] [--concurrency 64] ...
#   bash bench/run.sh --target http://host:port [--pid PID] [scenario ...]   (an already-running gateway)
#
# Without --target it builds Release, starts its own redis-server and gateway on free loopback ports,
# runs the scenarios and stops both again, also on Ctrl-C or a failure. Options: bench/README.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench_dll="$root/bench/LiveGrains.Bench/bin/Release/net10.0/LiveGrains.Bench.dll"
gateway_dir="$root/src/LiveGrains.Gateway/bin/Release/net10.0"

external=false
for arg in "$@"; do
  case "$arg" in
    --target | --target=*) external=true ;;
  esac
done

echo "building bench (Release)..." >&2
dotnet build "$root/bench/LiveGrains.Bench" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2

if $external; then
  exec dotnet "$bench_dll" "$@"
fi

echo "building gateway (Release)..." >&2
dotnet build "$root/src/LiveGrains.Gateway" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2

if ! command -v redis-server >/dev/null; then
  echo "installing redis-server..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq redis-server >&2 || { apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2; }
fi

work="$(mktemp -d -t livegrains-bench.XXXXXX)"
redis_pid=""
gateway_pid=""

# Stops a child: TERM, up to 20 s for a graceful exit, then KILL. A child that exited stays a zombie
# until waited for, so /proc/<pid>/stat's state, not kill -0, tells whether it is gone.
stop() {
  local pid="$1" state
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do
    state="$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || true)"
    [[ -z "$state" || "$state" == Z ]] && break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop "$gateway_pid"
  stop "$redis_pid"
  if [[ $rc -ne 0 && $rc -ne 130 && $rc -ne 143 && -s "$work/gateway.log" ]]; then
    echo "--- last lines of the gateway's log ---" >&2
    tail -n 40 "$work/gateway.log" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

read -r redis_port http_port silo_port gateway_port < <(dotnet "$bench_dll" --free-ports 4)

redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" \
  --logfile "$work/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 100); do
  redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
  kill -0 "$redis_pid" 2>/dev/null || { echo "redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }
  sleep 0.1
done

cluster="bench-$(date +%s)-$RANDOM"
echo "starting gateway on http://127.0.0.1:$http_port (redis :$redis_port, cluster $cluster)..." >&2
# The gateway runs from its output folder, its content root, so that it finds its appsettings.json.
(
  cd "$gateway_dir"
  exec env \
    ASPNETCORE_ENVIRONMENT=Production \
    ConnectionStrings__redis="127.0.0.1:$redis_port" \
    Auth__ApiKeys__benchkey=bench \
    Ingest__CallbackSecret=benchsecret \
    Webhooks__AllowPrivateNetworks=true \
    Logging__LogLevel__Default=Warning \
    Orleans__ClusterId="$cluster" \
    Orleans__SiloPort="$silo_port" \
    Orleans__GatewayPort="$gateway_port" \
    dotnet LiveGrains.Gateway.dll --urls "http://127.0.0.1:$http_port"
) >"$work/gateway.log" 2>&1 &
gateway_pid=$!

echo "gateway $(git -C "$root" describe --always --dirty 2>/dev/null || echo '(no commit)'), pid $gateway_pid" >&2
dotnet "$bench_dll" --target "http://127.0.0.1:$http_port" --pid "$gateway_pid" "$@"
