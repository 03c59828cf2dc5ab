/**
 * Publicly trusted certificates by ACME DNS-01 (RFC 8555 §8.4), issued through the organisation's own
 * zone before any load balancer exists: gather → pure plan → apply, like the CA-issued ones.
 *
 * ```
 *  gather (I/O)                                plan (pure)
 *  the zone (DNS port): id ↔ name, NS hosts    every name within the zone, else INVALID_INPUT (outside-zone)
 *  the platform's ACME account key (store)     none stored ................. create-acme-account
 *  the stored certificate (store)              none / names / issuer differ → order
 *  its renewal information (the CA, RFC 9773)  decideAcmeRenewal: the ARI window, else two thirds
 *  the target Secret (cluster)                                               order-acme-certificate
 *                                              Secret missing or different .. apply-tls-secret
 *
 *  order-acme-certificate (apply)
 *  account (newAccount, idempotent) → newOrder → each pending authorisation's dns-01 challenge
 *  → _acme-challenge TXT records in one UPSERT batch through the DNS port
 *  → wait until every address of every name server of the zone answers them (lookupTxt)
 *  → respond to the challenges → poll the authorisations → finalize with a fresh key's CSR
 *  → poll the order → download the chain → store it (check-and-set) → records removed, always
 * ```
 *
 * The name check happens before anything is read or sent: a name outside the organisation's zone is
 * never ordered, and no challenge record is ever written outside it (the zone id is checked against
 * the zone's name too). Renewal follows the CA's ACME Renewal Information (RFC 9773) when it offers it —
 * a time picked at random inside its suggested window, at once when the window has passed (a revoked
 * certificate) — and comes at two thirds of the lifetime (`renewalTime`) otherwise; a renewal order
 * names the certificate it replaces (`replaces`).
 *
 * @packageDocumentation
 */

import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import {
  applySteps,
  type CallOptions,
  type EnsureOptions,
  ensure,
  hasErrorCode,
  invalidInput,
  isAbortError,
  isWithinDomain,
  isZonekeeperError,
  type KubernetesObject,
  noopLogger,
  normalizeDomainName,
  normalizeHostname,
  sleep,
  systemClock,
  validateDnsLabel,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import {
  type CertificateToStore,
  readCertificate,
  readOwnedSecret,
  type StoredCertificate,
  secretPaths,
  writeCertificate,
  writeOwnedSecret,
} from '@zonekeeper/vault-keys';
import type { DnsProvider, DnsServerAddress } from '@zonekeeper/zone-manager';
import type { Authorization, Client, Order } from 'acme-client';
import { renewalTime } from '../certificates.js';
import {
  assertSecretOwned,
  type CertificateDeps,
  type CertificateSummary,
  secretMatches,
  type TlsSecretTarget,
  tlsSecret,
} from '../ensure.js';
import { loadAcmeClient } from './acme-runtime.js';
import {
  type ChallengeRecord,
  challengeRecordName,
  challengeRecordSets,
  challengeRecords,
  removeChallengeRecords,
  waitForChallengeRecords,
  writeChallengeRecords,
} from './challenge.js';
import { type AcmeProblem, acmeProblemError } from './problems.js';
import {
  type AcmeRenewalDecision,
  type AcmeRenewalInfo,
  acmeCertId,
  decideAcmeRenewal,
  fetchRenewalInfo,
} from './renewal-info.js';
import { type AcmeTransportScope, inAcmeScope, pinnedAgent } from './transport.js';

/** How zonekeeper talks to one ACME CA. @public */
export interface AcmeSettings {
  /** The CA's directory, e.g. `https://acme-v02.api.letsencrypt.org/directory`. HTTPS only. */
  readonly directoryUrl: string;
  /** The CA's terms of service must be agreed to, by whoever configures this: `true`. */
  readonly termsOfServiceAgreed: true;
  /** Account contacts, e.g. `['mailto:ops@example.com']`. */
  readonly contact?: readonly string[];
  /**
   * PEM certificates to trust for the CA's HTTPS endpoint instead of the system's (a test CA such as
   * Pebble). Default: the system's trust store.
   */
  readonly caCertificates?: string;
  /** Per-request time limit (default 30 000 ms). */
  readonly requestTimeoutMs?: number;
  /** How long to wait for the challenge records on the zone's name servers (default 120 000 ms). */
  readonly propagationTimeoutMs?: number;
  /** Pause between propagation checks (default 2 000 ms). */
  readonly propagationPollMs?: number;
  /** How long to wait for the CA to validate and to issue (default 120 000 ms). */
  readonly validationTimeoutMs?: number;
  /** Pause between polls of authorisations and of the order (default 1 000 ms, or the CA's Retry-After). */
  readonly pollIntervalMs?: number;
  /** TTL of the challenge records (default 60 s). */
  readonly challengeTtl?: number;
  /** Addresses of a name server host (default: the system's resolvers, port 53). */
  readonly resolveNameServer?: (host: string, options: CallOptions) => Promise<readonly DnsServerAddress[]>;
}

/** Dependencies of the ACME functions. @public */
export interface AcmeDeps extends CertificateDeps {
  /** The DNS port the organisation's zone is served by (Route 53, PowerDNS, …). */
  readonly dns: DnsProvider;
  readonly acme: AcmeSettings;
  /**
   * Uniform random numbers in [0, 1): pick the renewal time inside the CA's suggested window (RFC 9773
   * §4.2). Default `Math.random`; tests inject their own.
   */
  readonly random?: () => number;
}

/** The organisation's zone, as the DNS port knows it. @public */
export interface AcmeZone {
  /** The zone id in the DNS port. */
  readonly id: string;
  /** Its name, e.g. `acme.example.com`: every certificate name must lie within it. */
  readonly name: string;
}

/** Input of {@link ensureAcmeCertificate}. @public */
export interface EnsureAcmeCertificateInput {
  readonly organization: string;
  /** The certificate's name in the store, a DNS label (e.g. `web`). */
  readonly name: string;
  /** The names, each within `zone.name`; wildcards as the whole left-most label. */
  readonly dnsNames: readonly string[];
  readonly zone: AcmeZone;
  /**
   * Renewal when the CA offers no usable renewal information (RFC 9773): after `1 - renewBeforeFraction`
   * of the lifetime. Default 1/3: after two thirds.
   */
  readonly renewBeforeFraction?: number;
  /** Inject the certificate as a `kubernetes.io/tls` Secret. */
  readonly target?: TlsSecretTarget;
}

/**
 * Why an ACME certificate is ordered: `renewal-suggested` when the CA's renewal information says so
 * (RFC 9773), `renewal-due` when the lifetime fraction has passed without it.
 * @public
 */
export type AcmeIssueReason =
  | 'missing'
  | 'names-changed'
  | 'issuer-changed'
  | 'renewal-due'
  | 'renewal-suggested';

/** Why a request is refused before anything is sent. @public */
export type AcmeRefusalReason =
  /** A name is not within the organisation's zone. */
  | 'outside-zone'
  /** The zone id does not belong to the zone name given (another organisation's zone, a stale id). */
  | 'zone-mismatch';

/** A step of {@link planAcmeCertificate}. @public */
export type AcmeCertificateStep =
  | { readonly op: 'create-acme-account'; readonly directoryUrl: string }
  | {
      readonly op: 'order-acme-certificate';
      readonly name: string;
      readonly reason: AcmeIssueReason;
      readonly dnsNames: readonly string[];
      readonly directoryUrl: string;
      readonly zone: string;
      /** The challenge record names the order will write (`_acme-challenge.<name>`). */
      readonly challengeRecords: readonly string[];
      /**
       * The ARI CertID of the certificate this order renews (RFC 9773 §5, `replaces`), when it renews
       * one that has a CertID. A CA that answers `alreadyReplaced` gets the order again without it.
       */
      readonly replaces?: string;
    }
  | {
      readonly op: 'apply-tls-secret';
      readonly cluster: string;
      readonly namespace: string;
      readonly secretName: string;
    };

/** A plan of {@link planAcmeCertificate}. JSON data. @public */
export interface AcmeCertificatePlan {
  readonly steps: readonly AcmeCertificateStep[];
  /**
   * Whether and why the stored certificate is renewed now ({@link decideAcmeRenewal}), when one is stored
   * for the same names and CA.
   */
  readonly renewal?: AcmeRenewalDecision;
}

/** What {@link planAcmeCertificate} needs, as gathered. It holds private keys: never log it. @public */
export interface AcmeCertificateState {
  /** Whether the platform's account key is stored. */
  readonly accountKeyPem?: string;
  readonly accountKeyVersion?: number;
  readonly stored?: StoredCertificate;
  readonly secret?: KubernetesObject;
  /** The zone's name servers (from the DNS port). */
  readonly nameServers: readonly string[];
  /**
   * What the CA said about renewing the stored certificate (RFC 9773), asked when one is stored for the
   * same names and CA.
   */
  readonly renewalInfo?: AcmeRenewalInfo;
  /** A uniform random number in [0, 1) drawn at gather time (`AcmeDeps.random`); default 0.5. */
  readonly randomFraction?: number;
}

/** Result of {@link ensureAcmeCertificate}. @public */
export interface EnsureAcmeCertificateResult {
  readonly plan: AcmeCertificatePlan;
  readonly dryRun: boolean;
  /** The renewal decision about the stored certificate (also `plan.renewal`). */
  readonly renewal?: AcmeRenewalDecision;
  /**
   * The certificate in effect after the run (absent in a dry run that would order the first one). Its
   * `renewAt` is the decision's for a kept certificate, two thirds of the lifetime for a new one (whose
   * renewal information is asked on the next run).
   */
  readonly certificate?: CertificateSummary & {
    readonly dnsNames: readonly string[];
    readonly issuer: string;
  };
}

/** The `issuer` recorded with an ACME certificate. Pure. @public */
export function acmeIssuer(directoryUrl: string): string {
  return `acme:${directoryUrl}`;
}

/**
 * Checks ACME settings (https directory, terms agreed, `mailto:` contacts, positive timings) and returns
 * the directory URL in the form recorded as a certificate's issuer ({@link acmeIssuer}). Pure.
 * @throws `INVALID_INPUT` for invalid settings.
 * @public
 */
export function validateAcmeSettings(settings: AcmeSettings): string {
  if (typeof settings !== 'object' || settings === null) throw invalidInput('ACME settings are required.');
  let url: URL;
  try {
    url = new URL(settings.directoryUrl);
  } catch {
    throw invalidInput(`ACME directoryUrl ${JSON.stringify(settings.directoryUrl)} is not a URL.`);
  }
  if (url.protocol !== 'https:') throw invalidInput('ACME directoryUrl must be an https: URL.');
  if (settings.termsOfServiceAgreed !== true)
    throw invalidInput("ACME: termsOfServiceAgreed must be true (the CA's terms of service are agreed to).");
  for (const c of settings.contact ?? [])
    if (typeof c !== 'string' || !/^mailto:[^\s@,]+@[^\s@,]+$/.test(c))
      throw invalidInput(`ACME contact ${JSON.stringify(c)} must be a mailto: URL.`);
  for (const key of [
    'requestTimeoutMs',
    'propagationTimeoutMs',
    'propagationPollMs',
    'validationTimeoutMs',
    'pollIntervalMs',
    'challengeTtl',
  ] as const) {
    const v = settings[key];
    if (v !== undefined && !(Number.isInteger(v) && v > 0))
      throw invalidInput(`ACME ${key} must be a positive whole number, got ${String(v)}.`);
  }
  return url.toString();
}

/** The validated names of an input: every one within the zone, or a typed refusal. Pure. */
function acmeNames(input: EnsureAcmeCertificateInput): {
  organization: string;
  name: string;
  dnsNames: string[];
  zone: AcmeZone;
  secretName: string;
} {
  const organization = validateOrganizationName(input.organization);
  const name = validateDnsLabel(input.name, 'Certificate name');
  if (
    typeof input.zone !== 'object' ||
    input.zone === null ||
    typeof input.zone.id !== 'string' ||
    input.zone.id === ''
  )
    throw invalidInput('ACME: zone { id, name } is required (the organisation zone in the DNS port).');
  const zone = { id: input.zone.id, name: normalizeDomainName(input.zone.name, 'Zone name') };
  if (!Array.isArray(input.dnsNames) || input.dnsNames.length === 0 || input.dnsNames.length > 100)
    throw invalidInput('Certificate dnsNames must be an array of 1–100 names.');
  const dnsNames = [...new Set(input.dnsNames.map((n) => normalizeHostname(n)))];
  for (const n of dnsNames)
    if (n.includes('*') && !/^\*\.[^*]+$/.test(n))
      throw invalidInput(`Certificate name ${n}: a wildcard must be the whole left-most label.`);
  const outside = dnsNames.filter((n) => !isWithinDomain(n.replace(/^\*\./, ''), zone.name));
  if (outside.length > 0)
    throw new ZonekeeperError(
      'INVALID_INPUT',
      `ACME certificate ${name}: ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not within ${organization}'s zone ${zone.name}; refusing to order ${outside.length === 1 ? 'it' : 'them'}.`,
      { details: { reason: 'outside-zone' satisfies AcmeRefusalReason, names: outside, zone: zone.name } },
    );
  if (input.target) validateDnsLabel(input.target.namespace, 'Namespace');
  const secretName = input.target?.secretName ?? name;
  if (input.target?.secretName !== undefined) validateDnsLabel(secretName, 'Secret name');
  return { organization, name, dnsNames, zone, secretName };
}

/**
 * Plans {@link ensureAcmeCertificate}. Pure.
 * @throws `INVALID_INPUT` (`details.reason: 'outside-zone'`) for a name outside the zone; `NOT_OWNED`
 *   when the target Secret is not zonekeeper's (this organisation's).
 * @public
 */
export function planAcmeCertificate(
  state: AcmeCertificateState,
  input: EnsureAcmeCertificateInput,
  directoryUrl: string,
  now: Date,
): AcmeCertificatePlan {
  const { organization, name, dnsNames, zone, secretName } = acmeNames(input);
  assertSecretOwned(state.secret, organization, secretName, input.target);
  const issuer = acmeIssuer(directoryUrl);
  const { stored } = state;
  const renewal =
    stored && sameNames(stored.dnsNames, dnsNames) && stored.issuer === issuer
      ? decideAcmeRenewal({
          now,
          certificate: stored,
          ...(state.renewalInfo === undefined ? {} : { renewalInfo: state.renewalInfo }),
          randomFraction: state.randomFraction ?? 0.5,
          ...(input.renewBeforeFraction === undefined
            ? {}
            : { renewBeforeFraction: input.renewBeforeFraction }),
        })
      : undefined;
  const reason: AcmeIssueReason | undefined = !stored
    ? 'missing'
    : !sameNames(stored.dnsNames, dnsNames)
      ? 'names-changed'
      : stored.issuer !== issuer
        ? 'issuer-changed'
        : renewal?.renew
          ? renewal.basis === 'ari'
            ? 'renewal-suggested'
            : 'renewal-due'
          : undefined;
  const replaces =
    stored && (reason === 'renewal-due' || reason === 'renewal-suggested')
      ? certIdOrUndefined(stored.certificatePem)
      : undefined;
  const steps: AcmeCertificateStep[] = [];
  if (reason && state.accountKeyPem === undefined) steps.push({ op: 'create-acme-account', directoryUrl });
  if (reason)
    steps.push({
      op: 'order-acme-certificate',
      name,
      reason,
      dnsNames,
      directoryUrl,
      zone: zone.name,
      challengeRecords: [...new Set(dnsNames.map(challengeRecordName))].sort(),
      ...(replaces === undefined ? {} : { replaces }),
    });
  if (
    input.target &&
    (reason || !stored || !secretMatches(state.secret, tlsSecret(organization, name, input.target, stored)))
  )
    steps.push({
      op: 'apply-tls-secret',
      cluster: input.target.cluster.name,
      namespace: input.target.namespace,
      secretName,
    });
  return { steps, ...(renewal === undefined ? {} : { renewal }) };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join(',') === [...b].sort().join(',');
}

function certIdOrUndefined(certificatePem: string): string | undefined {
  try {
    return acmeCertId(certificatePem);
  } catch {
    return undefined;
  }
}

function layout(deps: CertificateDeps): { prefix?: string; owner?: string } {
  return {
    ...(deps.secretPrefix === undefined ? {} : { prefix: deps.secretPrefix }),
    ...(deps.secretOwner === undefined ? {} : { owner: deps.secretOwner }),
  };
}

const ACCOUNT_KIND = { kind: 'acme-account' } as const;

async function readAccountKey(
  deps: CertificateDeps,
  options: CallOptions,
): Promise<{ pem: string; version: number } | undefined> {
  const l = layout(deps);
  const secret = await readOwnedSecret(deps.secrets, secretPaths(l).acmeAccount(), ACCOUNT_KIND, {
    ...l,
    ...options,
  });
  const pem = secret?.data.privateKeyPem;
  return secret && pem ? { pem, version: secret.version } : undefined;
}

/**
 * Reads what {@link planAcmeCertificate} needs: the zone (checked: its id must name `zone.name`), the
 * platform's ACME account key, the stored certificate and the target Secret. Names are checked first.
 * @throws `INVALID_INPUT` (`outside-zone`) before anything is read; `NOT_FOUND` when the zone id does
 *   not exist; `CONFLICT` (`details.reason: 'zone-mismatch'`) when it is another zone.
 * @public
 */
export async function gatherAcmeCertificate(
  input: EnsureAcmeCertificateInput,
  deps: AcmeDeps,
  options: CallOptions = {},
): Promise<AcmeCertificateState> {
  const { organization, name, dnsNames, zone, secretName } = acmeNames(input);
  const directoryUrl = validateAcmeSettings(deps.acme);
  const call = options.signal === undefined ? {} : { signal: options.signal };
  const details = await deps.dns.getZone(zone.id, call);
  if (!details)
    throw new ZonekeeperError(
      'NOT_FOUND',
      `ACME: zone ${zone.id} (${zone.name}) does not exist in ${deps.dns.kind}.`,
      {
        details: { zoneId: zone.id, zone: zone.name },
      },
    );
  if (details.zone.name !== zone.name)
    throw new ZonekeeperError(
      'CONFLICT',
      `ACME: zone ${zone.id} is ${details.zone.name}, not ${zone.name}; refusing to write challenge records in it.`,
      { details: { reason: 'zone-mismatch' satisfies AcmeRefusalReason, zoneId: zone.id, zone: zone.name } },
    );
  const account = await readAccountKey(deps, call);
  const stored = await readCertificate(deps.secrets, organization, name, { ...layout(deps), ...call });
  const secret = input.target
    ? await input.target.cluster.get(
        { apiVersion: 'v1', kind: 'Secret', name: secretName, namespace: input.target.namespace },
        call,
      )
    : undefined;
  // Renewal information only matters for a certificate that would otherwise be kept, and not after it
  // expired (RFC 9773 §4.3: clients stop asking then).
  const now = (deps.clock ?? systemClock).now();
  const renewalInfo =
    stored &&
    stored.issuer === acmeIssuer(directoryUrl) &&
    sameNames(stored.dnsNames, dnsNames) &&
    now.getTime() < stored.notAfter.getTime()
      ? await fetchRenewalInfo(directoryUrl, stored.certificatePem, {
          now,
          timeoutMs: deps.acme.requestTimeoutMs ?? 30_000,
          ...(deps.acme.caCertificates === undefined ? {} : { agent: pinnedAgent(deps.acme.caCertificates) }),
          ...call,
        })
      : undefined;
  return {
    nameServers: details.nameServers,
    ...(renewalInfo === undefined
      ? {}
      : { renewalInfo, randomFraction: randomFraction(deps.random ?? Math.random) }),
    ...(account ? { accountKeyPem: account.pem, accountKeyVersion: account.version } : {}),
    ...(stored ? { stored } : {}),
    ...(secret ? { secret } : {}),
  };
}

/** One draw of `random`, checked to be in [0, 1). */
function randomFraction(random: () => number): number {
  const r = random();
  if (typeof r !== 'number' || !(r >= 0 && r < 1))
    throw invalidInput(`ACME: random() must return a number in [0, 1), got ${String(r)}.`);
  return r;
}

function newAccountKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
}

/** Turns whatever acme-client or the network threw into a zonekeeper error (or the abort reason). */
function translate(error: unknown, scope: AcmeTransportScope, what: string, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason;
  if (isZonekeeperError(error) || isAbortError(error)) return error;
  const problem: AcmeProblem | undefined = scope.lastProblem;
  if (problem) return acmeProblemError(problem, what);
  // A request that got no response: acme-client rethrows something else, so read what the transport kept.
  const cause = scope.transportError ?? error;
  const code = (cause as { code?: string }).code;
  const message = (error as Error)?.message ?? String(error);
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT')
    return new ZonekeeperError('TIMEOUT', `ACME: ${what}: the CA did not answer in time.`, { cause });
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code))
    return new ZonekeeperError(
      'UNAVAILABLE',
      `ACME: ${what}: the CA's TLS certificate is not trusted (${code}).`,
      {
        retry: 'permanent',
        cause,
        details: { tls: code },
      },
    );
  if (code !== undefined && /^E[A-Z]+$/.test(code))
    return new ZonekeeperError('UNAVAILABLE', `ACME: ${what}: ${code} talking to the CA.`, { cause });
  return new ZonekeeperError('INTERNAL', `ACME: ${what}: ${message.slice(0, 300)}`, { cause: error });
}

/** Polls until no authorisation is pending; an invalid one is the error of its failed challenge. */
async function waitForAuthorizations(
  client: Client,
  order: Order,
  settings: AcmeSettings,
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + (settings.validationTimeoutMs ?? 120_000);
  for (;;) {
    const authorizations: Authorization[] = await client.getAuthorizations(order);
    const failed = authorizations.find((a) => a.status !== 'valid' && a.status !== 'pending');
    if (failed) {
      const challenge = failed.challenges.find((c) => c.type === 'dns-01') as
        | { error?: { type?: string; detail?: string } }
        | undefined;
      const identifier = `${failed.wildcard ? '*.' : ''}${failed.identifier.value}`;
      throw acmeProblemError(
        {
          type: challenge?.error?.type ?? 'urn:ietf:params:acme:error:unauthorized',
          identifier,
          ...(challenge?.error?.detail === undefined
            ? { detail: `authorisation ${failed.status}` }
            : { detail: challenge.error.detail }),
        },
        what,
        { authorization: failed.status },
      );
    }
    if (authorizations.every((a) => a.status === 'valid')) return;
    if (Date.now() >= deadline)
      throw new ZonekeeperError('TIMEOUT', `ACME: ${what}: the CA did not validate the challenges in time.`, {
        details: {
          pending: authorizations.filter((a) => a.status === 'pending').map((a) => a.identifier.value),
        },
      });
    await sleep(settings.pollIntervalMs ?? 1_000, signal);
  }
}

async function waitForOrder(
  client: Client,
  order: Order,
  settings: AcmeSettings,
  what: string,
  signal?: AbortSignal,
): Promise<Order> {
  const deadline = Date.now() + (settings.validationTimeoutMs ?? 120_000);
  let current = order;
  for (;;) {
    if (current.status === 'valid') return current;
    if (current.status === 'invalid') {
      const e = (current.error ?? {}) as { type?: string; detail?: string };
      throw acmeProblemError(
        { type: e.type ?? 'urn:ietf:params:acme:error:serverInternal', detail: e.detail ?? 'order invalid' },
        what,
      );
    }
    if (Date.now() >= deadline)
      throw new ZonekeeperError('TIMEOUT', `ACME: ${what}: the order is still ${current.status}.`);
    await sleep(settings.pollIntervalMs ?? 1_000, signal);
    current = { ...(await client.getOrder(current)), url: order.url };
  }
}

function splitPem(chain: string): string[] {
  return chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** Builds what is stored from the leaf key and the chain the CA returned. */
function certificateToStore(
  chainPem: string,
  privateKeyPem: string,
  dnsNames: string[],
  issuer: string,
): CertificateToStore {
  const parts = splitPem(chainPem).map((p) => (p.endsWith('\n') ? p : `${p}\n`));
  const [leafPem, ...issuers] = parts;
  if (!leafPem || issuers.length === 0)
    throw new ZonekeeperError('INTERNAL', 'ACME: the CA returned no certificate chain (leaf and issuer).');
  const leaf = new X509Certificate(leafPem);
  return {
    certificatePem: leafPem,
    privateKeyPem,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    serialNumber: leaf.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
    chainPem: parts.join(''),
    caPem: issuers.join(''),
    dnsNames,
    issuer,
  };
}

/**
 * How often one request is re-sent with a fresh nonce after `badNonce` (RFC 8555 §6.5: the client
 * should retry). acme-client's own default is 5.
 */
const BAD_NONCE_RETRIES = 20;

/** A client for the account key, with zonekeeper's badNonce patience. */
async function acmeClient(directoryUrl: string, accountKey: string): Promise<Client> {
  const { Client } = await loadAcmeClient();
  const client = new Client({ directoryUrl, accountKey });
  // acme-client keeps the limit on its HTTP client, without an option: set it where it is, if it is.
  const http = (client as unknown as { api?: { http?: { maxBadNonceRetries?: unknown } } }).api?.http;
  if (http && typeof http.maxBadNonceRetries === 'number') http.maxBadNonceRetries = BAD_NONCE_RETRIES;
  return client;
}

/**
 * Finds the account of the key (`onlyReturnExisting`, then a POST-as-GET), registering it when the CA
 * does not know it. `newAccount` for a known key would make acme-client send an update, which a CA may
 * refuse when there is nothing to update (Pebble: "empty update").
 */
async function useAccount(
  client: Client,
  scope: AcmeTransportScope,
  settings: AcmeSettings,
  options: { readonly existingOnly?: boolean } = {},
): Promise<void> {
  try {
    await client.createAccount({ onlyReturnExisting: true });
    return;
  } catch (error) {
    if (options.existingOnly || scope.lastProblem?.type !== 'urn:ietf:params:acme:error:accountDoesNotExist')
      throw error;
  }
  await client.createAccount({
    termsOfServiceAgreed: true,
    ...(settings.contact === undefined ? {} : { contact: [...settings.contact] }),
  });
}

/** One order, challenge records always removed. Returns what to store. */
async function orderCertificate(
  step: Extract<AcmeCertificateStep, { op: 'order-acme-certificate' }>,
  accountKeyPem: string,
  nameServers: readonly string[],
  zone: AcmeZone,
  deps: AcmeDeps,
  options: CallOptions,
): Promise<CertificateToStore> {
  const settings = deps.acme;
  const { signal } = options;
  const logger = deps.logger ?? noopLogger;
  const what = `ordering ${step.name} (${step.dnsNames.join(', ')})`;
  const scopeSettings = {
    ...(signal === undefined ? {} : { signal }),
    timeoutMs: settings.requestTimeoutMs ?? 30_000,
    ...(settings.caCertificates === undefined ? {} : { agent: pinnedAgent(settings.caCertificates) }),
  };
  return inAcmeScope(scopeSettings, async (scope) => {
    const client = await acmeClient(step.directoryUrl, accountKeyPem);
    let written: ReturnType<typeof challengeRecordSets> = [];
    try {
      await useAccount(client, scope, settings);
      const identifiers = step.dnsNames.map((value) => ({ type: 'dns', value }));
      let order: Order;
      try {
        // acme-client sends the request body as given: `replaces` (RFC 9773 §5) goes through as is.
        order = await client.createOrder({
          identifiers,
          ...(step.replaces === undefined ? {} : { replaces: step.replaces }),
        } as Parameters<Client['createOrder']>[0]);
      } catch (error) {
        // The certificate already has a replacement (an earlier run was issued one, then failed to
        // store it): order without `replaces`, as a new certificate.
        if (
          step.replaces === undefined ||
          scope.lastProblem?.type !== 'urn:ietf:params:acme:error:alreadyReplaced'
        )
          throw error;
        logger.info('ACME: the certificate already has a replacement; ordering without replaces', {
          order: step.name,
        });
        order = await client.createOrder({ identifiers });
      }
      const authorizations = await client.getAuthorizations(order);
      const ordered = new Set(step.dnsNames.map((n) => n.replace(/^\*\./, '')));
      const pending: { challenge: Authorization['challenges'][number]; dnsName: string; digest: string }[] =
        [];
      for (const a of authorizations) {
        if (a.status === 'valid') continue;
        const challenge = a.challenges.find((c) => c.type === 'dns-01');
        if (!challenge)
          throw new ZonekeeperError(
            'PERMISSION_DENIED',
            `ACME: ${what}: the CA offers no dns-01 challenge for ${a.identifier.value}.`,
            {
              details: { identifier: a.identifier.value },
            },
          );
        const dnsName = a.identifier.value.toLowerCase();
        // The CA may only ask about names we ordered: never write a record for anything else.
        if (!ordered.has(dnsName) || !isWithinDomain(dnsName, zone.name))
          throw new ZonekeeperError(
            'INTERNAL',
            `ACME: ${what}: the CA asked about ${dnsName}, not a name of this order.`,
          );
        pending.push({ challenge, dnsName, digest: await client.getChallengeKeyAuthorization(challenge) });
      }
      if (pending.length > 0) {
        const records: ChallengeRecord[] = challengeRecords(pending);
        const sets = challengeRecordSets(records, settings.challengeTtl ?? 60);
        written = sets;
        await writeChallengeRecords(deps.dns, zone.id, sets, options);
        await waitForChallengeRecords(nameServers, records, {
          ...options,
          ...(settings.propagationTimeoutMs === undefined
            ? {}
            : { timeoutMs: settings.propagationTimeoutMs }),
          ...(settings.propagationPollMs === undefined ? {} : { pollIntervalMs: settings.propagationPollMs }),
          ...(settings.resolveNameServer === undefined
            ? {}
            : { resolveNameServer: settings.resolveNameServer }),
        });
        for (const p of pending) await client.completeChallenge(p.challenge);
        await waitForAuthorizations(client, order, settings, what, signal);
      }
      const keyPem = newAccountKeyPem();
      const commonName =
        step.dnsNames[0] !== undefined && step.dnsNames[0].length <= 64 ? step.dnsNames[0] : undefined;
      const [, csr] = await (await loadAcmeClient()).crypto.createCsr(
        { altNames: [...step.dnsNames], ...(commonName === undefined ? {} : { commonName }) },
        keyPem,
      );
      const finalized = await client.finalizeOrder(order, csr);
      const valid = await waitForOrder(client, { ...finalized, url: order.url }, settings, what, signal);
      const chainPem = await client.getCertificate(valid);
      return certificateToStore(chainPem, keyPem, [...step.dnsNames], acmeIssuer(step.directoryUrl));
    } catch (error) {
      throw translate(error, scope, what, signal);
    } finally {
      if (scope.problems.length > 0)
        logger.debug('ACME problems answered', { order: step.name, problems: scope.problems });
      if (written.length > 0) {
        const cleanup = await removeChallengeRecords(deps.dns, zone.id, written, {
          timeoutMs: settings.requestTimeoutMs ?? 30_000,
          logger,
        });
        if (!cleanup.removed)
          logger.warn('ACME challenge records left in the zone; they are replaced by the next order', {
            zone: zone.name,
            records: written.map((w) => w.name),
          });
      }
    }
  });
}

/**
 * Executes a plan of {@link planAcmeCertificate}: creates the account key (check-and-set: a concurrent
 * writer's key is adopted), orders through DNS-01 (challenge records removed whatever happens), stores
 * the chain with check-and-set and applies the TLS Secret. Returns the certificate in effect.
 * @public
 */
export async function applyAcmeCertificatePlan(
  plan: AcmeCertificatePlan,
  state: AcmeCertificateState,
  input: EnsureAcmeCertificateInput,
  deps: AcmeDeps,
  options: CallOptions = {},
): Promise<StoredCertificate | undefined> {
  const { organization, name, zone } = acmeNames(input);
  const call = options.signal === undefined ? {} : { signal: options.signal };
  const l = layout(deps);
  let accountKeyPem = state.accountKeyPem;
  let current = state.stored;
  await applySteps(
    plan.steps,
    async (step) => {
      if (step.op === 'create-acme-account') {
        const pem = newAccountKeyPem();
        try {
          await writeOwnedSecret(
            deps.secrets,
            secretPaths(l).acmeAccount(),
            { privateKeyPem: pem },
            { ...ACCOUNT_KIND, info: { algorithm: 'ECDSA_P256' } },
            { ...l, ...call, cas: 0 },
          );
          accountKeyPem = pem;
        } catch (error) {
          if (!hasErrorCode(error, 'CONFLICT')) throw error;
          accountKeyPem = (await readAccountKey(deps, call))?.pem;
        }
      } else if (step.op === 'order-acme-certificate') {
        if (accountKeyPem === undefined)
          throw new ZonekeeperError(
            'NOT_FOUND',
            'ACME: the account key disappeared from the secret store; run again.',
            {
              retry: 'transient',
            },
          );
        const issued = await orderCertificate(step, accountKeyPem, state.nameServers, zone, deps, call);
        const { version } = await writeCertificate(deps.secrets, organization, name, issued, {
          ...l,
          ...call,
          cas: state.stored?.version ?? 0,
        });
        current = { ...issued, version };
      } else if (input.target && current) {
        await input.target.cluster.apply(tlsSecret(organization, name, input.target, current), call);
      }
    },
    { ...call, logger: deps.logger ?? noopLogger },
  );
  return current;
}

/**
 * Ensures a publicly trusted certificate for names in the organisation's zone, by ACME DNS-01 through
 * the DNS port: ordered when missing, when the names or the CA changed, and at two thirds of its
 * lifetime; stored in the secret store and — with `target` — injected as a `kubernetes.io/tls` Secret
 * (`tls.crt` = leaf and intermediates, `tls.key`, `ca.crt` = the intermediates). A second run changes
 * nothing.
 * @throws `INVALID_INPUT` for bad names, a name outside `zone.name` (`details.reason: 'outside-zone'`)
 *   or bad settings, before anything is read or sent; `CONFLICT` (`zone-mismatch`) when `zone.id` is
 *   another zone; the CA's problems mapped by {@link acmeProblemError} (`badNonce` → `UNAVAILABLE`,
 *   `rateLimited` → `THROTTLED`, both transient; a failed challenge → `PERMISSION_DENIED`); `TIMEOUT`
 *   when the zone's servers or the CA take too long; `signal.reason` on abort.
 * @public
 */
export async function ensureAcmeCertificate(
  input: EnsureAcmeCertificateInput,
  deps: AcmeDeps,
  options: EnsureOptions = {},
): Promise<EnsureAcmeCertificateResult> {
  acmeNames(input);
  const directoryUrl = validateAcmeSettings(deps.acme);
  const clock = deps.clock ?? systemClock;
  const outcome = await ensure(
    {
      gather: (call) => gatherAcmeCertificate(input, deps, call),
      plan: (state) => planAcmeCertificate(state, input, directoryUrl, clock.now()),
      apply: (plan, state, call) =>
        applyAcmeCertificatePlan(plan, state, input, { ...deps, acme: { ...deps.acme, directoryUrl } }, call),
    },
    options,
  );
  const current = outcome.dryRun ? outcome.state.stored : outcome.applied;
  const { renewal } = outcome.plan;
  const kept = renewal !== undefined && current?.serialNumber === outcome.state.stored?.serialNumber;
  return {
    plan: outcome.plan,
    dryRun: outcome.dryRun,
    ...(renewal === undefined ? {} : { renewal }),
    ...(current
      ? {
          certificate: {
            serialNumber: current.serialNumber,
            notBefore: current.notBefore,
            notAfter: current.notAfter,
            renewAt:
              kept && renewal !== undefined
                ? new Date(renewal.renewAt)
                : renewalTime(
                    current,
                    input.renewBeforeFraction === undefined
                      ? {}
                      : { renewBeforeFraction: input.renewBeforeFraction },
                  ),
            dnsNames: current.dnsNames,
            issuer: current.issuer ?? 'organisation-ca',
          },
        }
      : {}),
  };
}

/** RFC 5280 revocation reasons ACME accepts. @public */
export type AcmeRevocationReason = 'unspecified' | 'keyCompromise' | 'superseded' | 'cessationOfOperation';

const REASON_CODES: Readonly<Record<AcmeRevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  superseded: 4,
  cessationOfOperation: 5,
};

/** Input of {@link revokeAcmeCertificate}. @public */
export interface RevokeAcmeCertificateInput {
  readonly organization: string;
  readonly name: string;
  /** Default `unspecified`. */
  readonly reason?: AcmeRevocationReason;
}

/** Result of {@link revokeAcmeCertificate}. @public */
export interface RevokeAcmeCertificateResult {
  /** `revoked` now, `already-revoked` by an earlier call, or `none` stored under the name. */
  readonly outcome: 'revoked' | 'already-revoked' | 'none';
  readonly serialNumber?: string;
}

/**
 * Revokes the stored ACME certificate with the platform's account key, then deletes it from the store
 * so that the next {@link ensureAcmeCertificate} orders a new one (reason `missing`) and replaces the
 * Secret. Idempotent: a certificate the CA already revoked counts as revoked.
 * @throws `INVALID_INPUT` for a certificate the organisation's CA issued (revoke it by replacing the
 *   CA's trust instead) or bad settings; the CA's problems as in {@link ensureAcmeCertificate}.
 * @public
 */
export async function revokeAcmeCertificate(
  input: RevokeAcmeCertificateInput,
  deps: Omit<AcmeDeps, 'dns'>,
  options: CallOptions = {},
): Promise<RevokeAcmeCertificateResult> {
  const organization = validateOrganizationName(input.organization);
  const name = validateDnsLabel(input.name, 'Certificate name');
  const directoryUrl = validateAcmeSettings(deps.acme);
  const reason = input.reason ?? 'unspecified';
  if (!(reason in REASON_CODES))
    throw invalidInput(
      `ACME revocation reason ${JSON.stringify(reason)} is not one of ${Object.keys(REASON_CODES).join(', ')}.`,
    );
  const call = options.signal === undefined ? {} : { signal: options.signal };
  const l = layout(deps);
  const stored = await readCertificate(deps.secrets, organization, name, { ...l, ...call });
  if (!stored) return { outcome: 'none' };
  if (stored.issuer === undefined || !stored.issuer.startsWith('acme:'))
    throw invalidInput(
      `Certificate ${name} of ${organization} was issued by the organisation's CA, not by ACME.`,
      {
        issuer: 'organisation-ca',
      },
    );
  if (stored.issuer !== acmeIssuer(directoryUrl))
    throw invalidInput(
      `Certificate ${name} of ${organization} was issued by ${stored.issuer}, not by ${directoryUrl}.`,
    );
  const account = await readAccountKey(deps, call);
  if (!account)
    throw new ZonekeeperError(
      'NOT_FOUND',
      "ACME: the platform's account key is not in the secret store; cannot revoke.",
    );
  const settings = deps.acme;
  const what = `revoking ${name} (${stored.serialNumber})`;
  const outcome = await inAcmeScope(
    {
      ...call,
      timeoutMs: settings.requestTimeoutMs ?? 30_000,
      ...(settings.caCertificates === undefined ? {} : { agent: pinnedAgent(settings.caCertificates) }),
    },
    async (scope): Promise<'revoked' | 'already-revoked'> => {
      const client = await acmeClient(directoryUrl, account.pem);
      try {
        await useAccount(client, scope, settings, { existingOnly: true });
        await client.revokeCertificate(stored.certificatePem, { reason: REASON_CODES[reason] });
        return 'revoked';
      } catch (error) {
        if (scope.lastProblem?.type === 'urn:ietf:params:acme:error:alreadyRevoked') return 'already-revoked';
        throw translate(error, scope, what, options.signal);
      }
    },
  );
  await deps.secrets.deleteAll(secretPaths(l).certificate(organization, name), call);
  return { outcome, serialNumber: stored.serialNumber };
}
