// Engine-free checks of deploy/k8s/ (docs/kubernetes.md):
//
//   node check-k8s-manifests.js NODE_MODULES MANIFEST.yaml...
//
// Every YAML document validates against the Kubernetes API schema of its
// apiVersion and kind (kubernetes-models: types, required fields, formats;
// it accepts unknown fields, so misspelt keys are caught by the TazPod
// checks below only where they matter). Then, across the files, what a
// TazPod pod needs: a ConfigMap whose config.toml sets [health] listen to a
// non-loopback address; a container that reads it (TAZPOD_CONFIG), runs as
// root with SYS_ADMIN (or privileged), has an httpGet liveness probe on
// /healthz and readiness probe on /readyz at that port, and mounts an
// emptyDir with medium Memory at the RAM enclave's directory. Prints one
// line per problem and exits 1 when there is any.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
  console.error("usage: check-k8s-manifests.js NODE_MODULES MANIFEST.yaml...");
  process.exit(2);
}
const load = createRequire(path.join(path.resolve(modules), "x.js"));
const YAML = load("yaml");

let problems = 0;
function problem(where, message) {
  problems++;
  console.log(`${where}: ${message}`);
}

function modelFor(apiVersion, kind) {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion || "") || !/^[A-Z][A-Za-z]+$/.test(kind || "")) return null;
  try {
    return load(`kubernetes-models/${apiVersion}/${kind}`)[kind];
  } catch {
    return null;
  }
}

const objects = [];
for (const file of files) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  docs.forEach((doc, i) => {
    const where = `${file}#${i + 1}`;
    if (doc.errors.length > 0) { problem(where, `YAML: ${doc.errors[0].message}`); return; }
    const obj = doc.toJS();
    if (obj === null) return;
    const Model = modelFor(obj.apiVersion, obj.kind);
    if (!Model) { problem(where, `unknown apiVersion/kind: ${obj.apiVersion} ${obj.kind}`); return; }
    try {
      new Model(obj).validate();
    } catch (e) {
      problem(where, `${obj.kind} ${obj.metadata && obj.metadata.name}: ${e.message}`);
      return;
    }
    objects.push({ where, obj });
  });
}

// ---- TazPod's needs.
const tomlString = (toml, section, key) => {
  // Enough TOML for flat string keys: the section's lines up to the next one.
  const lines = toml.split("\n");
  let inSection = false;
  for (const line of lines) {
    const header = line.match(/^\s*\[([^\]]+)\]\s*$/);
    if (header) { inSection = header[1].trim() === section; continue; }
    const kv = line.match(/^\s*([A-Za-z_]+)\s*=\s*"([^"]*)"/);
    if (inSection && kv && kv[1] === key) return kv[2];
  }
  return null;
};

const workloads = objects.filter(({ obj }) => ["Deployment", "StatefulSet", "Pod"].includes(obj.kind));
if (workloads.length === 0) problem(files.join(" "), "no Deployment, StatefulSet or Pod");
for (const { where, obj } of workloads) {
  const spec = obj.kind === "Pod" ? obj.spec : obj.spec.template.spec;
  const c = (spec.containers || [])[0];
  if (!c) { problem(where, "no container"); continue; }
  const env = Object.fromEntries((c.env || []).map((e) => [e.name, e.value]));
  const mounts = c.volumeMounts || [];
  const volumes = Object.fromEntries((spec.volumes || []).map((v) => [v.name, v]));

  // The configuration: TAZPOD_CONFIG names a file in a mounted ConfigMap.
  let toml = null;
  const configPath = env.TAZPOD_CONFIG;
  if (!configPath) problem(where, "TAZPOD_CONFIG is not set: the image's own config listens on loopback only");
  else {
    const m = mounts.find((vm) => configPath.startsWith(vm.mountPath.replace(/\/?$/, "/")));
    const vol = m && volumes[m.name];
    if (!vol || !vol.configMap) problem(where, `TAZPOD_CONFIG=${configPath} is not in a mounted ConfigMap`);
    else {
      const key = configPath.slice(m.mountPath.replace(/\/?$/, "/").length);
      const cm = objects.find(({ obj: o }) => o.kind === "ConfigMap" && o.metadata.name === vol.configMap.name);
      if (!cm) problem(where, `ConfigMap ${vol.configMap.name} is not among the manifests`);
      else if (!cm.obj.data || typeof cm.obj.data[key] !== "string") problem(cm.where, `ConfigMap ${vol.configMap.name} has no key ${key}`);
      else toml = cm.obj.data[key];
    }
  }
  const listen = toml && tomlString(toml, "health", "listen");
  let port = null;
  if (toml) {
    const lm = (listen || "").match(/^(.*):(\d+)$/);
    if (!lm) problem(where, `[health] listen is not ADDRESS:PORT: ${listen}`);
    else {
      if (/^(127\.|localhost|\[?::1\]?$)/.test(lm[1])) problem(where, `[health] listen = "${listen}" is loopback: the kubelet cannot reach it`);
      port = Number(lm[2]);
    }
  }
  const portOf = (p) => (typeof p === "number" ? p : ((c.ports || []).find((cp) => cp.name === p) || {}).containerPort);
  for (const [probeName, wantPath] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]]) {
    const probe = c[probeName];
    if (!probe || !probe.httpGet) { problem(where, `${probeName}: no httpGet probe`); continue; }
    if (probe.httpGet.path !== wantPath) problem(where, `${probeName}: path ${probe.httpGet.path}, expected ${wantPath}`);
    if (port !== null && portOf(probe.httpGet.port) !== port) problem(where, `${probeName}: port ${probe.httpGet.port} is not [health] listen's ${port}`);
  }

  // The RAM enclave on a memory-backed emptyDir.
  const enclaveDir = (toml && tomlString(toml, "vault", "enclave_dir")) || "/run/tazpod/enclave";
  const mode = (toml && tomlString(toml, "vault", "mode")) || "ram";
  if (mode === "ram") {
    const em = mounts.find((vm) => vm.mountPath.replace(/\/$/, "") === enclaveDir);
    const vol = em && volumes[em.name];
    if (!vol || !vol.emptyDir || vol.emptyDir.medium !== "Memory") problem(where, `no emptyDir with medium Memory mounted at the enclave, ${enclaveDir}`);
  }

  // Privileges: root, and SYS_ADMIN.
  const sc = c.securityContext || {};
  const podSc = spec.securityContext || {};
  const uid = sc.runAsUser !== undefined ? sc.runAsUser : podSc.runAsUser;
  if (uid !== undefined && uid !== 0) problem(where, `runAsUser ${uid}: tazpod init must run as root`);
  if (sc.runAsNonRoot || podSc.runAsNonRoot) problem(where, "runAsNonRoot: tazpod init must run as root");
  const caps = ((sc.capabilities || {}).add || []).map((s) => s.replace(/^CAP_/, ""));
  if (!sc.privileged && !caps.includes("SYS_ADMIN")) problem(where, "neither privileged nor SYS_ADMIN: the vault cannot mount or drive dm-crypt");
  if (sc.readOnlyRootFilesystem) problem(where, "readOnlyRootFilesystem: the vault's mountpoint and /run/tazpod are created at start");
}

if (problems > 0) {
  console.log(`${problems} problem(s)`);
  process.exit(1);
}
console.log(`${objects.length} Kubernetes object(s) checked: no problem`);
