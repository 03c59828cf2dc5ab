/**
 * The cert-manager renderer: every object validates against cert-manager's published schemas
 * (`@kubernetes-models/cert-manager`, generated from cert-manager's and approver-policy's CRDs) and
 * Kubernetes' own (`kubernetes-models`), for any valid input (fast-check); secrets never leave the
 * Secrets, and `toYaml` redacts them; bad input is refused before anything is rendered.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer';
import { CertificateRequestPolicy } from '@kubernetes-models/cert-manager/policy.cert-manager.io/v1alpha1/CertificateRequestPolicy';
import { isZonekeeperError, type KubernetesObject, ZonekeeperLabels } from '@zonekeeper/core';
import { REDACTED_SECRET_VALUE, toYaml } from '@zonekeeper/externaldns-deployer';
import fc from 'fast-check';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Secret } from 'kubernetes-models/v1/Secret';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  createCertificateAuthority,
  type IntermediateCertificateAuthority,
  issueIntermediateCertificateAuthority,
} from '../index.js';
import { type CertManagerInput, renderCertManager } from './index.js';

const schemas: Record<string, (object: KubernetesObject) => void> = {
  Issuer: (o) => new Issuer(o as never).validate(),
  CertificateRequestPolicy: (o) => new CertificateRequestPolicy(o as never).validate(),
  Secret: (o) => new Secret(o as never).validate(),
  ClusterRole: (o) => new ClusterRole(o as never).validate(),
  RoleBinding: (o) => new RoleBinding(o as never).validate(),
};

function validateAll(objects: readonly KubernetesObject[]): void {
  for (const object of objects) {
    const validate = schemas[object.kind];
    if (validate === undefined) throw new Error(`no schema for ${object.kind}`);
    validate(object);
  }
}

const ZONE = 'acme.example.com';
const ACCESS_KEY_ID = 'AKIAACMEEXAMPLE00001';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYACMEKEY0001';

let intermediate: IntermediateCertificateAuthority;
let rootPem: string;
let globexIntermediate: IntermediateCertificateAuthority;
beforeAll(async () => {
  const root = await createCertificateAuthority({ commonName: 'acme zonekeeper CA', pathLength: 1 });
  rootPem = root.certificatePem;
  intermediate = await issueIntermediateCertificateAuthority(root, {
    commonName: 'acme cert-manager CA',
    permittedDnsDomains: [ZONE],
  });
  globexIntermediate = await issueIntermediateCertificateAuthority(root, {
    commonName: 'globex cert-manager CA',
    permittedDnsDomains: ['globex.example.com'],
  });
});

const acme = {
  server: 'https://acme-v02.api.letsencrypt.org/directory',
  email: 'ops@acme.example.com',
  hostedZoneId: '/hostedzone/Z1ACME',
  accessKeyId: ACCESS_KEY_ID,
  secretAccessKey: SECRET_ACCESS_KEY,
};
const input = (over: Partial<CertManagerInput> = {}): CertManagerInput => ({
  organization: 'acme',
  zoneName: `${ZONE}.`,
  namespaces: ['web', 'api'],
  acme,
  ca: {
    certificatePem: intermediate.certificatePem,
    privateKeyPem: intermediate.privateKeyPem,
    issuerCertificatePem: rootPem,
  },
  ...over,
});

/** Rendered objects, read as JSON in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary rendered fields.
type Rendered = KubernetesObject & { spec: any; data: any };

const decode = (b64: unknown) => Buffer.from(String(b64), 'base64').toString('utf8');
const find = (objects: readonly KubernetesObject[], kind: string, name: string, namespace?: string) => {
  const found = objects.find(
    (o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace,
  );
  if (found === undefined) throw new Error(`${kind} ${namespace}/${name} not rendered`);
  return found as Rendered;
};

describe('renderCertManager', () => {
  it('renders, per tenant namespace, the ACME and CA issuers with their Secrets, and the approver policy', () => {
    const objects = renderCertManager(input());
    validateAll(objects);
    expect(objects.map((o) => `${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}`)).toEqual([
      'CertificateRequestPolicy -/zonekeeper-acme',
      'ClusterRole -/zonekeeper-acme-certificate-policy',
      'Secret web/zonekeeper-acme-route53',
      'Issuer web/zonekeeper-acme',
      'Secret web/zonekeeper-ca',
      'Issuer web/zonekeeper-ca',
      'RoleBinding web/zonekeeper-certificate-policy',
      'Secret api/zonekeeper-acme-route53',
      'Issuer api/zonekeeper-acme',
      'Secret api/zonekeeper-ca',
      'Issuer api/zonekeeper-ca',
      'RoleBinding api/zonekeeper-certificate-policy',
    ]);
    for (const o of objects) {
      expect(o.metadata.labels).toEqual({
        [ZonekeeperLabels.managedBy]: 'zonekeeper',
        [ZonekeeperLabels.organization]: 'acme',
      });
    }

    const issuer = find(objects, 'Issuer', 'zonekeeper-acme', 'web');
    expect(issuer.spec.acme).toEqual({
      server: acme.server,
      email: acme.email,
      privateKeySecretRef: { name: 'zonekeeper-acme-account' },
      solvers: [
        {
          selector: { dnsZones: [ZONE] },
          dns01: {
            route53: {
              hostedZoneID: 'Z1ACME',
              region: 'us-east-1',
              accessKeyIDSecretRef: { name: 'zonekeeper-acme-route53', key: 'access-key-id' },
              secretAccessKeySecretRef: { name: 'zonekeeper-acme-route53', key: 'secret-access-key' },
            },
          },
        },
      ],
    });
    const credentials = find(objects, 'Secret', 'zonekeeper-acme-route53', 'web');
    expect(decode(credentials.data['access-key-id'])).toBe(ACCESS_KEY_ID);
    expect(decode(credentials.data['secret-access-key'])).toBe(SECRET_ACCESS_KEY);

    expect(find(objects, 'Issuer', 'zonekeeper-ca', 'api').spec).toEqual({
      ca: { secretName: 'zonekeeper-ca' },
    });
    const caSecret = find(objects, 'Secret', 'zonekeeper-ca', 'api');
    expect(caSecret.type).toBe('kubernetes.io/tls');
    expect(decode(caSecret.data['tls.crt'])).toBe(intermediate.certificatePem + rootPem);
    expect(decode(caSecret.data['tls.key'])).toBe(intermediate.privateKeyPem);
    expect(decode(caSecret.data['ca.crt'])).toBe(rootPem);

    const policy = find(objects, 'CertificateRequestPolicy', 'zonekeeper-acme');
    expect(policy.spec).toEqual({
      allowed: {
        dnsNames: { values: [ZONE, `*.${ZONE}`], required: true },
        usages: ['digital signature', 'key encipherment', 'server auth'],
      },
      selector: {
        issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: 'zonekeeper-*' },
        namespace: { matchNames: ['web', 'api'] },
      },
    });
    const binding = find(objects, 'RoleBinding', 'zonekeeper-certificate-policy', 'web');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'zonekeeper-acme-certificate-policy',
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', namespace: 'cert-manager', name: 'cert-manager' },
    ]);
    expect(find(objects, 'ClusterRole', 'zonekeeper-acme-certificate-policy').rules).toEqual([
      {
        apiGroups: ['policy.cert-manager.io'],
        resources: ['certificaterequestpolicies'],
        verbs: ['use'],
        resourceNames: ['zonekeeper-acme'],
      },
    ]);
  });

  it('renders only what is asked for, and is deterministic', () => {
    const acmeOnly = renderCertManager(input({ ca: undefined, approverPolicy: false, namespaces: ['web'] }));
    expect(acmeOnly.map((o) => o.kind)).toEqual(['Secret', 'Issuer']);
    const caOnly = renderCertManager(input({ acme: undefined, approverPolicy: false, namespaces: ['web'] }));
    expect(caOnly.map((o) => o.kind)).toEqual(['Secret', 'Issuer']);
    expect(renderCertManager(input())).toEqual(renderCertManager(input()));
    const withBundle = renderCertManager(
      input({
        ca: undefined,
        acme: { ...acme, caBundlePem: rootPem, region: 'eu-west-1', email: undefined },
      }),
    );
    validateAll(withBundle);
    const issuer = find(withBundle, 'Issuer', 'zonekeeper-acme', 'web');
    expect(decode(issuer.spec.acme.caBundle)).toBe(rootPem);
    expect(issuer.spec.acme.solvers[0].dns01.route53.region).toBe('eu-west-1');
    expect(issuer.spec.acme).not.toHaveProperty('email');
  });

  it('keeps secrets in the Secrets: toYaml redacts every value, and no other object carries one', () => {
    const objects = renderCertManager(input());
    const yaml = toYaml(objects);
    for (const secret of [SECRET_ACCESS_KEY, intermediate.privateKeyPem.split('\n')[1] as string]) {
      expect(yaml).not.toContain(secret);
      expect(yaml).not.toContain(Buffer.from(secret).toString('base64').slice(0, 24));
    }
    const docs = parseAllDocuments(yaml).map(
      (d) => d.toJS() as KubernetesObject & { data?: Record<string, string> },
    );
    for (const doc of docs.filter((d) => d.kind === 'Secret')) {
      expect(Object.values(doc.data ?? {}).every((v) => v === REDACTED_SECRET_VALUE)).toBe(true);
    }
    const nonSecrets = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
    expect(nonSecrets).not.toContain(Buffer.from(SECRET_ACCESS_KEY).toString('base64'));
    expect(nonSecrets).not.toContain('PRIVATE KEY');
  });

  it('refuses bad input with INVALID_INPUT before rendering, never quoting a secret', () => {
    const ca = input().ca as NonNullable<CertManagerInput['ca']>;
    const bad: Array<[Partial<CertManagerInput>, string]> = [
      [{ acme: undefined, ca: undefined }, 'nothing to render'],
      [{ namespaces: [] }, 'namespaces'],
      [{ namespaces: ['web', 'web'] }, 'listed twice'],
      [{ namespaces: ['Web'] }, 'namespaces[0]'],
      [{ organization: 'Acme Corp' }, ''],
      [{ zoneName: '*.acme.example.com' }, ''],
      [{ acme: { ...acme, server: 'http://acme.test/directory' } }, 'https://'],
      [{ acme: { ...acme, hostedZoneId: 'z1acme' } }, 'hosted zone id'],
      [{ acme: { ...acme, region: 'mars' } }, 'region'],
      [{ acme: { ...acme, accessKeyId: 'not-a-key' } }, 'accessKeyId'],
      [{ acme: { ...acme, secretAccessKey: `${SECRET_ACCESS_KEY} x` } }, 'secretAccessKey'],
      [{ acme: { ...acme, email: 'nobody' } }, 'e-mail'],
      // The root itself: its key must stay in Vault.
      [
        { ca: { certificatePem: rootPem, privateKeyPem: 'x', issuerCertificatePem: rootPem } },
        'privateKeyPem',
      ],
      [{ ca: { ...ca, privateKeyPem: globexIntermediate.privateKeyPem } }, 'is not the key'],
      // Another organisation's intermediate (name constraints outside the zone).
      [
        {
          ca: {
            certificatePem: globexIntermediate.certificatePem,
            privateKeyPem: globexIntermediate.privateKeyPem,
            issuerCertificatePem: rootPem,
          },
        },
        'outside the organisation',
      ],
      [{ ca: { ...ca, issuerCertificatePem: intermediate.certificatePem } }, 'not signed by'],
      [{ ca: { ...ca, certificatePem: 'garbage' } }, 'PEM certificate'],
    ];
    for (const [over, message] of bad) {
      let error: unknown;
      try {
        renderCertManager(input(over));
      } catch (e) {
        error = e;
      }
      expect(isZonekeeperError(error) && error.code, JSON.stringify(Object.keys(over))).toBe('INVALID_INPUT');
      const text = (error as Error).message;
      expect(text).toContain(message);
      expect(text).not.toContain(SECRET_ACCESS_KEY);
      expect(text).not.toContain('PRIVATE KEY');
    }
  });

  it('refuses a self-signed CA (the organisation root) even with its own key', async () => {
    const root = await createCertificateAuthority({
      commonName: 'acme zonekeeper CA',
      permittedDnsDomains: [ZONE],
    });
    expect(() =>
      renderCertManager(
        input({
          ca: {
            certificatePem: root.certificatePem,
            privateKeyPem: root.privateKeyPem,
            issuerCertificatePem: root.certificatePem,
          },
        }),
      ),
    ).toThrow(/self-signed/);
  });

  it('refuses an intermediate without name constraints (one made with openssl, which cert-issuer never makes)', async () => {
    const root = await createCertificateAuthority({ commonName: 'platform CA', pathLength: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'zonekeeper-unconstrained-'));
    try {
      const file = (name: string, content: string) => {
        writeFileSync(join(dir, name), content, { mode: 0o600 });
        return join(dir, name);
      };
      const rootCert = file('root.pem', root.certificatePem);
      const rootKey = file('root.key', root.privateKeyPem);
      const ext = file(
        'ca.ext',
        'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n',
      );
      const key = join(dir, 'i.key');
      const csr = join(dir, 'i.csr');
      const cert = join(dir, 'i.pem');
      const openssl = (args: string[]) => execFileSync('/usr/bin/openssl', args, { stdio: 'pipe' });
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
      openssl(['req', '-new', '-key', key, '-subj', '/CN=unconstrained', '-out', csr]);
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        rootCert,
        '-CAkey',
        rootKey,
        '-CAcreateserial',
        '-days',
        '30',
        '-sha256',
        '-extfile',
        ext,
        '-out',
        cert,
      ]);
      expect(() =>
        renderCertManager(
          input({
            ca: {
              certificatePem: readFileSync(cert, 'utf8'),
              privateKeyPem: readFileSync(key, 'utf8'),
              issuerCertificatePem: root.certificatePem,
            },
          }),
        ),
      ).toThrow(/has no DNS name constraints/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an intermediate whose name constraints reach beyond the zone', async () => {
    const root = await createCertificateAuthority({ commonName: 'platform CA', pathLength: 1 });
    const wide = await issueIntermediateCertificateAuthority(root, {
      commonName: 'platform-wide',
      permittedDnsDomains: ['example.com'],
    });
    expect(() =>
      renderCertManager(
        input({
          ca: {
            certificatePem: wide.certificatePem,
            privateKeyPem: wide.privateKeyPem,
            issuerCertificatePem: root.certificatePem,
          },
        }),
      ),
    ).toThrow(/permits example\.com, outside the organisation's zone/);
  });
});

// An `xn--` label must be valid punycode; random ones are not (core rejects them).
const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$/).filter((l) => !l.startsWith('xn--'));

describe('renderCertManager, for any valid input', () => {
  it('renders objects that validate, stay within the zone and never leak the secret key', () => {
    fc.assert(
      fc.property(
        fc.record({
          organization: label,
          base: fc.array(label, { minLength: 1, maxLength: 3 }),
          namespaces: fc.uniqueArray(label, { minLength: 1, maxLength: 5 }),
          zoneId: fc.stringMatching(/^Z[A-Z0-9]{1,20}$/),
          region: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1'),
          accessKeyId: fc.stringMatching(/^AKIA[A-Z0-9]{16}$/),
          secretAccessKey: fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
          approverPolicy: fc.boolean(),
          email: fc.option(fc.constant('ops@example.org'), { nil: undefined }),
        }),
        (r) => {
          const zone = [r.organization, ...r.base].join('.');
          const objects = renderCertManager({
            organization: r.organization,
            zoneName: zone,
            namespaces: r.namespaces,
            approverPolicy: r.approverPolicy,
            acme: {
              server: 'https://acme.example.org/directory',
              email: r.email,
              hostedZoneId: r.zoneId,
              region: r.region,
              accessKeyId: r.accessKeyId,
              secretAccessKey: r.secretAccessKey,
            },
          });
          validateAll(objects);
          const issuers = objects.filter((o) => o.kind === 'Issuer') as Rendered[];
          expect(issuers.map((o) => o.metadata.namespace)).toEqual(r.namespaces);
          for (const issuer of issuers) {
            const solver = issuer.spec.acme.solvers[0];
            expect(solver.selector).toEqual({ dnsZones: [zone] });
            expect(solver.dns01.route53.hostedZoneID).toBe(r.zoneId);
          }
          const policies = objects.filter((o) => o.kind === 'CertificateRequestPolicy') as Rendered[];
          expect(policies.length).toBe(r.approverPolicy ? 1 : 0);
          for (const p of policies) {
            for (const v of p.spec.allowed.dnsNames.values as string[]) {
              expect(v === zone || v === `*.${zone}`).toBe(true);
            }
            expect(p.spec.selector.namespace.matchNames).toEqual(r.namespaces);
          }
          const encoded = Buffer.from(r.secretAccessKey).toString('base64');
          expect(JSON.stringify(objects.filter((o) => o.kind !== 'Secret'))).not.toContain(encoded);
          expect(toYaml(objects)).not.toContain(encoded);
        },
      ),
      { numRuns: 100 },
    );
  });
});
