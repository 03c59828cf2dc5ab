import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  deleteClusterSecrets,
  deleteOrganizationSecrets,
  listAttachedClusters,
  listStoredOrganizations,
  readAccessKey,
  readAttachment,
  readCertificate,
  readCertificateAuthority,
  secretPaths,
  writeAccessKey,
  writeAttachment,
  writeCertificate,
  writeCertificateAuthority,
} from './layout.js';
import { createMemorySecretStore } from './memory.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const key = {
  userName: 'zk-acme-1a2b3c4d',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: SECRET,
  createdAt: new Date('2026-05-01T10:00:00Z'),
};
const pem = (label: string) => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;
const ca = {
  certificatePem: pem('CERTIFICATE'),
  privateKeyPem: pem('PRIVATE KEY'),
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2036-01-01T00:00:00Z'),
  serialNumber: '0a1b2c3d4e5f6071',
};

describe('secretPaths', () => {
  it('lays out organisation, cluster and TLS paths under the prefix', () => {
    const p = secretPaths();
    expect(p.accessKey('acme')).toBe('zonekeeper/orgs/acme/aws-access-key');
    expect(p.accessKey('acme', 'prod-1')).toBe('zonekeeper/orgs/acme/clusters/prod-1/aws-access-key');
    expect(p.certificateAuthority('acme')).toBe('zonekeeper/orgs/acme/tls/ca');
    expect(p.certificate('acme', 'web')).toBe('zonekeeper/orgs/acme/tls/certs/web');
    expect(secretPaths({ prefix: 'platform/zk/' }).organization('acme')).toBe('platform/zk/orgs/acme');
  });

  it('rejects bad names and prefixes before touching the store', () => {
    expect(() => secretPaths().accessKey('Acme')).toThrow(/uppercase/);
    expect(() => secretPaths().accessKey('acme', 'a/b')).toThrow(/Cluster id/);
    expect(() => secretPaths({ prefix: '../x' })).toThrow(/Secret prefix/);
    expect(() => secretPaths().certificate('acme', '*.web')).toThrow(/Certificate name/);
  });
});

describe('access keys', () => {
  it('round-trip with check-and-set and secret-free metadata', async () => {
    const store = createMemorySecretStore();
    expect(await readAccessKey(store, { organization: 'acme' })).toBeUndefined();
    const { version } = await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 });
    const read = await readAccessKey(store, { organization: 'acme' });
    expect(read).toEqual({ ...key, version });
    const meta = await store.readMetadata('zonekeeper/orgs/acme/aws-access-key');
    expect(meta?.customMetadata).toMatchObject({
      kind: 'aws-access-key',
      'access-key-id': 'AKIAIOSFODNN7EXAMPLE',
      organization: 'acme',
    });
    expect(JSON.stringify(meta)).not.toContain(SECRET);
  });

  it('records the previous key during a rotation and forgets it afterwards', async () => {
    const store = createMemorySecretStore();
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c1' }, key, { cas: 0 });
    const next = {
      ...key,
      accessKeyId: 'AKIANEWKEY000000001',
      secretAccessKey: 'another-secret',
      previousAccessKeyId: key.accessKeyId,
    };
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c1' }, next, { cas: 1 });
    expect((await readAccessKey(store, { organization: 'acme', clusterId: 'c1' }))?.previousAccessKeyId).toBe(
      key.accessKeyId,
    );
    const { previousAccessKeyId: _drop, ...done } = next;
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c1' }, done, { cas: 2 });
    const final = await readAccessKey(store, { organization: 'acme', clusterId: 'c1' });
    expect(final?.accessKeyId).toBe('AKIANEWKEY000000001');
    expect(final && 'previousAccessKeyId' in final).toBe(false);
  });

  it('refuses a stale write with CONFLICT', async () => {
    const store = createMemorySecretStore();
    await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 });
    const e = await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 }).catch((x) => x);
    expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    expect(e.message).not.toContain(SECRET);
  });

  it('validates the key without echoing the secret', async () => {
    const store = createMemorySecretStore();
    const bad = await writeAccessKey(
      store,
      { organization: 'acme' },
      { ...key, accessKeyId: 'not-a-key' },
      { cas: 0 },
    ).catch((x) => x);
    expect(hasErrorCode(bad, 'INVALID_INPUT')).toBe(true);
    expect(bad.message).not.toContain(SECRET);
    expect(
      hasErrorCode(
        await writeAccessKey(
          store,
          { organization: 'acme' },
          { ...key, secretAccessKey: '' },
          { cas: 0 },
        ).catch((x) => x),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    expect(store.paths()).toEqual([]);
  });

  it('reports a foreign secret at the key path as INTERNAL', async () => {
    const store = createMemorySecretStore();
    await store.write('zonekeeper/orgs/acme/aws-access-key', { something: 'else' }, { cas: 0 });
    expect(
      hasErrorCode(await readAccessKey(store, { organization: 'acme' }).catch((x) => x), 'INTERNAL'),
    ).toBe(true);
  });
});

describe('TLS material', () => {
  it('round-trips a CA and a certificate', async () => {
    const store = createMemorySecretStore();
    await writeCertificateAuthority(store, 'acme', ca, { cas: 0 });
    expect(await readCertificateAuthority(store, 'acme')).toEqual({ ...ca, version: 1 });
    const cert = {
      ...ca,
      serialNumber: 'ff01',
      chainPem: pem('CERTIFICATE') + pem('CERTIFICATE'),
      caPem: ca.certificatePem,
      dnsNames: ['Web.Acme.Example.com', '*.acme.example.com'],
    };
    await writeCertificate(store, 'acme', 'web', cert, { cas: 0 });
    const read = await readCertificate(store, 'acme', 'web');
    expect(read?.dnsNames).toEqual(['web.acme.example.com', '*.acme.example.com']);
    expect(read?.chainPem).toBe(cert.chainPem);
    const meta = await store.readMetadata('zonekeeper/orgs/acme/tls/certs/web');
    expect(meta?.customMetadata).toMatchObject({ kind: 'tls-certificate', serial: 'ff01' });
    expect(JSON.stringify(meta)).not.toContain('PRIVATE KEY');
  });

  it('rejects invalid names and dates', async () => {
    const store = createMemorySecretStore();
    expect(
      hasErrorCode(
        await writeCertificateAuthority(store, 'acme', { ...ca, notAfter: new Date('x') }, { cas: 0 }).catch(
          (x) => x,
        ),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    const cert = { ...ca, chainPem: 'x', caPem: 'y', dnsNames: ['10.0.0.1'] };
    expect(
      hasErrorCode(
        await writeCertificate(store, 'acme', 'web', cert, { cas: 0 }).catch((x) => x),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    expect(store.paths()).toEqual([]);
  });
});

describe('deleting', () => {
  it('removes one organisation (every path, every version) and nothing else, idempotently', async () => {
    const store = createMemorySecretStore();
    await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 });
    await writeAccessKey(store, { organization: 'acme' }, key, { cas: 1 });
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c1' }, key, { cas: 0 });
    await writeCertificateAuthority(store, 'acme', ca, { cas: 0 });
    await writeAccessKey(store, { organization: 'globex' }, key, { cas: 0 });
    expect(await listStoredOrganizations(store)).toEqual(['acme', 'globex']);
    const deleted = await deleteOrganizationSecrets(store, 'acme');
    expect([...deleted].sort()).toEqual([
      'zonekeeper/orgs/acme/aws-access-key',
      'zonekeeper/orgs/acme/clusters/c1/aws-access-key',
      'zonekeeper/orgs/acme/tls/ca',
    ]);
    expect(store.paths()).toEqual(['zonekeeper/orgs/globex/aws-access-key']);
    expect(await deleteOrganizationSecrets(store, 'acme')).toEqual([]);
    expect(await listStoredOrganizations(store)).toEqual(['globex']);
  });

  it('removes one cluster’s secrets only', async () => {
    const store = createMemorySecretStore();
    await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 });
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c1' }, key, { cas: 0 });
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c2' }, key, { cas: 0 });
    expect(await deleteClusterSecrets(store, 'acme', 'c1')).toEqual([
      'zonekeeper/orgs/acme/clusters/c1/aws-access-key',
    ]);
    expect(store.paths()).toEqual([
      'zonekeeper/orgs/acme/aws-access-key',
      'zonekeeper/orgs/acme/clusters/c2/aws-access-key',
    ]);
  });
});

describe('cluster attachments', () => {
  it('record where ExternalDNS runs, list attached clusters, and disappear with the cluster’s secrets', async () => {
    const store = createMemorySecretStore();
    expect(await readAttachment(store, 'acme', 'c1')).toBeUndefined();
    await writeAttachment(
      store,
      {
        organization: 'acme',
        clusterId: 'c1',
        namespace: 'external-dns',
        scope: 'organization',
        tlsSecrets: ['web/tls', 'api/tls'],
        attachedAt: new Date('2026-05-01T00:00:00Z'),
      },
      { cas: 0 },
    );
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c2' }, key, { cas: 0 });
    await writeAttachment(
      store,
      {
        organization: 'acme',
        clusterId: 'c2',
        namespace: 'dns',
        scope: 'cluster',
        tlsSecrets: [],
        attachedAt: new Date('2026-05-01T00:00:00Z'),
      },
      { cas: 0 },
    );
    expect(await readAttachment(store, 'acme', 'c1')).toMatchObject({
      namespace: 'external-dns',
      scope: 'organization',
      tlsSecrets: ['api/tls', 'web/tls'],
      version: 1,
    });
    expect(await readAttachment(store, 'acme', 'c2')).toMatchObject({ scope: 'cluster', tlsSecrets: [] });
    expect(await listAttachedClusters(store, 'acme')).toEqual(['c1', 'c2']);
    await deleteClusterSecrets(store, 'acme', 'c2');
    expect(await listAttachedClusters(store, 'acme')).toEqual(['c1']);
    expect(await listAttachedClusters(store, 'globex')).toEqual([]);
  });
});
