#!/usr/bin/env bash
# Offline checks of everything under infra/ plus docker-compose.yml. Run from anywhere:
#   bash infra/check.sh
# First it installs what is missing (Debian packages with apt-get, the validator's npm packages
# with `npm ci`); after that every check runs without network, and none needs Docker or a cluster.
#   1. docker-compose config -q          the compose file (Debian's docker-compose 1.29)
#   2. Kubernetes manifests              every object in infra/k8s against the Kubernetes API
#                                        schemas (kubernetes-models), strict about unknown fields;
#                                        the kustomization lists every file; the kustomize-rendered
#                                        output too (when kubectl is on PATH); and a known-bad
#                                        manifest must be rejected, so a validator that passes
#                                        everything cannot go unnoticed
#   3. nginx-rtmp                        nginx -t with Debian's nginx + libnginx-mod-rtmp
#   4. gateway load balancer             nginx -t on a loopback copy of infra/nginx/gateway-lb.conf
#   5. Prometheus + Grafana              promtool check config; dashboard JSON and its PromQL
#   6. YAML                              every other YAML file under infra/ parses (unique keys)
# Exits non-zero on the first failing check.
set -euo pipefail

infra=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$infra/.." && pwd)
validate="$infra/k8s/validate"

step() { printf '\n== %s\n' "$*"; }
die() { echo "check.sh: FAIL: $*" >&2; exit 1; }

# --- installs ------------------------------------------------------------------------------------
need=()
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v nginx >/dev/null 2>&1 || need+=(nginx)
[[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ]] || need+=(libnginx-mod-rtmp)
command -v envsubst >/dev/null 2>&1 || need+=(gettext-base)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ((${#need[@]})); then
    step "installing Debian packages: ${need[*]}"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm ci only when node_modules does not match the lockfile already (keeps re-runs offline).
lock_sum=$(sha256sum "$validate/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $validate/node_modules/.lock-sha256 || $(cat "$validate/node_modules/.lock-sha256") != "$lock_sum" ]]; then
    step "npm ci (infra/k8s/validate)"
    npm ci --prefix "$validate" --no-audit --no-fund --loglevel=error
    echo "$lock_sum" >"$validate/node_modules/.lock-sha256"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- 1. compose ----------------------------------------------------------------------------------
step "docker-compose config -q"
(cd "$repo" && docker-compose -f docker-compose.yml config -q)
# Every file the compose file mounts or builds from must exist (config -q does not look).
(cd "$repo" && docker-compose -f docker-compose.yml config) >"$work/compose.yml"
grep -Eo "$repo/[^:\" ]+" "$work/compose.yml" | sort -u | while read -r p; do
    [[ -e $p ]] || die "docker-compose.yml refers to $p, which does not exist"
done
for f in Dockerfile.silo Dockerfile.gateway Dockerfile.nginx-rtmp Dockerfile.mediamtx; do
    [[ -f $infra/docker/$f ]] || die "infra/docker/$f is missing"
done
echo "docker-compose.yml is valid ($(docker-compose version --short 2>/dev/null || echo docker-compose))"

# --- 2. Kubernetes manifests ---------------------------------------------------------------------
step "Kubernetes manifests (infra/k8s)"
node "$validate/validate.mjs" --kustomization "$infra/k8s"
if command -v kubectl >/dev/null 2>&1; then
    kubectl kustomize "$infra/k8s" >"$work/rendered.yaml"
    echo -n "kustomize output: "
    node "$validate/validate.mjs" - <"$work/rendered.yaml"
else
    echo "kubectl not on PATH: the kustomize-rendered output was not checked (the source files were)"
fi
# The validator must reject a wrong field type and an unknown field.
sed -e 's/^  replicas: 3$/  replicas: "3"/' -e 's/^          readinessProbe:$/          readynessProbe:/' \
    "$infra/k8s/silo.yaml" >"$work/broken-silo.yaml"
cmp -s "$infra/k8s/silo.yaml" "$work/broken-silo.yaml" && die "could not derive a broken manifest from silo.yaml"
if node "$validate/validate.mjs" "$work/broken-silo.yaml" >"$work/broken.out" 2>&1; then
    cat "$work/broken.out"
    die "the Kubernetes validator accepted a manifest with replicas: \"3\" and a misspelt readinessProbe"
fi
grep -q 'at /spec/replicas: schema: must be integer' "$work/broken.out" || { cat "$work/broken.out"; die "wrong type not reported"; }
grep -q 'unknown field "readynessProbe"' "$work/broken.out" || { cat "$work/broken.out"; die "unknown field not reported"; }
echo "self-test: a manifest with a wrong type and an unknown field is rejected"

# --- 3. nginx-rtmp -------------------------------------------------------------------------------
step "nginx-rtmp (infra/media/nginx-rtmp.conf)"
bash "$infra/media/check-nginx-rtmp.sh"

# --- 4. gateway load balancer --------------------------------------------------------------------
step "gateway load balancer (infra/nginx/gateway-lb.conf)"
# Wrapped in http{} as the nginx image's conf.d is; loopback upstreams (the compose names do not
# resolve here) and without "resolve", which Debian's nginx 1.22 predates (image: 1.27).
{
    echo "pid $work/nginx.pid;"
    echo 'events {}'
    echo 'http {'
    sed -e 's/ resolve / /' -e 's/gateway1:8080/127.0.0.1:18081/' -e 's/gateway2:8080/127.0.0.1:18082/' \
        "$infra/nginx/gateway-lb.conf"
    echo '}'
} >"$work/gateway-lb.conf"
nginx -t -q -e stderr -p "$work" -c "$work/gateway-lb.conf"
echo "nginx -t accepted gateway-lb.conf"

# --- 5. Prometheus and Grafana -------------------------------------------------------------------
step "Prometheus config and Grafana dashboards"
# promtool insists that credentials_file exists: check a copy that points at a scratch key file.
printf 'check' >"$work/ops-api-key"
sed "s|credentials_file: /tmp/livegrains-ops-api-key|credentials_file: $work/ops-api-key|" \
    "$infra/prometheus/prometheus.yml" >"$work/prometheus.yml"
promtool check config "$work/prometheus.yml"
node "$infra/grafana/check-dashboards.mjs" promtool

# --- 6. YAML -------------------------------------------------------------------------------------
step "YAML syntax (infra/**/*.y*ml)"
# shellcheck disable=SC2016 # JavaScript, not shell
INFRA="$infra" node --input-type=module -e '
    import fs from "node:fs";
    import path from "node:path";
    import { createRequire } from "node:module";
    const require = createRequire(process.env.INFRA + "/k8s/validate/package.json");
    const { parseAllDocuments } = require("yaml");
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.name === "node_modules" ? [] : e.isDirectory() ? walk(path.join(d, e.name)) :
        /\.ya?ml$/.test(e.name) ? [path.join(d, e.name)] : []);
    let bad = 0, n = 0;
    for (const f of walk(process.env.INFRA)) {
        n++;
        const docs = parseAllDocuments(fs.readFileSync(f, "utf8"), { uniqueKeys: true });
        for (const doc of Array.isArray(docs) ? docs : [])
            for (const e of [...doc.errors, ...doc.warnings]) { bad++; console.error(`ERROR ${f}: ${e.message}`); }
    }
    if (bad) process.exit(1);
    console.log(`${n} YAML files parse`);
'

step "all infra checks passed"
