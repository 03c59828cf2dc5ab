/**
 * The ACME identity's TXT-only policy, proven with an IAM policy simulator (@cloud-copilot/iam-simulate,
 * AGPL: tests only). Record names are passed as Route 53 presents them to IAM: lowercase, no trailing
 * dot, other characters as `\ooo` octal escapes (a DNS wildcard `*` arrives as `\052`).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { buildAcmeChallengePolicy, buildZonePolicy, type IamPolicyDocument } from './index.js';

type Outcome = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

const ACCOUNT = '123456789012';
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/zonekeeper/zk-a379a6f6.acme.acme`;
const ZONE = 'acme.example.com';
const OTHER_ZONE = 'beta.example.com';
const OWN = 'arn:aws:route53:::hostedzone/Z1ACME';
const OTHER = 'arn:aws:route53:::hostedzone/Z2BETA';
const CRRS = 'route53:ChangeResourceRecordSets';
const NAMES = 'route53:ChangeResourceRecordSetsNormalizedRecordNames';
const TYPES = 'route53:ChangeResourceRecordSetsRecordTypes';

const policy = buildAcmeChallengePolicy({ zoneId: '/hostedzone/Z1ACME', zoneName: `${ZONE}.` });

const change = (names: string[], types: string[]): Record<string, string[]> => ({
  [NAMES]: names,
  [TYPES]: types,
});

interface SimCase {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  readonly expected: Outcome;
}

async function simulate(doc: IamPolicyDocument, c: Omit<SimCase, 'expected'>) {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'zonekeeper-acme', policy: doc }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action: c.action,
        principal: PRINCIPAL,
        resource: { accountId: ACCOUNT, resource: c.resource },
        contextVariables: c.context ?? {},
      },
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(`simulation did not run: ${JSON.stringify(result)}`);
  return result;
}

const cases: Record<string, SimCase> = {
  // What cert-manager's solver does (UPSERT, DELETE, GetChange) for the zone's names.
  'a TXT at _acme-challenge.<zone> (a certificate for the apex) is allowed': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.${ZONE}`], ['TXT']),
    expected: 'Allowed',
  },
  'a TXT at _acme-challenge.www.<zone> is allowed': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.www.${ZONE}`], ['TXT']),
    expected: 'Allowed',
  },
  'a TXT at _acme-challenge.a.b.<zone> (a deeper name, or a wildcard certificate for *.a.b) is allowed': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.a.b.${ZONE}`], ['TXT']),
    expected: 'Allowed',
  },
  'a DELETE of a challenge TXT (cert-manager’s clean-up) is allowed': {
    action: CRRS,
    resource: OWN,
    context: {
      ...change([`_acme-challenge.www.${ZONE}`], ['TXT']),
      'route53:ChangeResourceRecordSetsActions': ['DELETE'],
    },
    expected: 'Allowed',
  },
  'GetChange (waiting for INSYNC) is allowed': {
    action: 'route53:GetChange',
    resource: 'arn:aws:route53:::change/C0123456789',
    expected: 'Allowed',
  },

  // Other record types, even at a challenge name.
  'an A record at _acme-challenge.<zone> is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.${ZONE}`], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'an A record at www.<zone> is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`www.${ZONE}`], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'a CNAME at _acme-challenge.www.<zone> (delegating the challenge elsewhere) is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.www.${ZONE}`], ['CNAME']),
    expected: 'ImplicitlyDenied',
  },
  'an NS at _acme-challenge.<zone> (a sub-delegation) is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.${ZONE}`], ['NS']),
    expected: 'ImplicitlyDenied',
  },
  'a batch with a challenge TXT and an A record is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.${ZONE}`, `www.${ZONE}`], ['TXT', 'A']),
    expected: 'ImplicitlyDenied',
  },

  // TXT records elsewhere in the zone.
  'a TXT at the apex (SPF, site verification) is denied': {
    action: CRRS,
    resource: OWN,
    context: change([ZONE], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'ExternalDNS’s ownership TXT _extdns-a.www.<zone> is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`_extdns-a.www.${ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'a TXT whose challenge label is not the first (www._acme-challenge.<zone>) is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`www._acme-challenge.${ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'a TXT at a look-alike label (_acme-challenge-x.<zone>) is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge-x.${ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'a TXT at x_acme-challenge.<zone> is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`x_acme-challenge.${ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'a batch with one challenge TXT and one other TXT is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.${ZONE}`, `txt.${ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },

  // Another organisation.
  'another org’s _acme-challenge.<other zone> in its own zone is denied': {
    action: CRRS,
    resource: OTHER,
    context: change([`_acme-challenge.${OTHER_ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'another org’s challenge name presented against the own zone id is denied': {
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.www.${OTHER_ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'the own challenge names in another zone are denied': {
    action: CRRS,
    resource: OTHER,
    context: change([`_acme-challenge.${ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'a name that only ends like the zone (_acme-challenge.evilacme.example.com) is denied': {
    action: CRRS,
    resource: OWN,
    context: change(['_acme-challenge.evilacme.example.com'], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'a challenge name of the parent zone (_acme-challenge.example.com) is denied': {
    action: CRRS,
    resource: OWN,
    context: change(['_acme-challenge.example.com'], ['TXT']),
    expected: 'ImplicitlyDenied',
  },

  // Missing condition keys.
  'a change without any condition key is denied': {
    action: CRRS,
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'a change without the record types key is denied': {
    action: CRRS,
    resource: OWN,
    context: { [NAMES]: [`_acme-challenge.${ZONE}`] },
    expected: 'ImplicitlyDenied',
  },
  'a change without the record names key is denied': {
    action: CRRS,
    resource: OWN,
    context: { [TYPES]: ['TXT'] },
    expected: 'ImplicitlyDenied',
  },

  // Everything the organisation's ExternalDNS identity may do, and more, is not this identity's.
  'ListHostedZonesByName (it would show every org’s zone name) is denied': {
    action: 'route53:ListHostedZonesByName',
    resource: '*',
    expected: 'ImplicitlyDenied',
  },
  'ListHostedZones is denied': {
    action: 'route53:ListHostedZones',
    resource: '*',
    expected: 'ImplicitlyDenied',
  },
  'ListResourceRecordSets on the own zone is denied (the solver never reads records)': {
    action: 'route53:ListResourceRecordSets',
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'GetHostedZone on the own zone is denied': {
    action: 'route53:GetHostedZone',
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'DeleteHostedZone on the own zone is denied': {
    action: 'route53:DeleteHostedZone',
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'ChangeTagsForResource on the own zone is denied': {
    action: 'route53:ChangeTagsForResource',
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'iam:CreateAccessKey on itself is denied': {
    action: 'iam:CreateAccessKey',
    resource: PRINCIPAL,
    expected: 'ImplicitlyDenied',
  },
};

describe('the ACME challenge policy under an IAM policy simulator', () => {
  for (const [sentence, c] of Object.entries(cases)) {
    it(sentence, async () => {
      const result = await simulate(policy, c);
      expect(result.result.ignoredContextKeys).toEqual([]);
      expect(result.overallResult).toBe(c.expected);
    });
  }

  it('the Null conditions are what deny a change without keys (without them it would be allowed)', async () => {
    const [statement, ...rest] = policy.Statement;
    if (!statement?.Condition) throw new Error('the change statement has no condition');
    const { Null: _dropped, ...forAllOnly } = statement.Condition;
    const weakened: IamPolicyDocument = {
      ...policy,
      Statement: [{ ...statement, Condition: forAllOnly }, ...rest],
    };
    expect((await simulate(weakened, { action: CRRS, resource: OWN })).overallResult).toBe('Allowed');
    expect((await simulate(policy, { action: CRRS, resource: OWN })).overallResult).toBe('ImplicitlyDenied');
  });

  it('is narrower than the organisation’s ExternalDNS policy: an A record the zone policy allows is denied here', async () => {
    const zonePolicy = buildZonePolicy({ zoneId: 'Z1ACME', zoneName: ZONE });
    const request = { action: CRRS, resource: OWN, context: change([`www.${ZONE}`], ['A']) };
    expect((await simulate(zonePolicy, request)).overallResult).toBe('Allowed');
    expect((await simulate(policy, request)).overallResult).toBe('ImplicitlyDenied');
  });
});
