#!/usr/bin/env bash
# The single test command: installs what the tests need, builds once, runs every test project and closes with
# "N passed, N failed, N skipped". Exits non-zero when a test failed or no test ran.
set -euo pipefail
cd "$(dirname "$0")"
repo_root=$(pwd)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '==> %s\n' "$*"; }

# retry WHAT COMMAND...: runs COMMAND up to three times, 10 s apart, as a registry or mirror hiccup fails an install now
# and then (apt and npm also retry each download themselves); returns COMMAND's last status.
retry() {
  local what=$1 attempt rc
  shift
  for attempt in 1 2 3; do
    rc=0
    "$@" || rc=$?
    if [ "$rc" -eq 0 ] || [ "$attempt" -eq 3 ]; then
      return "$rc"
    fi
    log "$what failed (exit $rc); attempt $((attempt + 1)) of 3 in 10 s"
    sleep 10
  done
}

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET SDK (dotnet) is not on PATH; install the SDK that global.json names." >&2
  exit 1
fi

# --- Test dependencies: real redis-server, nginx with the RTMP module, ffmpeg, curl, Node.js + npm (for azurite), chromium
readonly rtmp_module=/usr/lib/nginx/modules/ngx_rtmp_module.so
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -f "$rtmp_module" ] || missing+=(libnginx-mod-rtmp)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# The console's browser tests drive Debian's chromium with Playwright (tests/LiveGrains.Console.Tests); Playwright
# itself never downloads a browser.
[ -x /usr/bin/chromium ] || missing+=(chromium)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

if [ "${#missing[@]}" -gt 0 ]; then
  log "installing test dependencies: ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "test.sh: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi

  # Tests start their own redis and nginx on free ports: keep apt from starting the system services.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    created_policy=1
  fi
  apt_install() {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 update -qq \
      && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 RUNLEVEL=1 apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 \
        install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  }
  install_rc=0
  retry "apt-get" apt_install || install_rc=$?
  if [ "$created_policy" -eq 1 ]; then
    "${sudo[@]}" rm -f "$policy"
  fi
  # Should a service have started anyway, stop it: nothing may hold the default ports on our behalf.
  for service in redis-server nginx; do
    "${sudo[@]}" service "$service" stop >/dev/null 2>&1 || true
  done
  if [ "$install_rc" -ne 0 ]; then
    echo "test.sh: apt-get failed to install ${missing[*]} (exit $install_rc)" >&2
    exit "$install_rc"
  fi
fi
[ -f "$rtmp_module" ] || { echo "test.sh: $rtmp_module is missing after installing libnginx-mod-rtmp" >&2; exit 1; }

# Azurite (the Azure Storage emulator) comes from npm, pinned to the version AzuriteServer installs itself when it is
# missing (tests/LiveGrains.Testing/AzuriteServer.cs). It declares Node >= 22 but runs on Debian's Node 20: npm warns.
readonly azurite_version=3.37.0
if ! command -v azurite >/dev/null 2>&1; then
  log "installing azurite@$azurite_version (npm install -g)"
  npm_sudo=()
  if [ "$(id -u)" -ne 0 ] && [ ! -w "$(npm prefix -g)/lib" ]; then
    npm_sudo=(sudo)
  fi
  retry "npm install -g azurite@$azurite_version" \
    "${npm_sudo[@]}" npm install -g --no-audit --no-fund --loglevel=error --fetch-retries=5 "azurite@$azurite_version" \
    || { echo "test.sh: npm install -g azurite@$azurite_version failed 3 times" >&2; exit 1; }
fi

# --- Deployment files: docker-compose config -q, offline Kubernetes schema check, nginx-rtmp/promtool checks ---
log "bash infra/check.sh"
bash infra/check.sh

# --- Build once -----------------------------------------------------------------------------------------------
log "dotnet build LiveGrains.sln -c Release"
dotnet build LiveGrains.sln -c Release -nologo

# --- Test -----------------------------------------------------------------------------------------------------
results_dir="$repo_root/TestResults"
rm -rf "$results_dir"
mkdir -p "$results_dir"

# Every process the tests start inherits this variable or runs in a directory under it, so anything a crashed
# test host left behind can be found and ended below, and nothing else.
scratch_dir=$(mktemp -d "${TMPDIR:-/tmp}/livegrains-tests.XXXXXX")

cleanup() {
  local proc pid cwd
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    [ "$pid" = "$$" ] && continue
    # redis-server overwrites its environment block with its process title, but it runs in its data directory.
    cwd=$(readlink "$proc/cwd" 2>/dev/null || true)
    if [[ "$cwd" == "$scratch_dir"/* ]] \
      || grep -qzx -- "LIVEGRAINS_TEST_TEMP=$scratch_dir" "$proc/environ" 2>/dev/null; then
      echo "test.sh: ending leftover test process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120))" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$scratch_dir"
}
trap cleanup EXIT

log "dotnet test LiveGrains.sln -c Release --no-build"
test_rc=0
LIVEGRAINS_TEST_TEMP="$scratch_dir" MSBUILDDISABLENODEREUSE=1 dotnet test LiveGrains.sln -c Release --no-build -nologo \
  --logger "console;verbosity=normal" \
  --logger trx \
  --results-directory "$results_dir" \
  --blame-hang-timeout 20m --blame-hang-dump-type none \
  || test_rc=$?
cleanup
trap - EXIT

# --- Summary over all test assemblies (from the TRX files) -----------------------------------------------------
passed=0 failed=0 skipped=0 total=0 files=0
attr() { # attr NAME COUNTERS_ELEMENT -> the number, or 0
  local value
  value=$(printf '%s' "$2" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p")
  echo "${value:-0}"
}
shopt -s nullglob globstar
for trx in "$results_dir"/**/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)
  [ -n "$counters" ] || continue
  files=$((files + 1))
  total=$((total + $(attr total "$counters")))
  passed=$((passed + $(attr passed "$counters")))
  failed=$((failed + $(attr failed "$counters") + $(attr error "$counters") + $(attr timeout "$counters") + $(attr aborted "$counters")))
  # A skipped xunit test is counted in total but not executed.
  skipped=$((skipped + $(attr total "$counters") - $(attr executed "$counters")))
done

# The failed tests by name, with the first lines of their messages, so the end of the log says what broke.
if [ "$failed" -gt 0 ]; then
  echo
  echo "Failed tests:"
  for trx in "$results_dir"/**/*.trx; do
    # One UnitTestResult element per test; a failed one carries <ErrorInfo><Message>.
    tr -d '\r' <"$trx" | awk '
      /<UnitTestResult / { failedTest = ($0 ~ /outcome="Failed"/); name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name)
                           if (failedTest) { print "  " name; shown = 0 } }
      failedTest && /<Message>/ { inMessage = 1; sub(/.*<Message>/, "") }
      failedTest && inMessage { line = $0; done = sub(/<\/Message>.*/, "", line)
                                if (shown < 6) { print "      " line; shown++ }
                                if (done) { inMessage = 0; failedTest = 0 } }'
  done
fi

echo
echo "Test results: $files test assemblies, $total tests (TRX files in $results_dir)"
status=0
if [ "$test_rc" -ne 0 ]; then
  echo "test.sh: dotnet test exited with code $test_rc" >&2
  status=1
fi
if [ "$total" -eq 0 ] || [ $((passed + failed)) -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  status=1
fi
if [ "$failed" -gt 0 ]; then
  status=1
fi
shopt -u nullglob globstar
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
