/**
 * `pnpm demo --backend powerdns`: the story on a real PowerDNS Authoritative Server, answered by `dig`.
 *
 * Two organisations get delegated zones on the server and one TSIG key each (created over the API,
 * kept in the secret store, alone allowed to update its zone). acme's cluster (a Kubernetes API fake)
 * gets ExternalDNS rendered with `--provider=rfc2136` and acme's key; an annotated LoadBalancer
 * Service becomes a record after one loop of the real ExternalDNS binary, and `dig` resolves it. acme's
 * key is refused on globex's zone. When acme's cluster goes, the collector deletes its zone at once:
 * a PowerDNS zone costs nothing to keep or to re-create (the provider's pricing model is `free`).
 *
 * While acme's zone exists, cert-issuer's `ensureAcmeCertificate` gets a certificate for
 * `www.acme.example.com` by ACME DNS-01 from a real Pebble (built by `.ci/build-pebble.sh`), which validates the
 * `_acme-challenge` TXT record by asking this PowerDNS; the certificate lands as a `kubernetes.io/tls`
 * Secret in acme's cluster and the challenge record is removed. Without Pebble the demo fails at once,
 * naming `bash .ci/build-pebble.sh`.
 *
 * Built from the packages directly (zone-manager, externaldns-deployer, gc-policy, vault-keys,
 * cert-issuer), to show each step; `createZonekeeper({ powerdns })` does the same through the facade
 * (docs/powerdns.md).
 */

import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAcmeCertificate } from '@zonekeeper/cert-issuer';
import type { KubernetesObject } from '@zonekeeper/core';
import {
  applyExternalDns,
  EXTERNAL_DNS_VERSION,
  externalDnsTsigSecretName,
  renderExternalDns,
  TSIG_KEYNAME_ENV,
  TSIG_KEYNAME_KEY,
  TSIG_SECRET_ENV,
  TSIG_SECRET_KEY,
} from '@zonekeeper/externaldns-deployer';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import { planGarbageCollection } from '@zonekeeper/gc-policy';
import { type KubernetesFake, startKubernetesFake } from '@zonekeeper/kube-apiserver-fake';
import { startPebble } from '@zonekeeper/testkit/pebble';
import { dig, nsupdate, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { createMemorySecretStore, readTsigKey, writeTsigKey } from '@zonekeeper/vault-keys';
import { deleteOrganizationZone, ensureOrganizationZone, listManagedZones } from '@zonekeeper/zone-manager';
import {
  createPowerDnsAdmin,
  createPowerDnsProvider,
  ensureOrganizationTsigKey,
  type TsigKeyStore,
} from '@zonekeeper/zone-manager/powerdns';

const BASE = 'example.com';
const LB_IP = '192.0.2.10';

/** Where the ExternalDNS binary is: `$ZONEKEEPER_EXTERNAL_DNS`, else the build cache. */
function externalDnsBinary(): string {
  const cache = process.env.ZONEKEEPER_CACHE_DIR ?? join(homedir(), '.cache', 'zonekeeper');
  const candidates = [
    ...(process.env.ZONEKEEPER_EXTERNAL_DNS ? [process.env.ZONEKEEPER_EXTERNAL_DNS] : []),
    join(cache, 'bin', `external-dns-${EXTERNAL_DNS_VERSION}`),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      `ExternalDNS ${EXTERNAL_DNS_VERSION} was not found (looked at ${candidates.join(', ')}). Build it with: bash .ci/build-external-dns.sh`,
    );
  }
  return found;
}

/**
 * One ExternalDNS loop (`--once`) the way the rendered Deployment runs it: its arguments, and its
 * environment with the `secretKeyRef` read from the Secret, as the kubelet would. Returns the log.
 */
async function runExternalDnsOnce(
  objects: readonly KubernetesObject[],
  kubeconfig: string,
  key: { readonly name: string; readonly secret: string },
): Promise<string[]> {
  const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
    spec: { template: { spec: { containers: { args: string[]; env: { name: string }[] }[] } } };
  };
  const container = deployment.spec.template.spec.containers[0];
  const envNames = container?.env.map((e) => e.name).sort();
  if (!container || JSON.stringify(envNames) !== JSON.stringify([TSIG_KEYNAME_ENV, TSIG_SECRET_ENV].sort()))
    throw new Error('unexpected ExternalDNS container');
  const args = [...container.args, `--kubeconfig=${kubeconfig}`, '--metrics-address=127.0.0.1:0', '--once'];
  return new Promise((resolve, reject) => {
    const child = spawn(externalDnsBinary(), args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: tmpdir(),
        [TSIG_KEYNAME_ENV]: key.name,
        [TSIG_SECRET_ENV]: key.secret,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const collect = (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(lines);
      else reject(new Error(`ExternalDNS exited with ${code}:\n${lines.slice(-10).join('\n')}`));
    });
  });
}

/** Plays the cloud's load-balancer controller: the address goes through the status subresource. */
function setLoadBalancerIp(
  cluster: KubernetesFake,
  namespace: string,
  name: string,
  ip: string,
): Promise<void> {
  const url = new URL(`${cluster.endpoint}/api/v1/namespaces/${namespace}/services/${name}/status`);
  const body = JSON.stringify({ status: { loadBalancer: { ingress: [{ ip }] } } });
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: 'PATCH',
        ...(cluster.ca ? { ca: cluster.ca } : {}),
        headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/merge-patch+json' },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 500) < 300
            ? resolve()
            : reject(new Error(`status patch: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs the PowerDNS story, printing as it goes. Needs pdns_server, dig/nsupdate, pebble and the
 * ExternalDNS binary. Resolves with the secrets it made, the TSIG secrets and the certificate's private
 * key (for the test that checks none was printed).
 * @throws `UNAVAILABLE` naming `bash .ci/build-pebble.sh` when Pebble is not built, before any zone.
 */
export async function runPowerDnsStory(print: (line?: string) => void): Promise<readonly string[]> {
  await using pdns = await startPowerDns();
  const server = { port: pdns.dnsPort };
  // Pebble validates every DNS-01 challenge by asking this PowerDNS, never the system's resolvers.
  await using pebble = await startPebble({ dnsServer: server });
  const dns = createPowerDnsProvider({
    apiUrl: pdns.apiUrl,
    apiKey: pdns.apiKey,
    nameServers: ['ns1.dns.example.net'],
  });
  const admin = createPowerDnsAdmin(dns.api);
  print(
    `PowerDNS ${pdns.apiUrl} (API), DNS on 127.0.0.1:${pdns.dnsPort}; pricing model: ${dns.pricing.kind}`,
  );
  await dns.createZone({ name: BASE, callerReference: 'demo-parent' });

  const secrets = createMemorySecretStore();
  const store: TsigKeyStore = {
    read: (organization, o) => readTsigKey(secrets, { organization }, o),
    write: (organization, key, o) => writeTsigKey(secrets, { organization }, key, o),
  };

  print('\n1. Organisations get delegated zones and one TSIG key each');
  for (const organization of ['acme', 'globex']) {
    const { zone } = await ensureOrganizationZone({ organization, baseDomain: BASE }, { dns });
    const tsig = await ensureOrganizationTsigKey(
      { admin, store },
      { organization, zoneName: zone?.name as string, updateSources: ['127.0.0.0/8'] },
    );
    const ns = await dig(server, zone?.name as string, 'NS');
    print(
      `  ${organization}: zone ${zone?.name} (${zone?.id}); NS ${ns.values.join(' ')}; key ${tsig.keyName} (${tsig.plan.steps.map((s) => s.op).join(', ')})`,
    );
  }

  print("\n2. acme's cluster: ExternalDNS with --provider=rfc2136 and acme's key");
  await using cluster = await startKubernetesFake({ rolloutDelayMs: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'zk-demo-pdns-'));
  try {
    const acmeKey = await readTsigKey(secrets, { organization: 'acme' });
    if (!acmeKey) throw new Error('no stored key for acme');
    const objects = renderExternalDns({
      clusterId: 'acme-prod',
      organization: 'acme',
      zoneName: `acme.${BASE}`,
      createNamespace: true,
      rfc2136: {
        host: '127.0.0.1',
        port: pdns.dnsPort,
        tsigKey: { name: acmeKey.name, algorithm: 'hmac-sha256', secret: acmeKey.secret },
      },
    });
    await applyExternalDns(
      createKubernetesCluster({ name: 'acme-prod', kubeconfigYaml: cluster.kubeconfig().yaml }),
      objects,
    );
    const args = (
      objects.find((o) => o.kind === 'Deployment') as unknown as {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
      }
    ).spec.template.spec.containers[0]?.args;
    print(`  ${args?.filter((a) => a.startsWith('--provider') || a.startsWith('--rfc2136')).join(' ')}`);
    print(
      `  key: Secret ${externalDnsTsigSecretName('external-dns')}/${TSIG_KEYNAME_KEY},${TSIG_SECRET_KEY} → env ${TSIG_KEYNAME_ENV}, ${TSIG_SECRET_ENV}`,
    );

    cluster.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'default',
        annotations: { 'external-dns.kubernetes.io/hostname': `www.acme.${BASE}` },
      },
      spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
    } as KubernetesObject);
    // The cloud's load-balancer controller: the address goes through the status subresource.
    await setLoadBalancerIp(cluster, 'default', 'web', LB_IP);
    // The kubelet's view: the key name and secret from the Secret as it is stored in the cluster.
    const stored = cluster.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'external-dns',
      name: externalDnsTsigSecretName('external-dns'),
    }) as unknown as { data: Record<string, string> };
    const fromSecret = (k: string) => Buffer.from(stored.data[k] as string, 'base64').toString();
    const log = await runExternalDnsOnce(objects, await cluster.writeKubeconfig(dir), {
      name: fromSecret(TSIG_KEYNAME_KEY),
      secret: fromSecret(TSIG_SECRET_KEY),
    });
    for (const line of log.filter((l) => l.includes('Adding RR')))
      print(`  ExternalDNS: ${/msg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1]?.replace(/\\"/g, '"') ?? line}`);

    print('\n3. dig answers');
    const www = await dig(server, `www.acme.${BASE}`, 'A');
    print(`  dig @127.0.0.1 -p ${pdns.dnsPort} www.acme.${BASE} A → ${www.status} ${www.values.join(' ')}`);
    const txt = await dig(server, `_extdns-a.www.acme.${BASE}`, 'TXT');
    print(`  dig … _extdns-a.www.acme.${BASE} TXT → ${txt.status} ${txt.values.join(' ')}`);

    print(`\n4. A certificate for www.acme.${BASE} by ACME DNS-01 (Pebble, validating over this PowerDNS)`);
    const tlsKey = await issueAcmeCertificate(print, { pdns, pebble, dns, secrets, cluster });

    print("\n5. acme's key on globex's zone");
    const cross = await nsupdate(server, {
      zone: `globex.${BASE}`,
      key: acmeKey,
      updates: [`add evil.globex.${BASE} 60 A 203.0.113.66`],
    });
    const evil = await dig(server, `evil.globex.${BASE}`, 'A');
    print(`  nsupdate with acme's key → ${cross.rcode}; dig evil.globex.${BASE} → ${evil.status}`);

    print("\n6. acme's cluster goes; the collector decides with the provider's pricing");
    const zones = await listManagedZones({ dns }, { baseDomain: BASE });
    const plan = planGarbageCollection(
      zones.map((z) => ({
        zoneId: z.id,
        managed: true,
        inUse: z.organization === 'globex',
        ...(z.createdAt ? { createdAt: z.createdAt } : {}),
      })),
      new Date(),
      { pricing: dns.pricing },
    );
    for (const d of plan.decisions) {
      const org = zones.find((z) => z.id === d.zoneId)?.organization;
      print(`  ${org}: ${d.action} ${d.reason}`);
      if (d.action === 'delete') await deleteOrganizationZone(d.zoneId, { dns });
    }
    const gone = await dig(server, `www.acme.${BASE}`, 'A');
    const delegation = await dig(server, `acme.${BASE}`, 'NS');
    print(`  dig www.acme.${BASE} A → ${gone.status}; acme.${BASE} NS → ${delegation.status}`);
    const made = await Promise.all(
      ['acme', 'globex'].map((organization) => readTsigKey(secrets, { organization })),
    );
    return [...made.map((k) => k?.secret as string), tlsKey];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Step 4: `ensureAcmeCertificate` for `www.acme.example.com` into acme's cluster, then what the
 * certificate says (read back from the Secret) and `dig` on the challenge record. Returns the private
 * key (never printed).
 */
async function issueAcmeCertificate(
  print: (line?: string) => void,
  ctx: {
    pdns: { dnsPort: number };
    pebble: { directoryUrl: string; tlsCertificatePem: string; intermediatePem: string };
    dns: ReturnType<typeof createPowerDnsProvider>;
    secrets: ReturnType<typeof createMemorySecretStore>;
    cluster: KubernetesFake;
  },
): Promise<string> {
  const { pdns, pebble, dns, secrets, cluster } = ctx;
  const zones = await listManagedZones({ dns }, { baseDomain: BASE });
  const zone = zones.find((z) => z.organization === 'acme');
  if (!zone) throw new Error("acme's zone is missing");
  const name = `www.acme.${BASE}`;
  const result = await ensureAcmeCertificate(
    {
      organization: 'acme',
      name: 'web',
      dnsNames: [name],
      zone: { id: zone.id, name: zone.name },
      target: {
        cluster: createKubernetesCluster({ name: 'acme-prod', kubeconfigYaml: cluster.kubeconfig().yaml }),
        namespace: 'default',
        secretName: 'web-tls',
      },
    },
    {
      secrets,
      dns,
      acme: {
        directoryUrl: pebble.directoryUrl,
        termsOfServiceAgreed: true,
        contact: [`mailto:ops@${BASE}`],
        // Pebble's HTTPS certificate (made by the testkit), not its CA.
        caCertificates: pebble.tlsCertificatePem,
        propagationPollMs: 200,
        pollIntervalMs: 200,
        // The zone's name server (ns1.dns.example.net) is this PowerDNS.
        resolveNameServer: async () => [{ address: '127.0.0.1', port: pdns.dnsPort }],
      },
    },
  );
  print(
    `  ${pebble.directoryUrl}: ${result.plan.steps.map((s) => (s.op === 'order-acme-certificate' ? `${s.op} (${s.challengeRecords.join(', ')})` : s.op)).join(', ')}`,
  );
  const stored = cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'web-tls' }) as
    | { type?: string; data: Record<string, string> }
    | undefined;
  if (!stored) throw new Error('the certificate Secret default/web-tls is missing');
  const decode = (k: string) => Buffer.from(stored.data[k] as string, 'base64').toString('utf8');
  const leaf = new X509Certificate(decode('tls.crt'));
  const intermediate = new X509Certificate(pebble.intermediatePem);
  const signed = leaf.checkIssued(intermediate) && leaf.verify(intermediate.publicKey);
  print(
    `  Secret default/web-tls (${stored.type}): subject ${leaf.subject.replace(/\n/g, ', ') || '(empty)'}; SAN ${leaf.subjectAltName}`,
  );
  print(
    `  issuer ${leaf.issuer.replace(/\n/g, ', ')} (${signed ? "Pebble's intermediate, signature verified" : "NOT signed by Pebble's intermediate"})`,
  );
  const iso = (d: string) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
  print(
    `  valid ${iso(leaf.validFrom)} → ${iso(leaf.validTo)}; renew at ${result.certificate?.renewAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
  );
  const challenge = await dig({ port: pdns.dnsPort }, `_acme-challenge.${name}`, 'TXT');
  print(`  dig … _acme-challenge.${name} TXT → ${challenge.status} (the challenge record is removed)`);
  return decode('tls.key');
}
