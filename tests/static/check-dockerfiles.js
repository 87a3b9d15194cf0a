// Engine-free checks of the image family's Dockerfiles (docs/containers.md):
//
//   node check-dockerfiles.js NODE_MODULES DOCKERFILE...
//
// For each Dockerfile: it parses (dockerfile-utils' validator reports no
// error), it builds with the classic builder of Debian's docker.io 20.10 as
// well as BuildKit (no `# syntax` directive, no RUN --mount, no heredoc), and
// its final stage keeps the conventions: ENTRYPOINT in exec form running
// `tazpod init`, HEALTHCHECK CMD ["tazpod", "health"], STOPSIGNAL SIGTERM, no
// USER, `ARG CACHEBUST` then a RUN that uses it then the dotfiles COPY as the
// last build steps; and every download is checked: nothing is fetched with
// curl, wget or ADD URL outside images/install-tool, every tool it installs
// has a manifest line with an https URL and a SHA-256, and npm installs only
// with `npm ci` from a lockfile that has an integrity hash for every package.
// Prints one line per problem and exits 1 when there is any.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
  console.error("usage: check-dockerfiles.js NODE_MODULES DOCKERFILE...");
  process.exit(2);
}
const load = createRequire(path.join(path.resolve(modules), "x.js"));
const { DockerfileParser } = load("dockerfile-ast");
const dockerfileUtils = load("dockerfile-utils");

let problems = 0;
function problem(file, line, message) {
  problems++;
  console.log(`${file}:${line}: ${message}`);
}

const INSTALLER = "images/install-tool";

// The manifest's tools: NAME -> [{version, arch, sha256, kind, url}].
function readManifest(file) {
  const tools = new Map();
  fs.readFileSync(file, "utf8").split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const f = line.split(/\s+/);
    const where = `${file}:${i + 1}`;
    if (f.length !== 6) { problems++; console.log(`${where}: expected 6 fields, found ${f.length}`); return; }
    const [name, version, arch, sha256, kind, url] = f;
    if (!/^[0-9a-f]{64}$/.test(sha256)) { problems++; console.log(`${where}: ${name}: not a SHA-256: ${sha256}`); }
    if (!url.startsWith("https://")) { problems++; console.log(`${where}: ${name}: not an https URL: ${url}`); }
    if (!/^(bin|deb|tgz:.+|tree:[^=,]+=[^=,]+(,[^=,]+=[^=,]+)*)$/.test(kind)) { problems++; console.log(`${where}: ${name}: unknown kind ${kind}`); }
    if (!/^(amd64|arm64|all)$/.test(arch)) { problems++; console.log(`${where}: ${name}: unknown architecture ${arch}`); }
    if (!url.includes(version)) { problems++; console.log(`${where}: ${name}: the URL does not name version ${version}`); }
    if (!tools.has(name)) tools.set(name, []);
    tools.get(name).push({ version, arch, sha256, kind, url });
  });
  return tools;
}

function jsonArray(text) {
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) && v.every((s) => typeof s === "string") ? v : null;
  } catch {
    return null;
  }
}

function checkLockfile(dockerfile, line, lockPath) {
  if (!fs.existsSync(lockPath)) { problem(dockerfile, line, `npm ci needs ${lockPath}, which is missing`); return; }
  const lock = JSON.parse(fs.readFileSync(lockPath, "utf8"));
  for (const [name, entry] of Object.entries(lock.packages || {})) {
    if (name === "" || entry.link) continue;
    if (!/^sha512-/.test(entry.integrity || "")) problem(dockerfile, line, `${lockPath}: ${name} has no sha512 integrity`);
  }
}

function checkDockerfile(file, root, manifest) {
  const text = fs.readFileSync(file, "utf8");
  for (const d of dockerfileUtils.validate(text)) {
    if (d.severity === 1) problem(file, d.range.start.line + 1, `does not parse: ${d.message}`);
  }
  if (/^#\s*syntax\s*=/im.test(text)) problem(file, 1, "a `# syntax` directive makes BuildKit pull a frontend image from a registry");
  const df = DockerfileParser.parse(text);
  const all = df.getInstructions();
  const at = (ins) => ins.getRange().start.line + 1;
  const froms = all.filter((i) => i.getKeyword() === "FROM");
  if (froms.length === 0) { problem(file, 1, "no FROM"); return; }
  const lastFrom = froms[froms.length - 1];
  const final = all.filter((i) => at(i) > at(lastFrom));
  const kw = (ins) => ins.getKeyword();
  const args = (ins) => ins.getArgumentsContent() || "";

  for (const ins of all) {
    if (kw(ins) === "RUN" && ins.getFlags().some((f) => f.getName() !== "network")) problem(file, at(ins), "RUN --mount (or another RUN flag) needs BuildKit; the classic builder must build this too");
    if (/<<-?\s*["']?[A-Z]+/.test(args(ins)) && ["RUN", "COPY"].includes(kw(ins))) problem(file, at(ins), "heredocs need BuildKit's Dockerfile 1.4 frontend");
    if (kw(ins) === "ADD" && /https?:\/\//.test(args(ins))) problem(file, at(ins), "ADD of a URL: download through images/install-tool, which checks a SHA-256");
    if (kw(ins) === "RUN" && /\b(curl|wget)\s+["']?(-|https?:|ftp:|\$)/.test(args(ins))) problem(file, at(ins), "curl/wget in RUN: download through images/install-tool, which checks a SHA-256");
    if (kw(ins) === "RUN" && /\bnpm\s+(install|i|add)\b/.test(args(ins))) problem(file, at(ins), "npm install resolves versions at build time: use npm ci with a lockfile");
    if (kw(ins) === "RUN" && /\bnpm\s+ci\b/.test(args(ins))) {
      // The lockfile must be COPYed into the directory npm ci runs in.
      const copies = all.filter((c) => kw(c) === "COPY" && /package-lock\.json/.test(args(c)));
      if (copies.length === 0) problem(file, at(ins), "npm ci without a COPYed package-lock.json");
      for (const c of copies) {
        for (const src of args(c).split(/\s+/).filter((s) => s.endsWith("package-lock.json"))) checkLockfile(file, at(c), path.join(root, src));
      }
    }
    if (kw(ins) === "RUN" && args(ins).includes("install-tool")) {
      const m = args(ins).match(/install-tool((?:\s+[a-z0-9-]+)+)/);
      const names = m ? m[1].trim().split(/\s+/) : [];
      if (names.length === 0) problem(file, at(ins), "install-tool without tool names");
      for (const n of names) {
        if (!manifest.has(n)) problem(file, at(ins), `install-tool ${n}: no line in images/tools.manifest`);
        else if (!manifest.get(n).some((t) => t.arch === "amd64" || t.arch === "all")) problem(file, at(ins), `install-tool ${n}: no amd64 line in images/tools.manifest`);
      }
      if (!/SKIP_EXTERNAL_DOWNLOADS=/.test(args(ins))) problem(file, at(ins), "install-tool without SKIP_EXTERNAL_DOWNLOADS passed through");
      const declared = all.some((a) => kw(a) === "ARG" && /^SKIP_EXTERNAL_DOWNLOADS(=|$)/.test(args(a)) && at(a) < at(ins));
      if (!declared) problem(file, at(ins), "install-tool before ARG SKIP_EXTERNAL_DOWNLOADS");
    }
  }

  const one = (keyword) => {
    const found = final.filter((i) => kw(i) === keyword);
    if (found.length === 0) problem(file, at(lastFrom), `final stage has no ${keyword}`);
    if (found.length > 1) problem(file, at(found[1]), `final stage has ${found.length} ${keyword} instructions`);
    return found[found.length - 1];
  };
  const entry = one("ENTRYPOINT");
  if (entry) {
    const v = jsonArray(args(entry));
    if (!v) problem(file, at(entry), "ENTRYPOINT must be in exec form (a JSON array): shell form puts sh, not tazpod, at PID 1");
    else if (v[0] !== "tazpod" || v[1] !== "init") problem(file, at(entry), `ENTRYPOINT must run tazpod init, not ${v.join(" ")}`);
  }
  const health = one("HEALTHCHECK");
  if (health) {
    const m = args(health).match(/\bCMD\s+(.*)$/s);
    const v = m && jsonArray(m[1].trim());
    if (!v || v[0] !== "tazpod" || v[1] !== "health") problem(file, at(health), 'HEALTHCHECK must be CMD ["tazpod", "health"] in exec form');
  }
  const stop = one("STOPSIGNAL");
  if (stop && args(stop).trim() !== "SIGTERM") problem(file, at(stop), "STOPSIGNAL must be SIGTERM");
  const cmd = final.filter((i) => kw(i) === "CMD");
  for (const c of cmd) if (!jsonArray(args(c))) problem(file, at(c), "CMD must be in exec form");
  for (const u of all.filter((i) => kw(i) === "USER")) problem(file, at(u), "no USER: logins start as root and tazpod login drops to the user");

  // The dotfiles: ARG CACHEBUST, a RUN that uses it, the COPY of dotfiles/,
  // and no build step after that COPY.
  const steps = final.filter((i) => ["RUN", "COPY", "ADD"].includes(kw(i)));
  const dotCopy = steps.filter((i) => kw(i) === "COPY" && /(^|\s)\.?\/?dotfiles\/?(\s|$)/.test(args(i)));
  if (dotCopy.length !== 1) { problem(file, at(lastFrom), `final stage must COPY dotfiles/ once, found ${dotCopy.length}`); return; }
  const copy = dotCopy[0];
  if (steps[steps.length - 1] !== copy) problem(file, at(copy), "the dotfiles COPY must be the last build step (so CACHEBUST rebuilds only it)");
  const bust = final.filter((i) => kw(i) === "ARG" && /^CACHEBUST(=|$)/.test(args(i).trim()));
  if (bust.length !== 1) { problem(file, at(copy), `final stage must declare ARG CACHEBUST once, found ${bust.length}`); return; }
  if (at(bust[0]) > at(copy)) { problem(file, at(bust[0]), "ARG CACHEBUST must come before the dotfiles COPY"); return; }
  const between = steps.filter((i) => at(i) > at(bust[0]) && at(i) < at(copy));
  const uses = between.filter((i) => kw(i) === "RUN" && /\$\{?CACHEBUST\b/.test(args(i)));
  if (uses.length === 0) problem(file, at(bust[0]), "no RUN uses $CACHEBUST before the dotfiles COPY: a new value would not rebuild it");
  if (between.length !== uses.length) problem(file, at(bust[0]), "only the CACHEBUST RUN may come between ARG CACHEBUST and the dotfiles COPY");
}

const root = process.cwd();
const manifest = readManifest(path.join(root, "images/tools.manifest"));
const installer = fs.readFileSync(path.join(root, INSTALLER), "utf8");
if (!/sha256sum -c/.test(installer)) problem(INSTALLER, 1, "does not check downloads with sha256sum -c");
for (const f of files) checkDockerfile(f, root, manifest);
if (problems > 0) {
  console.log(`${problems} problem(s)`);
  process.exit(1);
}
console.log(`${files.length} Dockerfile(s) checked: no problem`);
