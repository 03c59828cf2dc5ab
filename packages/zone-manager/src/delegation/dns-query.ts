/**
 * One DNS question to one server over the wire (`dns-packet`), bounded and cancellable: UDP with EDNS
 * (1232 bytes), TCP when the answer is truncated, no recursion asked, the answer matched to the
 * question by id, name and type (anything else on the socket is ignored).
 *
 * @packageDocumentation
 */

import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { type Answer, type DecodedPacket, decode, encode, streamEncode } from 'dns-packet';

/** A DNS server: an IP address and a port (default 53). @public */
export interface DnsServerAddress {
  readonly address: string;
  readonly port?: number;
}

/** A resource record as {@link queryDns} returns it: names canonical (lowercase, no trailing dot). @internal */
export interface WireRecord {
  readonly name: string;
  readonly type: string;
  /**
   * NS/CNAME targets canonical; A/AAAA addresses; SOA `{ mname, serial }`; TXT its character-strings
   * concatenated (RFC 7208 §3.3); other types as text.
   */
  readonly data: string | { readonly mname: string; readonly serial: number };
}

/** The parts of a response verifyDelegation needs. @internal */
export interface WireResponse {
  readonly rcode: string;
  readonly authoritative: boolean;
  readonly answers: readonly WireRecord[];
  readonly authorities: readonly WireRecord[];
  readonly additionals: readonly WireRecord[];
}

/** Why a query got no response. @internal */
export class DnsQueryTimeout extends Error {
  override readonly name = 'DnsQueryTimeout' as const;
}

const canonical = (n: string) => n.replace(/\.$/, '').toLowerCase();

function toRecord(a: Answer): WireRecord | undefined {
  const type = a.type;
  if (type === 'OPT') return undefined;
  const data = (a as { data?: unknown }).data;
  if (type === 'SOA' && typeof data === 'object' && data !== null) {
    const soa = data as { mname?: string; serial?: number };
    return {
      name: canonical(a.name),
      type,
      data: { mname: canonical(soa.mname ?? ''), serial: soa.serial ?? 0 },
    };
  }
  if (type === 'TXT') {
    const parts = Array.isArray(data) ? data : [data];
    return {
      name: canonical(a.name),
      type,
      data: parts.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join(''),
    };
  }
  if ((type === 'NS' || type === 'CNAME') && typeof data === 'string') {
    return { name: canonical(a.name), type, data: canonical(data) };
  }
  return { name: canonical(a.name), type, data: typeof data === 'string' ? data : JSON.stringify(data) };
}

function toResponse(p: DecodedPacket): WireResponse {
  const list = (l: Answer[] | undefined) =>
    (l ?? []).map(toRecord).filter((r): r is WireRecord => r !== undefined);
  return {
    rcode: (p as { rcode?: string }).rcode ?? 'NOERROR',
    authoritative: p.flag_aa,
    answers: list(p.answers),
    authorities: list(p.authorities),
    additionals: list(p.additionals),
  };
}

function matches(p: DecodedPacket, id: number, name: string, type: string): boolean {
  const q = p.questions?.[0];
  return (
    p.type === 'response' && p.id === id && q !== undefined && canonical(q.name) === name && q.type === type
  );
}

function udp(
  server: DnsServerAddress,
  packet: Buffer,
  check: (p: DecodedPacket) => boolean,
  signal: AbortSignal,
): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(server.address) ? 'udp6' : 'udp4');
    const finish = (fn: () => void) => {
      signal.removeEventListener('abort', onAbort);
      socket.close();
      fn();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    if (signal.aborted) {
      socket.close();
      reject(signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error) => finish(() => reject(error)));
    socket.on('message', (msg) => {
      let p: DecodedPacket;
      try {
        p = decode(msg);
      } catch {
        return; // Garbage: keep waiting for the real answer.
      }
      if (check(p)) finish(() => resolve(p));
    });
    socket.send(packet, server.port ?? 53, server.address);
  });
}

function tcp(
  server: DnsServerAddress,
  packet: Buffer,
  check: (p: DecodedPacket) => boolean,
  signal: AbortSignal,
): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.address, port: server.port ?? 53 });
    let buffer = Buffer.alloc(0);
    const finish = (fn: () => void) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      fn();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    if (signal.aborted) {
      socket.destroy();
      reject(signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error) => finish(() => reject(error)));
    socket.on('connect', () => socket.write(packet));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2) {
        const length = buffer.readUInt16BE(0);
        if (buffer.length < 2 + length) return;
        const message = buffer.subarray(2, 2 + length);
        buffer = buffer.subarray(2 + length);
        try {
          const p = decode(message);
          if (check(p)) {
            finish(() => resolve(p));
            return;
          }
        } catch {
          // Ignore and keep reading.
        }
      }
    });
    socket.on('end', () => finish(() => reject(new Error('connection closed before an answer'))));
  });
}

/**
 * Asks `server` for `name`/`type` without recursion. Each attempt has `timeoutMs`; `attempts` UDP
 * tries, then TCP when the answer is truncated. Rejects with {@link DnsQueryTimeout} when no attempt
 * was answered, with `signal.reason` on abort, or with the socket error (e.g. `ECONNREFUSED` on TCP).
 * @internal
 */
export async function queryDns(
  server: DnsServerAddress,
  question: { readonly name: string; readonly type: 'NS' | 'SOA' | 'A' | 'AAAA' | 'TXT' },
  options: { readonly timeoutMs: number; readonly attempts: number; readonly signal?: AbortSignal },
): Promise<WireResponse> {
  const name = canonical(question.name);
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    options.signal?.throwIfAborted();
    const id = randomInt(0, 65_536);
    const query = {
      type: 'query' as const,
      id,
      flags: 0,
      questions: [{ type: question.type, name, class: 'IN' as const }],
      additionals: [{ type: 'OPT' as const, name: '.', udpPayloadSize: 1232 }],
    };
    const check = (p: DecodedPacket) => matches(p, id, name, question.type);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    try {
      const answer = await udp(server, encode(query as never), check, signal);
      if (!answer.flag_tc) return toResponse(answer);
      return toResponse(await tcp(server, streamEncode(query as never), check, signal));
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (!timeout.aborted) throw error;
    }
  }
  throw new DnsQueryTimeout(
    `no answer from ${server.address}:${server.port ?? 53} for ${name} ${question.type} (${options.attempts} × ${options.timeoutMs} ms)`,
  );
}
