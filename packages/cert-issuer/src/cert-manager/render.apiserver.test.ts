/**
 * The rendered cert-manager objects on a real kube-apiserver (API server and etcd only, built by
 * `bash tools/kube-apiserver/build.sh`; the suite fails, never skips, without it) that has cert-manager's
 * approver-policy's and trust-manager's own CRDs (from the Go module proxy, `crds.test.util.ts`). The API server checks
 * custom resources against the CRDs' OpenAPI schemas, so what it accepts is what cert-manager's API
 * accepts; `kubectl apply --server-side` applies them as a user would.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isZonekeeperError, type KubernetesObject } from '@zonekeeper/core';
import { toYaml } from '@zonekeeper/externaldns-deployer';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { type KubeApiServer, startKubeApiServer } from '@zonekeeper/testkit/kube-apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueIntermediateCertificateAuthority } from '../index.js';
import { certManagerCrdFiles } from './crds.test.util.js';
import { type CertManagerInput, renderCertManager, renderTrustBundle } from './index.js';

const KUBECTL = '/usr/bin/kubectl';
const ZONE = 'acme.example.com';

let server: KubeApiServer;
let dir: string;
let kubeconfig: string;
let input: CertManagerInput;
let rootPem: string;

function kubectl(
  args: readonly string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: 60_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === 'number') resolve({ code: error.code, stdout, stderr });
        else
          reject(new Error(`kubectl ${args[0]} did not complete (${String(error.code)}); it is ${KUBECTL}`));
      },
    );
    child.stdin?.end(stdin);
  });
}

const list = (items: readonly KubernetesObject[]) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
/** Server-side apply; `validate: false` turns kubectl's own schema check off, so the API server judges. */
const apply = (objects: readonly KubernetesObject[], options: { validate?: boolean } = {}) =>
  kubectl(
    [
      'apply',
      '--server-side',
      '--field-manager=zonekeeper',
      ...(options.validate === false ? ['--validate=false'] : []),
      '-o',
      'name',
      '-f',
      '-',
    ],
    list(objects),
  );

beforeAll(async () => {
  const crds = await certManagerCrdFiles();
  server = await startKubeApiServer();
  dir = await mkdtemp(join(tmpdir(), 'zonekeeper-cert-manager-'));
  kubeconfig = await server.writeKubeconfig(dir);
  const created = await kubectl(['apply', '--server-side', ...crds.flatMap((f) => ['-f', f])]);
  expect(created.code, created.stderr).toBe(0);
  const established = await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/issuers.cert-manager.io',
    'crd/certificates.cert-manager.io',
    'crd/certificaterequestpolicies.policy.cert-manager.io',
    'crd/bundles.trust.cert-manager.io',
  ]);
  expect(established.code, established.stderr).toBe(0);
  for (const ns of ['web', 'api']) expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);

  const root = await createCertificateAuthority({ commonName: 'acme zonekeeper CA', pathLength: 1 });
  rootPem = root.certificatePem;
  const intermediate = await issueIntermediateCertificateAuthority(root, {
    commonName: 'acme cert-manager CA',
    permittedDnsDomains: [ZONE],
  });
  input = {
    organization: 'acme',
    zoneName: ZONE,
    namespaces: ['web', 'api'],
    acme: {
      server: 'https://acme-staging-v02.api.letsencrypt.org/directory',
      email: 'ops@acme.example.com',
      hostedZoneId: 'Z1ACME',
      region: 'eu-west-1',
      accessKeyId: 'AKIAACMEEXAMPLE00001',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYACMEKEY0001',
      caBundlePem: root.certificatePem,
    },
    ca: {
      certificatePem: intermediate.certificatePem,
      privateKeyPem: intermediate.privateKeyPem,
      issuerCertificatePem: root.certificatePem,
    },
  };
}, 420_000);

afterAll(async () => {
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('cert-manager objects on a real kube-apiserver with cert-manager’s CRDs', () => {
  it('accepts every rendered object through server-side apply and stores them as rendered', async () => {
    const objects = renderCertManager(input);
    const applied = await apply(objects);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim().split('\n')).toHaveLength(objects.length);

    const stored = await kubectl(['get', 'issuers.cert-manager.io', '-A', '-o', 'json']);
    expect(stored.code, stored.stderr).toBe(0);
    const issuers = (JSON.parse(stored.stdout) as { items: KubernetesObject[] }).items;
    const rendered = objects.filter((o) => o.kind === 'Issuer');
    expect(issuers).toHaveLength(rendered.length);
    for (const want of rendered) {
      const got = issuers.find(
        (i) => i.metadata.name === want.metadata.name && i.metadata.namespace === want.metadata.namespace,
      );
      expect(got?.spec, `${want.metadata.namespace}/${want.metadata.name}`).toEqual(want.spec);
    }
    const policy = await kubectl([
      'get',
      'certificaterequestpolicies.policy.cert-manager.io',
      'zonekeeper-acme',
      '-o',
      'json',
    ]);
    expect(policy.code, policy.stderr).toBe(0);
    expect((JSON.parse(policy.stdout) as { spec: unknown }).spec).toEqual(
      objects.find((o) => o.kind === 'CertificateRequestPolicy')?.spec,
    );

    // Applying the same objects again changes nothing.
    const before = await kubectl([
      'get',
      'issuers.cert-manager.io',
      '-A',
      '-o',
      'jsonpath={.items[*].metadata.resourceVersion}',
    ]);
    expect((await apply(objects)).code).toBe(0);
    const after = await kubectl([
      'get',
      'issuers.cert-manager.io',
      '-A',
      '-o',
      'jsonpath={.items[*].metadata.resourceVersion}',
    ]);
    expect(after.stdout).toBe(before.stdout);
  });

  it('a Certificate for a name in the zone from the rendered issuer is accepted too', async () => {
    const certificate = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'www', namespace: 'web' },
      spec: {
        secretName: 'www-tls',
        dnsNames: [`www.${ZONE}`],
        issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: 'zonekeeper-acme' },
      },
    };
    const applied = await apply([certificate]);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('applies through zonekeeper’s own Kubernetes adapter too (@kubernetes/client-node, server-side apply)', async () => {
    const cluster = createKubernetesCluster({ name: 'real', kubeconfigYaml: server.kubeconfig() });
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tools' } });
    const objects = renderCertManager({ ...input, namespaces: ['tools'], organization: 'acme' });
    const first: KubernetesObject[] = [];
    for (const object of objects) first.push(await cluster.apply(object));
    for (const [i, object] of objects.entries()) {
      expect(first[i]?.metadata.name).toBe(object.metadata.name);
      if (object.kind !== 'Secret')
        expect(first[i]?.spec ?? first[i]?.rules ?? first[i]?.roleRef).toEqual(
          object.spec ?? object.rules ?? object.roleRef,
        );
    }
    // A second apply of the same objects writes nothing.
    const second: KubernetesObject[] = [];
    for (const object of objects) second.push(await cluster.apply(object));
    expect(second.map((o) => o.metadata.resourceVersion)).toEqual(
      first.map((o) => o.metadata.resourceVersion),
    );
    const issuers = await cluster.list('cert-manager.io/v1', 'Issuer', { namespace: 'tools' });
    expect(issuers.map((o) => o.metadata.name).sort()).toEqual(['zonekeeper-acme', 'zonekeeper-ca']);
    // The server's schema check reaches the adapter's caller as a typed error.
    const broken = {
      ...objects.find((o) => o.kind === 'Issuer'),
      metadata: { name: 'broken-4', namespace: 'tools' },
      spec: { acme: {} },
    } as KubernetesObject;
    const error = await cluster.apply(broken).catch((e: unknown) => e);
    expect(isZonekeeperError(error) && error.code).toBe('INVALID_INPUT');
  });

  it('rejects deliberately broken objects against the CRD schemas, and the redacted YAML Secret', async () => {
    const objects = renderCertManager(input);
    const issuer = objects.find(
      (o) => o.kind === 'Issuer' && o.metadata.name === 'zonekeeper-acme',
    ) as KubernetesObject & {
      spec: {
        acme: Record<string, unknown> & { solvers: Array<{ dns01: { route53: Record<string, unknown> } }> };
      };
    };
    const policy = objects.find((o) => o.kind === 'CertificateRequestPolicy') as KubernetesObject & {
      spec: { allowed: Record<string, unknown> };
    };
    const { privateKeySecretRef: _dropped, ...acmeWithoutKey } = issuer.spec.acme;
    const route53 = issuer.spec.acme.solvers[0]?.dns01.route53 ?? {};
    const broken: Array<[string, KubernetesObject, RegExp]> = [
      [
        'an ACME issuer without privateKeySecretRef',
        { ...issuer, metadata: { name: 'broken-1', namespace: 'web' }, spec: { acme: acmeWithoutKey } },
        /privateKeySecretRef: Required value/,
      ],
      [
        'a hosted zone id that is a number',
        {
          ...issuer,
          metadata: { name: 'broken-2', namespace: 'web' },
          spec: {
            acme: {
              ...issuer.spec.acme,
              solvers: [{ dns01: { route53: { ...route53, hostedZoneID: 1234 } } }],
            },
          },
        },
        /route53\.hostedZoneID: expected string/,
      ],
      [
        'a CertificateRequestPolicy with an unknown usage',
        {
          ...policy,
          metadata: { name: 'broken-3' },
          spec: { ...policy.spec, allowed: { ...policy.spec.allowed, usages: ['world domination'] } },
        },
        /Unsupported value: "world domination"/,
      ],
    ];
    for (const [what, object, error] of broken) {
      // kubectl alone would refuse it too (from the server's OpenAPI); with its check off, the server does.
      expect((await apply([object])).code, what).not.toBe(0);
      const result = await apply([object], { validate: false });
      expect(result.code, what).not.toBe(0);
      // The server's answer (a 422 "is invalid", or SSA's typed-patch error), not kubectl's own check.
      expect(result.stderr, what).toMatch(/^(Error from server|The \w+ "[\w-]+" is invalid)/);
      expect(result.stderr, what).not.toContain('error validating data');
      expect(result.stderr, what).toMatch(error);
      const name = object.metadata.name;
      const kind =
        object.kind === 'Issuer'
          ? 'issuers.cert-manager.io'
          : 'certificaterequestpolicies.policy.cert-manager.io';
      const ns = object.metadata.namespace === undefined ? [] : ['-n', object.metadata.namespace];
      expect((await kubectl(['get', kind, name, ...ns])).code, `${what} was stored`).not.toBe(0);
    }

    // The GitOps YAML (values redacted) cannot overwrite the real Secret by mistake.
    const yaml = toYaml(objects.filter((o) => o.kind === 'Secret' && o.metadata.namespace === 'web'));
    const redacted = await kubectl(
      ['apply', '--server-side', '--field-manager=zonekeeper', '--validate=false', '-f', '-'],
      yaml,
    );
    expect(redacted.code).not.toBe(0);
    expect(redacted.stderr).toMatch(/illegal base64/);
    const secret = await kubectl([
      'get',
      'secret',
      'zonekeeper-acme-route53',
      '-n',
      'web',
      '-o',
      'jsonpath={.data.access-key-id}',
    ]);
    expect(Buffer.from(secret.stdout, 'base64').toString()).toBe('AKIAACMEEXAMPLE00001');
  });

  it('accepts the trust-manager Bundle (trust-manager’s own CRD), and refuses a broken one', async () => {
    const bundle = renderTrustBundle({
      organization: 'acme',
      namespaces: ['web', 'api'],
      certificatesPem: [rootPem],
    });
    const applied = await apply([bundle]);
    expect(applied.code, applied.stderr).toBe(0);
    const stored = await kubectl([
      'get',
      'bundles.trust.cert-manager.io',
      'zonekeeper-acme-ca',
      '-o',
      'json',
    ]);
    expect(stored.code, stored.stderr).toBe(0);
    expect((JSON.parse(stored.stdout) as { spec: unknown }).spec).toEqual(bundle.spec);
    const noTarget = {
      ...bundle,
      metadata: { name: 'broken-bundle' },
      spec: { sources: (bundle.spec as { sources: unknown }).sources, target: {} },
    } as KubernetesObject;
    const refused = await apply([noTarget], { validate: false });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/at least one of the fields in \[configMap secret\] must be set/);
  });
});
