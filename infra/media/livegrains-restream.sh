#!/bin/bash
# LiveGrains restreaming for nginx-rtmp (docs/ingest.md "Destinations"). nginx-rtmp runs it once per publish:
#   exec_push livegrains-restream HOOK_URL SOURCE_BASE $name [LOG_FILE [POLL_SECONDS]];
#   HOOK_URL     LiveGrains' restream callback with the media secret, e.g.
#                http://gateway-lb:8080/v1/ingest-hooks/restream?secret=...
#   SOURCE_BASE  where this nginx plays the publish back, e.g. rtmp://127.0.0.1:1935/live
#   $name        the stream key of the publish (it proves the publish to LiveGrains)
#   LOG_FILE     optional; nginx-rtmp sends a child's output to /dev/null, so by default nothing is logged
#   POLL_SECONDS optional, default 5: how often the plan is asked again while the publish lasts
# MediaMTX runs it from runOnReady with SOURCE_BASE rtmp://127.0.0.1:1935 and $MTX_PATH (live/<key>) as the name.
# It asks LiveGrains for the room's enabled destinations with a url (call=plan) every POLL_SECONDS while the publish
# lasts, and keeps one supervisor running per destination in the plan (starting added ones, stopping removed ones): `ffmpeg -c copy -f flv` from the local publish to the destination, reporting `online` once ffmpeg
# writes output (it is connected) and again every 5 s while it runs (LiveGrains answers `stop` once the destination
# is disabled, deleted or changed), `error` with ffmpeg's last words when it fails (then retrying with backoff,
# 1 s doubling to 30 s), and `offline` when it stops. Each destination is its own process tree: one failing never
# stops another. nginx-rtmp sends SIGTERM when the publish ends (exec_kill_signal term): every push stops and
# reports offline. Keys: the destinations' push URLs (key included) are never logged; ffmpeg's errors are
# scrubbed of the URL here and of the key again by LiveGrains.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin # nginx clears the environment of its children
export PATH

hook=${1:?usage: livegrains-restream HOOK_URL SOURCE_BASE STREAM_KEY [LOG_FILE [POLL_SECONDS]]}
source_base=${2:?usage: livegrains-restream HOOK_URL SOURCE_BASE STREAM_KEY [LOG_FILE [POLL_SECONDS]]}
name=${3:?usage: livegrains-restream HOOK_URL SOURCE_BASE STREAM_KEY [LOG_FILE [POLL_SECONDS]]}
log_file=${4:-/dev/null}
poll=${5:-5}
# MediaMTX's runOnReady passes its path (live/<key>): the source is that path, the key its last segment.
source_url="${source_base%/}/$name"
name=${name##*/}

log() { printf '%s livegrains-restream[%s]: %s\n' "$(date -u +%FT%TZ)" "$$" "$*" >>"$log_file" 2>/dev/null || true; }

# call FIELD=VALUE...: a form POST to the hook; prints the body, fails unless 2xx.
call() {
    local args=() field
    for field in "$@"; do args+=(--data-urlencode "$field"); done
    curl -sS -f -m 10 "${args[@]}" "$hook" 2>/dev/null
}

# report ID REVISION LIVE STATUS [ERROR]: prints LiveGrains' answer, "push" or "stop" (nothing when unreachable).
report() {
    call call=status "name=$name" "destination_id=$1" "revision=$2" "live_id=$3" "status=$4" "error=${5:-}"
}

# push ID REVISION LIVE URL: one destination, until the publish ends or LiveGrains says stop.
push() {
    local id=$1 revision=$2 live=$3 url=$4 delay=1 work code answer online err
    local ffmpeg_pid="" stopping=0
    work=$(mktemp -d)
    trap 'stopping=1; [ -n "$ffmpeg_pid" ] && kill "$ffmpeg_pid" 2>/dev/null' TERM INT
    while [ "$stopping" -eq 0 ]; do
        rm -f "$work/progress" "$work/err"
        ffmpeg -nostdin -hide_banner -loglevel error -rw_timeout 15000000 -i "$source_url" \
            -c copy -f flv -progress "file:$work/progress" "$url" </dev/null >/dev/null 2>"$work/err" &
        ffmpeg_pid=$!
        online=0
        ticks=0
        while kill -0 "$ffmpeg_pid" 2>/dev/null; do
            # ffmpeg writes progress only once its output is open: connected, handshake and publish done.
            if [ "$online" -eq 0 ] && grep -qs '^progress=' "$work/progress"; then
                online=1
                delay=1
                answer=$(report "$id" "$revision" "$live" online)
                log "$id online (LiveGrains: ${answer:-unreachable})"
            elif [ "$online" -eq 1 ] && [ $((++ticks % 10)) -eq 0 ]; then
                # Every 5 s: still wanted? A destination disabled, deleted or re-pointed (new revision) answers stop.
                answer=$(report "$id" "$revision" "$live" online)
            else
                answer=""
            fi
            if [ "$answer" = stop ]; then
                log "$id: LiveGrains says stop"
                stopping=1
                kill "$ffmpeg_pid" 2>/dev/null
            fi
            sleep 0.5 &
            wait $! 2>/dev/null
        done
        wait "$ffmpeg_pid" 2>/dev/null
        code=$?
        ffmpeg_pid=""
        [ "$stopping" -eq 0 ] || break
        if [ "$code" -eq 0 ]; then
            log "$id: the publish ended"
            break
        fi
        err=$(tail -n 3 "$work/err" 2>/dev/null | tr '\n\t' '  ')
        err=${err//"$url"/<destination>}
        [ -n "$err" ] || err="ffmpeg exited with status $code"
        answer=$(report "$id" "$revision" "$live" error "$err")
        log "$id error, exit $code, retry in ${delay}s (LiveGrains: ${answer:-unreachable}): $err"
        # A push that no longer stands (live over, destination changed or deleted) stops; an unreachable
        # LiveGrains does not stop a push.
        [ "$answer" != stop ] || break
        sleep "$delay" &
        wait $! 2>/dev/null
        delay=$((delay * 2 > 30 ? 30 : delay * 2))
    done
    report "$id" "$revision" "$live" offline >/dev/null
    log "$id offline"
    rm -rf "$work"
}

# plan_call: asks LiveGrains for this publish's pushes. Sets plan (the lines) and plan_state: ok (2xx), gone (404/403:
# the key is wrong, rotated or disabled, or the stream deleted: nothing to push) or later (503 while the publish is not
# stored yet, or LiveGrains unreachable: keep what runs).
plan_call() {
    local out code
    plan=""
    if ! out=$(curl -sS -m 10 -w '\n%{http_code}' --data-urlencode call=plan --data-urlencode "name=$name" "$hook" 2>/dev/null); then
        plan_state=later
        return
    fi
    code=${out##*$'\n'}
    case $code in
        2??) plan_state=ok; plan=${out%$'\n'*} ;;
        403 | 404) plan_state=gone ;;
        *) plan_state=later ;;
    esac
}

# running[destination_id] = "revision live_id pid" of its supervisor.
declare -A running=()

stop_push() {
    local pid
    read -r _ _ pid <<<"${running[$1]}"
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "running[$1]"
}

stop_all() {
    local id
    for id in "${!running[@]}"; do kill -TERM "${running[$id]##* }" 2>/dev/null; done
    for id in "${!running[@]}"; do wait "${running[$id]##* }" 2>/dev/null; done
    running=()
}

# reconcile: makes the running pushes what the plan says. A destination added or re-enabled mid-live starts, one
# removed, disabled or re-pointed (new revision) stops; a backup's plan fills when the primary stops publishing.
reconcile() {
    local id revision live url rrev rlive rpid
    local -A wanted=()
    while IFS=$'\t' read -r id revision live url; do
        [ -n "$id" ] && [ -n "$url" ] || continue
        wanted[$id]=1
        if [ -n "${running[$id]:-}" ]; then
            read -r rrev rlive rpid <<<"${running[$id]}"
            if [ "$rrev" = "$revision" ] && [ "$rlive" = "$live" ] && kill -0 "$rpid" 2>/dev/null; then
                continue
            fi
            # The old push must be gone before the new one connects: the destination takes one publisher per key.
            stop_push "$id"
        fi
        push "$id" "$revision" "$live" "$url" &
        running[$id]="$revision $live $!"
        log "$id: pushing (revision $revision, live $live)"
    done <<<"$plan"
    for id in "${!running[@]}"; do
        if [ -z "${wanted[$id]:-}" ]; then
            log "$id: no longer in the plan; stopping"
            stop_push "$id"
        fi
    done
}

# The first plan: nginx-rtmp may start us before LiveGrains stored the publish (503), so ask for up to 15 s.
for _ in $(seq 1 30); do
    plan_call
    [ "$plan_state" = later ] || break
    sleep 0.5
done
if [ "$plan_state" = later ]; then
    # Exiting lets nginx-rtmp respawn us (respawn on, respawn_timeout): the plan is asked again.
    log "no restream plan from LiveGrains; exiting"
    exit 1
fi

stopping=0
sleeper=""
trap 'stopping=1; [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null' TERM INT
# Until the publish ends (nginx-rtmp's SIGTERM, MediaMTX's SIGINT), follow the plan: it changes mid-live when
# destinations are added, removed, disabled or changed, and when this stream becomes (or stops being) the live's
# pushing feed (a backup takes over the pushes when the primary stops publishing).
while [ "$stopping" -eq 0 ]; do
    case $plan_state in
        ok) reconcile ;;
        gone) [ "${#running[@]}" -eq 0 ] || { log "the stream key is no longer valid; stopping every push"; stop_all; } ;;
    esac
    [ "$stopping" -eq 0 ] || break # the signal came while reconciling
    sleep "$poll" &
    sleeper=$!
    wait "$sleeper" 2>/dev/null
    sleeper=""
    [ "$stopping" -eq 0 ] || break
    plan_call
done
stop_all
