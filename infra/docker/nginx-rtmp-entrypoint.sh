#!/bin/sh
# Renders the nginx-rtmp template from the environment (LIVEGRAINS_HOOKS_URL,
# LIVEGRAINS_CALLBACK_SECRET), tests it, then runs nginx in the foreground as PID 1.
set -eu
template=${NGINX_RTMP_TEMPLATE:-/etc/nginx/templates/nginx-rtmp.conf}
config=/etc/nginx/nginx-rtmp.conf
render-nginx-rtmp "$template" "$config"
# Recordings (record all): written by the nginx worker, renamed and probed by the LiveGrains silos, which
# mount the same volume under another uid; no sticky bit, so the silos may rename what nginx wrote.
mkdir -p /var/recordings
chmod 0777 /var/recordings
nginx -t -q -e stderr -c "$config"
exec nginx -e stderr -c "$config" -g 'daemon off;'
