// Times fhirpath.js on the workload exported by `go test ./bench/fhirpath -export DIR`:
// for each resource, every constraint of its type's base definition at every
// element on the constraint's path. Prints one JSON line.
'use strict';
const fs = require('fs');
const path = require('path');
const fhirpath = require('fhirpath');
const r4 = require('fhirpath/fhir-context/r4');

const dir = process.argv[2];
const passes = Number(process.argv[3] || 5);
const plan = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8'));
const resources = JSON.parse(fs.readFileSync(path.join(dir, 'resources.json'), 'utf8'));

const compiled = {};
let compileErrors = 0;
for (const [type, list] of Object.entries(plan)) {
  compiled[type] = list.map((pc) => ({
    segments: pc.path.split('.').slice(1),
    fns: pc.constraints.map((c) => {
      try {
        return fhirpath.compile({ base: pc.path, expression: c.expression }, r4, { traceFn: () => {} });
      } catch (e) {
        compileErrors++;
        return null;
      }
    }),
  }));
}

function children(values, seg) {
  const out = [];
  const choice = seg.endsWith('[x]');
  const name = choice ? seg.slice(0, -3) : seg;
  for (const v of values) {
    if (v === null || typeof v !== 'object') continue;
    const keys = choice ? Object.keys(v).filter((k) => k.startsWith(name) && k.length > name.length && k[name.length] >= 'A' && k[name.length] <= 'Z') : [name];
    for (const k of keys) {
      const c = v[k];
      if (c === undefined) continue;
      if (Array.isArray(c)) out.push(...c);
      else out.push(c);
    }
  }
  return out;
}

let evaluations = 0;
let errors = 0;
function check(res) {
  const list = compiled[res.resourceType] || [];
  for (const pc of list) {
    let nodes = [res];
    for (const seg of pc.segments) nodes = children(nodes, seg);
    for (const node of nodes) {
      for (const fn of pc.fns) {
        evaluations++;
        if (fn === null) { errors++; continue; }
        try {
          fn(node, { resource: res, rootResource: res });
        } catch (e) {
          errors++;
        }
      }
    }
  }
}

for (const r of resources) check(r);
const perPass = evaluations;
const errorsPerPass = errors;
let best = Infinity;
let bestCPU = Infinity;
for (let p = 0; p < passes; p++) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const r of resources) check(r);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  best = Math.min(best, secs);
  bestCPU = Math.min(bestCPU, (used.user + used.system) / 1e6);
}
console.log(JSON.stringify({
  engine: 'fhirpath.js ' + require('fhirpath/package.json').version,
  resources: resources.length,
  resources_per_sec: Math.round(resources.length / best),
  resources_per_cpu_sec: Math.round(resources.length / bestCPU),
  evaluations_per_pass: perPass,
  errors_per_pass: errorsPerPass,
  compile_errors: compileErrors,
}));
