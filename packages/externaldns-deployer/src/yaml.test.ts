import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  credentialsFile,
  type ExternalDnsOptions,
  REDACTED_SECRET_VALUE,
  renderExternalDns,
  toYaml,
} from './index.js';

// Fake credentials, shaped like real ones. They must never reach a snapshot.
const ACCESS_KEY_ID = 'AKIAZKFAKE0TEST00001';
const SECRET = 'zkFAKE/secretKEY+for0TESTS0nly0notREAL12';
const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET };
const ENCODED = Buffer.from(credentialsFile(credentials)).toString('base64');
const FORBIDDEN = [SECRET, ACCESS_KEY_ID, ENCODED];

const base: ExternalDnsOptions = {
  clusterId: 'prod-eu',
  organization: 'acme',
  zoneName: 'acme.example.com',
  zoneId: 'Z0123456789ABCDEFGHIJ',
  credentials,
};

const full: ExternalDnsOptions = {
  ...base,
  region: 'eu-central-1',
  namespace: 'dns',
  createNamespace: true,
  name: 'edns',
  sources: ['service', 'ingress', 'crd', 'gateway-httproute'],
  policy: 'sync',
  interval: '5m',
  txtOwnerId: 'prod-eu-1',
  txtPrefix: '%{record_type}-edns.',
  annotationPrefix: 'external-dns.alpha.kubernetes.io/',
  zonesCacheDuration: '30m',
  resources: { limits: { cpu: '500m', memory: '256Mi' } },
  extraArgs: ['--events', '--annotation-filter=zonekeeper.io/expose in (true)'],
  extraLabels: { team: 'platform' },
  imagePullPolicy: 'IfNotPresent',
};

const SNAPSHOT_DIR = join(import.meta.dirname, '__snapshots__');

function expectNoCredentials(text: string): void {
  for (const forbidden of FORBIDDEN) expect(text).not.toContain(forbidden);
}

const parse = (text: string) =>
  parseAllDocuments(text).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as KubernetesObject;
  });

describe('toYaml: snapshots (Secret values redacted)', () => {
  it('defaults', async () => {
    const text = toYaml(renderExternalDns(base));
    expectNoCredentials(text);
    await expect(text).toMatchFileSnapshot('./__snapshots__/external-dns.default.yaml');
  });

  it('every option set', async () => {
    const text = toYaml(renderExternalDns(full));
    expectNoCredentials(text);
    await expect(text).toMatchFileSnapshot('./__snapshots__/external-dns.full.yaml');
  });

  it('no stored snapshot file of this package holds a credential, even a fake one', () => {
    // Vitest writes new snapshots when the file finishes, so on the very first run there is nothing to read
    // yet; the texts were checked above before being snapshotted.
    const files = existsSync(SNAPSHOT_DIR) ? readdirSync(SNAPSHOT_DIR) : [];
    for (const file of files) expectNoCredentials(readFileSync(join(SNAPSHOT_DIR, file), 'utf8'));
  });
});

describe('toYaml: redaction', () => {
  const objects = renderExternalDns(full);
  const text = toYaml(objects);
  const docs = parse(text);

  it('writes one document per object, separated by ---', () => {
    expect(docs).toHaveLength(objects.length);
    expect(text.split('\n').filter((line) => line === '---')).toHaveLength(objects.length - 1);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.startsWith('---')).toBe(false);
  });

  it('keeps every object but the Secret exactly as rendered', () => {
    objects.forEach((object, i) => {
      if (object.kind !== 'Secret') expect(docs[i]).toEqual(object);
    });
  });

  it('replaces the Secret values with the placeholder, keeping keys, type and metadata', () => {
    const i = objects.findIndex((o) => o.kind === 'Secret');
    const { data: _data, ...rest } = objects[i] as KubernetesObject;
    expect(docs[i]).toEqual({ ...rest, data: { credentials: REDACTED_SECRET_VALUE } });
  });

  it('explains in a comment how to create the Secret from Vault instead', () => {
    const secretDoc = text.split('\n---\n').find((d) => d.includes('kind: Secret')) as string;
    expect(secretDoc).toContain('# Secret dns/edns-aws-credentials: values redacted by zonekeeper');
    expect(secretDoc).toContain('Vault');
    expect(secretDoc).toContain(
      '#   kubectl -n dns create secret generic edns-aws-credentials --from-file=credentials=<file>',
    );
    expect(secretDoc).toMatch(/# Placeholder values: create this Secret from Vault \(see above\)\.\ndata:\n/);
  });

  it('makes a redacted Secret fail schema validation, so applying it by mistake cannot overwrite the real one', () => {
    const secret = docs.find((d) => d.kind === 'Secret') as KubernetesObject;
    expect(() => new Secret(secret as never).validate()).toThrow(/byte/);
    new Deployment(docs.find((d) => d.kind === 'Deployment') as never).validate();
  });

  it('does not modify the objects it is given', () => {
    expect(objects).toEqual(renderExternalDns(full));
  });

  it('redacts stringData and the last-applied-configuration annotation of any Secret, not other kinds', () => {
    const secret: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'tls',
        namespace: 'apps',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': `{"stringData":{"token":"${SECRET}"}}`,
          note: 'kept',
        },
      },
      type: 'kubernetes.io/tls',
      stringData: { token: SECRET },
      data: { 'tls.key': ENCODED },
    };
    const configMap: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'plain' },
      data: { setting: 'visible' },
    };
    const out = toYaml([secret, configMap]);
    expectNoCredentials(out);
    const [s, c] = parse(out);
    expect(s?.stringData).toEqual({ token: REDACTED_SECRET_VALUE });
    expect(s?.data).toEqual({ 'tls.key': REDACTED_SECRET_VALUE });
    expect(s?.metadata.annotations).toEqual({
      'kubectl.kubernetes.io/last-applied-configuration': REDACTED_SECRET_VALUE,
      note: 'kept',
    });
    expect(out).toContain('--from-file=tls.key=<file> --from-file=token=<file>');
    expect(c).toEqual(configMap);
  });

  it('includes Secret values only with includeSecrets: true, with a warning comment', () => {
    const withSecrets = toYaml(objects, { includeSecrets: true });
    expect(parse(withSecrets)).toEqual(objects);
    expect(withSecrets).toContain(ENCODED);
    expect(withSecrets).toContain('# Contains credentials: encrypt before committing');
    expect(withSecrets).not.toContain(REDACTED_SECRET_VALUE);
    new Secret(parse(withSecrets).find((d) => d.kind === 'Secret') as never).validate();
    expect(toYaml(objects, { includeSecrets: false })).toBe(text);
  });
});

describe('toYaml: formatting', () => {
  const objects = renderExternalDns(full);

  it('orders keys the same way whatever order the objects were built in', () => {
    const reversed = objects.map((o) => reverseKeys(o) as KubernetesObject);
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(objects));
    expect(toYaml(reversed)).toBe(toYaml(objects));
    expect(toYaml(reversed, { includeSecrets: true })).toBe(toYaml(objects, { includeSecrets: true }));
  });

  it('starts every document with apiVersion, kind, metadata, and metadata and list items with name', () => {
    for (const doc of toYaml(objects).split('---\n')) {
      const topLevel = doc.split('\n').filter((line) => /^[a-zA-Z]/.test(line));
      expect(topLevel.slice(0, 3)).toEqual([
        expect.stringMatching(/^apiVersion: /),
        expect.stringMatching(/^kind: /),
        'metadata:',
      ]);
    }
    expect(toYaml(objects)).toMatch(/containers:\n\s+- name: external-dns\n\s+args:/);
    expect(toYaml(objects)).toMatch(/metadata:\n {2}name: edns\n {2}namespace: dns\n {2}labels:/);
  });

  it('writes no anchors or aliases for shared sub-objects and never folds long lines', () => {
    const shared = { team: 'platform' };
    const long = `--annotation-filter=${'x'.repeat(200)}`;
    const object: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'shared', labels: shared, annotations: shared },
      data: { arg: long },
    };
    const out = toYaml([object]);
    expect(out).not.toMatch(/[&*]a\d/);
    expect(out).toContain(`arg: ${long}\n`);
    expect(parse(out)).toEqual([object]);
  });

  it('quotes strings that would otherwise read as other types', () => {
    const objects2 = renderExternalDns({
      ...base,
      createNamespace: true,
      extraLabels: { flag: 'true', ver: '1.0' },
    });
    const out = toYaml(objects2);
    expect(out).toContain('zonekeeper.io/created-namespace: "true"');
    expect(parse(out)[0]).toEqual(objects2[0]);
  });

  it('gives an empty string for no objects', () => {
    expect(toYaml([])).toBe('');
  });

  it.each([
    ['not an array', 'x', undefined, /expected an array/],
    [
      'an element without kind',
      [{ apiVersion: 'v1', metadata: { name: 'x' } }],
      undefined,
      /objects\[0\] is not a Kubernetes object/,
    ],
    [
      'an element without metadata.name',
      [{ apiVersion: 'v1', kind: 'Secret', metadata: {} }],
      undefined,
      /objects\[0\]/,
    ],
    ['includeSecrets not a boolean', [], { includeSecrets: 'yes' }, /includeSecrets must be a boolean/],
  ])('rejects %s with INVALID_INPUT', (_name, objectsArg, options, message) => {
    let thrown: unknown;
    try {
      toYaml(objectsArg as never, options as never);
    } catch (error) {
      thrown = error;
    }
    expect(hasErrorCode(thrown, 'INVALID_INPUT')).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .reverse()
      .map((k) => [k, reverseKeys((value as Record<string, unknown>)[k])]),
  );
}
