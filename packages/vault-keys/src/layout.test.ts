import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  deleteClusterBinding,
  deleteClusterSecrets,
  deleteOrganizationSecrets,
  listAttachedClusters,
  listClusterBindings,
  listStoredOrganizations,
  readAccessKey,
  readAttachment,
  readCertificate,
  readCertificateAuthority,
  readClusterBinding,
  readClusterSettings,
  SECRET_MANAGED_BY,
  SECRET_OWNERSHIP,
  secretOwnership,
  secretPaths,
  writeAccessKey,
  writeAttachment,
  writeCertificate,
  writeCertificateAuthority,
  writeClusterBinding,
  writeClusterSettings,
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
    expect(p.acmeAccount()).toBe('zonekeeper/acme/account');
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

  it('reports an unmarked secret at the key path as NOT_OWNED, and a marked malformed one as INTERNAL', async () => {
    const store = createMemorySecretStore();
    await store.write('zonekeeper/orgs/acme/aws-access-key', { something: 'else' }, { cas: 0 });
    expect(
      hasErrorCode(await readAccessKey(store, { organization: 'acme' }).catch((x) => x), 'NOT_OWNED'),
    ).toBe(true);
    await store.writeMetadata('zonekeeper/orgs/acme/aws-access-key', {
      customMetadata: { [SECRET_OWNERSHIP.managedBy]: SECRET_MANAGED_BY },
    });
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
    expect(read).not.toHaveProperty('issuer');
  });

  it('keeps who issued a certificate when it is not the organisation CA', async () => {
    const store = createMemorySecretStore();
    const cert = { ...ca, chainPem: 'x', caPem: 'y', dnsNames: ['www.acme.example.com'] };
    await writeCertificate(
      store,
      'acme',
      'web',
      { ...cert, issuer: 'acme:https://ca.example/dir' },
      { cas: 0 },
    );
    expect((await readCertificate(store, 'acme', 'web'))?.issuer).toBe('acme:https://ca.example/dir');
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
    const { deleted, foreign } = await deleteOrganizationSecrets(store, 'acme');
    expect(foreign).toEqual([]);
    expect([...deleted].sort()).toEqual([
      'zonekeeper/orgs/acme/aws-access-key',
      'zonekeeper/orgs/acme/clusters/c1/aws-access-key',
      'zonekeeper/orgs/acme/tls/ca',
    ]);
    expect(store.paths()).toEqual(['zonekeeper/orgs/globex/aws-access-key']);
    expect(await deleteOrganizationSecrets(store, 'acme')).toEqual({ deleted: [], foreign: [] });
    expect(await listStoredOrganizations(store)).toEqual(['globex']);
  });

  it('removes one cluster’s secrets only', async () => {
    const store = createMemorySecretStore();
    await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 });
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c1' }, key, { cas: 0 });
    await writeAccessKey(store, { organization: 'acme', clusterId: 'c2' }, key, { cas: 0 });
    expect(await deleteClusterSecrets(store, 'acme', 'c1')).toEqual({
      deleted: ['zonekeeper/orgs/acme/clusters/c1/aws-access-key'],
      foreign: [],
    });
    expect(store.paths()).toEqual([
      'zonekeeper/orgs/acme/aws-access-key',
      'zonekeeper/orgs/acme/clusters/c2/aws-access-key',
    ]);
  });
});

describe('cluster attachments', () => {
  it("record a keyless cluster's credentials (mode and what its role trusts), and none for a key", async () => {
    const store = createMemorySecretStore();
    const base = {
      organization: 'acme',
      namespace: 'external-dns',
      scope: 'organization' as const,
      tlsSecrets: [],
      attachedAt: new Date('2026-05-01T00:00:00Z'),
    };
    const web = {
      mode: 'web-identity',
      issuerUrl: 'https://oidc.example.com/c1',
      audience: 'sts.amazonaws.com',
    } as const;
    const pod = {
      mode: 'pod-identity',
      clusterArn: 'arn:aws:eks:eu-west-1:123456789012:cluster/c2',
    } as const;
    await writeAttachment(store, { ...base, clusterId: 'c1', credentials: web }, { cas: 0 });
    await writeAttachment(store, { ...base, clusterId: 'c2', credentials: pod }, { cas: 0 });
    await writeAttachment(store, { ...base, clusterId: 'c3' }, { cas: 0 });
    expect((await readAttachment(store, 'acme', 'c1'))?.credentials).toEqual(web);
    expect((await readAttachment(store, 'acme', 'c2'))?.credentials).toEqual(pod);
    const keyed = await readAttachment(store, 'acme', 'c3');
    expect(keyed && 'credentials' in keyed).toBe(false);
    // An access-key record holds exactly the fields it always had.
    const raw = await store.read(secretPaths().attachment('acme', 'c3'));
    expect(Object.keys(raw?.data ?? {}).sort()).toEqual(['attachedAt', 'namespace', 'scope', 'tlsSecrets']);
  });

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

describe('ownership (issue #10: foreign secrets at our paths are never read as ours, overwritten or deleted)', () => {
  const path = 'zonekeeper/orgs/acme/aws-access-key';

  it('marks what it writes with managed-by and the platform, before the first version', async () => {
    const store = createMemorySecretStore();
    const order: string[] = [];
    const recording = new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          order.push(String(property));
          return value.apply(target, args);
        };
      },
    });
    await writeAccessKey(recording, { organization: 'acme' }, key, { cas: 0, owner: 'example.com' });
    expect(order).toEqual(['readMetadata', 'writeMetadata', 'write']);
    expect((await store.readMetadata(path))?.customMetadata).toMatchObject({
      [SECRET_OWNERSHIP.managedBy]: SECRET_MANAGED_BY,
      [SECRET_OWNERSHIP.platform]: 'example.com',
      kind: 'aws-access-key',
      organization: 'acme',
    });
  });

  it('a secret at our path without our mark: read, overwrite and delete all refuse or skip it', async () => {
    const store = createMemorySecretStore();
    await store.write(path, { accessKeyId: 'AKIAFOREIGN000000001', secretAccessKey: 'theirs' }, { cas: 0 });
    await expect(readAccessKey(store, { organization: 'acme' })).rejects.toMatchObject({ code: 'NOT_OWNED' });
    const e = await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 }).catch((x) => x);
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    const u = await writeAccessKey(store, { organization: 'acme' }, key, { cas: 1 }).catch((x) => x);
    expect(hasErrorCode(u, 'NOT_OWNED') || hasErrorCode(u, 'CONFLICT')).toBe(true);
    expect((await store.readMetadata(path))?.customMetadata).toEqual({});
    expect(await deleteOrganizationSecrets(store, 'acme')).toEqual({ deleted: [], foreign: [path] });
    expect((await store.read(path))?.data.secretAccessKey).toBe('theirs');
  });

  it('foreign metadata alone (no version yet) is not taken over either', async () => {
    const store = createMemorySecretStore();
    await store.writeMetadata(path, { customMetadata: { owner: 'terraform' } });
    const e = await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0 }).catch((x) => x);
    expect(hasErrorCode(e, 'NOT_OWNED')).toBe(true);
    expect((await store.readMetadata(path))?.customMetadata).toEqual({ owner: 'terraform' });
  });

  it("two platforms sharing a store and a prefix never read, overwrite or delete each other's secrets", async () => {
    const store = createMemorySecretStore();
    await writeAccessKey(store, { organization: 'acme' }, key, { cas: 0, owner: 'one.example' });
    await expect(
      readAccessKey(store, { organization: 'acme' }, { owner: 'two.example' }),
    ).rejects.toMatchObject({ code: 'NOT_OWNED', message: expect.stringContaining('one.example') });
    expect(await deleteOrganizationSecrets(store, 'acme', { owner: 'two.example' })).toEqual({
      deleted: [],
      foreign: [path],
    });
    expect(
      (await readAccessKey(store, { organization: 'acme' }, { owner: 'one.example' }))?.accessKeyId,
    ).toBe(key.accessKeyId);
  });

  it('secrets written by zonekeeper 0.1 (kind and organisation, no mark) are recognised, and re-marked on write', async () => {
    const store = createMemorySecretStore();
    await store.write(
      path,
      {
        userName: key.userName,
        accessKeyId: key.accessKeyId,
        secretAccessKey: SECRET,
        createdAt: key.createdAt.toISOString(),
      },
      { cas: 0 },
    );
    await store.writeMetadata(path, { customMetadata: { kind: 'aws-access-key', organization: 'acme' } });
    const read = await readAccessKey(store, { organization: 'acme' }, { owner: 'example.com' });
    expect(read?.accessKeyId).toBe(key.accessKeyId);
    await writeAccessKey(store, { organization: 'acme' }, key, { cas: 1, owner: 'example.com' });
    expect((await store.readMetadata(path))?.customMetadata).toMatchObject({
      [SECRET_OWNERSHIP.managedBy]: SECRET_MANAGED_BY,
      [SECRET_OWNERSHIP.platform]: 'example.com',
    });
    // …but a 0.1 secret of another organisation is not.
    await expect(readAccessKey(store, { organization: 'globex' })).resolves.toBeUndefined();
  });

  it('secretOwnership decides from the metadata alone', () => {
    const mark = { [SECRET_OWNERSHIP.managedBy]: SECRET_MANAGED_BY };
    expect(secretOwnership(mark, { kind: 'tls-ca' })).toBe('ours');
    expect(secretOwnership({ ...mark, platform: 'a' }, { kind: 'tls-ca' }, 'a')).toBe('ours');
    expect(secretOwnership({ ...mark, platform: 'a' }, { kind: 'tls-ca' }, 'b')).toBe('foreign');
    expect(secretOwnership({ 'managed-by': 'vault-operator' }, { kind: 'tls-ca' })).toBe('foreign');
    expect(secretOwnership({}, { kind: 'tls-ca' })).toBe('foreign');
    expect(
      secretOwnership({ kind: 'tls-ca', organization: 'acme' }, { kind: 'tls-ca', organization: 'acme' }),
    ).toBe('ours');
  });
});

describe('cluster bindings and settings', () => {
  it('a cluster belongs to one organisation: the second binding loses, deleting checks the organisation', async () => {
    const store = createMemorySecretStore();
    const at = new Date('2026-05-01T00:00:00Z');
    await writeClusterBinding(store, { clusterId: 'c1', organization: 'acme', boundAt: at }, {});
    const e = await writeClusterBinding(
      store,
      { clusterId: 'c1', organization: 'globex', boundAt: at },
      {},
    ).catch((x) => x);
    expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    expect(await readClusterBinding(store, 'c1')).toMatchObject({ organization: 'acme' });
    await expect(deleteClusterBinding(store, 'c1', 'globex')).rejects.toMatchObject({ code: 'NOT_OWNED' });
    expect((await listClusterBindings(store)).map((b) => [b.clusterId, b.organization])).toEqual([
      ['c1', 'acme'],
    ]);
    expect(await deleteClusterBinding(store, 'c1', 'acme')).toBe(true);
    expect(await deleteClusterBinding(store, 'c1', 'acme')).toBe(false);
  });

  it('settings are canonical JSON, so equal settings are equal text', async () => {
    const store = createMemorySecretStore();
    await writeClusterSettings(store, 'acme', 'c1', { b: 1, a: { d: 2, c: [3] } }, { cas: 0 });
    expect((await store.read('zonekeeper/orgs/acme/clusters/c1/settings'))?.data.settings).toBe(
      '{"a":{"c":[3],"d":2},"b":1}',
    );
    expect((await readClusterSettings(store, 'acme', 'c1'))?.settings).toEqual({ a: { c: [3], d: 2 }, b: 1 });
    expect(canonicalJson({ x: undefined, y: 1 })).toBe('{"y":1}');
  });
});
