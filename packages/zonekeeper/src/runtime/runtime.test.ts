/**
 * The supported runtimes (docs/runtime.md): a user's program on the Node binary running this test
 * imports every public entry of every package and makes one call through each adapter, and nothing
 * reaches its stderr — in particular not the AWS SDK's Node version warning (`NodeVersionSupportWarning`,
 * emitted by `emitWarningIfUnsupportedVersion` of `@aws-sdk/core` when a client is built on a Node
 * below the SDK's next floor). CI runs this file on every tested Node line and floor
 * (`.ci/node-lines.sh`); on the machine's default Node it runs under whatever that is.
 *
 * The child gets the test process's environment less `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED`
 * (the test config sets it for the rest of the suite), so the SDK behaves as it does for a user.
 */

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { startMoto } from '@zonekeeper/testkit/moto';
import { startVaultFake } from '@zonekeeper/testkit/vault';
import { describe, expect, it } from 'vitest';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const packagesDir = join(packageRoot, '..');

/** The supported Node lines (`engines` of every package): the majors CI tests. */
const SUPPORTED_MAJORS = [22, 24];

/** Every public entry of every workspace package, as a user imports it (`name` + export subpath). */
function publicEntries(): string[] {
  return readdirSync(packagesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => {
      const manifest = JSON.parse(readFileSync(join(packagesDir, d.name, 'package.json'), 'utf8')) as {
        name: string;
        exports: Record<string, unknown>;
      };
      return Object.keys(manifest.exports)
        .filter((key) => key !== './package.json')
        .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`));
    })
    .sort();
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runAdapterCalls(env: Record<string, string>, entries: readonly string[]): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  delete childEnv.NODE_OPTIONS;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@zonekeeper/source',
      'src/runtime/adapter-calls.test.support.ts',
      ...entries,
    ],
    { cwd: packageRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe(`the runtime (${process.version})`, () => {
  it('lists every package entry: the import check below covers the real export maps', () => {
    const entries = publicEntries();
    expect(entries).toContain('zonekeeper');
    expect(entries).toContain('@zonekeeper/zone-manager/route53');
    expect(entries).toContain('@zonekeeper/externaldns-deployer/kubernetes');
    expect(entries.length).toBeGreaterThanOrEqual(20);
  });

  // A generous timeout: the child compiles every package's source with tsx, and moto starts first.
  it('every entry imports and each adapter makes a call; stderr stays empty on a supported Node', async () => {
    await using moto = await startMoto();
    await using vault = await startVaultFake();
    await using kube = await startKubernetesFake({ rolloutDelayMs: 0 });
    const entries = publicEntries();
    const run = await runAdapterCalls(
      {
        ZK_RUNTIME_MOTO: moto.endpoint,
        ZK_RUNTIME_VAULT: vault.endpoint,
        ZK_RUNTIME_VAULT_TOKEN: vault.rootToken,
        ZK_RUNTIME_KUBECONFIG: kube.kubeconfig().yaml,
      },
      entries,
    );
    expect(run.code, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(seen).toEqual({
      node: process.version,
      imported: entries,
      zones: 0,
      users: 0,
      secrets: 0,
      namespace: 'default',
    });
    const major = Number(process.versions.node.split('.')[0]);
    if (SUPPORTED_MAJORS.includes(major)) {
      // Nothing at all: no SDK version warning, no deprecation warning from a dependency.
      expect(run.stderr).toBe('');
    } else {
      // An unsupported runtime (Node 20 is past its end of life): the SDK's own warning is not hidden.
      expect(run.stderr).toContain('NodeVersionSupportWarning');
    }
  }, 120_000);
});
