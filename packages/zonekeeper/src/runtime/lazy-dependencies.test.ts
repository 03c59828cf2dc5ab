/**
 * Importing the facade or `@zonekeeper/cert-issuer` loads neither `acme-client` (and its axios) nor
 * `reflect-metadata` (loaded with `@peculiar/x509`): both are imported on first use, so a user who
 * never orders an ACME certificate or parses a CA does not pay for them at start-up
 * (docs/performance.md §6). A fresh process imports the entries and reports the packages it loaded.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const LAZY = ['acme-client', 'axios', 'reflect-metadata'];

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
  it('importing zonekeeper and @zonekeeper/cert-issuer loads no ACME client, axios or reflect-metadata', async () => {
    const loaded = await loadedPackages(['zonekeeper', '@zonekeeper/cert-issuer']);
    expect(loaded.filter((p) => LAZY.includes(p))).toEqual([]);
  });

  it('sees them once they are loaded (the check above can fail)', async () => {
    const loaded = await loadedPackages(['zonekeeper', '--load', 'acme-client']);
    expect(loaded).toEqual(expect.arrayContaining(['acme-client', 'axios']));
  });
});
