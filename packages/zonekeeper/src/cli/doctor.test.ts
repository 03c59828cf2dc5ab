/**
 * `zonekeeper doctor` and `zonekeeper gc run --watch` in-process, on memory ports injected as the
 * command's deps: exit codes, views, masking, flag validation, and the watch loop stopped by a SIGTERM
 * abort (exit 0, the Lease released).
 */

import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { describe, expect, it } from 'vitest';
import { createMemoryInventory } from '../inventory.js';
import { createZonekeeper } from '../zonekeeper.js';
import { json, run } from './cli.test.support.js';
import { parseDuration } from './commands/gc.js';
import { runCli } from './program.js';

const BASE = ['--base-domain', 'example.com'];

async function platform() {
  const inventory = createMemoryInventory([{ organization: 'acme', clusterId: 'c1', running: true }]);
  const zk = createZonekeeper({ baseDomain: 'example.com', inventory });
  await zk.attachCluster('acme', { clusterId: 'c1' });
  const deps = {
    dns: zk.ports.dns,
    identity: zk.ports.identity,
    secrets: zk.ports.secrets,
    clusters: zk.ports.cluster,
    inventory,
  };
  return { zk, inventory, deps };
}

describe('zonekeeper doctor', () => {
  it('a healthy fleet: exit 0, "No findings"; a leaked key: exit 5, the finding with its fix, masked', async () => {
    const { zk, deps } = await platform();
    const ok = await run(['doctor', ...BASE], {}, { deps });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('No findings');
    expect(ok.stdout).toContain('1 organisation(s): acme');

    const acme = await zk.ensureOrganization('acme');
    const leaked = await zk.ports.identity.createAccessKey(acme.userName as string);
    const bad = await run(['doctor', ...BASE, '--json'], {}, { deps });
    expect(bad.code).toBe(5);
    const doc = json(bad);
    expect(doc).toMatchObject({ ok: false, command: 'doctor', exitCode: 5 });
    expect(doc.result.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        reason: 'key-unknown-to-store',
        organization: 'acme',
        fix: 'zonekeeper org ensure acme',
      }),
    ]);
    expect(doc.result.summary).toEqual({ error: 1, warning: 0, info: 0 });
    const text = await run(['doctor', ...BASE, '--org', 'acme'], {}, { deps });
    expect(text.code).toBe(5);
    expect(text.stdout).toMatch(/key-unknown-to-store[\s\S]*run 'zonekeeper org ensure acme'/);
    for (const r of [bad, text]) {
      expect(r.stdout + r.stderr).not.toContain(leaked.accessKeyId);
      expect(r.stdout + r.stderr).not.toContain(leaked.secretAccessKey);
      expect(r.stdout).toContain(leaked.accessKeyId.slice(-4));
    }
    // The fix it names works, and doctor is happy again.
    expect((await run(['org', 'ensure', 'acme', ...BASE], {}, { deps })).code).toBe(0);
    expect((await run(['doctor', ...BASE], {}, { deps })).code).toBe(0);
  });

  it('refuses bad input before reading anything (exit 2)', async () => {
    const { deps } = await platform();
    expect((await run(['doctor', ...BASE, '--org', 'Not_Valid'], {}, { deps })).code).toBe(2);
    expect((await run(['doctor', ...BASE, '--now', 'yesterday'], {}, { deps })).code).toBe(2);
  });
});

describe('zonekeeper gc run --watch', () => {
  it('parses durations', () => {
    expect(parseDuration('1500ms', 'x')).toBe(1500);
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('2.5s', 'x')).toBe(2500);
    for (const bad of ['', '10', '5 min', '-1s', '1d'])
      expect(() => parseDuration(bad, 'x'), bad).toThrow(/not a duration/);
    expect(() => parseDuration('500ms', '--interval', 1000)).toThrow(/at least 1000 ms/);
  });

  it('refuses watch flags without --watch, and --watch with --dry-run, --now or half a Lease (exit 2)', async () => {
    const { deps } = await platform();
    for (const argv of [
      ['gc', 'run', '--interval', '10s'],
      ['gc', 'run', '--lease-cluster', 'c1', '--lease-namespace', 'default'],
      ['gc', 'run', '--watch', '--dry-run'],
      ['gc', 'run', '--watch', '--now', '2026-03-01'],
      ['gc', 'run', '--watch', '--lease-namespace', 'default'],
      ['gc', 'run', '--watch', '--lease-cluster', 'c1'],
      ['gc', 'run', '--watch', '--interval', 'soon'],
      ['gc', 'run', '--watch', '--interval', '10ms'],
    ]) {
      const r = await run([...argv, ...BASE], {}, { deps });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/INVALID_INPUT/);
    }
  });

  it('collects in passes while holding the Lease; a SIGTERM abort releases it and exits 0, SIGINT 130', async () => {
    const { deps } = await platform();
    const leaseCluster = createMemoryCluster({ name: 'ops' });
    await leaseCluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'zonekeeper' } });
    const clusters = async (id: string) => (id === 'ops' ? leaseCluster : deps.clusters(id));
    const lease = async () =>
      (
        (await leaseCluster.get({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          namespace: 'zonekeeper',
          name: 'zonekeeper-gc',
        })) as { spec?: { holderIdentity?: string | null } } | undefined
      )?.spec;
    for (const [signal, code] of [
      ['SIGTERM', 0],
      ['SIGINT', 130],
    ] as const) {
      const controller = new AbortController();
      let stderr = '';
      let stdout = '';
      const passes = () => (stderr.match(/gc pass \d+ at /g) ?? []).length;
      const running = runCli(
        [
          'gc',
          'run',
          '--watch',
          '--interval',
          '1s',
          '--lease-cluster',
          'ops',
          '--lease-namespace',
          'zonekeeper',
          '--lease-identity',
          'replica-a',
          '--json',
          ...BASE,
        ],
        {
          env: {},
          stdout: { write: (t: string) => (stdout += t) },
          stderr: { write: (t: string) => (stderr += t) },
          deps: { ...deps, clusters },
          signal: controller.signal,
        },
      );
      // Wait for two passes (the interval is 1 s: this is the loop's own schedule, not an assertion on time).
      for (let i = 0; i < 400 && passes() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(passes(), stderr).toBeGreaterThanOrEqual(2);
      const holderDuringRun = (await lease())?.holderIdentity;
      controller.abort(Object.assign(new DOMException(`by ${signal}`, 'AbortError'), { signal }));
      const exit = await running;
      expect(exit, stderr).toBe(code);
      expect(holderDuringRun).toBe('replica-a');
      expect((await lease())?.holderIdentity ?? null).toBeNull();
      // --json streams: one JSON line per pass as it happens, then the final document on one line.
      const lines = stdout.trimEnd().split('\n');
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const doc = entries.at(-1) as { exitCode: number; result: { passes: number; stoppedBy: string } };
      expect(doc.exitCode).toBe(code);
      expect(doc.result.stoppedBy).toBe(signal);
      expect(doc.result.passes).toBeGreaterThanOrEqual(2);
      const events = entries.slice(0, -1) as {
        event: string;
        pass: number;
        ok: boolean;
        result: { zones: { organization: string }[]; dryRun: boolean };
      }[];
      expect(events.map((e) => [e.event, e.pass, e.ok])).toEqual(
        Array.from({ length: doc.result.passes }, (_, i) => ['gc-pass', i + 1, true]),
      );
      expect(events[0]?.result.dryRun).toBe(false);
      expect(events[0]?.result.zones.map((z) => z.organization)).toEqual(['acme']);
    }
  });

  it('SIGTERM in the middle of a pass aborts it cleanly: nothing half-deleted, no lock left held, exit 0', async () => {
    const inventory = createMemoryInventory([{ organization: 'acme', clusterId: 'c1', running: true }]);
    const zk = createZonekeeper({ baseDomain: 'example.com', inventory });
    await zk.attachCluster('acme', { clusterId: 'c1' });
    await zk.ensureOrganization('globex'); // unused and fresh: the collector deletes it now
    let reads = 0;
    let hanging: () => void = () => {};
    const hung = new Promise<void>((resolve) => (hanging = resolve));
    const slow = {
      async listClusters(options: { signal?: AbortSignal } = {}) {
        reads += 1;
        // The second read is the re-check right before deleting globex's zone, under its lock.
        if (reads === 2) {
          hanging();
          await new Promise((_, reject) =>
            options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true }),
          );
        }
        return inventory.listClusters(options);
      },
    };
    const controller = new AbortController();
    let stderr = '';
    let stdout = '';
    const running = runCli(['gc', 'run', '--watch', '--interval', '1s', '--json', ...BASE], {
      env: {},
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      deps: {
        dns: zk.ports.dns,
        identity: zk.ports.identity,
        secrets: zk.ports.secrets,
        clusters: zk.ports.cluster,
        inventory: slow,
      },
      signal: controller.signal,
    });
    await hung;
    controller.abort(Object.assign(new DOMException('by SIGTERM', 'AbortError'), { signal: 'SIGTERM' }));
    expect(await running, stderr).toBe(0);
    expect((JSON.parse(stdout) as { result: { passes: number } }).result.passes).toBe(0);
    // The zone is still there, whole, and the organisation's lock is free: a later pass finishes.
    expect(await zk.ports.dns.findZonesByName('globex.example.com')).toHaveLength(1);
    const lock = await zk.ports.secrets.read(`${zk.secretLayout.prefix}/locks/globex`);
    const d = (lock?.data ?? {}) as Record<string, string>;
    expect(Boolean(d.holder) && Date.parse(d.renewedAt ?? '') + Number(d.ttlMs) > Date.now()).toBe(false);
    const next = await zk.collectGarbage();
    expect(next.results.map((r) => [r.organization, r.status])).toEqual([['globex', 'deleted']]);
  });
});
