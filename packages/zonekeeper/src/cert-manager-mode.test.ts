/**
 * `attachCluster`'s cert-manager mode on the embedded backend: the TXT-only ACME identity created for
 * real (IAM user, tags, one inline policy, its key in the store), the rendered issuers applied, an
 * idempotent re-run, the refusals before any write (a missing namespace, an object at our names that is
 * not ours or is another organisation's, a foreign IAM user at the ACME identity's name), the move
 * back to `zonekeeper` mode, detach, and deleteOrganization removing the identity and its key.
 */

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import {
  ACME_IDENTITY_PURPOSE,
  acmeIdentityPolicyName,
  acmeIdentityUserName,
  buildAcmeChallengePolicy,
  IDENTITY_TAGS,
  samePolicyDocument,
} from '@zonekeeper/iam-scoper';
import {
  readAccessKey,
  readCertificateAuthority,
  readClusterSettings,
  readIntermediateCertificateAuthority,
} from '@zonekeeper/vault-keys';
import { describe, expect, it } from 'vitest';
import { BASE, everythingIn, memoryWorld, rejectionOf } from './memory.test.support.js';

const ACME_USER = acmeIdentityUserName({ baseDomain: BASE, organization: 'acme' });
const SERVER = 'https://acme-v02.api.letsencrypt.org/directory';
const CERT_MANAGER = { namespaces: ['web', 'api'], acme: { server: SERVER, email: 'ops@acme.example' } };

async function worldWithNamespaces(namespaces: readonly string[] = ['web', 'api']) {
  const w = memoryWorld();
  const c1 = await w.cluster('c1');
  for (const name of namespaces) await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return w;
}

const ours = (objects: readonly KubernetesObject[]) =>
  objects
    .filter(
      (o) =>
        o.metadata.labels?.['zonekeeper.io/managed-by'] === 'zonekeeper' &&
        ['Issuer', 'CertificateRequestPolicy', 'RoleBinding', 'ClusterRole', 'Secret'].includes(o.kind) &&
        !o.metadata.name.startsWith('external-dns') &&
        !o.metadata.name.startsWith('zonekeeper:external-dns'),
    )
    .map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
    .sort();

const ISSUER_OBJECTS = [
  'CertificateRequestPolicy//zonekeeper-acme',
  'ClusterRole//zonekeeper-acme-certificate-policy',
  'Issuer/api/zonekeeper-acme',
  'Issuer/web/zonekeeper-acme',
  'RoleBinding/api/zonekeeper-certificate-policy',
  'RoleBinding/web/zonekeeper-certificate-policy',
  'Secret/api/zonekeeper-acme-route53',
  'Secret/web/zonekeeper-acme-route53',
];

function secretOf(objects: readonly KubernetesObject[], namespace: string): Record<string, string> {
  const s = objects.find(
    (o) =>
      o.kind === 'Secret' &&
      o.metadata.namespace === namespace &&
      o.metadata.name === 'zonekeeper-acme-route53',
  );
  const data = (s?.data ?? {}) as Record<string, string>;
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

describe('attachCluster in cert-manager mode', () => {
  it('creates the TXT-only ACME identity, stores its key and applies the issuers', async () => {
    const w = await worldWithNamespaces();
    const r = await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      certificateMode: 'cert-manager',
      certManager: CERT_MANAGER,
    });
    const zoneId = r.organizationResult.zone?.id as string;
    const user = w.identity.snapshot().find((u) => u.userName === ACME_USER);
    expect(user?.path).toBe('/zonekeeper/');
    expect(user?.tags).toMatchObject({
      [IDENTITY_TAGS.managedBy]: 'zonekeeper',
      [IDENTITY_TAGS.organization]: 'acme',
      [IDENTITY_TAGS.baseDomain]: BASE,
      [IDENTITY_TAGS.zoneId]: zoneId,
      [IDENTITY_TAGS.purpose]: ACME_IDENTITY_PURPOSE,
    });
    expect(user?.tags[IDENTITY_TAGS.cluster]).toBeUndefined();
    const policyName = acmeIdentityPolicyName({ baseDomain: BASE, organization: 'acme' });
    expect(Object.keys(user?.policies ?? {})).toEqual([policyName]);
    expect(
      samePolicyDocument(
        user?.policies[policyName] as string,
        buildAcmeChallengePolicy({ zoneId, zoneName: 'acme.example.com' }),
      ),
    ).toBe(true);
    expect(user?.accessKeys).toHaveLength(1);
    const stored = await readAccessKey(
      w.secrets,
      { organization: 'acme', purpose: 'acme-challenge' },
      w.layout,
    );
    expect(stored?.userName).toBe(ACME_USER);
    expect(stored?.accessKeyId).toBe(user?.accessKeys[0]?.accessKeyId);
    // Not the organisation's ExternalDNS key.
    const orgKey = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    expect(orgKey?.accessKeyId).not.toBe(stored?.accessKeyId);

    const c1 = await w.cluster('c1');
    expect(ours(c1.objects())).toEqual(ISSUER_OBJECTS);
    for (const ns of ['web', 'api'])
      expect(secretOf(c1.objects(), ns)).toEqual({
        'access-key-id': stored?.accessKeyId,
        'secret-access-key': stored?.secretAccessKey,
      });
    const issuer = c1.objects('Issuer').find((o) => o.metadata.namespace === 'web') as KubernetesObject & {
      spec: {
        acme: { server: string; email: string; solvers: { dns01: { route53: Record<string, unknown> } }[] };
      };
    };
    expect(issuer.spec.acme.server).toBe(SERVER);
    expect(issuer.spec.acme.email).toBe('ops@acme.example');
    expect(issuer.spec.acme.solvers[0]?.dns01.route53).toMatchObject({ hostedZoneID: zoneId });
    expect(r.plan.map((s) => s.op)).toEqual(
      expect.arrayContaining(['record-settings', 'ensure-acme-identity', 'apply-cert-manager']),
    );
    // The settings are recorded (secret-free), the result carries no ACME secret.
    const settings = await readClusterSettings(w.secrets, 'acme', 'c1', w.layout);
    expect(settings?.settings.certManager).toMatchObject({
      namespaces: ['api', 'web'],
      approverPolicy: true,
    });
    expect(everythingIn(r)).not.toContain(stored?.secretAccessKey as string);
    expect(w.logger.lines.join('\n')).not.toContain(stored?.secretAccessKey as string);
  });

  it('distributes the organisation’s CA with a trust-manager Bundle, when asked', async () => {
    const w = await worldWithNamespaces();
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      certManager: { ...CERT_MANAGER, trustBundle: true },
    });
    const c1 = await w.cluster('c1');
    const bundles = c1.objects('Bundle');
    expect(bundles.map((b) => b.metadata.name)).toEqual(['zonekeeper-acme-ca']);
    const ca = await readCertificateAuthority(w.secrets, 'acme', w.layout);
    const spec = bundles[0]?.spec as {
      sources: { inLine: string }[];
      target: { namespaceSelector: { matchExpressions: { values: string[] }[] } };
    };
    expect(spec.sources[0]?.inLine.trim()).toBe(ca?.certificatePem.trim());
    expect(spec.target.namespaceSelector.matchExpressions[0]?.values).toEqual(['api', 'web']);
    expect((await w.zk.attachCluster('acme', { clusterId: 'c1' })).plan).toEqual([]);
    // Turned off again: the Bundle goes, the issuers stay.
    const off = await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    expect(off.plan.map((s) => s.op)).toEqual(['record-settings', 'remove-cert-manager']);
    expect(c1.objects('Bundle')).toEqual([]);
    expect(ours(c1.objects())).toEqual(ISSUER_OBJECTS);
  });

  it('auditFleet and describeOrganization see nothing wrong with the ACME identity and its key', async () => {
    const w = await worldWithNamespaces();
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    const audit = await w.zk.auditFleet();
    expect(audit.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    const described = await w.zk.describeOrganization('acme');
    expect(JSON.stringify(described)).not.toContain('secretAccessKey');
  });

  it('is idempotent: a second attach plans nothing and writes nothing', async () => {
    const w = await worldWithNamespaces();
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    const before = await w.writes(['c1']);
    const again = await w.zk.attachCluster('acme', { clusterId: 'c1' });
    expect(again.plan).toEqual([]);
    expect(await w.writes(['c1'])).toEqual(before);
    // The same settings given again: still nothing.
    const same = await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    expect(same.plan).toEqual([]);
    expect(await w.writes(['c1'])).toEqual(before);
  });

  it('repairs: a deleted Issuer is applied again, a key deleted from IAM is replaced everywhere', async () => {
    const w = await worldWithNamespaces();
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    const c1 = await w.cluster('c1');
    await c1.delete({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      namespace: 'api',
      name: 'zonekeeper-acme',
    });
    const first = (
      await readAccessKey(w.secrets, { organization: 'acme', purpose: 'acme-challenge' }, w.layout)
    )?.accessKeyId as string;
    await w.identity.deleteAccessKey(ACME_USER, first);
    const r = await w.zk.attachCluster('acme', { clusterId: 'c1' });
    expect(r.plan.map((s) => s.op)).toEqual(['ensure-acme-identity', 'apply-cert-manager']);
    expect(ours(c1.objects())).toEqual(ISSUER_OBJECTS);
    const now = await readAccessKey(w.secrets, { organization: 'acme', purpose: 'acme-challenge' }, w.layout);
    expect(now?.accessKeyId).not.toBe(first);
    expect(
      w.identity
        .snapshot()
        .find((u) => u.userName === ACME_USER)
        ?.accessKeys.map((k) => k.accessKeyId),
    ).toEqual([now?.accessKeyId]);
    for (const ns of ['web', 'api'])
      expect(secretOf(c1.objects(), ns)['access-key-id']).toBe(now?.accessKeyId);
  });

  it('refuses a missing tenant namespace before any write', async () => {
    const w = await worldWithNamespaces(['web']);
    await w.zk.ensureOrganization('acme');
    const before = await w.writes();
    const error = await rejectionOf(
      w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER }),
    );
    expect(hasErrorCode(error, 'NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('api');
    expect(await w.writes()).toEqual(before);
  });

  it('never takes over an object at our names that is not ours, or another organisation’s', async () => {
    for (const labels of [
      undefined,
      { 'zonekeeper.io/managed-by': 'zonekeeper', 'zonekeeper.io/organization': 'globex' },
    ]) {
      const w = await worldWithNamespaces();
      await w.zk.ensureOrganization('acme');
      const c1 = await w.cluster('c1');
      await c1.apply({
        apiVersion: 'cert-manager.io/v1',
        kind: 'Issuer',
        metadata: { name: 'zonekeeper-acme', namespace: 'api', ...(labels ? { labels } : {}) },
        spec: { selfSigned: {} },
      });
      const before = await w.writes();
      const error = await rejectionOf(
        w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER }),
      );
      expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
      expect(await w.writes()).toEqual(before);
      expect(c1.objects('Issuer')).toHaveLength(1);
    }
  });

  it('a replaced key reaches the organisation’s other cert-manager clusters too', async () => {
    const w = await worldWithNamespaces();
    const c2 = await w.cluster('c2');
    await c2.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    await w.zk.attachCluster('acme', {
      clusterId: 'c2',
      certManager: { namespaces: ['shop'], acme: { server: SERVER } },
    });
    const ref = { organization: 'acme', purpose: 'acme-challenge' } as const;
    const first = (await readAccessKey(w.secrets, ref, w.layout))?.accessKeyId as string;
    expect(secretOf(c2.objects(), 'shop')['access-key-id']).toBe(first);
    await w.identity.deleteAccessKey(ACME_USER, first);
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const now = (await readAccessKey(w.secrets, ref, w.layout))?.accessKeyId;
    expect(now).not.toBe(first);
    expect(secretOf(c2.objects(), 'shop')['access-key-id']).toBe(now);
    expect(secretOf((await w.cluster('c1')).objects(), 'web')['access-key-id']).toBe(now);
    expect((await w.zk.attachCluster('acme', { clusterId: 'c2' })).plan).toEqual([]);
  });

  it('never adopts a foreign IAM user at the ACME identity’s name', async () => {
    const w = await worldWithNamespaces();
    await w.zk.ensureOrganization('acme');
    await w.identity.createUser({ userName: ACME_USER, path: '/zonekeeper/', tags: {} });
    const before = await w.writes();
    const error = await rejectionOf(
      w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER }),
    );
    expect(hasErrorCode(error, 'NOT_OWNED')).toBe(true);
    expect(await w.writes()).toEqual(before);
    expect(w.identity.snapshot().find((u) => u.userName === ACME_USER)?.accessKeys).toEqual([]);
  });

  it('never takes over a foreign secret at the ACME key’s or the intermediate’s path in Vault', async () => {
    for (const [path, settings, config] of [
      ['acme-challenge/aws-access-key', CERT_MANAGER, {}],
      [
        'tls/cert-manager-ca',
        { namespaces: ['web'], acme: false as const, ca: true },
        { caPathLength: 1 as const },
      ],
    ] as const) {
      const w = memoryWorld({ certificates: config });
      const c1 = await w.cluster('c1');
      await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
      await w.zk.ensureOrganization('acme');
      const full = `${w.layout.prefix}/orgs/acme/${path}`;
      await w.secrets.write(full, { someone: 'else' }, { cas: 0 });
      const before = await w.writes(['c1']);
      const error = await rejectionOf(w.zk.attachCluster('acme', { clusterId: 'c1', certManager: settings }));
      expect(hasErrorCode(error, 'NOT_OWNED'), path).toBe(true);
      expect(await w.writes(['c1'])).toEqual(before);
      expect((await w.secrets.read(full))?.data).toEqual({ someone: 'else' });
    }
  });

  it('a namespace dropped from the settings: an object there that someone replaced is left alone', async () => {
    const w = await worldWithNamespaces();
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    const c1 = await w.cluster('c1');
    const ref = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      namespace: 'api',
      name: 'zonekeeper-acme',
    };
    await c1.delete(ref);
    await c1.apply({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name: 'zonekeeper-acme', namespace: 'api', labels: { team: 'api' } },
      spec: { selfSigned: {} },
    });
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      certManager: { ...CERT_MANAGER, namespaces: ['web'] },
    });
    expect(
      c1
        .objects('Issuer')
        .map((o) => `${o.metadata.namespace}/${o.metadata.name}`)
        .sort(),
    ).toEqual(['api/zonekeeper-acme', 'web/zonekeeper-acme']);
    expect(ours(c1.objects()).filter((o) => o.includes('/api/'))).toEqual([]);
  });

  it('detach leaves an object at our names that someone replaced with their own', async () => {
    const w = await worldWithNamespaces();
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    const c1 = await w.cluster('c1');
    const ref = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      namespace: 'api',
      name: 'zonekeeper-acme',
    };
    await c1.delete(ref);
    await c1.apply({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name: 'zonekeeper-acme', namespace: 'api', labels: { team: 'api' } },
      spec: { selfSigned: {} },
    });
    await w.zk.detachCluster('acme', 'c1');
    expect(c1.objects('Issuer').map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'api/zonekeeper-acme',
    ]);
    expect(ours(c1.objects())).toEqual([]);
  });

  it('refuses bad settings before anything is read', async () => {
    const w = await worldWithNamespaces();
    for (const input of [
      { certificateMode: 'acme' },
      { certificateMode: 'zonekeeper', certManager: CERT_MANAGER },
      { certManager: { namespaces: [] } },
      { certManager: { namespaces: ['Web'] } },
      { certManager: { namespaces: ['web', 'web'] } },
      { certManager: { namespaces: ['web'] } },
      { certManager: { namespaces: ['web'], acme: { server: 'http://acme.test/dir' } } },
      { certManager: { namespaces: ['web'], acme: { server: SERVER, email: 'not an address' } } },
      { certManager: { namespaces: ['web'], acme: { server: SERVER }, approverPolicy: 'yes' } },
      { certManager: { namespaces: ['web'], acme: { server: SERVER }, trustBundle: 1 } },
    ]) {
      const error = await rejectionOf(w.zk.attachCluster('acme', { clusterId: 'c1', ...(input as object) }));
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify(input)).toBe(true);
    }
    expect(await w.callCount()).toBe(0);
    // The mode without settings on a first attach: known only once the recorded settings are read.
    const error = await rejectionOf(
      w.zk.attachCluster('acme', { clusterId: 'c1', certificateMode: 'cert-manager' }),
    );
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect((await w.writes()).identity).toBe(0);
  });

  it('moves back to zonekeeper mode and drops a namespace: the objects no longer rendered are removed', async () => {
    const w = await worldWithNamespaces();
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    const c1 = await w.cluster('c1');
    const narrowed = await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      certManager: { ...CERT_MANAGER, namespaces: ['web'] },
    });
    // The policy's namespace selector narrows too (applied), the api namespace's objects go.
    expect(narrowed.plan.map((s) => s.op)).toEqual([
      'record-settings',
      'apply-cert-manager',
      'remove-cert-manager',
    ]);
    expect(ours(c1.objects())).toEqual(ISSUER_OBJECTS.filter((o) => !o.includes('/api/')));
    const policy = c1.objects('CertificateRequestPolicy')[0] as KubernetesObject & {
      spec: { selector: { namespace: { matchNames: string[] } } };
    };
    expect(policy.spec.selector.namespace.matchNames).toEqual(['web']);
    const back = await w.zk.attachCluster('acme', { clusterId: 'c1', certificateMode: 'zonekeeper' });
    expect(back.plan.map((s) => s.op)).toEqual(['record-settings', 'remove-cert-manager']);
    expect(ours(c1.objects())).toEqual([]);
    expect(
      (await readClusterSettings(w.secrets, 'acme', 'c1', w.layout))?.settings.certManager,
    ).toBeUndefined();
    expect((await w.zk.attachCluster('acme', { clusterId: 'c1' })).plan).toEqual([]);
  });

  it('detach removes the issuers; deleteOrganization removes the ACME identity and its key', async () => {
    const w = await worldWithNamespaces();
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    const c1 = await w.cluster('c1');
    const d = await w.zk.detachCluster('acme', 'c1');
    expect(d.plan.map((s) => s.op)).toContain('remove-cert-manager');
    expect(ours(c1.objects())).toEqual([]);
    expect(w.identity.snapshot().some((u) => u.userName === ACME_USER)).toBe(true);
    const gone = await w.zk.deleteOrganization('acme');
    expect(gone.deletedIdentities).toContain(ACME_USER);
    expect(w.identity.snapshot()).toEqual([]);
    expect(
      await readAccessKey(w.secrets, { organization: 'acme', purpose: 'acme-challenge' }, w.layout),
    ).toBeUndefined();
  });

  it('the collector removes an orphaned ACME identity and its key', async () => {
    const w = await worldWithNamespaces();
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    await w.zk.detachCluster('acme', 'c1');
    // The zone goes by hand (as an operator might), leaving the identities and secrets behind.
    await w.zk.deleteOrganization('acme', { dryRun: true });
    for (const zone of w.dns.snapshot().filter((z) => z.name === 'acme.example.com'))
      await w.dns.deleteZone(zone.id);
    const r = await w.zk.collectGarbage();
    expect(JSON.stringify(r)).toContain(ACME_USER);
    expect(w.identity.snapshot()).toEqual([]);
    expect(
      await readAccessKey(w.secrets, { organization: 'acme', purpose: 'acme-challenge' }, w.layout),
    ).toBeUndefined();
  });
});

describe('cert-manager mode’s CA issuer', () => {
  const CA_ONLY = { namespaces: ['web'], acme: false as const, ca: true };

  it('issues a name-constrained intermediate signed by the organisation’s CA, stores it, and gives it to the CA Issuer', async () => {
    const w = memoryWorld({ certificates: { caPathLength: 1 } });
    const c1 = await w.cluster('c1');
    await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    const r = await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CA_ONLY });
    expect(r.plan.map((s) => s.op)).not.toContain('ensure-acme-identity');
    expect(w.identity.snapshot().some((u) => u.userName === ACME_USER)).toBe(false);
    const root = await readCertificateAuthority(w.secrets, 'acme', w.layout);
    const stored = await readIntermediateCertificateAuthority(w.secrets, 'acme', w.layout);
    const intermediate = new X509Certificate(stored?.certificatePem as string);
    const rootCert = new X509Certificate(root?.certificatePem as string);
    expect(intermediate.ca).toBe(true);
    expect(intermediate.checkIssued(rootCert) && intermediate.verify(rootCert.publicKey)).toBe(true);
    // openssl reads the extensions: pathlen:0, and name constraints permitting the zone only.
    const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'basicConstraints,nameConstraints'], {
      input: stored?.certificatePem,
      encoding: 'utf8',
    });
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Permitted:\s+DNS:acme\.example\.com\s*$/);
    const secret = c1.objects('Secret').find((o) => o.metadata.name === 'zonekeeper-ca');
    const data = (secret?.data ?? {}) as Record<string, string>;
    const decode = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');
    expect(secret?.type).toBe('kubernetes.io/tls');
    expect(decode(data['tls.key']).trim()).toBe(stored?.privateKeyPem.trim());
    expect(decode(data['tls.crt'])).toContain(stored?.certificatePem.trim());
    expect(decode(data['ca.crt']).trim()).toBe(root?.certificatePem.trim());
    expect(c1.objects('Issuer').map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'web/zonekeeper-ca',
    ]);
    // The root's key never reaches the cluster: no Secret value holds its private scalar (a P-256
    // PKCS#8 key's base64 after the fixed 48-character header; the public key follows it).
    expect(root?.privateKeyPem).toContain('PRIVATE KEY');
    const rootKeyTail = (root?.privateKeyPem ?? '').replace(/-----[A-Z ]+-----|\s/g, '').slice(48, 88);
    for (const o of c1.objects('Secret'))
      for (const v of Object.values((o.data ?? {}) as Record<string, string>))
        expect(decode(v).replace(/\s/g, '')).not.toContain(rootKeyTail);
    const before = await w.writes(['c1']);
    expect((await w.zk.attachCluster('acme', { clusterId: 'c1' })).plan).toEqual([]);
    expect(await w.writes(['c1'])).toEqual(before);
  });

  it('replaces the intermediate at two thirds of its lifetime', async () => {
    const w = memoryWorld({ certificates: { caPathLength: 1 } });
    const c1 = await w.cluster('c1');
    await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    await w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CA_ONLY });
    const first = await readIntermediateCertificateAuthority(w.secrets, 'acme', w.layout);
    w.clock.advance(250 * 24 * 3_600_000);
    const r = await w.zk.attachCluster('acme', { clusterId: 'c1' });
    expect(r.plan.map((s) => s.op)).toContain('apply-cert-manager');
    const second = await readIntermediateCertificateAuthority(w.secrets, 'acme', w.layout);
    expect(second?.serialNumber).not.toBe(first?.serialNumber);
    const secret = c1.objects('Secret').find((o) => o.metadata.name === 'zonekeeper-ca');
    const crt = Buffer.from(((secret?.data ?? {}) as Record<string, string>)['tls.crt'] ?? '', 'base64');
    expect(crt.toString()).toContain(second?.certificatePem.trim());
  });

  it('is refused, before any write, when the organisation’s CA may not sign an intermediate', async () => {
    const w = memoryWorld();
    const c1 = await w.cluster('c1');
    await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    await w.zk.ensureOrganization('acme');
    const before = await w.writes(['c1']);
    const error = await rejectionOf(w.zk.attachCluster('acme', { clusterId: 'c1', certManager: CA_ONLY }));
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as Error).message).toContain('caPathLength');
    expect(await w.writes(['c1'])).toEqual(before);
    // A first attach whose CA would be created with pathlen:0: refused too.
    const fresh = memoryWorld();
    const f1 = await fresh.cluster('c1');
    await f1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    const again = await rejectionOf(
      fresh.zk.attachCluster('acme', { clusterId: 'c1', certManager: CA_ONLY }),
    );
    expect(hasErrorCode(again, 'INVALID_INPUT')).toBe(true);
    expect((await fresh.writes()).secrets).toBe(0);
  });
});
