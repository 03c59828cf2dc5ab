import { fc, test } from '@fast-check/vitest';
import type { RecordSet } from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import { answerQuestion, type DevDnsZone } from './dns-answer.js';

const soa = (zone: string): RecordSet => ({
  name: zone,
  type: 'SOA',
  ttl: 900,
  values: [`ns-1.example.net. hostmaster.${zone}. 1 7200 900 1209600 86400`],
});
const ns = (name: string, ...servers: string[]): RecordSet => ({
  name,
  type: 'NS',
  ttl: 172800,
  values: servers,
});
const rr = (name: string, type: string, ...values: string[]): RecordSet => ({ name, type, ttl: 300, values });

const parent: DevDnsZone = {
  name: 'example.com',
  records: [
    soa('example.com'),
    ns('example.com', 'ns-1.example.net.'),
    ns('acme.example.com', 'ns-a.example.net.'),
    ns('other.example.com', 'ns-o.example.org.'),
    rr('www.example.com', 'A', '192.0.2.1'),
  ],
};
const acme: DevDnsZone = {
  name: 'acme.example.com',
  records: [
    soa('acme.example.com'),
    ns('acme.example.com', 'ns-a.example.net.'),
    rr('web.acme.example.com', 'A', '127.0.1.1'),
    rr('_extdns-a.web.acme.example.com', 'TXT', '"heritage=external-dns,external-dns/owner=dev-1"'),
    rr('*.apps.acme.example.com', 'A', '127.0.1.2'),
    rr('deep.x.y.acme.example.com', 'A', '127.0.1.3'),
    rr('docs.acme.example.com', 'CNAME', 'web.acme.example.com'),
    rr('out.acme.example.com', 'CNAME', 'elsewhere.example.org'),
    {
      name: 'lb.acme.example.com',
      type: 'A',
      values: [],
      aliasTarget: { hostedZoneId: 'Z1', dnsName: 'web.acme.example.com.', evaluateTargetHealth: false },
    },
    {
      name: 'elb.acme.example.com',
      type: 'A',
      values: [],
      aliasTarget: {
        hostedZoneId: 'Z35SXDOTRQ7X7K',
        dnsName: 'a1-2.us-east-1.elb.amazonaws.com',
        evaluateTargetHealth: true,
      },
    },
  ],
};
const zones = [parent, acme];
const ask = (name: string, type = 'A') => answerQuestion(zones, { name, type });

describe('answerQuestion', () => {
  it('answers a name from the deepest hosted zone, authoritatively, any case and trailing dot', () => {
    expect(ask('WEB.acme.example.com.')).toEqual({
      rcode: 'NOERROR',
      authoritative: true,
      answers: [{ name: 'web.acme.example.com', type: 'A', ttl: 300, value: '127.0.1.1' }],
      authorities: [],
      reason: 'answer',
    });
    expect(ask('_extdns-a.web.acme.example.com', 'txt').answers[0]?.value).toContain('owner=dev-1');
  });

  it('answers the child zone NS from the child (it is hosted), a non-hosted child with a referral', () => {
    expect(ask('acme.example.com', 'NS')).toMatchObject({ authoritative: true, reason: 'answer' });
    expect(ask('acme.example.com', 'NS').answers.map((r) => r.value)).toEqual(['ns-a.example.net.']);
    expect(ask('host.other.example.com')).toEqual({
      rcode: 'NOERROR',
      authoritative: false,
      answers: [],
      authorities: [{ name: 'other.example.com', type: 'NS', ttl: 172800, value: 'ns-o.example.org.' }],
      reason: 'referral',
    });
  });

  it('refuses names outside every hosted zone', () => {
    expect(ask('example.org')).toMatchObject({ rcode: 'REFUSED', reason: 'not-hosted', answers: [] });
  });

  it('NXDOMAIN with the SOA for a missing name; NOERROR no-data for a missing type or an empty non-terminal', () => {
    expect(ask('missing.acme.example.com')).toMatchObject({
      rcode: 'NXDOMAIN',
      authoritative: true,
      answers: [],
      reason: 'no-name',
      authorities: [{ type: 'SOA', name: 'acme.example.com' }],
    });
    expect(ask('web.acme.example.com', 'AAAA')).toMatchObject({ rcode: 'NOERROR', reason: 'no-data' });
    expect(ask('x.y.acme.example.com')).toMatchObject({ rcode: 'NOERROR', reason: 'no-data' });
  });

  it('a wildcard answers for names below its encloser, owned by the name, but not for the encloser', () => {
    expect(ask('shop.apps.acme.example.com').answers).toEqual([
      { name: 'shop.apps.acme.example.com', type: 'A', ttl: 300, value: '127.0.1.2' },
    ]);
    expect(ask('a.b.apps.acme.example.com').reason).toBe('wildcard');
    expect(ask('apps.acme.example.com').reason).toBe('no-data');
  });

  it('follows a CNAME through hosted zones; a CNAME out of them answers the CNAME alone', () => {
    expect(ask('docs.acme.example.com').answers.map((r) => `${r.name} ${r.type} ${r.value}`)).toEqual([
      'docs.acme.example.com CNAME web.acme.example.com',
      'web.acme.example.com A 127.0.1.1',
    ]);
    expect(ask('docs.acme.example.com', 'CNAME').answers).toHaveLength(1);
    expect(ask('out.acme.example.com')).toMatchObject({ rcode: 'NOERROR', reason: 'cname' });
    expect(ask('out.acme.example.com').answers).toHaveLength(1);
  });

  it("answers an alias with its hosted target's records, and a load balancer's alias with nothing", () => {
    expect(ask('lb.acme.example.com').answers).toEqual([
      { name: 'lb.acme.example.com', type: 'A', ttl: 300, value: '127.0.1.1' },
    ]);
    expect(ask('elb.acme.example.com')).toMatchObject({ rcode: 'NOERROR', answers: [], reason: 'no-data' });
  });

  it('stops a CNAME loop', () => {
    const loop: DevDnsZone = {
      name: 'loop.test',
      records: [
        soa('loop.test'),
        rr('a.loop.test', 'CNAME', 'b.loop.test'),
        rr('b.loop.test', 'CNAME', 'a.loop.test'),
      ],
    };
    const answer = answerQuestion([loop], { name: 'a.loop.test', type: 'A' });
    expect(answer.answers.length).toBeLessThanOrEqual(9);
    expect(answer.answers.every((r) => r.type === 'CNAME')).toBe(true);
  });

  const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/);
  test.prop([fc.array(label, { minLength: 1, maxLength: 4 }), fc.constantFrom('A', 'TXT', 'AAAA', 'MX')])(
    'every answer record is owned by the question name or a CNAME target, and NXDOMAIN never has answers',
    (labels, type) => {
      const name = `${labels.join('.')}.acme.example.com`;
      const answer = ask(name, type);
      expect(['NOERROR', 'NXDOMAIN']).toContain(answer.rcode);
      if (answer.rcode === 'NXDOMAIN') expect(answer.answers).toEqual([]);
      const owners = new Set([name, ...answer.answers.filter((r) => r.type === 'CNAME').map((r) => r.value)]);
      for (const r of answer.answers) expect(owners.has(r.name)).toBe(true);
      expect(answer.authoritative).toBe(true);
    },
  );
});
