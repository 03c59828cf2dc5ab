/**
 * The package README: its API example runs (on the memory backend), and its CLI reference names only
 * commands and options the command really has.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMemoryInventory, createZonekeeper } from '../index.js';
import { run } from './cli.test.support.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('API example: ensure, attach with a certificate, rotate, detach, collect — in memory', async () => {
    const inventory = createMemoryInventory();
    const zk = createZonekeeper({ baseDomain: 'example.com', inventory });

    const org = await zk.ensureOrganization('acme');
    expect(org.zone?.name).toBe('acme.example.com');
    expect(org.accessKeyId).toMatch(/^AKIA/);

    inventory.set({ organization: 'acme', clusterId: 'prod-1', running: true });
    const cluster = await zk.ports.cluster('prod-1');
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    const attached = await zk.attachCluster('acme', {
      clusterId: 'prod-1',
      certificates: [{ name: 'web', namespace: 'shop', dnsNames: ['www.acme.example.com'] }],
    });
    expect(attached.externalDns?.rollout).toBeDefined();
    const secret = await cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'shop', name: 'web' });
    expect(secret?.type).toBe('kubernetes.io/tls');

    const rotation = await zk.rotateCredentials('acme');
    expect(rotation.rotations[0]?.newAccessKeyId).not.toBe(org.accessKeyId);

    await zk.detachCluster('acme', 'prod-1');
    inventory.remove('acme', 'prod-1');
    const gc = await zk.collectGarbage();
    expect(gc.results).toEqual([
      expect.objectContaining({
        zoneId: org.zone?.id,
        organization: 'acme',
        status: 'deleted',
        reason: 'deleted',
      }),
    ]);
  });

  it('CLI reference: every command and option it names exists', async () => {
    const helpOf = async (argv: string[]) => {
      const r = await run([...argv, '--help'], {});
      expect(r.code).toBe(0);
      return r.stdout;
    };
    const commands: Record<string, string> = {
      'org ensure': await helpOf(['org', 'ensure']),
      'org list': await helpOf(['org', 'list']),
      'org show': await helpOf(['org', 'show']),
      'org delete': await helpOf(['org', 'delete']),
      'cluster list': await helpOf(['cluster', 'list']),
      'cluster attach': await helpOf(['cluster', 'attach']),
      'cluster detach': await helpOf(['cluster', 'detach']),
      'credentials rotate': await helpOf(['credentials', 'rotate']),
      'gc plan': await helpOf(['gc', 'plan']),
      'gc run': await helpOf(['gc', 'run']),
      'cert issue': await helpOf(['cert', 'issue']),
      doctor: await helpOf(['doctor']),
      'dev up': await helpOf(['dev', 'up']),
      'dev down': await helpOf(['dev', 'down']),
      'dev status': await helpOf(['dev', 'status']),
      'dev env': await helpOf(['dev', 'env']),
    };
    const global = await helpOf([]);
    const all = [global, ...Object.values(commands)].join('\n');
    for (const name of Object.keys(commands)) expect(readme).toContain(`\`${name} `);
    const options = new Set([...readme.matchAll(/`(--[a-z-]+)/g)].map((m) => m[1] as string));
    expect(options.size).toBeGreaterThan(20);
    for (const option of options) expect(all, option).toContain(option);
    // …and the README documents every option of the command.
    for (const option of new Set([...all.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1] as string)))
      if (option !== '--help' && option !== '--version') expect(readme, option).toContain(option);
  });
});
