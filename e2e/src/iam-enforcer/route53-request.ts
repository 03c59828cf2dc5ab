/**
 * What IAM authorises for one Route 53 API request: the action, the resource ARNs and the request's
 * condition keys. Pure: computed from the request line and body only.
 *
 * ```
 *  operation                                  resource(s)
 *  ChangeResourceRecordSets, ListResourceRecordSets, GetHostedZone, DeleteHostedZone,
 *  GetHostedZoneLimit, UpdateHostedZoneComment     arn:aws:route53:::hostedzone/<id>
 *  ChangeTagsForResource, ListTagsForResource      arn:aws:route53:::hostedzone/<id> (ResourceType hostedzone)
 *  ListTagsForResources                            every <ResourceId> of the body, each must be allowed
 *  GetChange                                       arn:aws:route53:::change/<id>
 *  anything else (ListHostedZones, …ByName, CreateHostedZone, GetHostedZoneCount, …)   *
 * ```
 *
 * ChangeResourceRecordSets also carries the three record-level condition keys AWS computes from the
 * change batch: `route53:ChangeResourceRecordSetsNormalizedRecordNames` (each name lowercased, without
 * the trailing dot, characters other than `a-z 0-9 - _ .` escaped as `\ooo` octal, so a wildcard
 * `*.x` is `\052.x`), `…RecordTypes` and `…Actions` (`CREATE`, `UPSERT`, `DELETE`).
 */

/** Route 53 record-level condition keys (AWS's names). */
export const ROUTE53_CONDITION_KEYS = {
  names: 'route53:ChangeResourceRecordSetsNormalizedRecordNames',
  types: 'route53:ChangeResourceRecordSetsRecordTypes',
  actions: 'route53:ChangeResourceRecordSetsActions',
} as const;

/** One change of a ChangeResourceRecordSets batch, as sent. */
export interface RecordChange {
  readonly action: string;
  readonly name: string;
  readonly type: string;
}

/** What IAM evaluates for a request. */
export interface Route53Authorization {
  /** `route53:<Operation>`. */
  readonly action: string;
  /** Every resource the request touches; each must be allowed. */
  readonly resources: readonly string[];
  /** Request condition keys (only for ChangeResourceRecordSets). */
  readonly context: Readonly<Record<string, readonly string[]>>;
  /** The change batch, for logs and assertions (ChangeResourceRecordSets only). */
  readonly changes: readonly RecordChange[];
}

const ZONE_OPERATIONS = new Set([
  'ChangeResourceRecordSets',
  'ListResourceRecordSets',
  'GetHostedZone',
  'DeleteHostedZone',
  'GetHostedZoneLimit',
  'UpdateHostedZoneComment',
  'GetDNSSEC',
]);

const entities: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

function xmlText(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, ref: string) => {
    if (ref.startsWith('#x') || ref.startsWith('#X'))
      return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return entities[ref] ?? whole;
  });
}

function firstElement(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? xmlText((match[1] as string).trim()) : undefined;
}

function allElements(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'g'))].map(
    (m) => m[1] as string,
  );
}

/**
 * The changes of a `ChangeResourceRecordSetsRequest` body (the XML the AWS SDKs send; a record set's
 * own `<Name>` is the first one inside `<ResourceRecordSet>`, alias targets use `<DNSName>`).
 */
export function parseChangeBatch(xml: string): RecordChange[] {
  return allElements(xml, 'Change').map((change) => {
    const set = allElements(change, 'ResourceRecordSet')[0] ?? '';
    return {
      action: firstElement(change, 'Action') ?? '',
      name: firstElement(set, 'Name') ?? '',
      type: firstElement(set, 'Type') ?? '',
    };
  });
}

/**
 * A record name as Route 53 presents it to IAM: octal escapes decoded, lowercased, the trailing dot
 * removed, then every character other than `a-z 0-9 - _ .` escaped as `\ooo`.
 */
export function normalizeRecordName(name: string): string {
  const decoded = name.replace(/\\([0-3][0-7]{2})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
  const lower = decoded.toLowerCase().replace(/\.$/, '');
  let out = '';
  for (const ch of lower) {
    out += /[a-z0-9\-_.]/.test(ch) ? ch : `\\${(ch.codePointAt(0) as number).toString(8).padStart(3, '0')}`;
  }
  return out;
}

function zoneArn(id: string): string {
  return `arn:aws:route53:::hostedzone/${id.replace(/^\/?hostedzone\//, '')}`;
}

/** The authorisation of one Route 53 request (`url` is the path and query string). */
export function route53Authorization(operation: string, url: string, body: string): Route53Authorization {
  const path = decodeURIComponent((url.split('?')[0] as string).replace(/^\/2013-04-01/, ''));
  const segments = path.split('/').filter((s) => s !== '');
  const action = `route53:${operation}`;
  if (ZONE_OPERATIONS.has(operation) && segments[0] === 'hostedzone' && segments[1] !== undefined) {
    if (operation !== 'ChangeResourceRecordSets') {
      return { action, resources: [zoneArn(segments[1])], context: {}, changes: [] };
    }
    const changes = parseChangeBatch(body);
    const unique = (values: string[]) => [...new Set(values)];
    return {
      action,
      resources: [zoneArn(segments[1])],
      context: {
        [ROUTE53_CONDITION_KEYS.names]: unique(changes.map((c) => normalizeRecordName(c.name))),
        [ROUTE53_CONDITION_KEYS.types]: unique(changes.map((c) => c.type)),
        [ROUTE53_CONDITION_KEYS.actions]: unique(changes.map((c) => c.action)),
      },
      changes,
    };
  }
  if (
    (operation === 'ChangeTagsForResource' || operation === 'ListTagsForResource') &&
    segments[1] === 'hostedzone' &&
    segments[2] !== undefined
  ) {
    return { action, resources: [zoneArn(segments[2])], context: {}, changes: [] };
  }
  if (operation === 'ListTagsForResources') {
    const ids = allElements(body, 'ResourceId').map((id) => zoneArn(xmlText(id.trim())));
    return { action, resources: ids.length > 0 ? ids : ['*'], context: {}, changes: [] };
  }
  if (operation === 'GetChange' && segments[0] === 'change' && segments[1] !== undefined) {
    return {
      action,
      resources: [`arn:aws:route53:::change/${segments[1]}`],
      context: {},
      changes: [],
    };
  }
  return { action, resources: ['*'], context: {}, changes: [] };
}
