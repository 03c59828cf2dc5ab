/**
 * PowerDNS TSIG keys as core's `CredentialIssuer`, the key capability of the identity port: the
 * principal is a zone, its keys are the keys under its two names ({@link tsigKeyNamesForZone}), so a
 * zone holds at most two, as an IAM user holds at most two access keys. Issuing a key does not allow
 * it to update anything: that is the zone's `TSIG-ALLOW-DNSUPDATE` (the permission, as an IAM policy
 * is), which `ensureOrganizationTsigKey` and the rotation set.
 *
 * A key under any other name is never listed, created or deleted: another organisation's, an
 * operator's.
 *
 * @packageDocumentation
 */

import { randomBytes } from 'node:crypto';
import {
  type CallOptions,
  type CredentialIssuer,
  normalizeDomainName,
  signalOnly,
  ZonekeeperError,
} from '@zonekeeper/core';
import { type PowerDnsAdmin, type TsigAlgorithm, tsigKeyNamesForZone } from './tsig.js';
import { SECRET_BYTES } from './tsig-identity.js';

/** Options of {@link createTsigCredentialIssuer}. @public */
export interface TsigCredentialIssuerOptions {
  /** The algorithm of new keys. Default `hmac-sha256`. */
  readonly algorithm?: Exclude<TsigAlgorithm, 'hmac-md5'>;
}

/**
 * Creates the TSIG credential issuer over a PowerDNS administration client. The secret is generated
 * here (as `ensureOrganizationTsigKey` does) and given to the server; it is only in `createKey`'s result.
 * @public
 */
export function createTsigCredentialIssuer(
  admin: PowerDnsAdmin,
  options: TsigCredentialIssuerOptions = {},
): CredentialIssuer {
  const algorithm = options.algorithm ?? 'hmac-sha256';
  /** The zone's two key names, after checking the zone exists (`NOT_FOUND`). */
  const namesOf = async (principal: string, call: CallOptions) => {
    const zoneName = normalizeDomainName(principal, 'Zone name');
    call.signal?.throwIfAborted();
    await admin.getZoneUpdateKeys(zoneName, call); // NOT_FOUND when the zone does not exist
    return tsigKeyNamesForZone(zoneName);
  };
  const present = async (names: readonly string[], call: CallOptions) => {
    const out: string[] = [];
    for (const n of names) if ((await admin.getTsigKey(n, call)) !== undefined) out.push(n);
    return out.sort();
  };
  return {
    kind: 'powerdns-tsig',
    keysPerPrincipal: 2,
    async listKeys(principal, o) {
      const call = signalOnly(o);
      return present(await namesOf(principal, call), call);
    },
    async createKey(principal, o) {
      const call = signalOnly(o);
      const names = await namesOf(principal, call);
      const taken = await present(names, call);
      const free = names.find((n) => !taken.includes(n));
      if (free === undefined)
        throw new ZonekeeperError(
          'CONFLICT',
          `PowerDNS: zone ${principal} already has its two TSIG keys (${names.join(', ')}); delete one first.`,
          { details: { keyNames: [...names] } },
        );
      const secret = randomBytes(SECRET_BYTES[algorithm] ?? 32).toString('base64');
      const key = await admin.createTsigKey({ name: free, algorithm, secret }, call);
      return { principal, keyId: key.name, secret: key.secret };
    },
    async deleteKey(principal, keyId, o) {
      const call = signalOnly(o);
      const names: readonly string[] = await namesOf(principal, call);
      const name = normalizeDomainName(keyId, 'TSIG key name');
      if (!names.includes(name) || (await admin.getTsigKey(name, call)) === undefined)
        throw new ZonekeeperError('NOT_FOUND', `PowerDNS: zone ${principal} has no TSIG key ${name}.`, {
          details: { keyName: name },
        });
      await admin.deleteTsigKey(name, call);
    },
  };
}
