/**
 * The endpoints Vault answers without a token: `sys/health` (status codes per state and query),
 * `sys/seal-status`, `sys/init` and `sys/unseal`.
 * @internal
 */

import { errorBody, type Reply, type VaultState } from './state.js';
import { fieldBool, type JsonObject, parseGoBool } from './wire.js';

/** The unauthenticated endpoints of one fake. */
export function createHealth(s: VaultState) {
  const { clock, vaultVersion, clusterName, clusterId, unsealKey } = s;

  function healthReply(query: URLSearchParams, head: boolean): Reply {
    const codes: Record<string, number> = {
      activecode: 200,
      standbycode: 429,
      drsecondarycode: 472,
      performancestandbycode: 473,
      sealedcode: 503,
      uninitcode: 501,
    };
    for (const name of Object.keys(codes)) {
      const text = query.get(name);
      if (text === null) continue;
      const code = Number.parseInt(text, 10);
      if (!/^\d+$/.test(text) || code < 1) return { status: 400, body: errorBody([]) };
      codes[name] = code;
    }
    let standbyOk = false;
    const standbyText = query.get('standbyok');
    if (standbyText !== null) {
      const parsed = standbyText === '' ? true : parseGoBool(standbyText);
      if (parsed === undefined) {
        return { status: 400, body: errorBody([`bad value for standbyok parameter: invalid syntax`]) };
      }
      standbyOk = parsed;
    }
    let status = codes.activecode ?? 200;
    if (s.sealed) status = codes.sealedcode ?? 503;
    else if (s.standby && !standbyOk) status = codes.standbycode ?? 429;
    const body: JsonObject = {
      initialized: true,
      sealed: s.sealed,
      standby: s.sealed || s.standby,
      performance_standby: false,
      replication_performance_mode: s.sealed ? 'unknown' : 'disabled',
      replication_dr_mode: s.sealed ? 'unknown' : 'disabled',
      server_time_utc: Math.floor(clock.now().getTime() / 1000),
      version: vaultVersion,
      enterprise: false,
      ...(s.sealed ? {} : { cluster_name: clusterName, cluster_id: clusterId }),
      echo_duration_ms: 0,
      clock_skew_ms: 0,
      replication_primary_canary_age_ms: 0,
      removed_from_cluster: false,
    };
    return head ? { status } : { status, body };
  }

  function sealStatus(): JsonObject {
    return {
      type: 'shamir',
      initialized: true,
      sealed: s.sealed,
      t: 1,
      n: 1,
      progress: 0,
      nonce: '',
      version: vaultVersion,
      build_date: '2025-01-01T00:00:00Z',
      migration: false,
      ...(s.sealed ? {} : { cluster_name: clusterName, cluster_id: clusterId }),
      recovery_seal: false,
      storage_type: 'inmem',
      removed_from_cluster: false,
    };
  }

  function unauthenticated(
    method: string,
    path: string,
    query: URLSearchParams,
    body: JsonObject | null,
  ): Reply | undefined {
    switch (path) {
      case 'sys/health':
        if (method === 'GET' || method === 'HEAD') return healthReply(query, method === 'HEAD');
        return { status: 405, body: errorBody([]) };
      case 'sys/seal-status':
        if (method === 'GET') return { status: 200, body: sealStatus() };
        return { status: 405, body: errorBody([]) };
      case 'sys/init':
        if (method === 'GET') return { status: 200, body: { initialized: true } };
        return { status: 400, body: errorBody(['Vault is already initialized']) };
      case 'sys/unseal': {
        if (method !== 'PUT' && method !== 'POST') return { status: 405, body: errorBody([]) };
        if (fieldBool(body?.reset ?? null) === true) return { status: 200, body: sealStatus() };
        const key = body?.key;
        if (typeof key !== 'string' || key === '') {
          return {
            status: 400,
            body: errorBody(["'key' must be specified in request body as JSON, or 'reset' set to true"]),
          };
        }
        if (key !== unsealKey) return { status: 400, body: errorBody(['Unseal failed, invalid key']) };
        s.sealed = false;
        return { status: 200, body: sealStatus() };
      }
      default:
        return undefined;
    }
  }

  return { healthReply, unauthenticated };
}

/** What {@link createHealth} returns. */
export type Health = ReturnType<typeof createHealth>;
