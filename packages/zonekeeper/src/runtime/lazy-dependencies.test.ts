/**
 * Importing the facade, `@zonekeeper/cert-issuer` or `@zonekeeper/externaldns-deployer` loads neither
 * `acme-client` (and its axios), `reflect-metadata` (loaded with `@peculiar/x509`) nor `yaml` (loaded
 * by the first `toYaml`): each is loaded on first use, so a user who never orders an ACME certificate,
 * parses a CA or renders a manifest does not pay for them at start-up (docs/performance.md §6). A
 * fresh process imports the entries and reports the packages it loaded.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const LAZY = ['acme-client', 'axios', 'reflect-metadata', 'yaml'];

function loadedPackages(args: readonly string[]): Promise<string[]> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@zonekeeper/source',
      'src/runtime/loaded-packages.test.support.ts',
      ...args,
    ],
    { cwd: packageRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`the child exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string) as string[]);
    });
  });
}

describe('dependencies loaded on first use', { timeout: 60_000 }, () => {
  it('importing zonekeeper, @zonekeeper/cert-issuer and @zonekeeper/externaldns-deployer loads no ACME client, axios, reflect-metadata or yaml', async () => {
    const loaded = await loadedPackages([
      'zonekeeper',
      '@zonekeeper/cert-issuer',
      '@zonekeeper/externaldns-deployer',
    ]);
    expect(loaded.filter((p) => LAZY.includes(p))).toEqual([]);
  });

  it('sees them once they are loaded (the check above can fail)', async () => {
    const loaded = await loadedPackages(['zonekeeper', '--load', 'acme-client']);
    expect(loaded).toEqual(expect.arrayContaining(['acme-client', 'axios']));
  });
});
