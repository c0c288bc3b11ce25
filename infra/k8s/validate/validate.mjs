#!/usr/bin/env node
// Offline validation of the Kubernetes manifests in infra/k8s against the real Kubernetes API
// schemas, with no cluster and no network (after `npm ci`).
//
// Two passes per object, both driven by the kubernetes-models package, which is generated from
// the Kubernetes OpenAPI specification (its _schemas/ are the API's JSON schemas compiled by ajv,
// its .d.ts files the same definitions as TypeScript types):
//   1. schema:  types, required fields, enums and formats (e.g. replicas: "3" -> "must be integer",
//               a missing containers[].name -> "must have required property 'name'").
//   2. strict:  unknown fields, like `kubectl apply --validate=strict` / kubeconform -strict
//               (e.g. a misspelt "readynessProbe"). JSON schemas of the Kubernetes API allow extra
//               properties, so this pass type-checks every object with the TypeScript compiler
//               against the generated interfaces, whose excess-property check rejects them.
// An apiVersion/kind the package has no schema for is an error, never a silent skip.
//
// Usage:
//   node validate.mjs [--kustomization] [FILE_OR_DIR ...]   (default: the directory above this one)
//   kubectl kustomize infra/k8s | node validate.mjs -        (validate a rendered stream too)
// --kustomization also checks that kustomization.yaml lists exactly the manifest files present.
// Exit code 0 = all valid, 1 = at least one error, 2 = usage/IO problem.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { parseAllDocuments, LineCounter, isMap, isSeq, isScalar } from "yaml";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const modelsVersion = require("kubernetes-models/package.json").version;

const args = process.argv.slice(2);
const checkKustomization = args.includes("--kustomization");
const inputs = args.filter((a) => a !== "--kustomization");
if (inputs.length === 0) inputs.push(path.resolve(here, ".."));

const errors = [];
const objects = []; // { source, index, doc, lineCounter, obj, label }
let fileCount = 0;

function fail(where, message) {
  errors.push(`${where}: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Collect and parse YAML
function listYaml(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    // This validator's own folder holds no manifests.
    if (entry.isDirectory()) {
      if (full !== here) out.push(...listYaml(full));
    } else if (/\.ya?ml$/i.test(entry.name)) {
      out.push(full);
    }
  }
  return out.sort();
}

function display(file) {
  if (file === "-") return "<stdin>";
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}

const kustomizations = [];

function parseSource(source, text) {
  fileCount++;
  const lineCounter = new LineCounter();
  // uniqueKeys (default) makes a duplicated mapping key an error, as the API server's strict
  // decoding would.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(docs)) {
    // An empty stream parses to an EmptyStream object.
    return;
  }
  docs.forEach((doc, index) => {
    const where = `${display(source)}#${index + 1}`;
    for (const e of doc.errors) fail(where, `YAML: ${e.message.split("\n")[0]}`);
    for (const w of doc.warnings) fail(where, `YAML: ${w.message.split("\n")[0]}`);
    if (doc.errors.length) return;
    const obj = doc.toJS({ maxAliasCount: 100 });
    if (obj === null || obj === undefined) return; // empty document (e.g. trailing ---)
    if (typeof obj !== "object" || Array.isArray(obj)) {
      fail(where, "a manifest document must be a mapping");
      return;
    }
    if (typeof obj.apiVersion === "string" && obj.apiVersion.startsWith("kustomize.config.k8s.io/")) {
      kustomizations.push({ source, obj, where });
      return;
    }
    objects.push({ source, index, doc, lineCounter, obj });
  });
}

for (const input of inputs) {
  if (input === "-") {
    parseSource("-", fs.readFileSync(0, "utf8"));
    continue;
  }
  if (!fs.existsSync(input)) {
    console.error(`validate: no such file or directory: ${input}`);
    process.exit(2);
  }
  const files = fs.statSync(input).isDirectory() ? listYaml(input) : [input];
  for (const f of files) parseSource(f, fs.readFileSync(f, "utf8"));
}

// Line of a JSON pointer inside its YAML document, for error messages.
function lineOf(o, pointer) {
  const keys = pointer
    .split("/")
    .slice(1)
    .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node = o.doc.contents;
  let line = node?.range ? o.lineCounter.linePos(node.range[0]).line : undefined;
  for (const key of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
      if (!pair) break;
      if (pair.key?.range) line = o.lineCounter.linePos(pair.key.range[0]).line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(key)];
      if (!item) break;
      if (item.range) line = o.lineCounter.linePos(item.range[0]).line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function where(o, pointer = "") {
  const line = lineOf(o, pointer);
  const src = display(o.source);
  return `${src}${line ? `:${line}` : ""} (${o.label})${pointer ? ` at ${pointer}` : ""}`;
}

// ---------------------------------------------------------------------------------------------
// Pass 1: JSON schema (ajv-compiled OpenAPI schemas of kubernetes-models)
function modulePath(apiVersion, kind) {
  // "v1" -> v1, "apps/v1" -> apps/v1, "rbac.authorization.k8s.io/v1" -> same path
  if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion)) return null;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind)) return null;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

for (const o of objects) {
  const { apiVersion, kind, metadata } = o.obj;
  o.label = `${kind ?? "?"}/${metadata?.name ?? "?"}`;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    fail(where(o), "apiVersion and kind are required strings");
    o.skip = true;
    continue;
  }
  if (!metadata || typeof metadata.name !== "string" || metadata.name === "") {
    fail(where(o), "metadata.name is required");
  }
  const spec = modulePath(apiVersion, kind);
  let mod = null;
  if (spec) {
    try {
      mod = await import(spec);
    } catch {
      mod = null;
    }
  }
  const Model = mod?.[kind];
  if (typeof Model !== "function") {
    fail(where(o), `no Kubernetes schema for apiVersion "${apiVersion}", kind "${kind}" (kubernetes-models ${modelsVersion})`);
    o.skip = true;
    continue;
  }
  o.modelSpec = spec;
  try {
    new Model(o.obj).validate();
  } catch (e) {
    o.schemaErrors = true;
    const details = Array.isArray(e?.errors) ? e.errors : null;
    if (!details) {
      fail(where(o), `schema: ${e?.message ?? e}`);
      continue;
    }
    for (const d of details) {
      let msg = d.message ?? d.keyword;
      if (d.keyword === "enum" && d.params?.allowedValues) msg += `: ${d.params.allowedValues.join(", ")}`;
      if (d.keyword === "required" && d.params?.missingProperty && !msg.includes(d.params.missingProperty)) {
        msg += ` '${d.params.missingProperty}'`;
      }
      fail(where(o, d.instancePath ?? ""), `schema: ${msg}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: strict fields, by type-checking each object literal against its generated interface.
// TypeScript reports one excess property per object literal and may hide an outer literal's
// excess property behind an error inside it, so the pass repeats on a working copy with each
// reported field removed, until the compiler has nothing more to say.
const esc = (k) => k.replace(/~/g, "~0").replace(/\//g, "~1");
const unesc = (k) => k.replace(/~1/g, "/").replace(/~0/g, "~");

function removeAt(obj, pointer) {
  const keys = pointer.split("/").slice(1).map(unesc);
  // Walk to the parent of the target, remembering where each container hangs.
  const chain = [];
  let node = obj;
  for (const key of keys.slice(0, -1)) {
    if (node === null || typeof node !== "object" || !(key in node)) return false;
    chain.push([node, key]);
    node = node[key];
  }
  const last = keys[keys.length - 1];
  if (last === undefined || node === null || typeof node !== "object" || !(last in node)) return false;
  if (!Array.isArray(node)) {
    delete node[last];
    return true;
  }
  // Removing an array element would shift its siblings' pointers: drop the whole array instead.
  const [holder, holderKey] = chain[chain.length - 1] ?? [];
  if (!holder || Array.isArray(holder)) return false;
  delete holder[holderKey];
  return true;
}

function typecheck(items, oldProgram) {
  const lines = [];
  const lineInfo = []; // generated line -> { item, pointer }
  const emit = (text, item, pointer) => {
    lines.push(text);
    lineInfo.push({ item, pointer });
  };
  // Pretty-print a value one property per line, remembering each line's JSON pointer.
  const write = (value, item, pointer, prefix, suffix, indent) => {
    const pad = "  ".repeat(indent);
    if (Array.isArray(value)) {
      if (value.length === 0) return emit(`${pad}${prefix}[]${suffix}`, item, pointer);
      emit(`${pad}${prefix}[`, item, pointer);
      value.forEach((v, i) => write(v, item, `${pointer}/${i}`, "", ",", indent + 1));
      emit(`${pad}]${suffix}`, item, pointer);
    } else if (value && typeof value === "object") {
      const keys = Object.keys(value);
      if (keys.length === 0) return emit(`${pad}${prefix}{}${suffix}`, item, pointer);
      emit(`${pad}${prefix}{`, item, pointer);
      for (const k of keys) write(value[k], item, `${pointer}/${esc(k)}`, `${JSON.stringify(k)}: `, ",", indent + 1);
      emit(`${pad}}${suffix}`, item, pointer);
    } else {
      emit(`${pad}${prefix}${JSON.stringify(value ?? null)}${suffix}`, item, pointer);
    }
  };
  items.forEach((item, i) => {
    emit(`import type { I${item.o.obj.kind} as T${i} } from ${JSON.stringify(item.o.modelSpec)};`, item, "");
    write(item.copy, item, "", `export const m${i}: T${i} = `, ";", 0);
  });

  const virtualFile = path.join(here, "__manifests__.ts");
  const source = lines.join("\n") + "\n";
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (f, lang, ...rest) =>
    path.resolve(f) === virtualFile ? ts.createSourceFile(f, source, lang, true) : getSourceFile.call(host, f, lang, ...rest);
  host.fileExists = (f) => path.resolve(f) === virtualFile || fileExists.call(host, f);
  host.readFile = (f) => (path.resolve(f) === virtualFile ? source : readFile.call(host, f));
  const program = ts.createProgram([virtualFile], options, host, oldProgram);
  const found = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || path.resolve(d.file.fileName) !== virtualFile || d.start === undefined) {
      // Not about a manifest: the type definitions themselves failed to load.
      found.push({ fatal: text.split("\n")[0] });
      continue;
    }
    const info = lineInfo[d.file.getLineAndCharacterOfPosition(d.start).line];
    const unknown = /Object literal may only specify known properties, and '"?([^'"]+)"?' does not exist/.exec(text);
    // The most specific part of a TypeScript message chain is its last line.
    const parts = text.split("\n").map((t) => t.trim()).filter(Boolean);
    found.push({ item: info.item, pointer: info.pointer, unknown: unknown?.[1], message: parts[parts.length - 1] });
  }
  return { program, found };
}

{
  let work = objects
    .filter((o) => !o.skip && o.modelSpec)
    .map((o) => ({ o, copy: structuredClone(o.obj) }));
  let program;
  const reported = new Set();
  for (let pass = 0; pass < 25 && work.length; pass++) {
    const result = typecheck(work, program);
    program = result.program;
    const next = new Set();
    for (const f of result.found) {
      if (f.fatal) {
        fail("typecheck", f.fatal);
        continue;
      }
      let message = null;
      if (f.unknown) message = `strict: unknown field "${f.unknown}"`;
      // Type errors are pass 1's job; report one here only if the schema pass saw nothing wrong.
      else if (!f.item.o.schemaErrors) message = `strict: ${f.message}`;
      const key = `${f.item.o.source}#${f.item.o.index}${f.pointer}:${message}`;
      if (message && !reported.has(key)) {
        reported.add(key);
        fail(where(f.item.o, f.pointer), message);
      }
      if (removeAt(f.item.copy, f.pointer)) next.add(f.item);
    }
    if (result.found.some((f) => f.fatal)) break;
    work = [...next];
  }
}

// ---------------------------------------------------------------------------------------------
// kustomization.yaml: resources must exist, and every manifest file must be listed.
if (checkKustomization) {
  if (kustomizations.length === 0) fail("kustomization", "no kustomization.yaml found");
  for (const k of kustomizations) {
    const dir = path.dirname(k.source);
    const listed = new Set();
    for (const r of k.obj.resources ?? []) {
      const full = path.resolve(dir, r);
      listed.add(full);
      if (!fs.existsSync(full)) fail(k.where, `resources: "${r}" does not exist`);
    }
    const manifestFiles = new Set(objects.filter((o) => path.dirname(o.source) === dir).map((o) => path.resolve(o.source)));
    for (const f of manifestFiles) {
      if (!listed.has(f)) fail(k.where, `resources: ${path.basename(f)} is not listed`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
if (errors.length) {
  errors.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  for (const e of errors) console.error(`ERROR ${e}`);
  console.error(
    `k8s-validate: ${errors.length} error(s) in ${objects.length} object(s) from ${fileCount} file(s) ` +
      `(Kubernetes schemas: kubernetes-models ${modelsVersion})`,
  );
  process.exit(1);
}
const kinds = [...new Set(objects.map((o) => o.obj.kind))].sort().join(", ");
console.log(
  `k8s-validate: ${objects.length} object(s) from ${fileCount} file(s) valid: schema + strict fields ` +
    `(kubernetes-models ${modelsVersion}; kinds: ${kinds})`,
);
