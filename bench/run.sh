#!/usr/bin/env bash
# Benchmarks the LiveGrains gateway on this host and prints a Markdown table for docs/benchmarks.md.
#
#   bash bench/run.sh [scenario ...] [--duration 20] [--runs 3] [--concurrency 64] ...
#   bash bench/run.sh --topology cluster [scenario ...] [options]   (3 silos + 2 client-mode gateways)
#   bash bench/run.sh --storage azure [scenario ...]   (the gateway on Azure Storage served by Azurite; peer on Redis)
#   bash bench/run.sh --storage memory [scenario ...]  (the gateway in in-memory mode: memory state, localhost clustering)
#   bash bench/run.sh [--storage memory] scale [--rooms 1000000 --lives 100000]   (issue 13: a million rooms, "live now" listing)
#   bash bench/run.sh --target http://host:port [--pid PID] [scenario ...]   (an already-running gateway)
#   bash bench/run.sh --peer PATH [scenario ...]   (the stateless peer's source; default ../shared/peers/redis-stateless)
#   bash bench/run.sh golive golive-token golive-limited join-spread join-spread-token join-spread-limited
#       (API key vs host/viewer token vs rate limits on; the *-limited ones against the gateway restarted with limits on)
#
# Without --target it builds Release, starts its own redis-server and gateway on free loopback ports
# (--topology single, the default: one gateway with a co-hosted silo; --topology cluster: 3 LiveGrains.Silo
# and 2 LiveGrains.Gateway in client mode, measured through both gateways), runs the scenarios and stops
# everything again, also on Ctrl-C or a failure. In the single topology it also publishes a copy of the stateless
# peer (--peer, default ../shared/peers/redis-stateless beside the repo; --peer none skips it) and runs it on the
# same redis-server in database 1, so the alive/golive/join-spread/join-hot rows get a "vs peer" ratio measured in
# the same invocation. Options: bench/README.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench_dll="$root/bench/LiveGrains.Bench/bin/Release/net10.0/LiveGrains.Bench.dll"
gateway_dir="$root/src/LiveGrains.Gateway/bin/Release/net10.0"
silo_dir="$root/src/LiveGrains.Silo/bin/Release/net10.0"
silos=3
gateways=2

# --topology, --storage and --peer are run.sh's own options; everything else goes to LiveGrains.Bench.
external=false
topology=single
storage=redis
azurite_pid=
peer_src="$root/../shared/peers/redis-stateless"
peer_given=false
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --topology) [[ $# -ge 2 ]] || { echo "--topology needs single or cluster" >&2; exit 2; }; topology="$2"; shift 2; continue ;;
    --topology=*) topology="${1#--topology=}" ;;
    --storage) [[ $# -ge 2 ]] || { echo "--storage needs redis, memory or azure" >&2; exit 2; }; storage="$2"; shift 2; continue ;;
    --storage=*) storage="${1#--storage=}" ;;
    --peer) [[ $# -ge 2 ]] || { echo "--peer needs the peer's source folder (or none)" >&2; exit 2; }; peer_src="$2"; peer_given=true; shift 2; continue ;;
    --peer=*) peer_src="${1#--peer=}"; peer_given=true ;;
    --target | --target=*) external=true; args+=("$1") ;;
    *) args+=("$1") ;;
  esac
  shift
done
set -- ${args[@]+"${args[@]}"}

# The *-limited scenarios need a gateway with rate limits on. In the single topology that run.sh starts itself they
# run after the others, against the gateway restarted with rate limits on and too high to refuse anything (a second
# table in the same invocation); everything else runs first with limits off, as always. Naming no scenario means
# every scenario, the limited ones included. (Every LiveGrains.Bench option takes a value: --key value or --key=value.)
bench_options=()
scenarios=()
limited=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --*=*) bench_options+=("$1") ;;
    --*) bench_options+=("$1"); if [[ $# -ge 2 ]]; then bench_options+=("$2"); shift; fi ;;
    *-limited) limited+=("$1") ;;
    *) scenarios+=("$1") ;;
  esac
  shift
done
named_none=false
[[ ${#scenarios[@]} -eq 0 && ${#limited[@]} -eq 0 ]] && named_none=true
set -- ${bench_options[@]+"${bench_options[@]}"} ${scenarios[@]+"${scenarios[@]}"} ${limited[@]+"${limited[@]}"}
case "$topology" in
  single | cluster) ;;
  *) echo "--topology wants single or cluster, not '$topology'" >&2; exit 2 ;;
esac
case "$storage" in
  redis) ;;
  memory)
    [[ "$topology" == single ]] || { echo "--storage memory runs with the single topology only" >&2; exit 2; } ;;
  azure)
    [[ "$topology" == single ]] || { echo "--storage azure runs with the single topology only" >&2; exit 2; }
    command -v azurite >/dev/null || { echo "--storage azure needs azurite on PATH (npm install -g azurite@3.37.0; ./test.sh installs it)" >&2; exit 2; } ;;
  *) echo "--storage wants redis, memory or azure, not '$storage'" >&2; exit 2 ;;
esac
if $external && [[ "$topology" != single ]]; then
  echo "--topology cluster starts its own processes; it cannot be combined with --target" >&2
  exit 2
fi

# The peer serves only alive, golive, join-spread and join-hot: with scenarios named and none of those, it is not started.
if [[ "$peer_src" != none && ${#scenarios[@]} -gt 0 ]]; then
  peer_wanted=false
  for s in "${scenarios[@]}"; do
    case "$s" in alive | golive | join-spread | join-hot) peer_wanted=true ;; esac
  done
  $peer_wanted || peer_src=none
fi

# The peer runs only beside the single topology that run.sh starts itself (a cluster or an external gateway would
# not be compared like for like). A missing peer is said once, loudly, and the run goes on without peer columns.
use_peer=false
if [[ "$peer_src" == none ]]; then
  :
elif $external || [[ "$topology" != single ]]; then
  $peer_given && echo "--peer is only used with the single topology run.sh starts itself; running without the peer" >&2
elif [[ -f "$peer_src/Program.cs" ]] && compgen -G "$peer_src/*.csproj" >/dev/null; then
  peer_src="$(cd "$peer_src" && pwd)"
  use_peer=true
else
  echo "*** stateless peer not found at $peer_src (no Program.cs and .csproj there): running WITHOUT the peer," >&2
  echo "*** so the table has no 'vs peer' columns. Pass --peer PATH to point at it." >&2
fi

echo "building bench (Release)..." >&2
dotnet build "$root/bench/LiveGrains.Bench" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2

if $external; then
  exec dotnet "$bench_dll" "$@"
fi

echo "building gateway (Release)..." >&2
dotnet build "$root/src/LiveGrains.Gateway" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
if [[ "$topology" == cluster ]]; then
  echo "building silo (Release)..." >&2
  dotnet build "$root/src/LiveGrains.Silo" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
fi

if ! command -v redis-server >/dev/null; then
  echo "installing redis-server..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq redis-server >&2 || { apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2; }
fi

work="$(mktemp -d -t livegrains-bench.XXXXXX)"
redis_pid=""
gateway_pid=""
peer_pid=""
# Cluster topology: "name pid" of every silo and gateway, in start order.
nodes=()

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

# Stops several children at once (TERM to all, then one shared 20 s grace period), so that a cluster's
# silos shut down together instead of one after another.
stop_all() {
  local pid state alive
  [[ $# -gt 0 ]] || return 0
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 200); do
    alive=false
    for pid in "$@"; do
      state="$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || true)"
      [[ -z "$state" || "$state" == Z ]] || { alive=true; break; }
    done
    $alive || break
    sleep 0.1
  done
  for pid in "$@"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop "$peer_pid"
  stop "$gateway_pid"
  local node name pid gateway_pids=() silo_pids=()
  for node in ${nodes[@]+"${nodes[@]}"}; do
    read -r name pid <<<"$node"
    if [[ "$name" == gateway* ]]; then gateway_pids+=("$pid"); else silo_pids+=("$pid"); fi
  done
  stop_all ${gateway_pids[@]+"${gateway_pids[@]}"}
  stop_all ${silo_pids[@]+"${silo_pids[@]}"}
  stop "$redis_pid"
  stop "$azurite_pid"
  if [[ $rc -ne 0 && $rc -ne 130 && $rc -ne 143 && -s "$work/gateway.log" ]]; then
    echo "--- last lines of the gateway's log ---" >&2
    tail -n 40 "$work/gateway.log" >&2
  fi
  if [[ $rc -ne 0 && $rc -ne 130 && $rc -ne 143 && -s "$work/peer.log" ]]; then
    echo "--- last lines of the peer's log ---" >&2
    tail -n 20 "$work/peer.log" >&2
  fi
  if [[ $rc -ne 0 && $rc -ne 130 && $rc -ne 143 ]]; then
    for node in ${nodes[@]+"${nodes[@]}"}; do
      read -r name pid <<<"$node"
      if [[ -s "$work/$name.log" ]]; then
        echo "--- last lines of $name's log ---" >&2
        tail -n 20 "$work/$name.log" >&2
      fi
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$topology" == cluster ]]; then
  # redis, then http/silo/gateway ports of each silo, then each gateway's http port.
  # The last one: the callbacks-drop scenario's nginx-rtmp control stub, served by LiveGrains.Bench.
  read -r -a ports < <(dotnet "$bench_dll" --free-ports $((2 + 3 * silos + gateways)))
  redis_port="${ports[0]}"
  control_port="${ports[1 + 3 * silos + gateways]}"
else
  # http_port2..gateway_port2: the gateway's ports when it is restarted for the *-limited scenarios (no wait for the
  # first ones to free); control_port: the callbacks-drop scenario's nginx-rtmp control stub, served by LiveGrains.Bench.
  read -r redis_port http_port silo_port gateway_port peer_port blob_port queue_port table_port http_port2 silo_port2 gateway_port2 control_port \
    < <(dotnet "$bench_dll" --free-ports 12)
fi
# Every gateway drops nginx-rtmp publishers through the stub the bench serves on control_port (callbacks-drop); no other
# scenario connects an encoder with a clientid that outlives its call, so none of them makes a drop call.
control_url="http://127.0.0.1:$control_port/control"
control_args=(--drop-control-port "$control_port")

if $use_peer; then
  # shared/ is read-only, and a build writes obj/ and bin/ beside the sources: publish a writable copy. Outside the
  # repo, so neither the repo's Directory.Build.props nor its central package versions apply to the peer.
  echo "publishing the stateless peer from $peer_src (Release)..." >&2
  cp -r "$peer_src" "$work/peer-src"
  chmod -R u+w "$work/peer-src"
  rm -rf "$work/peer-src/bin" "$work/peer-src/obj"
  dotnet publish "$work/peer-src" -c Release -o "$work/peer" -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
  peer_dll="$(cd "$work/peer" && ls ./*.runtimeconfig.json | head -n 1)"
  peer_dll="$work/peer/$(basename "${peer_dll%.runtimeconfig.json}").dll"
fi

redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" \
  --logfile "$work/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 100); do
  redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
  kill -0 "$redis_pid" 2>/dev/null || { echo "redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }
  sleep 0.1
done

cluster="bench-$(date +%s)-$RANDOM"

# Polls $1 until it answers 200; fails when the process $2 ($3) exits first or $4 seconds pass.
wait_http() {
  local url="$1" pid="$2" name="$3" timeout="$4" state
  for _ in $(seq $((timeout * 4))); do
    curl -fs -o /dev/null --max-time 5 "$url" && return 0
    state="$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null || true)"
    if [[ -z "$state" || "$state" == Z ]]; then
      echo "$name (pid $pid) exited before $url answered 200" >&2
      return 1
    fi
    sleep 0.25
  done
  echo "$url did not answer 200 within $timeout s" >&2
  return 1
}

if [[ "$topology" == cluster ]]; then
  # The same environment as the single topology; each process runs from its output folder (its content root,
  # for appsettings.json), and --urls wins over the silo's appsettings.json "Urls". Silos start one at a time,
  # each once the previous one answers /health (a grain call through the cluster), so each joins a formed
  # cluster, as bench/LiveGrains.Chaos does.
  common=(
    ASPNETCORE_ENVIRONMENT=Production
    ConnectionStrings__redis="127.0.0.1:$redis_port"
    Auth__ApiKeys__benchkey=bench
    RateLimits__Enabled="${BENCH_RATE_LIMITS:-false}"
    Ingest__CallbackSecret=benchsecret
    Webhooks__AllowPrivateNetworks=true
    Ingest__NginxRtmpControlUrl="$control_url"
    Logging__LogLevel__Default=Warning
    Orleans__ClusterId="$cluster"
  )
  echo "starting $silos silos and $gateways client-mode gateways (redis :$redis_port, cluster $cluster)..." >&2
  for ((i = 0; i < silos; i++)); do
    http="${ports[1 + 3 * i]}"
    (
      cd "$silo_dir"
      exec env "${common[@]}" \
        Orleans__SiloPort="${ports[2 + 3 * i]}" \
        Orleans__GatewayPort="${ports[3 + 3 * i]}" \
        dotnet LiveGrains.Silo.dll --urls "http://127.0.0.1:$http"
    ) >"$work/silo$i.log" 2>&1 &
    nodes+=("silo$i $!")
    wait_http "http://127.0.0.1:$http/health" "$!" "silo$i" 180
    echo "silo$i up: pid $!, http $http, silo ${ports[2 + 3 * i]}, gateway ${ports[3 + 3 * i]}" >&2
  done

  targets=()
  gateway_nodes=()
  for ((i = 0; i < gateways; i++)); do
    http="${ports[1 + 3 * silos + i]}"
    (
      cd "$gateway_dir"
      exec env "${common[@]}" Gateway__Mode=client dotnet LiveGrains.Gateway.dll --urls "http://127.0.0.1:$http"
    ) >"$work/gateway$i.log" 2>&1 &
    nodes+=("gateway$i $!")
    gateway_nodes+=("gateway$i $!")
    targets+=("http://127.0.0.1:$http")
  done
  # Ready: each gateway answers /health, a grain call through its Orleans client into the cluster.
  for ((i = 0; i < gateways; i++)); do
    read -r name pid <<<"${gateway_nodes[i]}"
    wait_http "${targets[i]}/health" "$pid" "$name" 180
    echo "$name up: pid $pid, ${targets[i]}" >&2
  done
  # And every silo is Active in the Orleans membership table (hash <serviceId>/members/<clusterId> in Redis).
  active=0
  for _ in $(seq 120); do
    active="$(redis-cli -p "$redis_port" --raw hvals "livegrains/members/$cluster" | grep -cE '"Status" *: *("?Active"?|3)[,}]' || true)"
    [[ "$active" -ge "$silos" ]] && break
    sleep 0.5
  done
  [[ "$active" -ge "$silos" ]] || { echo "only $active of $silos silos are Active in the membership table" >&2; exit 1; }
  echo "cluster ready: $active silos Active, both gateways answer /health" >&2

  pids=()
  for node in "${nodes[@]}"; do
    read -r name pid <<<"$node"
    pids+=("$name=$pid")
  done
  target_list="$(IFS=,; echo "${targets[*]}")"
  pid_list="$(IFS=,; echo "${pids[*]}")"
  echo "LiveGrains $(git -C "$root" describe --always --dirty 2>/dev/null || echo '(no commit)'), $silos silos + $gateways gateways: $pid_list" >&2
  dotnet "$bench_dll" "${control_args[@]}" --target "$target_list" --pid "$pid_list" "$@"
  exit $?
fi

# The gateway's state: Redis (the peer's store too), or Azure Storage served by Azurite (in memory, on free ports:
# the design's Azure Table clustering and reminders and Blob grain state), with the peer still on Redis.
storage_env=(ConnectionStrings__redis="127.0.0.1:$redis_port")
if [[ "$storage" == memory ]]; then
  # In-memory mode: localhost clustering, memory grain state and reminders (Storage:Provider=memory); redis-server
  # still runs, for the peer only.
  storage_env=(Storage__Provider=memory)
fi
if [[ "$storage" == azure ]]; then
  azurite --silent --inMemoryPersistence --skipApiVersionCheck \
    --blobHost 127.0.0.1 --blobPort "$blob_port" --queueHost 127.0.0.1 --queuePort "$queue_port" \
    --tableHost 127.0.0.1 --tablePort "$table_port" >"$work/azurite.log" 2>&1 &
  azurite_pid=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$table_port/" && break
    kill -0 "$azurite_pid" 2>/dev/null || { echo "azurite did not start:" >&2; cat "$work/azurite.log" >&2; exit 1; }
    sleep 0.1
  done
  account=devstoreaccount1
  key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
  storage_env=(Storage__Provider=azure
    "ConnectionStrings__azure-storage=DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$blob_port/$account;QueueEndpoint=http://127.0.0.1:$queue_port/$account;TableEndpoint=http://127.0.0.1:$table_port/$account;")
fi

# Starts the gateway: $1 = true for rate limits on (high: nothing is refused), $2 = its cluster id, $3 = its service id.
start_gateway() {
  local limits=(RateLimits__Enabled="${BENCH_RATE_LIMITS:-false}")
  if [[ "$1" == true ]]; then
    limits=(RateLimits__Enabled=true RateLimits__PerKeyPerSecond="$high_limit" RateLimits__PerTenantPerSecond="$high_limit"
      RateLimits__ActivityPerKeyPerSecond="$high_limit")
  fi
  echo "starting gateway on http://127.0.0.1:$http_port ($storage, redis :$redis_port, cluster $2, rate limits ${limits[0]#*=})..." >&2
  # The gateway runs from its output folder, its content root, so that it finds its appsettings.json.
  (
    cd "$gateway_dir"
    exec env \
      ASPNETCORE_ENVIRONMENT=Production \
      "${storage_env[@]}" \
      Auth__ApiKeys__benchkey=bench \
      "${limits[@]}" \
      Ingest__CallbackSecret=benchsecret \
      Webhooks__AllowPrivateNetworks=true \
      Ingest__NginxRtmpControlUrl="$control_url" \
      Logging__LogLevel__Default=Warning \
      Orleans__ClusterId="$2" \
      Orleans__ServiceId="$3" \
      Orleans__SiloPort="$silo_port" \
      Orleans__GatewayPort="$gateway_port" \
      dotnet LiveGrains.Gateway.dll --urls "http://127.0.0.1:$http_port"
  ) >"$work/gateway.log" 2>&1 &
  gateway_pid=$!
}

# The limits of the *-limited phase: the validator's maximum (RateLimitOptionsValidator.MaxPerSecond), so the buckets
# work as always but never refuse a benchmark's load.
high_limit=100000000
split_limited=false
[[ "${BENCH_RATE_LIMITS:-false}" != true ]] && split_limited=true
if $split_limited && $named_none; then
  limited=(golive-limited join-spread-limited)
fi
run_first=true
if $split_limited && [[ ${#scenarios[@]} -eq 0 ]] && ! $named_none; then
  run_first=false
fi

if $run_first; then
  start_gateway false "$cluster" livegrains
else
  start_gateway true "$cluster" livegrains
fi
echo "gateway $(git -C "$root" describe --always --dirty 2>/dev/null || echo '(no commit)'), pid $gateway_pid" >&2

peer_args=()
if $use_peer && $run_first; then
  # The same redis-server as the gateway, database 1 (LiveGrains uses 0), so the key spaces cannot collide; the same
  # API key. Both answer the same routes, so the bench sets up the same room ids on each and drives both alike.
  (
    cd "$work/peer"
    exec env \
      PEER_REDIS="127.0.0.1:$redis_port,defaultDatabase=1" \
      PEER_KEYS=benchkey=bench \
      ASPNETCORE_URLS="http://127.0.0.1:$peer_port" \
      ASPNETCORE_ENVIRONMENT=Production \
      dotnet "$peer_dll"
  ) >"$work/peer.log" 2>&1 &
  peer_pid=$!
  wait_http "http://127.0.0.1:$peer_port/alive" "$peer_pid" peer 120
  echo "peer up: pid $peer_pid, http://127.0.0.1:$peer_port (redis :$redis_port db 1)" >&2
  peer_args=(--peer-target "http://127.0.0.1:$peer_port" --peer-pid "$peer_pid")
fi

limited_note="gateway with rate limits ON (RateLimits__Enabled=true, per key, per tenant and activity $high_limit a second: nothing is refused): compare each *-limited row with its scenario measured with limits off"
if ! $split_limited; then
  dotnet "$bench_dll" "${control_args[@]}" --target "http://127.0.0.1:$http_port" --pid "$gateway_pid" ${peer_args[@]+"${peer_args[@]}"} "$@"
  exit $?
fi
if ! $run_first; then
  # Only *-limited scenarios named: the gateway already runs with limits on.
  dotnet "$bench_dll" "${control_args[@]}" --target "http://127.0.0.1:$http_port" --pid "$gateway_pid" --note "$limited_note" \
    ${bench_options[@]+"${bench_options[@]}"} "${limited[@]}"
  exit $?
fi

dotnet "$bench_dll" "${control_args[@]}" --target "http://127.0.0.1:$http_port" --pid "$gateway_pid" ${peer_args[@]+"${peer_args[@]}"} \
  ${bench_options[@]+"${bench_options[@]}"} ${scenarios[@]+"${scenarios[@]}"}
[[ ${#limited[@]} -gt 0 ]] || exit 0

# The same gateway binary, host and redis, restarted with rate limits on: a fresh cluster and service id, so none of
# the first phase's grains, reminders or lives (idle-lives leaves 100,000 on air) weigh on the second.
echo "== restarting the gateway with rate limits on for: ${limited[*]}" >&2
stop "$peer_pid"
peer_pid=""
stop "$gateway_pid"
gateway_pid=""
http_port="$http_port2" silo_port="$silo_port2" gateway_port="$gateway_port2"
start_gateway true "$cluster-limited" livegrains-limited
echo "gateway (rate limits on), pid $gateway_pid" >&2
dotnet "$bench_dll" "${control_args[@]}" --target "http://127.0.0.1:$http_port" --pid "$gateway_pid" --note "$limited_note" \
  ${bench_options[@]+"${bench_options[@]}"} "${limited[@]}"
