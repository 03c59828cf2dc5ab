/**
 * The PowerDNS backend's key rotated while the real ExternalDNS runs. `rotateCredentials` stores a new
 * TSIG key under the organisation's other name (`zonekeeper-update-b.<zone>`), creates it on the
 * server, allows both, applies the new Secret and Deployment (the pod rolls: `strategy: Recreate`), then
 * disallows and deletes the old key. The long-running "pod" is restarted from the new template the way
 * the kubelet would; its first loop writes over RFC 2136 with the new key and `dig` resolves the record.
 * A pod that had not rolled is locked out: the server no longer has the old key.
 */

import type { KubernetesObject } from '@zonekeeper/core';
import { dig, type NsupdateKey, nsupdate } from '@zonekeeper/testkit/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExternalDnsPod, runSavedPodOnce, startExternalDnsPod } from '../external-dns/pod.js';
import { ACME, GLOBEX, type PowerDnsWorld, REF, startPowerDnsWorld } from '../powerdns-world.js';
import { errorLines } from '../world.js';

const LB_IP = '192.0.2.30';
/** The rfc2136 provider's line for a record it sends (it logs no end-of-loop line). */
const adding = (name: string) => (l: string) => l.includes(`Adding RR: ${name} `);

/** The TSIG key name in an rfc2136 Secret. */
const keyNameIn = (secret: KubernetesObject) =>
  Buffer.from(
    (secret as { data?: Record<string, string> }).data?.['tsig-keyname'] ?? '',
    'base64',
  ).toString();

let w: PowerDnsWorld;
let pod: ExternalDnsPod | undefined;
const zk = () => {
  if (!w.zk) throw new Error('the world was not built by the facade');
  return w.zk;
};

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, ms = 45_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  w = await startPowerDnsWorld({ via: 'facade' });
});

afterAll(async () => {
  await pod?.stop();
  await w?.stop();
});

describe('rotateCredentials on PowerDNS while the real ExternalDNS runs', { timeout: 180_000 }, () => {
  let oldDeployment: KubernetesObject;
  let oldSecret: KubernetesObject;

  it('publishes with the first key', async () => {
    await w.service('before', `before.${ACME}`, LB_IP);
    pod = await startExternalDnsPod({ cluster: w.cluster }, REF);
    await pod.waitForLine(adding(`before.${ACME}`));
    const answer = await until(
      () => dig(w.server(), `before.${ACME}`, 'A'),
      (a) => a.status === 'NOERROR',
      'the first record',
    );
    expect(answer.values).toEqual([LB_IP]);
    oldDeployment = w.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', ...REF }) as KubernetesObject;
    oldSecret = w.cluster.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: REF.namespace,
      name: 'external-dns-rfc2136-tsig',
    }) as KubernetesObject;
    expect(keyNameIn(oldSecret)).toBe(`zonekeeper-update.${ACME}`);
  });

  it('rolls the pod on rotation; its first loop writes with the new key, and dig resolves the record', async () => {
    const live = pod as ExternalDnsPod;
    // Created before the rotation: the old process (1-minute interval) has not seen it; the new one
    // publishes it in its first loop.
    await w.service('after', `after.${ACME}`, LB_IP);
    const r = await zk().rotateCredentials('acme');
    expect(r.tsigKey).toMatchObject({
      outcome: 'rotated',
      keyName: `zonekeeper-update-b.${ACME}`,
      previousKeyName: `zonekeeper-update.${ACME}`,
      clustersUpdated: ['acme-prod'],
    });
    await until(
      async () => live.generations,
      (g) => g.length === 2,
      'the pod restart after the rotation',
    );
    const answer = await until(
      () => dig(w.server(), `after.${ACME}`, 'A'),
      (a) => a.status === 'NOERROR',
      'the record published after the rotation',
    );
    expect(answer.values).toEqual([LB_IP]);
    await live.waitForLine(adding(`after.${ACME}`));
    const second = live.generations[1];
    expect(second?.lines.some(adding(`after.${ACME}`))).toBe(true);
    expect(errorLines({ lines: second?.lines ?? [] })).toEqual([]);
    const secret = w.cluster.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: REF.namespace,
      name: 'external-dns-rfc2136-tsig',
    }) as KubernetesObject;
    expect(keyNameIn(secret)).toBe(`zonekeeper-update-b.${ACME}`);
    expect(second?.lines.join('\n')).toContain(`RFC2136TSIGKeyName:zonekeeper-update-b.${ACME}`);
    const old = w.keys[ACME] as NsupdateKey;
    for (const g of live.generations) expect(g.lines.join('\n')).not.toContain(old.secret);
    expect(await w.admin.getTsigKey(`zonekeeper-update.${ACME}`)).toBeUndefined();
  });

  it('locks out a pod that did not roll; the old key and globex’s key sign nothing in acme’s zone', async () => {
    await pod?.stop();
    pod = undefined;
    await w.service('late', `late.${ACME}`, LB_IP);
    const run = await runSavedPodOnce({ cluster: w.cluster }, oldDeployment, [oldSecret]);
    expect(run.lines.join('\n')).not.toContain((w.keys[ACME] as NsupdateKey).secret);
    expect((await dig(w.server(), `late.${ACME}`, 'A')).status).toBe('NXDOMAIN');
    for (const key of [w.keys[ACME], w.keys[GLOBEX]] as NsupdateKey[]) {
      const refused = await nsupdate(w.server(), {
        zone: ACME,
        key,
        updates: [`add evil.${ACME} 60 A 203.0.113.66`],
      });
      expect(refused.ok).toBe(false);
    }
    expect((await dig(w.server(), `evil.${ACME}`, 'A')).status).toBe('NXDOMAIN');
  });
});
