/**
 * The crash matrix of `rotateCredentials` on the PowerDNS backend: a real `pdns_server` (its HTTP API
 * through the harness as the `powerdns` port), the memory secret store and memory clusters (through the
 * harness too). The uninterrupted rotation's writes are recorded; then, for every crash mode and every
 * write k, a fresh platform is set up, the rotation crashes right after write k, a new zonekeeper (the
 * restarted process) runs it again, and the end state must equal the uninterrupted one's.
 *
 * Watched after every single write, in every case: each cluster's running ExternalDNS (the key name
 * and secret its pods started with: they change only when the Deployment rolls) holds a key that is on
 * the server with that secret and allowed by the zone's `TSIG-ALLOW-DNSUPDATE`. At the end: signed
 * updates with the stored key pass, with the old key and another organisation's key fail; the foreign
 * keys are still on the server; no secret in any log line, error or result.
 */

import { createManualClock, type ManualClock } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { nsupdate, type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore, readTsigKey, type SecretStore } from '@zonekeeper/vault-keys';
import {
  createPowerDnsAdmin,
  createPowerDnsHttpApi,
  createPowerDnsProvider,
  type PowerDnsAdmin,
  type PowerDnsApi,
  tsigKeyNamesForZone,
  tsigSecretFingerprint,
} from '@zonekeeper/zone-manager/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everythingIn } from '../memory.test.support.js';
import { createZonekeeper, type Zonekeeper } from '../zonekeeper.js';
import {
  CRASH_MODES,
  type CrashMode,
  Harness,
  PORT_METHODS,
  type WriteCall,
} from './harness.test.support.js';
import { recordingLogger, report } from './matrix.test.support.js';

const LOCK_TTL_MS = 60_000;
const CLUSTERS = ['c1', 'c2'] as const;

let pdns: PowerDnsServer;
let api: PowerDnsApi;
let admin: PowerDnsAdmin;
let platforms = 0;
const secrets = new Set<string>();
const lines: string[] = [];
const texts: { where: string; text: string }[] = [];

beforeAll(async () => {
  pdns = await startPowerDns();
  api = createPowerDnsHttpApi({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey });
  admin = createPowerDnsAdmin(api);
});
afterAll(() => pdns?.stop());

interface Platform {
  readonly base: string;
  readonly zone: string;
  readonly clock: ManualClock;
  readonly store: SecretStore;
  readonly clusters: Map<string, MemoryCluster>;
  make(harness?: Harness): Zonekeeper;
}

/** A platform on a parent zone of its own: acme with two clusters, globex, and an operator's key. */
async function setupPlatform(): Promise<Platform> {
  platforms += 1;
  const base = `p${platforms}.crash.test`;
  await createPowerDnsProvider({ api, nameServers: ['ns1.pdns.test'] }).createZone({
    name: base,
    callerReference: `parent-${base}`,
  });
  const clock = createManualClock(new Date(Math.ceil(Date.now() / 1000) * 1000), { autoAdvance: true });
  const store = createMemorySecretStore({ clock });
  const clusters = new Map<string, MemoryCluster>();
  const cluster = (id: string) => {
    let c = clusters.get(id);
    if (!c) {
      c = createMemoryCluster({ name: id, clock });
      clusters.set(id, c);
    }
    return c;
  };
  const logger = recordingLogger(lines);
  const make = (harness?: Harness) =>
    createZonekeeper({
      baseDomain: base,
      clock,
      logger,
      secrets: harness ? harness.wrap(store, 'secrets') : store,
      clusters: (id: string) => (harness ? harness.wrap(cluster(id), 'cluster', id) : cluster(id)),
      powerdns: {
        api: harness ? harness.wrap(api, 'powerdns') : api,
        nameServers: ['ns1.pdns.test'],
        dnsUpdate: { host: '127.0.0.1', port: pdns.dnsPort },
        updateSources: ['127.0.0.1/32'],
      },
    });
  const zk = make();
  for (const id of CLUSTERS) await zk.attachCluster('acme', { clusterId: id });
  await zk.ensureOrganization('globex');
  await admin.createTsigKey({ name: `ops-admin.${base}` });
  for (const org of ['acme', 'globex']) {
    const k = await readTsigKey(store, { organization: org }, zk.secretLayout);
    if (k) secrets.add(k.secret);
  }
  return { base, zone: `acme.${base}`, clock, store, clusters, make };
}

/** What a cluster's ExternalDNS runs: the key name of its Deployment and the secret its pods started with. */
interface Running {
  readonly template: string;
  readonly name: string;
  readonly secret: string;
}

function deploymentOf(c: MemoryCluster) {
  return c.objects('Deployment').find((o) => o.metadata.name === 'external-dns') as
    | { spec: { template: { metadata?: unknown; spec: { containers: { args: string[] }[] } } } }
    | undefined;
}

function secretOf(c: MemoryCluster, key = 'tsig-secret'): string {
  const s = c.objects('Secret').find((o) => o.metadata.name === 'external-dns-rfc2136-tsig');
  const data = (s?.data ?? {}) as Record<string, string>;
  return Buffer.from(data[key] ?? '', 'base64').toString('utf8');
}

/**
 * The running key of a cluster: what its pods started with. They start again only when the Deployment's
 * pod template changed (a rollout), and then read the key name and the secret from the Secret as it is.
 */
function roll(c: MemoryCluster, before: Running | undefined): Running {
  const d = deploymentOf(c);
  const template = JSON.stringify(d?.spec.template ?? null);
  if (before && before.template === template) return before;
  return { template, name: secretOf(c, 'tsig-keyname'), secret: secretOf(c) };
}

/** What a pod that (re)starts right now would run: the Secret as it is. */
function restarted(c: MemoryCluster): Running {
  return { template: '', name: secretOf(c, 'tsig-keyname'), secret: secretOf(c) };
}

/** The problems of the running keys right now (none: every running ExternalDNS can sign updates). */
async function runningKeyProblems(p: Platform, running: Map<string, Running>): Promise<string[]> {
  const out: string[] = [];
  const allowed = await admin.getZoneUpdateKeys(p.zone);
  for (const id of CLUSTERS) {
    const c = p.clusters.get(id);
    if (!c) continue;
    const r = roll(c, running.get(id));
    running.set(id, r);
    // The pods running, and a pod that would restart now (a crash-looping or rescheduled one).
    for (const [who, k] of [
      ['runs', r],
      ['would restart with', restarted(c)],
    ] as const) {
      const key = k.name ? await admin.getTsigKey(k.name) : undefined;
      if (!key) out.push(`${id} ${who} ${k.name || 'no key'}, which is not on the server`);
      else if (key.secret !== k.secret)
        out.push(`${id} ${who} ${k.name} with another secret than the server's`);
      if (!allowed.includes(k.name))
        out.push(`${id} ${who} ${k.name}, which TSIG-ALLOW-DNSUPDATE does not list`);
    }
  }
  return out;
}

/** The end state, normalised (which of the two names is in use is not compared), and its problems. */
async function endState(p: Platform) {
  const layout = p.make().secretLayout;
  const stored = await readTsigKey(p.store, { organization: 'acme' }, layout);
  const globex = await readTsigKey(p.store, { organization: 'globex' }, layout);
  if (stored) secrets.add(stored.secret);
  const names = tsigKeyNamesForZone(p.zone);
  const onServer = [];
  for (const n of names) {
    const k = await admin.getTsigKey(n);
    if (k) onServer.push(n === stored?.name && k.secret === stored.secret ? 'stored' : 'other');
  }
  const normalised = {
    stored: stored
      ? { slot: names.indexOf(stored.name as never) >= 0, rotating: stored.previousName !== undefined }
      : null,
    onServer,
    updateKeysAreStored:
      JSON.stringify(await admin.getZoneUpdateKeys(p.zone)) === JSON.stringify([stored?.name]),
    clusters: CLUSTERS.map((id) => {
      const c = p.clusters.get(id) as MemoryCluster;
      return {
        secretIsStored: secretOf(c) === stored?.secret,
        keyNameIsStored: secretOf(c, 'tsig-keyname') === stored?.name,
      };
    }),
    foreign: {
      ops: (await admin.getTsigKey(`ops-admin.${p.base}`)) !== undefined,
      globexOnServer: globex !== undefined && (await admin.getTsigKey(globex.name))?.secret === globex.secret,
    },
  };
  return { normalised, stored, globex };
}

interface CaseResult {
  readonly writes: readonly WriteCall[];
  readonly fired?: WriteCall;
  readonly normalised: unknown;
  readonly problems: string[];
}

async function runCase(crash?: { readonly at: number; readonly mode: CrashMode }): Promise<CaseResult> {
  const p = await setupPlatform();
  const old = await readTsigKey(p.store, { organization: 'acme' }, p.make().secretLayout);
  const running = new Map<string, Running>();
  const problems = await runningKeyProblems(p, running);
  const afterWrite = async (call: WriteCall) => {
    for (const x of await runningKeyProblems(p, running))
      problems.push(`after write ${call.index} (${call.port}.${call.method}): ${x}`);
  };
  const harness = new Harness({ afterWrite });
  if (crash) harness.arm(crash.at, crash.mode);
  try {
    const r = await p
      .make(harness)
      .rotateCredentials('acme', crash?.mode === 'abort' ? { signal: harness.signal } : {});
    texts.push({ where: 'result', text: everythingIn(r) });
  } catch (error) {
    texts.push({ where: 'error', text: everythingIn(error) });
    if (!crash) problems.push(`the uninterrupted rotation failed: ${(error as Error).message}`);
  }
  if (crash) {
    await p.clock.advance(LOCK_TTL_MS);
    try {
      const r = await p.make(new Harness({ afterWrite })).rotateCredentials('acme');
      texts.push({ where: 're-run result', text: everythingIn(r) });
    } catch (error) {
      texts.push({ where: 're-run error', text: everythingIn(error) });
      problems.push(`the re-run failed: ${(error as Error).message}`);
    }
  }
  const { normalised, stored, globex } = await endState(p);
  if (!stored || !globex || !old) problems.push('a stored key is missing');
  else {
    const sign = (zone: string, key: { name: string; secret: string }, name: string) =>
      nsupdate({ port: pdns.dnsPort }, { zone, key, updates: [`add ${name} 60 TXT "crash"`] });
    if ((await sign(p.zone, stored, `now.${p.zone}`)).rcode !== 'NOERROR')
      problems.push('the stored key cannot update the zone');
    if (old.secret !== stored.secret && (await sign(p.zone, old, `old.${p.zone}`)).ok)
      problems.push('the old key still updates the zone');
    if ((await sign(p.zone, globex, `globex.${p.zone}`)).ok)
      problems.push("globex's key updates acme's zone");
  }
  // Converged: an ensure afterwards has nothing to do for the key.
  const warm = await p.make().ensureOrganization('acme');
  if ((warm.plans.tsigKey ?? []).length > 0)
    problems.push(`an ensure afterwards still plans ${JSON.stringify(warm.plans.tsigKey)}`);
  return {
    writes: harness.writes,
    ...(harness.fired ? { fired: harness.fired } : {}),
    normalised,
    problems,
  };
}

describe('crash matrix of rotateCredentials on PowerDNS', { timeout: 900_000 }, () => {
  it('the harness knows every method of the PowerDNS API client', () => {
    const methods = Object.entries(api).flatMap(([k, v]) => (typeof v === 'function' ? [k] : []));
    expect(methods.length).toBeGreaterThan(10);
    for (const m of methods) expect(PORT_METHODS.powerdns.all.has(m), m).toBe(true);
  });

  it('a crash after every write, in every mode, then a re-run: converges, and a running ExternalDNS always has a valid key', async () => {
    const reference = await runCase();
    expect(reference.problems).toEqual([]);
    const kinds = new Set(reference.writes.map((w) => w.port));
    // Every port of the sequence is a crash point: the server, the store and the clusters.
    expect([...kinds].sort()).toEqual(['cluster', 'powerdns', 'secrets']);
    expect(reference.writes.filter((w) => w.port === 'powerdns').length).toBeGreaterThanOrEqual(4);
    const expected = JSON.stringify(reference.normalised);
    const failures: string[] = [];
    let cases = 0;
    for (const mode of CRASH_MODES) {
      for (const write of reference.writes) {
        const where = `${mode} after write ${write.index} (${write.port}.${write.method}@${write.target})`;
        const c = await runCase({ at: write.index, mode });
        cases += 1;
        const problems = [...c.problems];
        if (!c.fired) problems.push('the crash was never injected');
        else if (c.fired.port !== write.port || c.fired.method !== write.method)
          problems.push(`the crash hit ${c.fired.port}.${c.fired.method} instead`);
        if (JSON.stringify(c.normalised) !== expected)
          problems.push(`the end state differs: ${JSON.stringify(c.normalised)} vs ${expected}`);
        if (problems.length > 0) failures.push(`${where}:\n  ${problems.join('\n  ')}`);
      }
    }
    report({
      suite: 'crash',
      backend: 'PowerDNS + memory store + memory clusters',
      scenario: 'rotateCredentials (TSIG)',
      crashPoints: reference.writes.length,
      writes: reference.writes.map((w) => `${w.port}.${w.method}`),
      cases,
      survived: cases - failures.length,
    });
    expect(failures).toEqual([]);
    expect(cases).toBe(reference.writes.length * CRASH_MODES.length);
  });

  it('no log line, error or result holds a TSIG secret', () => {
    expect(secrets.size).toBeGreaterThan(10);
    expect(lines.length).toBeGreaterThan(50);
    const leaks: string[] = [];
    for (const s of secrets) {
      for (const [i, l] of lines.entries()) if (l.includes(s)) leaks.push(`log line ${i + 1}`);
      for (const t of texts) if (t.text.includes(s)) leaks.push(t.where);
      const fp = tsigSecretFingerprint(s);
      for (const t of texts) if (t.text.includes(fp)) leaks.push(`${t.where} (a fingerprint)`);
    }
    expect(leaks).toEqual([]);
  });
});
