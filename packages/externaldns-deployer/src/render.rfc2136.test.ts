import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CREDENTIALS_HASH_ANNOTATION,
  CREDENTIALS_MODE_ANNOTATION,
  type ExternalDnsOptions,
  externalDnsArgs,
  externalDnsTsigSecretName,
  RFC2136_TSIG_ALGORITHMS,
  type Rfc2136ExternalDnsOptions,
  renderExternalDns,
  resolveExternalDnsOptions,
  TSIG_KEYNAME_ENV,
  TSIG_KEYNAME_KEY,
  TSIG_SECRET_ENV,
  TSIG_SECRET_KEY,
  toYaml,
} from './index.js';

// A fake TSIG secret shaped like one PowerDNS generates (base64 of 32 bytes). Never in a message,
// an argument or a snapshot.
const SECRET = 'zkFAKEtsigSECRETfor0TESTS0nly0notREAL0000AA=';
const ENCODED = Buffer.from(SECRET).toString('base64');

const base: Rfc2136ExternalDnsOptions = {
  clusterId: 'prod-eu',
  organization: 'acme',
  zoneName: 'acme.example.com',
  rfc2136: {
    host: '192.0.2.53',
    tsigKey: { name: 'zonekeeper-update.acme.example.com', secret: SECRET },
  },
};

const deploymentOf = (objects: readonly KubernetesObject[]) =>
  objects.find((o) => o.kind === 'Deployment') as unknown as {
    spec: {
      template: {
        metadata: { annotations: Record<string, string> };
        spec: {
          containers: {
            args: string[];
            env: { name: string; value?: string; valueFrom?: unknown }[];
            volumeMounts?: unknown;
          }[];
          volumes?: unknown;
        };
      };
    };
  };

function expectNoSecret(text: string): void {
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(ENCODED);
}

describe('renderExternalDns with rfc2136', () => {
  const objects = renderExternalDns(base);
  const deployment = deploymentOf(objects);
  const container = deployment.spec.template.spec.containers[0];

  it('renders the rfc2136 provider, scoped to the organisation zone, with the algorithm (the key name is in the Secret)', () => {
    expect(container?.args).toEqual([
      '--provider=rfc2136',
      '--source=service',
      '--source=ingress',
      '--domain-filter=acme.example.com',
      '--rfc2136-host=192.0.2.53',
      '--rfc2136-port=53',
      '--rfc2136-zone=acme.example.com',
      '--rfc2136-tsig-secret-alg=hmac-sha256',
      '--registry=txt',
      '--txt-owner-id=prod-eu',
      '--txt-prefix=_extdns-%{record_type}.',
      '--annotation-prefix=external-dns.kubernetes.io/',
      '--policy=upsert-only',
      '--interval=1m',
    ]);
  });

  it('keeps the secret out of the Deployment: env from the Secret, no AWS wiring, no volume', () => {
    expectNoSecret(JSON.stringify(deployment));
    expect(container?.env).toEqual([
      {
        name: TSIG_KEYNAME_ENV,
        valueFrom: {
          secretKeyRef: { name: externalDnsTsigSecretName('external-dns'), key: TSIG_KEYNAME_KEY },
        },
      },
      {
        name: TSIG_SECRET_ENV,
        valueFrom: {
          secretKeyRef: { name: externalDnsTsigSecretName('external-dns'), key: TSIG_SECRET_KEY },
        },
      },
    ]);
    expect(TSIG_SECRET_ENV).toBe('EXTERNAL_DNS_RFC2136_TSIG_SECRET');
    expect(TSIG_KEYNAME_ENV).toBe('EXTERNAL_DNS_RFC2136_TSIG_KEYNAME');
    expect(container?.volumeMounts).toBeUndefined();
    expect(deployment.spec.template.spec.volumes).toBeUndefined();
  });

  it('puts the secret in the Secret only, under tsig-secret, with the key name beside it (a rotation changes both at once)', () => {
    const secret = objects.find((o) => o.kind === 'Secret') as KubernetesObject & {
      data: Record<string, string>;
    };
    expect(secret.metadata.name).toBe('external-dns-rfc2136-tsig');
    expect(Object.keys(secret.data)).toEqual(['tsig-keyname', 'tsig-secret']);
    expect(Buffer.from(secret.data['tsig-keyname'] as string, 'base64').toString()).toBe(
      'zonekeeper-update.acme.example.com',
    );
    expect(Buffer.from(secret.data['tsig-secret'] as string, 'base64').toString()).toBe(SECRET);
    for (const o of objects.filter((x) => x.kind !== 'Secret')) expectNoSecret(JSON.stringify(o));
  });

  it('renders the same objects as the AWS provider otherwise (namespace, RBAC, labels, probes)', () => {
    const aws = renderExternalDns({
      clusterId: 'prod-eu',
      organization: 'acme',
      zoneName: 'acme.example.com',
      zoneId: 'Z0123456789ABCDEFGHIJ',
      credentials: { accessKeyId: 'AKIAZKFAKE0TEST00001', secretAccessKey: 'x' },
    });
    expect(objects.map((o) => o.kind)).toEqual(aws.map((o) => o.kind));
    for (const kind of ['ClusterRole', 'ClusterRoleBinding']) {
      expect(objects.find((o) => o.kind === kind)).toEqual(aws.find((o) => o.kind === kind));
    }
    // The ServiceAccount too, but for the AWS credentials-mode annotation (keyless modes switch on it).
    const { annotations, ...awsMetadata } = (aws.find((o) => o.kind === 'ServiceAccount') as KubernetesObject)
      .metadata;
    expect(Object.keys(annotations ?? {})).toEqual([CREDENTIALS_MODE_ANNOTATION]);
    expect(objects.find((o) => o.kind === 'ServiceAccount')).toEqual({
      ...(aws.find((o) => o.kind === 'ServiceAccount') as KubernetesObject),
      metadata: awsMetadata,
    });
  });

  it('rolls the pod when the key changes, not otherwise', () => {
    const hash = (o: ExternalDnsOptions) =>
      deploymentOf(renderExternalDns(o)).spec.template.metadata.annotations[CREDENTIALS_HASH_ANNOTATION];
    const rotated = {
      ...base,
      rfc2136: { ...base.rfc2136, tsigKey: { ...base.rfc2136.tsigKey, secret: 'AAAA' } },
    };
    expect(hash(base)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash(base)).toBe(hash({ ...base }));
    expect(hash(rotated)).not.toBe(hash(base));
    // A rotation to the other key name rolls the pod too.
    const renamed = {
      ...base,
      rfc2136: {
        ...base.rfc2136,
        tsigKey: { ...base.rfc2136.tsigKey, name: 'zonekeeper-update-b.acme.example.com' },
      },
    };
    expect(hash(renamed)).not.toBe(hash(base));
    expect(JSON.stringify(renderExternalDns(base))).toBe(JSON.stringify(renderExternalDns(base)));
  });

  it('renders port, algorithm, AXFR and a cluster-scoped domain filter; the key name normalised, in the Secret', () => {
    const resolved = resolveExternalDnsOptions({
      ...base,
      domainFilter: 'c1.acme.example.com',
      rfc2136: {
        host: 'ns1.dns.example.net.',
        port: 5353,
        axfr: true,
        tsigKey: { name: 'Zonekeeper-Update.ACME.example.com.', algorithm: 'hmac-sha512', secret: SECRET },
      },
    });
    const args = externalDnsArgs(resolved);
    expect(args).toContain('--domain-filter=c1.acme.example.com');
    expect(args).toContain('--rfc2136-zone=acme.example.com');
    expect(args).toContain('--rfc2136-host=ns1.dns.example.net');
    expect(args).toContain('--rfc2136-port=5353');
    expect(args).toContain('--rfc2136-axfr');
    expect(args.some((a) => a.startsWith('--rfc2136-tsig-keyname'))).toBe(false);
    expect(resolved.provider === 'rfc2136' && resolved.rfc2136.tsigKey.name).toBe(
      'zonekeeper-update.acme.example.com',
    );
    expect(args).toContain('--rfc2136-tsig-secret-alg=hmac-sha512');
    expect(args.some((a) => a.startsWith('--aws'))).toBe(false);
  });

  it('snapshot (Secret value redacted)', async () => {
    const text = toYaml(objects);
    expectNoSecret(text);
    expect(text).toContain('kind: Secret');
    await expect(text).toMatchFileSnapshot('./__snapshots__/external-dns.rfc2136.yaml');
  });

  it('no stored snapshot file of this package holds the TSIG secret', () => {
    const dir = join(import.meta.dirname, '__snapshots__');
    for (const file of existsSync(dir) ? readdirSync(dir) : [])
      expectNoSecret(readFileSync(join(dir, file), 'utf8'));
  });
});

describe('renderExternalDns with rfc2136: bad input is INVALID_INPUT, never echoing the secret', () => {
  const withRfc = (rfc2136: unknown): ExternalDnsOptions =>
    ({ ...base, rfc2136 }) as unknown as ExternalDnsOptions;
  const withKey = (tsigKey: unknown): ExternalDnsOptions => withRfc({ host: '192.0.2.53', tsigKey });
  const cases: [string, ExternalDnsOptions, RegExp][] = [
    ['rfc2136 not an object', withRfc('192.0.2.53'), /rfc2136 must be an object/],
    [
      'unknown rfc2136 field',
      withRfc({ ...base.rfc2136, insecure: true }),
      /rfc2136\.insecure is not supported/,
    ],
    ['bad host', withRfc({ ...base.rfc2136, host: '192.0.2.53 --once' }), /rfc2136\.host .* is not an IP/],
    ['port 0', withRfc({ ...base.rfc2136, port: 0 }), /rfc2136\.port/],
    ['port as string', withRfc({ ...base.rfc2136, port: '53' }), /rfc2136\.port/],
    ['axfr as string', withRfc({ ...base.rfc2136, axfr: 'yes' }), /rfc2136\.axfr must be a boolean/],
    ['no key', withKey(undefined), /rfc2136\.tsigKey is required/],
    ['no secret', withKey({ name: 'k.acme.example.com' }), /tsigKey\.secret is required/],
    [
      'md5 (ExternalDNS refuses it)',
      withKey({ ...base.rfc2136.tsigKey, algorithm: 'hmac-md5' }),
      /hmac-sha256/,
    ],
    ['unknown key field', withKey({ ...base.rfc2136.tsigKey, keyId: 1 }), /unknown field/],
    [
      'zoneId with rfc2136',
      { ...base, zoneId: 'Z0123456789ABCDEFGHIJ' } as never,
      /zoneId belongs to the AWS/,
    ],
    ['credentials with rfc2136', { ...base, credentials: {} } as never, /credentials belongs to the AWS/],
    ['region with rfc2136', { ...base, region: 'us-east-1' } as never, /region belongs to the AWS/],
    ['cache with rfc2136', { ...base, zonesCacheDuration: '1h' } as never, /zonesCacheDuration belongs/],
    ['secret on the command line', { ...base, extraArgs: [`--rfc2136-tsig-secret=${SECRET}`] }, /visible/],
    ['unsigned updates', { ...base, extraArgs: ['--rfc2136-insecure'] }, /unsigned/],
    ['another zone', { ...base, extraArgs: ['--rfc2136-zone=beta.example.com'] }, /renderer manages/],
    ['server-wide API key', { ...base, extraArgs: ['--pdns-api-key=x'] }, /server-wide/],
    ['domain filter outside the zone', { ...base, domainFilter: 'beta.example.com' }, /domainFilter/],
  ];
  for (const [name, options, message] of cases) {
    it(name, () => {
      let caught: unknown;
      try {
        renderExternalDns(options);
      } catch (error) {
        caught = error;
      }
      expect(hasErrorCode(caught, 'INVALID_INPUT')).toBe(true);
      expect((caught as Error).message).toMatch(message);
      expectNoSecret(
        JSON.stringify({ m: (caught as Error).message, d: (caught as { details?: unknown }).details }),
      );
    });
  }

  it('a secret that is not base64 is refused without showing it', () => {
    const secret = 'not base64 at all: sup3r-s3cret!';
    let caught: unknown;
    try {
      renderExternalDns(withKey({ name: 'k.acme.example.com', secret }));
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toMatch(/not base64 .* not shown/);
    expect(
      JSON.stringify({ m: (caught as Error).message, d: (caught as { details?: unknown }).details }),
    ).not.toContain(secret);
  });

  it('a secret passed in an echoed field is masked (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+/]{8,40}$/), (secret) => {
        const options = {
          ...base,
          txtOwnerId: `!${secret}`,
          rfc2136: { ...base.rfc2136, tsigKey: { ...base.rfc2136.tsigKey, secret } },
        };
        try {
          renderExternalDns(options);
        } catch (error) {
          expect((error as Error).message).not.toContain(secret);
          return;
        }
        throw new Error('expected INVALID_INPUT');
      }),
    );
  });

  it('every algorithm ExternalDNS accepts renders', () => {
    for (const algorithm of RFC2136_TSIG_ALGORITHMS) {
      const args = externalDnsArgs(
        resolveExternalDnsOptions({
          ...base,
          rfc2136: { ...base.rfc2136, tsigKey: { ...base.rfc2136.tsigKey, algorithm } },
        }),
      );
      expect(args).toContain(`--rfc2136-tsig-secret-alg=${algorithm}`);
    }
  });
});

describe('renderExternalDns with rfc2136: properties', () => {
  const secretArb = fc
    .uint8Array({ minLength: 16, maxLength: 64 })
    .map((bytes) => Buffer.from(bytes).toString('base64'));
  const optionsArb = fc.record({
    secret: secretArb,
    algorithm: fc.constantFrom(...RFC2136_TSIG_ALGORITHMS),
    port: fc.integer({ min: 1, max: 65_535 }),
    host: fc.constantFrom('127.0.0.1', '192.0.2.53', 'ns1.dns.example.net', '2001:db8::53'),
    axfr: fc.boolean(),
    cluster: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/),
  });

  it('the secret is only in the Secret, never in an argument, env value, label or annotation', () => {
    fc.assert(
      fc.property(optionsArb, (o) => {
        const objects = renderExternalDns({
          clusterId: o.cluster,
          organization: 'acme',
          zoneName: 'acme.example.com',
          rfc2136: {
            host: o.host,
            port: o.port,
            axfr: o.axfr,
            tsigKey: { name: 'zonekeeper-update.acme.example.com', algorithm: o.algorithm, secret: o.secret },
          },
        });
        const encoded = Buffer.from(o.secret).toString('base64');
        for (const object of objects) {
          const text = JSON.stringify(object);
          if (object.kind === 'Secret') {
            expect((object as unknown as { data: Record<string, string> }).data[TSIG_SECRET_KEY]).toBe(
              encoded,
            );
          } else {
            expect(text).not.toContain(o.secret);
            expect(text).not.toContain(encoded);
          }
        }
        expect(toYaml(objects)).not.toContain(encoded);
        const args = deploymentOf(objects).spec.template.spec.containers[0]?.args ?? [];
        expect(args).toContain(`--rfc2136-port=${o.port}`);
        expect(args.includes('--rfc2136-axfr')).toBe(o.axfr);
        expect(args.filter((a) => a.startsWith('--provider='))).toEqual(['--provider=rfc2136']);
        expect(args.filter((a) => a.startsWith('--rfc2136-zone='))).toEqual([
          '--rfc2136-zone=acme.example.com',
        ]);
      }),
    );
  });
});
