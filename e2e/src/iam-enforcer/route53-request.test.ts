import { describe, expect, it } from 'vitest';
import {
  normalizeRecordName,
  parseChangeBatch,
  ROUTE53_CONDITION_KEYS,
  route53Authorization,
} from './route53-request.js';

const batch = (changes: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes>${changes}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`;

const alias = (action: string, name: string, type: string) =>
  `<Change><Action>${action}</Action><ResourceRecordSet><Name>${name}</Name><Type>${type}</Type><AliasTarget><HostedZoneId>Z35SXDOTRQ7X7K</HostedZoneId><DNSName>lb-1.us-east-1.elb.amazonaws.com</DNSName><EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change>`;

const txt = (action: string, name: string) =>
  `<Change><Action>${action}</Action><ResourceRecordSet><Name>${name}</Name><Type>TXT</Type><TTL>300</TTL><ResourceRecords><ResourceRecord><Value>&quot;heritage=external-dns,external-dns/owner=c1&quot;</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>`;

describe('normalizeRecordName (as Route 53 presents names to IAM)', () => {
  it.each([
    ['Web.Acme.Example.com.', 'web.acme.example.com'],
    ['*.apps.acme.example.com', '\\052.apps.acme.example.com'],
    ['\\052.apps.acme.example.com.', '\\052.apps.acme.example.com'],
    ['_extdns-a.*.c1.acme.example.com', '_extdns-a.\\052.c1.acme.example.com'],
    ['a@b.example.com', 'a\\100b.example.com'],
    ['acme.example.com', 'acme.example.com'],
  ])('%s → %s', (name, normalized) => {
    expect(normalizeRecordName(name)).toBe(normalized);
  });
});

describe('parseChangeBatch', () => {
  it('reads action, name and type of each change, not the alias target', () => {
    expect(
      parseChangeBatch(
        batch(alias('CREATE', 'web.acme.example.com', 'A') + txt('UPSERT', 'a-web.acme.example.com')),
      ),
    ).toEqual([
      { action: 'CREATE', name: 'web.acme.example.com', type: 'A' },
      { action: 'UPSERT', name: 'a-web.acme.example.com', type: 'TXT' },
    ]);
  });

  it('decodes XML character references in names', () => {
    expect(parseChangeBatch(batch(txt('DELETE', 'x&#46;acme.example.com')))[0]?.name).toBe(
      'x.acme.example.com',
    );
  });
});

describe('route53Authorization', () => {
  it('ChangeResourceRecordSets: the zone ARN and the three record-level condition keys', () => {
    const auth = route53Authorization(
      'ChangeResourceRecordSets',
      '/2013-04-01/hostedzone/ZA1/rrset',
      batch(
        alias('CREATE', '*.Apps.acme.example.com.', 'A') +
          txt('CREATE', 'a-web.acme.example.com') +
          txt('DELETE', 'b.acme.example.com'),
      ),
    );
    expect(auth.action).toBe('route53:ChangeResourceRecordSets');
    expect(auth.resources).toEqual(['arn:aws:route53:::hostedzone/ZA1']);
    expect(auth.context).toEqual({
      [ROUTE53_CONDITION_KEYS.names]: [
        '\\052.apps.acme.example.com',
        'a-web.acme.example.com',
        'b.acme.example.com',
      ],
      [ROUTE53_CONDITION_KEYS.types]: ['A', 'TXT'],
      [ROUTE53_CONDITION_KEYS.actions]: ['CREATE', 'DELETE'],
    });
  });

  it.each([
    [
      'ListResourceRecordSets',
      '/2013-04-01/hostedzone/ZA1/rrset?maxitems=300',
      '',
      ['arn:aws:route53:::hostedzone/ZA1'],
    ],
    ['GetHostedZone', '/2013-04-01/hostedzone/ZA1', '', ['arn:aws:route53:::hostedzone/ZA1']],
    ['ListTagsForResource', '/2013-04-01/tags/hostedzone/ZA1', '', ['arn:aws:route53:::hostedzone/ZA1']],
    [
      'ListTagsForResources',
      '/2013-04-01/tags/hostedzone',
      '<ListTagsForResourcesRequest><ResourceIds><ResourceId>ZA1</ResourceId><ResourceId>ZB2</ResourceId></ResourceIds></ListTagsForResourcesRequest>',
      ['arn:aws:route53:::hostedzone/ZA1', 'arn:aws:route53:::hostedzone/ZB2'],
    ],
    ['GetChange', '/2013-04-01/change/C123', '', ['arn:aws:route53:::change/C123']],
    ['ListHostedZones', '/2013-04-01/hostedzone?maxitems=100', '', ['*']],
    ['CreateHostedZone', '/2013-04-01/hostedzone', '<CreateHostedZoneRequest/>', ['*']],
  ])('%s %s → %j', (operation, url, body, resources) => {
    const auth = route53Authorization(operation, url, body);
    expect(auth.resources).toEqual(resources);
    expect(auth.context).toEqual({});
  });
});
