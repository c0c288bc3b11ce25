#!/bin/bash
# LiveGrains restreaming for nginx-rtmp (docs/ingest.md "Destinations"). nginx-rtmp runs it once per publish:
#   exec_push livegrains-restream HOOK_URL SOURCE_BASE $name [LOG_FILE];
#   HOOK_URL     LiveGrains' restream callback with the media secret, e.g.
#                http://gateway-lb:8080/v1/ingest-hooks/restream?secret=...
#   SOURCE_BASE  where this nginx plays the publish back, e.g. rtmp://127.0.0.1:1935/live
#   $name        the stream key of the publish (it proves the publish to LiveGrains)
#   LOG_FILE     optional; nginx-rtmp sends a child's output to /dev/null, so by default nothing is logged
# It asks LiveGrains for the room's enabled destinations with a url (call=plan), then runs one supervisor per
# destination: `ffmpeg -c copy -f flv` from the local publish to the destination, reporting `online` once ffmpeg
# writes output (it is connected) and again every 5 s while it runs (LiveGrains answers `stop` once the destination
# is disabled, deleted or changed), `error` with ffmpeg's last words when it fails (then retrying with backoff,
# 1 s doubling to 30 s), and `offline` when it stops. Each destination is its own process tree: one failing never
# stops another. nginx-rtmp sends SIGTERM when the publish ends (exec_kill_signal term): every push stops and
# reports offline. Keys: the destinations' push URLs (key included) are never logged; ffmpeg's errors are
# scrubbed of the URL here and of the key again by LiveGrains.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin # nginx clears the environment of its children
export PATH

hook=${1:?usage: livegrains-restream HOOK_URL SOURCE_BASE STREAM_KEY [LOG_FILE]}
source_base=${2:?usage: livegrains-restream HOOK_URL SOURCE_BASE STREAM_KEY [LOG_FILE]}
name=${3:?usage: livegrains-restream HOOK_URL SOURCE_BASE STREAM_KEY [LOG_FILE]}
log_file=${4:-/dev/null}
source_url="${source_base%/}/$name"

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

# The plan: nginx-rtmp may start us before LiveGrains stored the publish (503), so ask for up to 15 s.
plan=""
for _ in $(seq 1 30); do
    if plan=$(call call=plan "name=$name"); then
        break
    fi
    plan="__none__"
    sleep 0.5
done
if [ "$plan" = "__none__" ]; then
    # Exiting lets nginx-rtmp respawn us (respawn on, respawn_timeout): the plan is asked again.
    log "no restream plan from LiveGrains; exiting"
    exit 1
fi

children=()
trap 'for child in "${children[@]}"; do kill -TERM "$child" 2>/dev/null; done' TERM INT
while IFS=$'\t' read -r id revision live url; do
    [ -n "$id" ] && [ -n "$url" ] || continue
    push "$id" "$revision" "$live" "$url" &
    children+=($!)
    log "$id: pushing (revision $revision, live $live)"
done <<<"$plan"

if [ "${#children[@]}" -eq 0 ]; then
    # Nothing to push: stay until the publish ends, so nginx-rtmp does not respawn us in a loop.
    log "no destinations to push"
    sleep infinity &
    children+=($!)
fi

# wait returns early when a signal arrives; go on waiting until every child has reported and gone.
while true; do
    wait
    [ $? -gt 128 ] || break
done
