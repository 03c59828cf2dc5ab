/**
 * TSIG and RFC 2136 administration of a PowerDNS server: TSIG keys (`/servers/{id}/tsigkeys`), the
 * per-zone update metadata (`TSIG-ALLOW-DNSUPDATE`, `ALLOW-DNSUPDATE-FROM`), and a Lua update policy
 * (`lua-dnsupdate-policy-script`) that restricts what a key may change.
 *
 * ```
 *  what PowerDNS 4.7 can restrict                 how
 *  which key may update a zone                    TSIG-ALLOW-DNSUPDATE (wrong key: REFUSED)
 *  from which networks                            ALLOW-DNSUPDATE-FROM, allow-dnsupdate-from
 *  record types, apex NS/SOA, key↔zone binding     only a Lua policy script (which then replaces
 *                                                  both metadata checks: it must bind keys itself)
 *  record names per key (per cluster)             not expressible without per-key data in the script
 *  reads (queries) of other zones' records        never: DNS answers anyone; AXFR must be disabled
 * ```
 *
 * These are primitives: creating an organisation's key, storing it and wiring it to ExternalDNS is the
 * identity port's job.
 *
 * @packageDocumentation
 */

import {
  type CallOptions,
  hasErrorCode,
  invalidInput,
  normalizeDomainName,
  ZonekeeperError,
} from '@zonekeeper/core';
import { canonicalRecordName } from '../names.js';
import type { PowerDnsApi } from './client.js';
import { translatePowerDnsError } from './errors.js';

/** The TSIG algorithms PowerDNS accepts. @public */
export const TSIG_ALGORITHMS = [
  'hmac-md5',
  'hmac-sha1',
  'hmac-sha224',
  'hmac-sha256',
  'hmac-sha384',
  'hmac-sha512',
] as const;

/** One of {@link TSIG_ALGORITHMS}. @public */
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

/** A TSIG key without its secret. @public */
export interface TsigKeyInfo {
  /** Canonical key name, no trailing dot, e.g. `zonekeeper-update.acme.example.com`. */
  readonly name: string;
  readonly algorithm: string;
}

/** A TSIG key with its secret (base64). The secret must be stored (Vault) and never logged. @public */
export interface TsigKey extends TsigKeyInfo {
  readonly secret: string;
}

/** The first label of the key names {@link tsigKeyNameForZone} gives. @public */
export const DEFAULT_TSIG_KEY_LABEL = 'zonekeeper-update';

/**
 * The name zonekeeper gives the update key of `zoneName`: `<label>.<zone>`. The Lua policy of
 * {@link renderDnsUpdatePolicy} binds keys to zones by this name.
 * @public
 */
export function tsigKeyNameForZone(zoneName: string, label: string = DEFAULT_TSIG_KEY_LABEL): string {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(label))
    throw invalidInput(`TSIG key label ${JSON.stringify(label)} must be one DNS label.`);
  return `${label}.${normalizeDomainName(zoneName, 'Zone name')}`;
}

/**
 * The suffix of the second key label: an organisation's key alternates between `<label>.<zone>` and
 * `<label>-b.<zone>` at every rotation, because PowerDNS cannot hold two keys of one name and the old
 * key must keep working until every cluster runs the new one.
 * @public
 */
export const ROTATED_TSIG_KEY_SUFFIX = '-b';

/**
 * The two names an organisation's update key may have, `[<label>.<zone>, <label>-b.<zone>]`: the first
 * is the name of a first key, and each rotation moves to the other one. No other zone's key can have
 * either name (the first label is never a zone's).
 * @public
 */
export function tsigKeyNamesForZone(
  zoneName: string,
  label: string = DEFAULT_TSIG_KEY_LABEL,
): readonly [string, string] {
  return [
    tsigKeyNameForZone(zoneName, label),
    tsigKeyNameForZone(zoneName, `${label}${ROTATED_TSIG_KEY_SUFFIX}`),
  ];
}

/** The administration client of {@link createPowerDnsAdmin}. @public */
export interface PowerDnsAdmin {
  /**
   * Creates a key; the server generates the secret unless `secret` (base64) gives it. `ALREADY_EXISTS`
   * when the name is taken.
   */
  createTsigKey(
    spec: { readonly name: string; readonly algorithm?: TsigAlgorithm; readonly secret?: string },
    options?: CallOptions,
  ): Promise<TsigKey>;
  /** Every key on the server, without secrets. */
  listTsigKeys(options?: CallOptions): Promise<readonly TsigKeyInfo[]>;
  /** One key with its secret; `undefined` when absent. */
  getTsigKey(name: string, options?: CallOptions): Promise<TsigKey | undefined>;
  /** Deletes a key; absent is fine (idempotent). */
  deleteTsigKey(name: string, options?: CallOptions): Promise<void>;
  /** Sets the keys allowed to update `zoneName` (`TSIG-ALLOW-DNSUPDATE`); `[]` removes the metadata. */
  setZoneUpdateKeys(zoneName: string, keyNames: readonly string[], options?: CallOptions): Promise<void>;
  /** The keys allowed to update `zoneName`. */
  getZoneUpdateKeys(zoneName: string, options?: CallOptions): Promise<readonly string[]>;
  /**
   * Sets the keys allowed to transfer `zoneName` by AXFR (`TSIG-ALLOW-AXFR`); `[]` removes the metadata.
   * The server must also have `disable-axfr=no`.
   */
  setZoneTransferKeys(zoneName: string, keyNames: readonly string[], options?: CallOptions): Promise<void>;
  /** The keys allowed to transfer `zoneName`. */
  getZoneTransferKeys(zoneName: string, options?: CallOptions): Promise<readonly string[]>;
  /** Sets the networks allowed to update `zoneName` (`ALLOW-DNSUPDATE-FROM`); `[]` removes it. */
  setZoneUpdateSources(zoneName: string, networks: readonly string[], options?: CallOptions): Promise<void>;
  /** The networks allowed to update `zoneName`. */
  getZoneUpdateSources(zoneName: string, options?: CallOptions): Promise<readonly string[]>;
}

const CIDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?|[0-9a-fA-F:]+(?:\/\d{1,3})?)$/;

function keyName(input: string): string {
  return normalizeDomainName(input, 'TSIG key name');
}

async function guarded<T>(
  run: (o: CallOptions) => Promise<T>,
  operation: string,
  subject: string,
  options: CallOptions | undefined,
): Promise<T> {
  const signal = options?.signal;
  signal?.throwIfAborted();
  try {
    return await run(signal === undefined ? {} : { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw translatePowerDnsError(error, { operation, subject });
  }
}

/**
 * Creates the TSIG / update-metadata administration client over a {@link PowerDnsApi} (the same one a
 * PowerDNS provider uses: `provider.api`). Zones are addressed by name.
 *
 * @example
 * ```ts
 * const admin = createPowerDnsAdmin(dns.api);
 * const key = await admin.createTsigKey({ name: tsigKeyNameForZone('acme.example.com') });
 * await admin.setZoneUpdateKeys('acme.example.com', [key.name]);
 * await admin.setZoneUpdateSources('acme.example.com', ['0.0.0.0/0', '::/0']);
 * ```
 * @public
 */
export function createPowerDnsAdmin(api: PowerDnsApi): PowerDnsAdmin {
  const zonePath = (zoneName: string) => `${normalizeDomainName(zoneName, 'Zone name')}.`;
  const setMeta = async (zoneName: string, kind: string, values: readonly string[], o?: CallOptions) => {
    const zone = zonePath(zoneName);
    await guarded(
      (c) =>
        values.length === 0 ? api.deleteMetadata(zone, kind, c) : api.putMetadata(zone, kind, values, c),
      'PutMetadata',
      `zone ${zone} ${kind}`,
      o,
    );
  };
  const getMeta = (zoneName: string, kind: string, o?: CallOptions) => {
    const zone = zonePath(zoneName);
    return guarded((c) => api.getMetadata(zone, kind, c), 'GetMetadata', `zone ${zone} ${kind}`, o);
  };
  return {
    async createTsigKey(spec, o) {
      const name = keyName(spec.name);
      const algorithm = spec.algorithm ?? 'hmac-sha256';
      if (!(TSIG_ALGORITHMS as readonly string[]).includes(algorithm)) {
        throw invalidInput(
          `TSIG algorithm ${JSON.stringify(algorithm)} is not one of ${TSIG_ALGORITHMS.join(', ')}.`,
        );
      }
      const secret = spec.secret;
      if (secret !== undefined && (typeof secret !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)))
        throw invalidInput('TSIG secret must be a non-empty base64 string (not shown).');
      try {
        const key = await guarded(
          (c) => api.createTsigKey({ name, algorithm, ...(secret === undefined ? {} : { key: secret }) }, c),
          'CreateTsigKey',
          `key ${name}`,
          o,
        );
        return { name: canonicalRecordName(key.name), algorithm: key.algorithm, secret: key.key };
      } catch (error) {
        if (!hasErrorCode(error, 'CONFLICT')) throw error;
        throw new ZonekeeperError(
          'ALREADY_EXISTS',
          `PowerDNS: a TSIG key named ${name} already exists; read it or delete it first.`,
          {
            cause: error,
            details: { name },
          },
        );
      }
    },
    async listTsigKeys(o) {
      const keys = await guarded((c) => api.listTsigKeys(c), 'ListTsigKeys', 'keys', o);
      return keys.map((k) => ({ name: canonicalRecordName(k.name), algorithm: k.algorithm }));
    },
    async getTsigKey(nameInput, o) {
      const name = keyName(nameInput);
      try {
        const key = await guarded((c) => api.getTsigKey(`${name}.`, c), 'GetTsigKey', `key ${name}`, o);
        return { name: canonicalRecordName(key.name), algorithm: key.algorithm, secret: key.key };
      } catch (error) {
        if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
        throw error;
      }
    },
    async deleteTsigKey(nameInput, o) {
      const name = keyName(nameInput);
      try {
        await guarded((c) => api.deleteTsigKey(`${name}.`, c), 'DeleteTsigKey', `key ${name}`, o);
      } catch (error) {
        if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
      }
    },
    async setZoneUpdateKeys(zoneName, keyNames, o) {
      await setMeta(zoneName, 'TSIG-ALLOW-DNSUPDATE', [...new Set(keyNames.map(keyName))].sort(), o);
    },
    async getZoneUpdateKeys(zoneName, o) {
      return (await getMeta(zoneName, 'TSIG-ALLOW-DNSUPDATE', o)).map(canonicalRecordName);
    },
    // TSIG-ALLOW-AXFR is not writable through the metadata API (422): it is the zone's
    // master_tsig_key_ids.
    async setZoneTransferKeys(zoneName, keyNames, o) {
      const zone = zonePath(zoneName);
      const ids = [...new Set(keyNames.map(keyName))].sort().map((k) => `${k}.`);
      await guarded(
        (c) => api.updateZone(zone, { master_tsig_key_ids: ids }, c),
        'UpdateZone',
        `zone ${zone} TSIG-ALLOW-AXFR`,
        o,
      );
    },
    async getZoneTransferKeys(zoneName, o) {
      const zone = zonePath(zoneName);
      const found = await guarded(
        (c) => api.getZone(zone, { rrsetName: zone }, c),
        'GetZone',
        `zone ${zone}`,
        o,
      );
      return [...(found.master_tsig_key_ids ?? [])].map(canonicalRecordName).sort();
    },
    async setZoneUpdateSources(zoneName, networks, o) {
      for (const n of networks) {
        if (typeof n !== 'string' || !CIDR.test(n))
          throw invalidInput(`Network ${JSON.stringify(n)} is not an address or CIDR.`);
      }
      await setMeta(zoneName, 'ALLOW-DNSUPDATE-FROM', [...new Set(networks)], o);
    },
    async getZoneUpdateSources(zoneName, o) {
      return getMeta(zoneName, 'ALLOW-DNSUPDATE-FROM', o);
    },
  };
}

/** Options of {@link renderDnsUpdatePolicy}. @public */
export interface DnsUpdatePolicyOptions {
  /** Record types a key may add or delete (default `A`, `AAAA`, `CNAME`, `TXT`, as the IAM policy). NS and SOA are refused. */
  readonly recordTypes?: readonly string[];
  /** The first label of the update key names (default {@link DEFAULT_TSIG_KEY_LABEL}). */
  readonly keyLabel?: string;
}

/** Types with a `pdns.<TYPE>` constant in PowerDNS 4.7's Lua (a missing one would break the whole script). */
const LUA_TYPES: ReadonlySet<string> = new Set([
  'A',
  'AAAA',
  'CAA',
  'CNAME',
  'DS',
  'MX',
  'NAPTR',
  'PTR',
  'SPF',
  'SRV',
  'TXT',
]);

/**
 * Renders a PowerDNS 4.7 `lua-dnsupdate-policy-script` (pure). An update passes only when it is
 * signed with a key named `<keyLabel>.<zone>` or `<keyLabel>-b.<zone>` (see {@link tsigKeyNamesForZone}) and every record's
 * type is in `recordTypes`; NS, SOA and deletes of every type at a name (`ANY`) never pass, so the
 * apex NS/SOA and delegations stay out of reach.
 *
 * With a policy script PowerDNS ignores `allow-dnsupdate-from`, `ALLOW-DNSUPDATE-FROM` and
 * `TSIG-ALLOW-DNSUPDATE`: the script alone decides. A refusal raises a Lua error, which makes
 * PowerDNS abort the whole update (SERVFAIL, nothing changed); returning `false` would only skip that
 * one record and still answer NOERROR for the rest.
 *
 * @throws ZonekeeperError `INVALID_INPUT` for NS, SOA or an unknown type, or a bad label.
 * @public
 */
export function renderDnsUpdatePolicy(options: DnsUpdatePolicyOptions = {}): string {
  const label = options.keyLabel ?? DEFAULT_TSIG_KEY_LABEL;
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(label))
    throw invalidInput(`TSIG key label ${JSON.stringify(label)} must be one DNS label.`);
  const types = [
    ...new Set((options.recordTypes ?? ['A', 'AAAA', 'CNAME', 'TXT']).map((t) => String(t).toUpperCase())),
  ].sort();
  if (types.length === 0) throw invalidInput('renderDnsUpdatePolicy: give at least one record type.');
  for (const t of types) {
    if (!LUA_TYPES.has(t)) {
      throw invalidInput(
        `renderDnsUpdatePolicy: record type ${JSON.stringify(t)} cannot be allowed; NS and SOA never are, and the known types are ${[...LUA_TYPES].join(', ')}.`,
      );
    }
  }
  return [
    '-- Generated by zonekeeper (renderDnsUpdatePolicy): the RFC 2136 update policy of a PowerDNS 4.7',
    '-- server (lua-dnsupdate-policy-script). PowerDNS calls updatepolicy once per record of an update.',
    `-- A record passes only if the update is signed with the key "${label}.<zone>." or, during and after`,
    `-- a rotation, "${label}${ROTATED_TSIG_KEY_SUFFIX}.<zone>.", and its type is one of: ${types.join(' ')}.`,
    '-- Anything else raises an error, which aborts the whole update (SERVFAIL,',
    '-- nothing changed). This script replaces allow-dnsupdate-from, ALLOW-DNSUPDATE-FROM and',
    '-- TSIG-ALLOW-DNSUPDATE: PowerDNS does not check them when a policy script is configured.',
    'local allowed = {',
    ...types.map((t) => `  [pdns.${t}] = true,`),
    '}',
    `local label = "${label}."`,
    `local rotated = "${label}${ROTATED_TSIG_KEY_SUFFIX}."`,
    '',
    'function updatepolicy(request)',
    '  local zone = request:getZoneName():toString():lower()',
    '  local key = request:getTsigName():toString():lower()',
    '  if key ~= label .. zone and key ~= rotated .. zone then',
    '    error("zonekeeper: refused: an update of " .. zone .. " must be signed with the key " .. label .. zone .. " or " .. rotated .. zone)',
    '  end',
    '  local qtype = request:getQType()',
    '  if not allowed[qtype] then',
    '    error("zonekeeper: refused: record type " .. qtype .. " may not be changed in " .. zone)',
    '  end',
    '  return true',
    'end',
    '',
  ].join('\n');
}
