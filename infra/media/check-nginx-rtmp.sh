#!/usr/bin/env bash
# Checks infra/media/nginx-rtmp.conf for real with Debian's nginx + libnginx-mod-rtmp:
#   1. renders the template with render-nginx-rtmp.sh, callbacks pointed at loopback
#      (nginx-rtmp resolves callback hosts at load time, and gateway-lb exists only in compose);
#   2. runs `nginx -t` on the rendered copy (load_module + rtmp{} + http{} all parsed);
#   3. proves the check can fail: a misspelt rtmp directive and a bad secret must be refused.
# Installs nginx, libnginx-mod-rtmp and gettext-base (envsubst) with apt-get when missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
template="$here/nginx-rtmp.conf"
module=/usr/lib/nginx/modules/ngx_rtmp_module.so

need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx)
[[ -f $module ]] || need+=(libnginx-mod-rtmp)
command -v envsubst >/dev/null 2>&1 || need+=(gettext-base)
if ((${#need[@]})); then
    echo "check-nginx-rtmp: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

render() { # render OUTPUT (env decides the values)
    "$here/render-nginx-rtmp.sh" "$template" "$1"
}

# 1+2: the real file, loopback callbacks.
LIVEGRAINS_HOOKS_URL=http://127.0.0.1:8080 LIVEGRAINS_CALLBACK_SECRET=check-secret_1.0~x \
    render "$work/nginx-rtmp.conf"
grep -q 'on_publish *http://127.0.0.1:8080/v1/ingest-hooks/nginx-rtmp?secret=check-secret_1.0~x;' "$work/nginx-rtmp.conf"
grep -q 'on_publish_done *http://127.0.0.1:8080/v1/ingest-hooks/nginx-rtmp?secret=' "$work/nginx-rtmp.conf"
grep -q 'on_update *http://127.0.0.1:8080/v1/ingest-hooks/nginx-rtmp?secret=' "$work/nginx-rtmp.conf"
grep -q 'exec_push /usr/local/bin/livegrains-restream http://127.0.0.1:8080/v1/ingest-hooks/restream?secret=check-secret_1.0~x rtmp://127.0.0.1:1935/\$app \$name;' "$work/nginx-rtmp.conf"
# The restream script exec_push runs (shipped next to the template; the image copies it to /usr/local/bin).
bash -n "$here/livegrains-restream.sh"
[[ -x $here/livegrains-restream.sh ]] || { echo "check-nginx-rtmp: FAIL: livegrains-restream.sh is not executable" >&2; exit 1; }
# nginx -t creates the pid file if it is missing: keep that inside the scratch directory.
sed -i "s|^pid .*;|pid $work/nginx.pid;|" "$work/nginx-rtmp.conf"
nginx -t -q -e stderr -p "$work" -c "$work/nginx-rtmp.conf"
echo "check-nginx-rtmp: nginx -t accepted the rendered nginx-rtmp.conf ($(nginx -v 2>&1 | sed 's/^nginx version: //'), rtmp module)"

# 3a: a broken copy must be rejected, or the check above proves nothing.
sed 's/^\( *\)on_update /\1on_updat /' "$work/nginx-rtmp.conf" >"$work/broken.conf"
if nginx -t -q -e stderr -p "$work" -c "$work/broken.conf" 2>"$work/broken.err"; then
    echo "check-nginx-rtmp: FAIL: nginx -t accepted a config with an unknown rtmp directive" >&2
    exit 1
fi
grep -q 'unknown directive "on_updat"' "$work/broken.err"

# 3b: the renderer refuses a secret that would need URL or nginx quoting.
if LIVEGRAINS_CALLBACK_SECRET='bad secret;' render "$work/bad.conf" 2>/dev/null; then
    echo "check-nginx-rtmp: FAIL: the renderer accepted a secret with a space and ';'" >&2
    exit 1
fi
if LIVEGRAINS_CALLBACK_SECRET='' render "$work/bad.conf" 2>/dev/null; then
    echo "check-nginx-rtmp: FAIL: the renderer accepted an empty secret" >&2
    exit 1
fi
echo "check-nginx-rtmp: negative cases rejected as expected (unknown directive, bad/empty secret)"
