/**
 * Seeding moto fast: raw Route 53 REST-XML calls sent straight to moto (not through the fault proxy, so
 * the proxy log holds only the calls a benchmark measures). Zones are marked exactly as zone-manager
 * marks them (CallerReference, Comment, the `zonekeeper:*` tags), so `listManagedZones` and the collector
 * treat them as their own. moto does not check SigV4 signatures, so a fixed header is enough.
 */
import { Agent, request } from 'node:http';
import {
  organizationCallerReference,
  organizationZoneComment,
  ZONEKEEPER_MANAGED_BY,
  ZoneTags,
} from '@zonekeeper/zone-manager';

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const AUTH =
  'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=0';

/** One seeded zone. */
export interface SeededZone {
  readonly id: string;
  readonly name: string;
  readonly organization: string;
  readonly nameServers: readonly string[];
}

/** What a seeded organisation zone looks like. */
export interface ZoneSeed {
  readonly organization: string;
  readonly baseDomain: string;
  /** The `zonekeeper:created-at` tag. */
  readonly createdAt: Date;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A tiny Route 53 client for seeding, with a keep-alive connection pool. */
export function createSeeder(endpoint: string) {
  const url = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });

  function call(method: string, path: string, body = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path: `/2013-04-01${path}`,
          agent,
          headers: {
            'content-type': 'application/xml',
            'content-length': Buffer.byteLength(body),
            authorization: AUTH,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if ((res.statusCode ?? 500) >= 300)
              reject(new Error(`seed: ${method} ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`));
            else resolve(text);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async function createZone(name: string, callerReference: string, comment?: string): Promise<SeededZone> {
    const xml = await call(
      'POST',
      '/hostedzone',
      `<?xml version="1.0" encoding="UTF-8"?><CreateHostedZoneRequest xmlns="${NS}"><Name>${name}.</Name><CallerReference>${xmlEscape(callerReference)}</CallerReference>${comment === undefined ? '' : `<HostedZoneConfig><Comment>${xmlEscape(comment)}</Comment></HostedZoneConfig>`}</CreateHostedZoneRequest>`,
    );
    const id = /<Id>\/hostedzone\/([^<]+)<\/Id>/.exec(xml)?.[1];
    if (!id) throw new Error(`seed: CreateHostedZone ${name} answered no id`);
    const nameServers = [...xml.matchAll(/<NameServer>([^<]+)<\/NameServer>/g)].map((m) =>
      (m[1] as string).replace(/\.$/, ''),
    );
    return { id, name, organization: '', nameServers };
  }

  async function tagZone(id: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const items = Object.entries(tags)
      .map(([k, v]) => `<Tag><Key>${xmlEscape(k)}</Key><Value>${xmlEscape(v)}</Value></Tag>`)
      .join('');
    await call(
      'POST',
      `/tags/hostedzone/${id}`,
      `<?xml version="1.0" encoding="UTF-8"?><ChangeTagsForResourceRequest xmlns="${NS}"><AddTags>${items}</AddTags></ChangeTagsForResourceRequest>`,
    );
  }

  /** CREATE/UPSERT record sets in one batch. */
  async function changeRecords(
    zoneId: string,
    action: 'CREATE' | 'UPSERT',
    records: readonly { name: string; type: string; ttl: number; values: readonly string[] }[],
  ): Promise<void> {
    const changes = records
      .map(
        (r) =>
          `<Change><Action>${action}</Action><ResourceRecordSet><Name>${r.name}.</Name><Type>${r.type}</Type><TTL>${r.ttl}</TTL><ResourceRecords>${r.values.map((v) => `<ResourceRecord><Value>${xmlEscape(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet></Change>`,
      )
      .join('');
    await call(
      'POST',
      `/hostedzone/${zoneId}/rrset`,
      `<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="${NS}"><ChangeBatch><Changes>${changes}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
    );
  }

  /** Creates and tags organisation zones as zone-manager would, `concurrency` at a time. */
  async function seedOrganizationZones(seeds: readonly ZoneSeed[], concurrency = 4): Promise<SeededZone[]> {
    const out: SeededZone[] = new Array(seeds.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < seeds.length) {
          const i = next++;
          const s = seeds[i] as ZoneSeed;
          const name = `${s.organization}.${s.baseDomain}`;
          const zone = await createZone(
            name,
            organizationCallerReference(name, s.createdAt, `seed${i.toString(36)}`),
            organizationZoneComment(s.organization),
          );
          await tagZone(zone.id, {
            [ZoneTags.managedBy]: ZONEKEEPER_MANAGED_BY,
            [ZoneTags.organization]: s.organization,
            [ZoneTags.createdAt]: s.createdAt.toISOString(),
          });
          out[i] = { ...zone, organization: s.organization };
        }
      }),
    );
    return out;
  }

  return {
    createZone,
    tagZone,
    changeRecords,
    seedOrganizationZones,
    close: () => agent.destroy(),
  };
}
