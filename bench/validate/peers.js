// Times @medplum/core validateResource and FHIR.js validate on the resources
// exported by `go test ./bench/validate -export DIR`, best of N passes each.
// Prints one JSON line per peer.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
const passes = Number(process.argv[3] || 5);
const resources = JSON.parse(fs.readFileSync(path.join(dir, 'resources.json'), 'utf8'));

function version(pkg) {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

function time(name, validate) {
  let best = Infinity;
  let bestCPU = Infinity;
  let invalid = 0;
  for (let p = 0; p < passes; p++) {
    invalid = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const r of resources) {
      if (!validate(r)) invalid++;
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    best = Math.min(best, wall);
    bestCPU = Math.min(bestCPU, (cpu.user + cpu.system) / 1e6);
  }
  console.log(JSON.stringify({
    peer: name,
    resources: resources.length,
    resources_per_sec: Math.round(resources.length / best),
    resources_per_cpu_sec: Math.round(resources.length / bestCPU),
    flagged_invalid: invalid,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
}

const which = process.argv[4] || 'all';
if (which === 'all' || which === 'medplum') {
  const medplum = require('@medplum/core');
  const sds = JSON.parse(fs.readFileSync(path.join(dir, 'structuredefinitions.json'), 'utf8'));
  medplum.indexStructureDefinitionBundle(sds);
  time('@medplum/core ' + version('@medplum/core'), (r) => {
    try {
      const issues = medplum.validateResource(r);
      return !(issues || []).some((i) => i.severity === 'error' || i.severity === 'fatal');
    } catch (e) {
      return false;
    }
  });
}
if (which === 'all' || which === 'fhir') {
  const { Fhir } = require('fhir');
  const fhir = new Fhir();
  time('fhir (FHIR.js) ' + version('fhir'), (r) => {
    try {
      return fhir.validate(r).valid;
    } catch (e) {
      return false;
    }
  });
}
