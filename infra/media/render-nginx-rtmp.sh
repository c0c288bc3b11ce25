#!/bin/sh
# Renders infra/media/nginx-rtmp.conf (a template) into a config nginx can load.
#   render-nginx-rtmp.sh TEMPLATE OUTPUT
# Environment:
#   LIVEGRAINS_CALLBACK_SECRET  required; the gateways' Ingest:CallbackSecret
#   LIVEGRAINS_HOOKS_URL        optional; default http://gateway-lb:8080 (no trailing slash)
# Used by the nginx-rtmp container entrypoint and by check-nginx-rtmp.sh, so what is checked is
# exactly what runs. POSIX sh: the image is debian-slim.
set -eu

template=${1:?usage: render-nginx-rtmp.sh TEMPLATE OUTPUT}
output=${2:?usage: render-nginx-rtmp.sh TEMPLATE OUTPUT}

: "${LIVEGRAINS_HOOKS_URL:=http://gateway-lb:8080}"
if [ -z "${LIVEGRAINS_CALLBACK_SECRET:-}" ]; then
    echo "render-nginx-rtmp: LIVEGRAINS_CALLBACK_SECRET is not set (the gateways' Ingest:CallbackSecret)" >&2
    exit 2
fi

# The secret ends up inside a URL query string and an nginx directive: allow URL-unreserved
# characters only, so it needs neither percent-encoding nor nginx quoting.
case "$LIVEGRAINS_CALLBACK_SECRET" in
    *[!A-Za-z0-9._~-]*)
        echo "render-nginx-rtmp: LIVEGRAINS_CALLBACK_SECRET may contain only A-Z a-z 0-9 . _ ~ -" >&2
        exit 2 ;;
esac
case "$LIVEGRAINS_HOOKS_URL" in
    http://*|https://*) ;;
    *) echo "render-nginx-rtmp: LIVEGRAINS_HOOKS_URL must start with http:// or https://" >&2; exit 2 ;;
esac
case "$LIVEGRAINS_HOOKS_URL" in
    *[\ \;\{\}\'\"]*|*/)
        echo "render-nginx-rtmp: LIVEGRAINS_HOOKS_URL must not end in / or contain spaces, quotes, ; { }" >&2
        exit 2 ;;
esac

export LIVEGRAINS_HOOKS_URL LIVEGRAINS_CALLBACK_SECRET
# Only these two names: nginx's own $variables must survive untouched.
# shellcheck disable=SC2016 # literal names for envsubst, not shell expansions
envsubst '${LIVEGRAINS_HOOKS_URL} ${LIVEGRAINS_CALLBACK_SECRET}' <"$template" >"$output.tmp"

# shellcheck disable=SC2016
if grep -q '\${LIVEGRAINS_' "$output.tmp"; then
    echo "render-nginx-rtmp: a placeholder was left unrendered in $output" >&2
    rm -f "$output.tmp"
    exit 1
fi
mv "$output.tmp" "$output"
