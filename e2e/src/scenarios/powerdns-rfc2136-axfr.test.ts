/**
 * ExternalDNS with `--rfc2136-axfr` on PowerDNS: with AXFR allowed for the organisation's key only
 * (`TSIG-ALLOW-AXFR`, set by `ensureOrganizationTsigKey({ allowTransfer: true })`, and no address
 * allowed to transfer unsigned), ExternalDNS reads its zone, so it updates a record when the load
 * balancer moves and deletes it when the Service goes (`--policy=sync`). Another organisation's key,
 * and no key at all, cannot transfer the zone.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig, type NsupdateKey } from '@zonekeeper/testkit/powerdns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME, GLOBEX, type PowerDnsWorld, startPowerDnsWorld } from '../powerdns-world.js';
import { errorLines } from '../world.js';

let w: PowerDnsWorld;
let dir: string;

/** A zone transfer with dig, signed with `key` (from a key file, never an argument) or unsigned. */
async function axfr(zone: string, key?: NsupdateKey): Promise<{ ok: boolean; names: string[]; out: string }> {
  const args = [
    '-p',
    String(w.server().port),
    '@127.0.0.1',
    zone,
    'AXFR',
    '+noall',
    '+answer',
    '+time=3',
    '+tries=1',
  ];
  if (key) {
    const file = join(dir, `${key.name}.key`);
    await writeFile(
      file,
      `key "${key.name}" { algorithm ${key.algorithm ?? 'hmac-sha256'}; secret "${key.secret}"; };\n`,
      { mode: 0o600 },
    );
    args.unshift('-k', file);
  }
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('dig', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString();
    });
    child.on('error', (e) =>
      reject(new Error(`dig could not start (${e.message}); apt-get install -y bind9-dnsutils`)),
    );
    child.on('close', () => resolve(text));
  });
  const names = out
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith(';'))
    .map((l) => l.split(/\s+/)[0] as string);
  return {
    ok: !/Transfer failed|communications error|; XFR size: 0/.test(out) && names.length > 0,
    names,
    out,
  };
}

beforeAll(async () => {
  w = await startPowerDnsWorld({
    axfr: true,
    policy: 'sync',
    // Transfers allowed, but from no address unsigned: only TSIG-ALLOW-AXFR keys may transfer.
    settings: { 'disable-axfr': 'no', 'allow-axfr-ips': '' },
  });
  dir = await mkdtemp(join(tmpdir(), 'zk-e2e-axfr-'));
});

afterAll(async () => {
  await w?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ExternalDNS with rfc2136 and AXFR on PowerDNS', { timeout: 120_000 }, () => {
  it("only the organisation's key can transfer its zone", async () => {
    const own = await axfr(ACME, w.keys[ACME]);
    expect(own.ok, own.out).toBe(true);
    expect(own.names).toContain(`${ACME}.`);
    const cross = await axfr(ACME, w.keys[GLOBEX]);
    expect(cross.ok, cross.out).toBe(false);
    const unsigned = await axfr(ACME);
    expect(unsigned.ok, unsigned.out).toBe(false);
  });

  it('creates, then updates the record when the load balancer moves, then deletes it with the Service', async () => {
    await w.service('web', `www.${ACME}`, '192.0.2.10');
    const first = await w.runOnce();
    expect(errorLines(first)).toEqual([]);
    expect(first.lines.some((l) => l.includes('cannot list existing records'))).toBe(false);
    expect((await dig(w.server(), `www.${ACME}`, 'A')).values).toEqual(['192.0.2.10']);

    await w.service('web', `www.${ACME}`, '192.0.2.20');
    const moved = await w.runOnce();
    expect(errorLines(moved)).toEqual([]);
    expect((await dig(w.server(), `www.${ACME}`, 'A')).values).toEqual(['192.0.2.20']);

    await w.kubectl(['delete', 'service', 'web', '-n', 'default']);
    const gone = await w.runOnce();
    expect(errorLines(gone)).toEqual([]);
    expect((await dig(w.server(), `www.${ACME}`, 'A')).status).toBe('NXDOMAIN');
    expect((await w.records(ACME)).filter((l) => l.includes('www.'))).toEqual([]);
  });

  it("tampered to read and write globex's zone, it can do neither", async () => {
    await w.service('takeover', `www.${GLOBEX}`, '203.0.113.66');
    const before = await w.records(GLOBEX);
    const run = await w.runOnce({
      tamper: (args) => [
        ...args.filter((a) => !a.startsWith('--domain-filter=') && !a.startsWith('--rfc2136-zone=')),
        `--rfc2136-zone=${GLOBEX}`,
      ],
    });
    // The transfer of globex's zone is refused, so ExternalDNS never gets to plan a change there.
    expect(
      run.lines.some((l) => /AXFR|transfer/i.test(l) && /level=(error|fatal)/.test(l)),
      run.lines.join('\n'),
    ).toBe(true);
    expect(await w.records(GLOBEX)).toEqual(before);
    expect((await dig(w.server(), `www.${GLOBEX}`, 'A')).status).toBe('NXDOMAIN');
  });
});
