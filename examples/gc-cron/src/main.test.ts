import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs the collector as the CronJob would (a process of its own), on the memory backend. */
function gc(args: readonly string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('ZONEKEEPER_') && !k.startsWith('VAULT_')),
  );
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@zonekeeper/source', 'src/main.ts', ...args],
      { cwd: root, env: { ...clean, NODE_NO_WARNINGS: '1', ...env }, timeout: 110_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Each test starts a process; they run concurrently.
describe.concurrent('gc-cron as a process', { timeout: 120_000 }, () => {
  it('collects once from environment configuration and exits 0', async ({ expect }) => {
    const run = await gc(['--seed', 'acme,globex'], {
      ZONEKEEPER_BACKEND: 'memory',
      ZONEKEEPER_BASE_DOMAIN: 'example.com',
      ZONEKEEPER_INVENTORY: 'inventory.example.json',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^zonekeeper gc at \S+: 2 managed zone\(s\)$/m);
    expect(run.stdout).toMatch(/acme\.example\.com\s+acme\s+keep\s+IN_USE/);
    expect(run.stdout).toMatch(/globex\.example\.com\s+globex\s+delete\s+FREE_DELETION_WINDOW\s+deleted/);
    expect(run.stdout.trimEnd().endsWith('exit 0: done')).toBe(true);
  });

  it('prints one JSON document with --json', async ({ expect }) => {
    const run = await gc([
      '--backend=memory',
      '--seed=globex',
      '--base-domain=example.com',
      '--inventory=inventory.example.json',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      exitCode: number;
      zones: { organization: string; result: string }[];
    };
    expect(doc.exitCode).toBe(0);
    expect(doc.zones).toEqual([expect.objectContaining({ organization: 'globex', result: 'deleted' })]);
  });

  it('exits 2 and says what is missing, calling nothing, when configuration is missing', async ({
    expect,
  }) => {
    const run = await gc([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^Missing configuration: --base-domain \(or ZONEKEEPER_BASE_DOMAIN\), --inventory \(or ZONEKEEPER_INVENTORY\), VAULT_ADDR, VAULT_TOKEN\./,
    );
  });

  it('exits 2 for a real collection at another time than now', async ({ expect }) => {
    const bad = await gc([
      '--backend',
      'memory',
      '--base-domain',
      'example.com',
      '--inventory',
      'x.json',
      '--now',
      '2026-01-01T00:00:00Z',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--now is only allowed with --dry-run/);
  });

  it('exits 4 (retry later) when the inventory cannot be read', async ({ expect }) => {
    const run = await gc([
      '--backend',
      'memory',
      '--seed',
      'acme',
      '--base-domain',
      'example.com',
      '--inventory',
      'missing.json',
    ]);
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(
      /inventory was unavailable: nothing was deleted after that \(fail closed\)\nexit 4: retry later/,
    );
  });

  it('prints the usage with --help', async ({ expect }) => {
    const run = await gc(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: gc-cron \[options\]/);
    expect(run.stdout).toMatch(/Exit codes \(those of the zonekeeper command\): 0 done/);
  });
});
