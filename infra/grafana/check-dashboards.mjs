#!/usr/bin/env node
// Checks the Grafana dashboards in infra/grafana/dashboards offline:
//   * each file is JSON with a unique uid, unique panel ids and panels on the provisioned
//     Prometheus datasource (uid "prometheus", infra/grafana/provisioning/datasources);
//   * every PromQL expression parses: Grafana's variables are replaced by sample values and all
//     expressions are handed to `promtool check rules` as recording rules;
//   * the LiveGrains dashboard still shows the metrics operators rely on.
// Usage: node check-dashboards.mjs [PROMTOOL]   (default: promtool on PATH)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, "dashboards");
const promtool = process.argv[2] ?? "promtool";
const required = [
  "livegrains_lives_active",
  "livegrains_golives_total",
  "livegrains_takeovers_total",
  "livegrains_viewers",
  "livegrains_webhook_backlog",
  "http_server_request_duration_seconds",
  "orleans_catalog_activations",
];

const errors = [];
const rules = [];
const uids = new Set();
const allExprs = [];

function* walkPanels(panels) {
  for (const p of panels ?? []) {
    yield p;
    yield* walkPanels(p.panels);
  }
}

for (const name of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
  let dash;
  try {
    dash = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
  } catch (e) {
    errors.push(`${name}: not JSON: ${e.message}`);
    continue;
  }
  if (!dash.uid || uids.has(dash.uid)) errors.push(`${name}: missing or duplicate uid "${dash.uid}"`);
  uids.add(dash.uid);
  if (!dash.title) errors.push(`${name}: no title`);
  // Sample values for the dashboard's own variables (textbox/custom: their query/current value).
  const vars = {};
  for (const v of dash.templating?.list ?? []) vars[v.name] = String(v.current?.value ?? v.query ?? "x");
  const ids = new Set();
  for (const p of walkPanels(dash.panels)) {
    if (ids.has(p.id)) errors.push(`${name}: duplicate panel id ${p.id}`);
    ids.add(p.id);
    if (!p.gridPos) errors.push(`${name}: panel ${p.id} "${p.title}" has no gridPos`);
    if (p.type === "row") continue;
    if (p.datasource?.uid !== "prometheus") errors.push(`${name}: panel "${p.title}" is not on datasource uid "prometheus"`);
    if (!p.targets?.length) errors.push(`${name}: panel "${p.title}" has no query`);
    for (const t of p.targets ?? []) {
      if (!t.expr) {
        errors.push(`${name}: panel "${p.title}" target ${t.refId} has no expr`);
        continue;
      }
      allExprs.push(t.expr);
      const expr = t.expr
        .replace(/\$__rate_interval|\$__interval|\$__range/g, "5m")
        .replace(/\$\{?(\w+)\}?/g, (m, v) => (v in vars ? vars[v] : m));
      if (expr.includes("$")) errors.push(`${name}: panel "${p.title}": unknown variable in ${t.expr}`);
      rules.push({ record: `dashboard:check:${rules.length}`, expr, where: `${name}: "${p.title}" ${t.refId}` });
    }
  }
}

const text = allExprs.join("\n");
for (const metric of required) {
  if (!text.includes(metric)) errors.push(`dashboards: no panel queries ${metric}`);
}

if (rules.length) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lg-dash-"));
  const file = path.join(tmp, "dashboard-queries.rules.yml");
  // JSON is valid YAML: no quoting worries for the expressions.
  fs.writeFileSync(
    file,
    JSON.stringify({ groups: [{ name: "dashboard-queries", rules: rules.map(({ record, expr }) => ({ record, expr })) }] }, null, 2),
  );
  const r = spawnSync(promtool, ["check", "rules", file], { encoding: "utf8" });
  if (r.error) errors.push(`promtool: ${r.error.message}`);
  else if (r.status !== 0) {
    const out = `${r.stdout}\n${r.stderr}`;
    // promtool names the failing rule by its index; map it back to the panel.
    for (const line of out.split("\n").filter((l) => l.trim())) {
      const m = /dashboard:check:(\d+)/.exec(line);
      errors.push(m && rules[Number(m[1])] ? `${rules[Number(m[1])].where}: ${line.trim()}` : `promtool: ${line.trim()}`);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

if (errors.length) {
  for (const e of errors) console.error(`ERROR ${e}`);
  process.exit(1);
}
console.log(`check-dashboards: ${uids.size} dashboard(s), ${rules.length} PromQL queries parsed by promtool`);
