/**
 * Org isolation, proven with an IAM policy simulator (@cloud-copilot/iam-simulate, AGPL: tests only).
 *
 * Record names are passed as Route 53 presents them to IAM (the simulator does not normalise them):
 * lowercase, no trailing dot, and other characters as `\ooo` octal escapes — a DNS wildcard record
 * `*.acme.example.com` arrives as `\052.acme.example.com`.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { buildZonePolicy, clusterRecordNames, type IamPolicyDocument } from './index.js';

type Outcome = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

const ACCOUNT = '123456789012';
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/zonekeeper/zk-a379a6f6.acme`;
const ZONE = 'acme.example.com';
const OWN = 'arn:aws:route53:::hostedzone/Z1ACME';
const OTHER = 'arn:aws:route53:::hostedzone/Z2BETA';
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/zonekeeper/zk-a379a6f6.acme`;

const orgPolicy = buildZonePolicy({ zoneId: '/hostedzone/Z1ACME', zoneName: `${ZONE}.` });
const clusterPolicy = buildZonePolicy({
  zoneId: 'Z1ACME',
  zoneName: ZONE,
  recordNames: clusterRecordNames(ZONE, 'c1'),
});
const policies = { org: orgPolicy, cluster: clusterPolicy } as const;

/** The context a real `ChangeResourceRecordSets` call carries: names and types of every change. */
const change = (names: string[], types: string[]): Record<string, string[]> => ({
  'route53:ChangeResourceRecordSetsNormalizedRecordNames': names,
  'route53:ChangeResourceRecordSetsRecordTypes': types,
});

interface SimCase {
  readonly policy: keyof typeof policies;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  readonly expected: Outcome;
}

async function simulate(policy: IamPolicyDocument, c: Omit<SimCase, 'policy' | 'expected'>) {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'zonekeeper', policy }],
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
  // An 'error' result (invalid policy, unknown action, wrong resource type) must fail the test loudly.
  if (result.resultType !== 'single') throw new Error(`simulation did not run: ${JSON.stringify(result)}`);
  return result;
}

const CRRS = 'route53:ChangeResourceRecordSets';

const cases: Record<string, SimCase> = {
  // Own zone: the record types ExternalDNS writes, anywhere in the zone.
  'an A record at the zone apex is allowed': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([ZONE], ['A']),
    expected: 'Allowed',
  },
  'an AAAA record at app.<zone> is allowed': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`app.${ZONE}`], ['AAAA']),
    expected: 'Allowed',
  },
  'a CNAME record at app.<zone> is allowed': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`app.${ZONE}`], ['CNAME']),
    expected: 'Allowed',
  },
  'ExternalDNS’s TXT registry record a-app.<zone> is allowed': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`a-app.${ZONE}`], ['TXT']),
    expected: 'Allowed',
  },
  'an ACME challenge TXT record (_acme-challenge.<zone>) is allowed': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`_acme-challenge.${ZONE}`], ['TXT']),
    expected: 'Allowed',
  },
  'a DNS wildcard record *.<zone> (presented as \\052.<zone>) is allowed': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`\\052.${ZONE}`], ['A']),
    expected: 'Allowed',
  },
  'a deeper DNS wildcard record \\052.apps.<zone> is allowed': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`\\052.apps.${ZONE}`], ['CNAME']),
    expected: 'Allowed',
  },
  'a name two labels below the zone (x.y.<zone>) is allowed: IAM "*" matches dots': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`x.y.${ZONE}`], ['A']),
    expected: 'Allowed',
  },
  'a batch of several allowed names and types is allowed': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`app.${ZONE}`, `a-app.${ZONE}`, ZONE], ['A', 'TXT', 'AAAA', 'CNAME']),
    expected: 'Allowed',
  },
  'a DELETE of an allowed record is allowed (the action kind is not restricted)': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: { ...change([`app.${ZONE}`], ['A']), 'route53:ChangeResourceRecordSetsActions': ['DELETE'] },
    expected: 'Allowed',
  },

  // Another organisation's zone: no writes, no reads.
  'a change in another zone is denied, even with names of the own zone': {
    policy: 'org',
    action: CRRS,
    resource: OTHER,
    context: change([`app.${ZONE}`], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'a change in another zone with that zone’s names is denied': {
    policy: 'org',
    action: CRRS,
    resource: OTHER,
    context: change(['app.beta.example.com'], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'ListResourceRecordSets on another zone is denied': {
    policy: 'org',
    action: 'route53:ListResourceRecordSets',
    resource: OTHER,
    expected: 'ImplicitlyDenied',
  },
  'GetHostedZone on another zone is denied': {
    policy: 'org',
    action: 'route53:GetHostedZone',
    resource: OTHER,
    expected: 'ImplicitlyDenied',
  },
  'ListTagsForResource on another zone is denied': {
    policy: 'org',
    action: 'route53:ListTagsForResource',
    resource: OTHER,
    expected: 'ImplicitlyDenied',
  },
  'ListTagsForResources on another zone is denied': {
    policy: 'org',
    action: 'route53:ListTagsForResources',
    resource: OTHER,
    expected: 'ImplicitlyDenied',
  },

  // Record types that stay with zonekeeper or are not requested.
  'an NS change at the apex is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([ZONE], ['NS']),
    expected: 'ImplicitlyDenied',
  },
  'an SOA change at the apex is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([ZONE], ['SOA']),
    expected: 'ImplicitlyDenied',
  },
  'an NS record below the zone (a sub-delegation) is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`sub.${ZONE}`], ['NS']),
    expected: 'ImplicitlyDenied',
  },
  'an MX record is denied (not in the default types)': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([ZONE], ['MX']),
    expected: 'ImplicitlyDenied',
  },
  'a batch that smuggles one NS change among A changes is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`app.${ZONE}`, ZONE], ['A', 'NS']),
    expected: 'ImplicitlyDenied',
  },

  // Names outside the allowed patterns.
  'a name in another organisation’s domain is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change(['app.beta.example.com'], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'a name that only shares a suffix with the zone (evilacme.example.com) is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change(['evilacme.example.com'], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'the parent domain is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change(['example.com'], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'a name that puts the zone in front of another domain is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`x.${ZONE}.evil.com`], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'a batch with one name outside the zone is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: change([`app.${ZONE}`, 'app.beta.example.com'], ['A']),
    expected: 'ImplicitlyDenied',
  },

  // Requests without the condition keys: the Null conditions make them deny.
  'a change request without any condition key is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'a change request without the record-names key is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: { 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] },
    expected: 'ImplicitlyDenied',
  },
  'a change request without the record-types key is denied': {
    policy: 'org',
    action: CRRS,
    resource: OWN,
    context: { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [ZONE] },
    expected: 'ImplicitlyDenied',
  },

  // Reads of the own zone, listing, change status.
  'ListResourceRecordSets on the own zone is allowed': {
    policy: 'org',
    action: 'route53:ListResourceRecordSets',
    resource: OWN,
    expected: 'Allowed',
  },
  'GetHostedZone on the own zone is allowed': {
    policy: 'org',
    action: 'route53:GetHostedZone',
    resource: OWN,
    expected: 'Allowed',
  },
  'ListTagsForResource on the own zone is allowed': {
    policy: 'org',
    action: 'route53:ListTagsForResource',
    resource: OWN,
    expected: 'Allowed',
  },
  'ListTagsForResources on the own zone is allowed': {
    policy: 'org',
    action: 'route53:ListTagsForResources',
    resource: OWN,
    expected: 'Allowed',
  },
  'ListHostedZones is allowed': {
    policy: 'org',
    action: 'route53:ListHostedZones',
    resource: '*',
    expected: 'Allowed',
  },
  'ListHostedZonesByName is allowed': {
    policy: 'org',
    action: 'route53:ListHostedZonesByName',
    resource: '*',
    expected: 'Allowed',
  },
  'GetChange on a change id is allowed': {
    policy: 'org',
    action: 'route53:GetChange',
    resource: 'arn:aws:route53:::change/C0123456789ABCDEF',
    expected: 'Allowed',
  },

  // Everything else.
  'CreateHostedZone is denied': {
    policy: 'org',
    action: 'route53:CreateHostedZone',
    resource: '*',
    expected: 'ImplicitlyDenied',
  },
  'DeleteHostedZone on the own zone is denied': {
    policy: 'org',
    action: 'route53:DeleteHostedZone',
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'ChangeTagsForResource on the own zone is denied (ownership tags stay intact)': {
    policy: 'org',
    action: 'route53:ChangeTagsForResource',
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'UpdateHostedZoneComment on the own zone is denied': {
    policy: 'org',
    action: 'route53:UpdateHostedZoneComment',
    resource: OWN,
    expected: 'ImplicitlyDenied',
  },
  'route53domains:RegisterDomain is denied': {
    policy: 'org',
    action: 'route53domains:RegisterDomain',
    resource: '*',
    expected: 'ImplicitlyDenied',
  },
  'route53domains:UpdateDomainNameservers is denied': {
    policy: 'org',
    action: 'route53domains:UpdateDomainNameservers',
    resource: '*',
    expected: 'ImplicitlyDenied',
  },
  'iam:CreateAccessKey on the own user is denied': {
    policy: 'org',
    action: 'iam:CreateAccessKey',
    resource: USER_ARN,
    expected: 'ImplicitlyDenied',
  },
  'iam:PutUserPolicy on the own user is denied': {
    policy: 'org',
    action: 'iam:PutUserPolicy',
    resource: USER_ARN,
    expected: 'ImplicitlyDenied',
  },
  'iam:AttachUserPolicy on the own user is denied': {
    policy: 'org',
    action: 'iam:AttachUserPolicy',
    resource: USER_ARN,
    expected: 'ImplicitlyDenied',
  },

  // Per-cluster scope: *.c1.<zone> and c1.<zone> only.
  'per-cluster: x.c1.<zone> is allowed': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`x.c1.${ZONE}`], ['A']),
    expected: 'Allowed',
  },
  'per-cluster: the cluster’s own name c1.<zone> is allowed': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`c1.${ZONE}`], ['CNAME']),
    expected: 'Allowed',
  },
  'per-cluster: the TXT registry record a-x.c1.<zone> is allowed': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`a-x.c1.${ZONE}`], ['TXT']),
    expected: 'Allowed',
  },
  'per-cluster: a wildcard record \\052.c1.<zone> is allowed': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`\\052.c1.${ZONE}`], ['A']),
    expected: 'Allowed',
  },
  'per-cluster: x.c2.<zone> (another cluster) is denied': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`x.c2.${ZONE}`], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'per-cluster: the organisation apex is denied': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([ZONE], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'per-cluster: app.<zone> beside the cluster is denied': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`app.${ZONE}`], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'per-cluster: xc1.<zone> (a label that merely ends in the cluster id) is denied': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`xc1.${ZONE}`], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'per-cluster: the registry TXT a-c1.<zone> for the cluster’s own name is denied (documented limitation)': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`a-c1.${ZONE}`], ['TXT']),
    expected: 'ImplicitlyDenied',
  },
  'per-cluster: a batch mixing c1 and c2 names is denied': {
    policy: 'cluster',
    action: CRRS,
    resource: OWN,
    context: change([`x.c1.${ZONE}`, `x.c2.${ZONE}`], ['A']),
    expected: 'ImplicitlyDenied',
  },
  'per-cluster: another zone is still denied': {
    policy: 'cluster',
    action: CRRS,
    resource: OTHER,
    context: change([`x.c1.${ZONE}`], ['A']),
    expected: 'ImplicitlyDenied',
  },
};

describe('the zone policy under an IAM policy simulator', () => {
  for (const [sentence, c] of Object.entries(cases)) {
    it(sentence, async () => {
      const result = await simulate(policies[c.policy], c);
      // A misspelt or inapplicable context key would be dropped silently and then count as absent.
      expect(result.result.ignoredContextKeys).toEqual([]);
      expect(result.overallResult).toBe(c.expected);
    });
  }

  it('the Null conditions are what deny a request without keys (without them it would be allowed)', async () => {
    const [statement, ...rest] = orgPolicy.Statement;
    if (!statement?.Condition) throw new Error('the change statement has no condition');
    const { Null: _dropped, ...forAllOnly } = statement.Condition;
    const weakened: IamPolicyDocument = {
      ...orgPolicy,
      Statement: [{ ...statement, Condition: forAllOnly }, ...rest],
    };

    const withoutKeys = { action: CRRS, resource: OWN };
    const weak = await simulate(weakened, withoutKeys);
    expect(weak.result.ignoredContextKeys).toEqual([]);
    expect(weak.overallResult).toBe('Allowed');
    const real = await simulate(orgPolicy, withoutKeys);
    expect(real.overallResult).toBe('ImplicitlyDenied');
  });

  it('a misspelt context key in a request is reported as ignored, not silently accepted', async () => {
    const result = await simulate(orgPolicy, {
      action: CRRS,
      resource: OWN,
      context: { 'route53:ChangeResourceRecordSetsNormalisedRecordNames': [ZONE] },
    });
    expect(result.result.ignoredContextKeys).toEqual([
      'route53:ChangeResourceRecordSetsNormalisedRecordNames',
    ]);
    expect(result.overallResult).toBe('ImplicitlyDenied');
  });
});
