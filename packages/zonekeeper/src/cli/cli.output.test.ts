/**
 * Output people and scripts can read: `-o table|wide|json|yaml` on a terminal and in a pipe, instants
 * to the second, progress lines naming what is applied, usage errors as one document, and errors in
 * CLI terms — on the in-memory ports (the output does not depend on the backend).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterClient, createManualClock, type ManualClock, ZonekeeperError } from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createMemoryIdentityProvider } from '@zonekeeper/iam-scoper';
import { createMemorySecretStore } from '@zonekeeper/vault-keys';
import { createMemoryDnsProvider } from '@zonekeeper/zone-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createMemoryInventory } from '../inventory.js';
import type { CliDeps } from './backend.js';
import { cliMessage, cliText, commandOfPurpose, operationsWithCommands } from './command.js';
import { devPaths, writeState } from './dev/state.js';
import { requestedDocumentFormat, runCli } from './program.js';

const env = { ZONEKEEPER_BASE_DOMAIN: 'example.com' };
const BOX = /[┌┐└┘│─┬┴┼├┤]/;
const MILLISECONDS = /\d{2}:\d{2}:\d{2}\.\d{3}Z/;

let clock: ManualClock;
let deps: CliDeps;

beforeEach(reset);

/** Fresh in-memory ports with the parent zone. */
async function reset(): Promise<void> {
  clock = createManualClock(new Date('2026-03-10T08:00:00.123Z'), { autoAdvance: true });
  const dns = createMemoryDnsProvider({ clock });
  await dns.createZone({ name: 'example.com', callerReference: 'parent' });
  deps = {
    dns,
    identity: createMemoryIdentityProvider({ clock }),
    secrets: createMemorySecretStore({ clock }),
    clusters: { 'prod-1': createMemoryCluster({ name: 'prod-1', clock }) },
    inventory: createMemoryInventory(),
    clock,
  };
}

interface Sink {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Runs the command with stdout as a terminal of `columns` characters, or a pipe. */
async function zk(argv: string, stdoutIs: Sink = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    argv.split(' ').filter((a) => a !== ''),
    {
      env,
      deps,
      stdout: { write: (s: string) => (stdout += s), ...stdoutIs },
      stderr: { write: (s: string) => (stderr += s) },
    },
  );
  return { code, stdout, stderr };
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

describe('tables on a terminal and in a pipe', () => {
  it('a terminal gets boxed tables no wider than its columns; long cells wrap, none is lost', async () => {
    for (const columns of [60, 100]) {
      await reset();
      const r = await zk('cluster attach acme prod-1 --cert web:default:www.acme.example.com', {
        isTTY: true,
        columns,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(BOX);
      for (const line of lines(r.stdout)) expect([...line].length, line).toBeLessThanOrEqual(columns);
      // The widest cell wraps at a path separator instead of being cut.
      expect(r.stdout.replace(/[│\s]/g, '')).toContain('Secret/external-dns/external-dns-aws-credentials');
    }
  });

  it('a narrow terminal wraps rather than overflowing, down to a minimum column width', async () => {
    await zk('org ensure acme');
    const r = await zk('gc plan', { isTTY: true, columns: 60 });
    expect(r.code, r.stderr).toBe(0);
    for (const line of lines(r.stdout)) expect([...line].length, line).toBeLessThanOrEqual(60);
    // Wrapped where the names allow it: after a dot, after an underscore.
    expect(r.stdout).toMatch(/│ acme\. +│/);
    expect(r.stdout).toMatch(/│ FREE_ +│/);
    expect(r.stdout).toMatch(/│ DELETION_? +│/);
  });

  it('a pipe gets plain columns: no box drawing, capital headers, one line per row, any width', async () => {
    const r = await zk('org ensure acme');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(BOX);
    expect(r.stdout).toMatch(/^Organisation: +acme$/m);
    expect(r.stdout).toMatch(/^Name servers: +ns-\S+, ns-\S+, ns-\S+, ns-\S+$/m);
    const header = lines(r.stdout).find((l) => l.startsWith('STAGE'));
    expect(header).toMatch(/^STAGE {3,}STEP {3,}DETAIL$/);
    expect(r.stdout).toMatch(/^zone {3,}create-zone {3,}zoneName=acme\.example\.com$/m);
  });

  it('-o wide adds the extra columns (zone id, created, next charge, message); table mode has ages', async () => {
    await zk('org ensure acme');
    clock.advance(3 * 3_600_000);
    const normal = await zk('gc plan');
    const wide = await zk('gc plan -o wide');
    expect(normal.code, normal.stderr).toBe(0);
    expect(wide.code, wide.stderr).toBe(0);
    const head = (s: string) => lines(s).find((l) => l.startsWith('ZONE')) ?? '';
    expect(head(normal.stdout).split(/ {3,}/)).toEqual([
      'ZONE',
      'ORGANISATION',
      'AGE',
      'DECISION',
      'REASON',
      'WHEN',
    ]);
    expect(head(wide.stdout).split(/ {3,}/)).toEqual([
      'ZONE',
      'ZONE ID',
      'ORGANISATION',
      'AGE',
      'CREATED',
      'DECISION',
      'REASON',
      'WHEN',
      'NEXT CHARGE',
      'MESSAGE',
    ]);
    expect(normal.stdout).toMatch(/acme\.example\.com +acme +3h/);
    expect(wide.stdout).toMatch(/2026-03-10T08:00:0\dZ/);
  });

  it('human output shows instants to the second; the documents keep them exact', async () => {
    const table = await zk('cluster attach acme prod-1 --cert web:default:www.acme.example.com -o wide');
    const gc = await zk('gc plan --now 2026-03-10T09:00:00.250Z');
    for (const r of [table, gc]) {
      expect(r.code, r.stderr).toBe(0);
      expect(`${r.stdout}\n${r.stderr}`).not.toMatch(MILLISECONDS);
    }
    expect(table.stdout).toMatch(/Not before +Not after +Renew at/i);
    expect(gc.stdout).toContain('Managed zones at 2026-03-10T09:00:00Z:');
    expect(gc.stderr).toContain('at 2026-03-10T09:00:00Z');
    const doc = JSON.parse((await zk('gc plan --now 2026-03-10T09:00:00.250Z --json')).stdout);
    expect(doc.result.now).toBe('2026-03-10T09:00:00.250Z');
  });
});

describe('documents: -o json, --json, -o yaml', () => {
  it('--json and -o json print the same document; -o yaml the same data as YAML; nothing else on stdout', async () => {
    const asJson = await zk('org ensure acme --dry-run --json');
    const asO = await zk('org ensure acme --dry-run -o json');
    const asYaml = await zk('org ensure acme --dry-run -o yaml');
    for (const r of [asJson, asO, asYaml]) expect(r.code, r.stderr).toBe(0);
    expect(asO.stdout).toBe(asJson.stdout);
    const doc = JSON.parse(asJson.stdout);
    expect(doc).toMatchObject({
      ok: true,
      command: 'org ensure',
      exitCode: 0,
      result: { organization: 'acme' },
    });
    expect(parseYaml(asYaml.stdout)).toEqual(doc);
    expect(asYaml.stdout).toMatch(/^ok: true\ncommand: org ensure\nexitCode: 0\nresult:\n/);
  });

  it('errors are documents in the chosen format, and --json with another -o is refused', async () => {
    const y = await zk('credentials rotate ghost -o yaml');
    expect(y.code).toBe(3);
    expect(parseYaml(y.stdout)).toMatchObject({
      ok: false,
      command: 'credentials rotate',
      exitCode: 3,
      error: { code: 'NOT_FOUND' },
    });
    const both = await zk('org ensure acme --json -o yaml');
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(both.stderr).toMatch(/--json is short for -o json/);
  });

  it('a rollout that takes a while shows on stderr as "waiting for rollout of … (0/1 ready)"', async () => {
    const real = createMemoryCluster({ name: 'prod-1', clock });
    let polls = 0;
    const slow: ClusterClient = {
      ...real,
      get: async (ref, opts) => {
        const o = await real.get(ref, opts);
        if (!o || ref.kind !== 'Deployment' || polls++ >= 2) return o;
        return {
          ...o,
          status: { observedGeneration: o.metadata.generation, replicas: 1, availableReplicas: 0 },
        };
      },
    };
    deps = { ...deps, clusters: { 'prod-1': slow } };
    const r = await zk('cluster attach acme prod-1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      '  · waiting for rollout of Deployment/external-dns/external-dns in cluster prod-1 (0/1 ready)\n',
    );
    expect(r.stderr.match(/waiting for rollout/g)).toHaveLength(1); // once per change, not per poll
    expect(r.stdout).not.toContain('waiting');
    expect(r.stderr).toContain("holding the lock of acme ('zonekeeper cluster attach acme prod-1')");
  });

  it('progress goes to stderr, naming each applied object and the rollout', async () => {
    const r = await zk('cluster attach acme prod-1 -o json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('· apply create-zone acme.example.com (1/3)');
    expect(r.stderr).toMatch(/· apply apply-object Deployment\/external-dns\/external-dns \(\d+\/\d+\)/);
    expect(JSON.parse(r.stdout).ok).toBe(true);
  });
});

describe('usage errors: exit 2, one document with --json / -o json|yaml', () => {
  it.each([
    ['frobnicate --json', null, /^Unknown command 'frobnicate'\.$/],
    ['gc collect --json', 'gc', /^Unknown command 'collect'\.$/],
    ['org ensure acme --force --json', 'org ensure', /^Unknown option '--force'\.$/],
    ['org ensure --json', 'org ensure', /^Missing required argument 'org'\.$/],
    ['org ensure a b --json', 'org ensure', /^Too many arguments/],
    [
      'cert issue www.acme.example.com --json',
      'cert issue',
      /^Required option '--org <org>' not specified\.$/,
    ],
    [
      '-o xml org ensure acme --json',
      null,
      /argument 'xml' is invalid\. Allowed choices are table, wide, json, yaml\./,
    ],
    ['org --json', 'org', /^zonekeeper org needs a command: see 'zonekeeper help org'\.$/],
    ['--json', null, /^zonekeeper needs a command/],
  ])('zonekeeper %s', async (argv, command, message) => {
    const r = await zk(argv);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).toEqual({
      ok: false,
      command,
      exitCode: 2,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(message) },
    });
  });

  it('-o yaml gets the same document as YAML; table mode prints nothing on stdout', async () => {
    const y = await zk('org ensure --output=yaml');
    expect(y.code).toBe(2);
    expect(parseYaml(y.stdout)).toMatchObject({ ok: false, command: 'org ensure', exitCode: 2 });
    const t = await zk('org ensure');
    expect(t.code).toBe(2);
    expect(t.stdout).toBe('');
    expect(t.stderr).toMatch(/missing required argument 'org'/);
  });

  it('reads the requested format from raw arguments', () => {
    expect(requestedDocumentFormat(['-o', 'yaml'])).toBe('yaml');
    expect(requestedDocumentFormat(['-ojson'])).toBe('json');
    expect(requestedDocumentFormat(['--output=wide'])).toBeUndefined();
    expect(requestedDocumentFormat(['--', '--json'])).toBeUndefined();
  });

  it('zonekeeper help org ensure (and org help ensure) print the nested command help, exit 0', async () => {
    for (const argv of ['help org ensure', 'org help ensure']) {
      const r = await zk(argv);
      expect(r.code, argv).toBe(0);
      expect(r.stdout).toMatch(/^Usage: zonekeeper org ensure \[options\] <org>/);
    }
  });
});

describe('errors in CLI terms', () => {
  it('a rotation of an organisation that does not exist names the command to run first', async () => {
    const r = await zk('credentials rotate ghost');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("run 'zonekeeper org ensure ghost' first");
    expect(r.stderr).not.toMatch(/ensureOrganization|attachCluster/);
  });

  it('a certificate of an organisation that does not exist: run org ensure first', async () => {
    const r = await zk('cert issue www.ghost.example.com --org ghost');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("run 'zonekeeper org ensure ghost' first");
  });

  it('maps details.remedy with its arguments, appending the advice when the message does not name it', () => {
    const e = (message: string, details: Record<string, unknown>) =>
      cliMessage(new ZonekeeperError('NOT_FOUND', message, { details }), 'acme');
    expect(
      e('no key after ensuring it; run attachCluster again.', {
        remedy: { operation: 'attachCluster', organization: 'acme', clusterId: 'prod-1', when: 'again' },
      }),
    ).toBe("no key after ensuring it; run 'zonekeeper cluster attach acme prod-1' again.");
    // An iam-scoper error knows the user, not the organisation: the command line's is used.
    expect(
      e('IAM user zk-x.acme does not exist. Create it with ensureZoneIdentity first.', {
        userName: 'zk-x.acme',
        remedy: { operation: 'ensureZoneIdentity', when: 'first' },
      }),
    ).toBe("IAM user zk-x.acme does not exist. Create it with 'zonekeeper org ensure acme' first.");
    expect(
      e('Organisation globex has no access key to rotate. Run ensureOrganization (or attachCluster) first.', {
        organization: 'globex',
        remedy: {
          operation: 'ensureOrganization',
          organization: 'globex',
          alternatives: ['attachCluster'],
          when: 'first',
        },
      }),
    ).toBe(
      "Organisation globex has no access key to rotate. Run 'zonekeeper org ensure globex' (or 'zonekeeper cluster attach globex <cluster>') first.",
    );
    expect(e('The zone moved', { remedy: { operation: 'ensureOrganizationZone', when: 'again' } })).toBe(
      "The zone moved. Run 'zonekeeper org ensure acme' again.",
    );
    // A lock holder's purpose is its command.
    expect(
      cliMessage(
        new ZonekeeperError(
          'CONFLICT',
          'Gave up waiting for the lock p, held by host-1 (rotateCredentials globex) until at least 2026-03-10T08:00:00.000Z; run again later.',
          { details: { path: 'p', holder: 'host-1', purpose: 'rotateCredentials globex' } },
        ),
      ),
    ).toBe(
      "Gave up waiting for the lock p, held by host-1 ('zonekeeper credentials rotate globex') until at least 2026-03-10T08:00:00.000Z; run again later.",
    );
  });

  it('texts without details: lock holders in parentheses and bare operation names', () => {
    expect(
      cliText('Another operation holds the lock of acme (attachCluster acme prod-1); looked at next time.'),
    ).toBe(
      "Another operation holds the lock of acme ('zonekeeper cluster attach acme prod-1'); looked at next time.",
    );
    expect(cliText('run collectGarbage later', 'acme')).toBe("run 'zonekeeper gc run' later");
    expect(commandOfPurpose('collectGarbage orphans of acme')).toBe('zonekeeper gc run');
    expect(commandOfPurpose('issueCertificate acme web')).toBe(
      'zonekeeper cert issue <names…> --org acme --name web',
    );
    expect(commandOfPurpose('something else')).toBeUndefined();
    expect(cliText('run auditFleet, listOrganizations or listClusters', 'acme')).toBe(
      "run 'zonekeeper doctor', 'zonekeeper org list' or 'zonekeeper cluster list'",
    );
    expect(cliText('see describeOrganization', 'acme')).toBe("see 'zonekeeper org show acme'");
    for (const op of ['auditFleet', 'listOrganizations', 'describeOrganization', 'listClusters'])
      expect(operationsWithCommands).toContain(op);
  });

  it('org delete of an organisation with attached clusters names cluster detach, not detachCluster', async () => {
    expect((await zk('cluster attach acme prod-1')).code).toBe(0);
    const r = await zk('org delete acme --yes');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("run 'zonekeeper cluster detach acme <cluster>' for each first");
    expect(r.stderr).not.toMatch(/detachCluster/);
  });

  it('multi-line (multi-error) messages become one line', () => {
    expect(
      cliMessage(new ZonekeeperError('INTERNAL', 'Vault said: 2 errors occurred:\n\t* a\n\t* b\n\n')),
    ).toBe('Vault said: a; b');
  });
});

/** The lines of plain output whose first column is `first`, split into columns. */
function row(stdout: string, first: string): string[] | undefined {
  return lines(stdout)
    .map((l) => l.split(/ {3,}/))
    .find((cells) => cells[0] === first);
}

/** Every line of `stdout` fits `columns` and the output is boxed. */
function expectFitted(r: { code: number; stdout: string; stderr: string }, columns: number): void {
  expect(r.stdout).toMatch(BOX);
  for (const line of lines(r.stdout)) expect([...line].length, line).toBeLessThanOrEqual(columns);
}

/** `-o yaml` parses to the document of `-o json`. */
async function expectYamlIsJson(argv: string, code = 0): Promise<Record<string, unknown>> {
  const j = await zk(`${argv} -o json`);
  const y = await zk(`${argv} -o yaml`);
  expect(j.code, j.stderr).toBe(code);
  expect(y.code, y.stderr).toBe(code);
  const doc = JSON.parse(j.stdout);
  expect(parseYaml(y.stdout)).toEqual(doc);
  return doc;
}

describe('the operator commands: org list / show / delete, cluster list, doctor, dev status', () => {
  /** acme with a cluster and a certificate, globex without; a day later. */
  async function fleet(): Promise<void> {
    const a = await zk('cluster attach acme prod-1 --cert web:default:www.acme.example.com');
    expect(a.code, a.stderr).toBe(0);
    expect((await zk('org ensure globex')).code).toBe(0);
    clock.advance(26 * 3_600_000);
  }

  it('org list: plain columns with ages off a terminal, ids and instants with -o wide; fitted on one', async () => {
    await fleet();
    const r = await zk('org list');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(BOX);
    expect(row(r.stdout, 'ORGANISATION')).toEqual(['ORGANISATION', 'STATUS', 'ZONE', 'AGE', 'CLUSTERS']);
    expect(row(r.stdout, 'acme')).toEqual(['acme', 'active', 'acme.example.com', '1d2h', 'prod-1']);
    expect(row(r.stdout, 'globex')).toEqual(['globex', 'active', 'globex.example.com', '1d2h', 'none']);
    const wide = await zk('org list -o wide');
    expect(row(wide.stdout, 'ORGANISATION')).toEqual([
      'ORGANISATION',
      'STATUS',
      'ZONE',
      'ZONE ID',
      'AGE',
      'CREATED',
      'IAM USERS',
      'CLUSTERS',
    ]);
    expect(row(wide.stdout, 'acme')?.[5]).toMatch(/^2026-03-10T08:00:\d\dZ$/);
    expect(`${r.stdout}${wide.stdout}`).not.toMatch(MILLISECONDS);
    const t = await zk('org list', { isTTY: true, columns: 50 });
    expect(t.code, t.stderr).toBe(0);
    expectFitted(t, 50);
    expect(t.stdout).toMatch(/│ acme +│ active +│/);
    const doc = await expectYamlIsJson('org list');
    expect((doc.result as { organizations: unknown[] }).organizations).toHaveLength(2);
  });

  it('org show: plain fields and tables, wide adds the zone id and exact instants; fitted on a terminal', async () => {
    await fleet();
    const r = await zk('org show acme');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(BOX);
    expect(r.stdout).toMatch(/^Organisation: +acme$/m);
    expect(r.stdout).toMatch(/^Zone: +acme\.example\.com$/m);
    expect(r.stdout).toMatch(/^Zone age: +1d2h$/m);
    expect(r.stdout).toMatch(/^Delegation: +present$/m);
    expect(r.stdout).toMatch(/^Access key: +\S+, age 1d2h$/m);
    expect(r.stdout).toMatch(/^CA: +expires 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in \d+d(\d+h)?\)$/m);
    expect(r.stdout).not.toMatch(/^Zone id:/m);
    expect(row(r.stdout, 'CLUSTER')).toEqual([
      'CLUSTER',
      'SCOPE',
      'NAMESPACE',
      'AGE',
      'TLS SECRETS',
      'BOUND',
    ]);
    expect(row(r.stdout, 'prod-1')).toEqual([
      'prod-1',
      'organization',
      'external-dns',
      '1d2h',
      'default/web',
      'yes',
    ]);
    expect(row(r.stdout, 'web')?.slice(0, 2)).toEqual(['web', 'www.acme.example.com']);
    const wide = await zk('org show acme -o wide');
    expect(wide.stdout).toMatch(/^Zone id: +\S+$/m);
    expect(wide.stdout).toMatch(/^Zone created: +2026-03-10T08:00:\d\dZ$/m);
    expect(wide.stdout).toMatch(/^CA serial: +\S+$/m);
    expect(row(wide.stdout, 'CLUSTER')).toContain('ATTACHED AT');
    expect(row(wide.stdout, 'NAME')).toEqual(['NAME', 'DNS NAMES', 'SERIAL', 'NOT AFTER']);
    expect(`${r.stdout}${wide.stdout}`).not.toMatch(MILLISECONDS);
    const t = await zk('org show acme', { isTTY: true, columns: 60 });
    expect(t.code, t.stderr).toBe(0);
    expectFitted(t, 60);
    expect(t.stdout).toMatch(/│ Delegation +│ present +│/);
    // With -o wide the clusters table has seven columns: at 80 it still fits, wrapping.
    const tw = await zk('org show acme -o wide', { isTTY: true, columns: 80 });
    expect(tw.code, tw.stderr).toBe(0);
    expectFitted(tw, 80);
    expect(tw.stdout).toMatch(/│ Zone id +│ Z\w+ +│/);
    const doc = await expectYamlIsJson('org show acme');
    // The document keeps the exact instants.
    expect((doc.result as { now: string }).now).toMatch(/\.\d{3}Z$/);
  });

  it('cluster list: plain columns, the attachment instant only with -o wide; fitted on a terminal', async () => {
    await fleet();
    const r = await zk('cluster list');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(BOX);
    expect(row(r.stdout, 'ORGANISATION')).toEqual([
      'ORGANISATION',
      'CLUSTER',
      'ATTACHED',
      'SCOPE',
      'NAMESPACE',
      'AGE',
      'INVENTORY',
    ]);
    expect(row(r.stdout, 'acme')).toEqual([
      'acme',
      'prod-1',
      'yes',
      'organization',
      'external-dns',
      '1d2h',
      'absent',
    ]);
    const wide = await zk('cluster list -o wide');
    expect(row(wide.stdout, 'acme')?.[6]).toMatch(/^2026-03-10T08:00:\d\dZ$/);
    expect(wide.stdout).not.toMatch(MILLISECONDS);
    // Seven columns at their natural width need 86 characters: 80 makes the widest wrap.
    const t = await zk('cluster list', { isTTY: true, columns: 80 });
    expect(t.code, t.stderr).toBe(0);
    expectFitted(t, 80);
    expect(t.stdout).toMatch(/│ acme +│ prod-1 +│ yes +│/);
    await expectYamlIsJson('cluster list');
  });

  it('org delete: the steps as plain columns, or fitted on a terminal; the document as YAML', async () => {
    expect((await zk('org ensure acme')).code).toBe(0);
    const r = await zk('org delete acme --dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(BOX);
    expect(r.stdout).toMatch(/^Would delete organisation acme \(dry run, nothing changed\):$/m);
    expect(row(r.stdout, 'STAGE')).toEqual(['STAGE', 'STEP', 'DETAIL']);
    expect(lines(r.stdout).some((l) => /^zone \S+ {3,}delete-zone {3,}/.test(l))).toBe(true);
    const t = await zk('org delete acme --dry-run', { isTTY: true, columns: 50 });
    expect(t.code, t.stderr).toBe(0);
    expectFitted(t, 50);
    // The heading wraps at the terminal's width too.
    expect(t.stdout).toMatch(/^Would delete organisation acme \(dry run, nothing\nchanged\):$/m);
    await expectYamlIsJson('org delete acme --dry-run');
    const done = await zk('org delete acme --yes');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^Deleted organisation acme:$/m);
    expect(done.stdout).not.toMatch(BOX);
  });

  it('doctor: findings as plain columns (wide adds the operation and instant), fitted on a terminal', async () => {
    const ensured = JSON.parse((await zk('org ensure acme --json')).stdout);
    const leaked = await (deps.identity as NonNullable<CliDeps['identity']>).createAccessKey(
      ensured.result.userName,
    );
    const r = await zk('doctor --now 2026-03-10T09:00:00.250Z');
    expect(r.code).toBe(5);
    expect(r.stdout).not.toMatch(BOX);
    expect(r.stdout).toMatch(/^Audit at 2026-03-10T09:00:00Z of 1 organisation\(s\): acme\.$/m);
    expect(row(r.stdout, 'SEVERITY')).toEqual(['SEVERITY', 'REASON', 'WHERE', 'FINDING', 'FIX']);
    const finding = row(r.stdout, 'error');
    expect(finding?.slice(0, 3)).toEqual(['error', 'key-unknown-to-store', 'acme']);
    expect(finding?.[4]).toBe("run 'zonekeeper org ensure acme'");
    const wide = await zk('doctor --now 2026-03-10T09:00:00.250Z -o wide');
    expect(row(wide.stdout, 'SEVERITY')?.slice(-2)).toEqual(['OPERATION', 'AT']);
    expect(row(wide.stdout, 'error')).toContain('ensureOrganization');
    expect(`${r.stdout}${wide.stdout}`).not.toMatch(MILLISECONDS);
    const t = await zk('doctor --now 2026-03-10T09:00:00.250Z', { isTTY: true, columns: 60 });
    expect(t.code).toBe(5);
    expectFitted(t, 60);
    expect(t.stdout).toMatch(/│ error +│ key-/);
    for (const x of [r, wide, t]) expect(x.stdout).not.toContain(leaked.accessKeyId);
    // Masked to its last four characters (on a narrow terminal the masked id may wrap).
    for (const x of [r, wide]) expect(x.stdout).toContain(`********${leaked.accessKeyId.slice(-4)}`);
    const doc = await expectYamlIsJson('doctor --now 2026-03-10T09:00:00.250Z', 5);
    expect((doc.result as { now: string }).now).toBe('2026-03-10T09:00:00.250Z');
  });

  it('dev status: the processes as plain columns (pid and log with -o wide), fitted on a terminal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zk-views-dev-'));
    try {
      const paths = devPaths(dir);
      await writeState(paths, {
        version: 1,
        ready: true,
        startedAt: '2026-03-10T08:00:00.123Z',
        baseDomain: 'example.com',
        parentZoneId: 'Z0PARENT',
        region: 'us-east-1',
        clusters: ['dev-1'],
        // This test's own pid, with a command line it does not have: a process that has exited.
        processes: [
          {
            name: 'moto',
            kind: 'moto',
            pid: process.pid,
            endpoint: 'http://127.0.0.1:1',
            log: join(dir, 'logs', 'moto.log'),
            argvIncludes: ['--zonekeeper-dev-process-that-is-not-this-one'],
          },
        ],
      });
      const r = await zk(`dev status --dir ${dir}`);
      expect(r.code).toBe(4);
      expect(r.stdout).not.toMatch(BOX);
      expect(r.stdout).toMatch(/^Started: +2026-03-10T08:00:00Z$/m);
      expect(r.stdout).toMatch(/^Contexts: +dev-1$/m);
      expect(row(r.stdout, 'PROCESS')).toEqual(['PROCESS', 'ENDPOINT', 'STATE']);
      expect(row(r.stdout, 'moto')).toEqual(['moto', 'http://127.0.0.1:1', 'exited']);
      const wide = await zk(`dev status --dir ${dir} -o wide`);
      expect(row(wide.stdout, 'moto')).toEqual([
        'moto',
        String(process.pid),
        'http://127.0.0.1:1',
        'exited',
        join(dir, 'logs', 'moto.log'),
      ]);
      expect(wide.stdout).toMatch(/^Parent zone id: +Z0PARENT$/m);
      const t = await zk(`dev status --dir ${dir} -o wide`, { isTTY: true, columns: 60 });
      expect(t.code).toBe(4);
      expectFitted(t, 60);
      await expectYamlIsJson(`dev status --dir ${dir}`, 4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
