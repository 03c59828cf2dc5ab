import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  CREDENTIALS_MOUNT_PATH,
  credentialsFile,
  externalDnsProcessOf,
  mountExternalDnsProcessForm,
  renderExternalDns,
} from './index.js';

const credentials = {
  accessKeyId: 'AKIAZKFAKE0TEST00002',
  secretAccessKey: 'zkFAKE/processFORM+key0notREAL1234567',
};
const objects = renderExternalDns({
  clusterId: 'dev-1',
  organization: 'acme',
  zoneName: 'acme.example.com',
  zoneId: 'Z0123456789ABCDEFGHIJ',
  credentials,
});
const deployment = objects.find((o) => o.kind === 'Deployment') as KubernetesObject;
const secrets = objects.filter((o) => o.kind === 'Secret');
const secretOf = (name: string) => secrets.find((s) => s.metadata.name === name);
const container = () =>
  (deployment as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec
    .template.spec.containers[0] as { args: string[]; env: { name: string; value: string }[] };

describe('externalDnsProcessOf', () => {
  it("is the rendered container's args and env, with the credentials Secret mounted as a file", () => {
    const form = externalDnsProcessOf(deployment, secretOf);
    expect(form.args).toEqual(container().args);
    expect(form.env).toEqual(Object.fromEntries(container().env.map((e) => [e.name, e.value])));
    const mounted = Object.entries(form.files);
    expect(mounted).toHaveLength(1);
    expect(mounted[0]?.[0].startsWith(`${CREDENTIALS_MOUNT_PATH}/`)).toBe(true);
    expect(mounted[0]?.[1]).toBe(credentialsFile(credentials));
    expect(Object.values(form.env)).toContain(mounted[0]?.[0]);
  });

  const mutate = (edit: (spec: Record<string, unknown>) => void): KubernetesObject => {
    const copy = structuredClone(deployment) as unknown as {
      spec: { template: { spec: Record<string, unknown> } };
    };
    edit(copy.spec.template.spec);
    return copy as unknown as KubernetesObject;
  };

  it('refuses what a process cannot represent, and a missing Secret, without a secret in the message', () => {
    const cases: KubernetesObject[] = [
      mutate((s) => {
        s.containers = [...(s.containers as unknown[]), { name: 'sidecar', image: 'busybox' }];
      }),
      mutate((s) => {
        (s.containers as { env: unknown[] }[])[0]?.env.push({ name: 'X', valueFrom: { fieldRef: {} } });
      }),
      mutate((s) => {
        s.volumes = (s.volumes as { name: string }[]).map((v) => ({ name: v.name, emptyDir: {} }));
      }),
    ];
    for (const bad of cases) {
      const error = (() => {
        try {
          externalDnsProcessOf(bad, secretOf);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    }
    let missing: unknown;
    try {
      externalDnsProcessOf(deployment, () => undefined);
    } catch (e) {
      missing = e;
    }
    expect(hasErrorCode(missing, 'INVALID_INPUT')).toBe(true);
    expect(String((missing as Error).message)).toMatch(/Secret .* does not exist/);
    expect(JSON.stringify(missing)).not.toContain(credentials.secretAccessKey);
  });
});

describe('mountExternalDnsProcessForm', () => {
  it('writes each file under the root, read-only, and rebases the env values that name them', async () => {
    const form = externalDnsProcessOf(deployment, secretOf);
    const root = await mkdtemp(join(tmpdir(), 'zk-process-form-'));
    try {
      const env = await mountExternalDnsProcessForm(form, root);
      const [path, content] = Object.entries(form.files)[0] as [string, string];
      expect(await readFile(join(root, path), 'utf8')).toBe(content);
      expect((await stat(join(root, path))).mode & 0o777).toBe(0o400);
      const rebased = Object.entries(form.env).filter(([, v]) => v === path);
      expect(rebased.length).toBe(1);
      expect(env[rebased[0]?.[0] as string]).toBe(join(root, path));
      for (const [name, value] of Object.entries(form.env)) if (value !== path) expect(env[name]).toBe(value);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
