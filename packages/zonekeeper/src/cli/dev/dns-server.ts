/**
 * The local backend's DNS server: answers over UDP and TCP on one port of 127.0.0.1 for every zone a
 * {@link DnsProvider} hosts (moto's Route 53, in `dev up`), the way the provider's name servers would,
 * so `dig @127.0.0.1 -p <port> web.acme.example.com` shows what ExternalDNS published.
 *
 * Gather → answer → encode: the zones and their records are read through the port (at most once a
 * second, one read at a time, shared by the questions that wait for it), {@link answerQuestion} decides
 * the answer, and `dns-packet` encodes it. A read that fails answers `SERVFAIL`; a malformed query is
 * dropped (UDP) or closes the connection (TCP). It never recurses.
 *
 * @internal
 * @packageDocumentation
 */

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { DnsProvider, RecordPage, RecordSet } from '@zonekeeper/zone-manager';
import {
  type Answer,
  AUTHORITATIVE_ANSWER,
  type DecodedPacket,
  decode,
  encode,
  RECURSION_DESIRED,
} from 'dns-packet';
import { answerQuestion, type DevDnsRecord, type DevDnsZone } from './dns-answer.js';

/** Options of {@link startDevDnsServer}. */
export interface DevDnsServerOptions {
  /** Where the zones are read. */
  readonly dns: DnsProvider;
  /** UDP and TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  readonly port?: number;
  /** How long one read of the zones is reused (default 1,000 ms). */
  readonly cacheMs?: number;
}

/** A running server. */
export interface DevDnsServer {
  readonly port: number;
  stop(): Promise<void>;
}

const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** Reads every zone with all its record sets. */
async function readZones(dns: DnsProvider): Promise<DevDnsZone[]> {
  const zones = (await dns.listZones()).filter((z) => !z.privateZone);
  return Promise.all(
    zones.map(async (zone) => {
      const records: RecordSet[] = [];
      let from: RecordPage['next'];
      for (;;) {
        const page = await dns.listRecords(zone.id, from === undefined ? {} : { from });
        records.push(...page.recordSets);
        if (page.next === undefined) break;
        from = page.next;
      }
      return { name: zone.name, records };
    }),
  );
}

/** Splits a TXT value as Route 53 presents it (`"a" "b"`, with `\"` escapes) into its strings. */
function txtStrings(value: string): string[] {
  const strings: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = pattern.exec(value); m !== null; m = pattern.exec(value))
    strings.push((m[1] ?? '').replace(/\\(.)/g, '$1'));
  return strings.length > 0 ? strings : [value];
}

const bare = (name: string) => name.replace(/\.$/, '');

/** One record in dns-packet's form, or `undefined` for a type this server does not encode. */
function wireRecord(r: DevDnsRecord): Answer | undefined {
  const base = { name: r.name, ttl: r.ttl, class: 'IN' as const };
  const fields = r.value.trim().split(/\s+/);
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return { ...base, type: r.type, data: r.value.trim() };
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return { ...base, type: r.type, data: bare(r.value.trim()) };
    case 'TXT':
      return { ...base, type: 'TXT', data: txtStrings(r.value) };
    case 'MX':
      return {
        ...base,
        type: 'MX',
        data: { preference: Number(fields[0]), exchange: bare(fields[1] ?? '') },
      };
    case 'SRV':
      return {
        ...base,
        type: 'SRV',
        data: {
          priority: Number(fields[0]),
          weight: Number(fields[1]),
          port: Number(fields[2]),
          target: bare(fields[3] ?? ''),
        },
      };
    case 'SOA':
      return {
        ...base,
        type: 'SOA',
        data: {
          mname: bare(fields[0] ?? ''),
          rname: bare(fields[1] ?? ''),
          serial: Number(fields[2]),
          refresh: Number(fields[3]),
          retry: Number(fields[4]),
          expire: Number(fields[5]),
          minimum: Number(fields[6]),
        },
      };
    case 'CAA': {
      const tag = fields[1] as 'issue' | 'issuewild' | 'iodef';
      return {
        ...base,
        type: 'CAA',
        data: { flags: Number(fields[0]), tag, value: txtStrings(fields.slice(2).join(' ')).join('') },
      };
    }
    default:
      return undefined;
  }
}

/** Starts the server; see the module notes. */
export async function startDevDnsServer(options: DevDnsServerOptions): Promise<DevDnsServer> {
  const cacheMs = options.cacheMs ?? 1_000;
  let cached: { at: number; zones: Promise<DevDnsZone[]> } | undefined;
  const zones = (): Promise<DevDnsZone[]> => {
    if (cached === undefined || Date.now() - cached.at > cacheMs) {
      const read = readZones(options.dns);
      cached = { at: Date.now(), zones: read };
      read.catch(() => {
        if (cached?.zones === read) cached = undefined;
      });
    }
    return cached.zones;
  };

  const respond = async (query: DecodedPacket): Promise<Buffer> => {
    const question = query.questions?.[0];
    const rd = query.flag_rd ? RECURSION_DESIRED : 0;
    const reply = (flags: number, rest: Partial<DecodedPacket> = {}) =>
      encode({ type: 'response', id: query.id ?? 0, flags, questions: query.questions ?? [], ...rest });
    if (question === undefined) return reply(rd | RCODES.REFUSED);
    let hosted: DevDnsZone[];
    try {
      hosted = await zones();
    } catch {
      return reply(rd | RCODES.SERVFAIL);
    }
    const answer = answerQuestion(hosted, { name: question.name, type: String(question.type) });
    const wire = (records: readonly DevDnsRecord[]) =>
      records.map(wireRecord).filter((a): a is Answer => a !== undefined);
    return reply((answer.authoritative ? AUTHORITATIVE_ANSWER : 0) | rd | RCODES[answer.rcode], {
      answers: wire(answer.answers),
      authorities: wire(answer.authorities),
    });
  };

  const udpSocket = (): UdpSocket => {
    const udp = createSocket('udp4');
    udp.on('message', (message, peer) => {
      let query: DecodedPacket;
      try {
        query = decode(message);
      } catch {
        return;
      }
      void respond(query).then((response) => udp.send(response, peer.port, peer.address));
    });
    return udp;
  };

  const connections = new Set<Socket>();
  const tcpServer = (): Server =>
    createServer((socket) => {
      connections.add(socket);
      socket.on('close', () => connections.delete(socket));
      socket.on('error', () => socket.destroy());
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const length = buffered.readUInt16BE(0);
          if (buffered.length < 2 + length) return;
          const message = buffered.subarray(2, 2 + length);
          buffered = buffered.subarray(2 + length);
          let query: DecodedPacket;
          try {
            query = decode(message);
          } catch {
            socket.destroy();
            return;
          }
          void respond(query).then((response) => {
            const framed = Buffer.alloc(2 + response.length);
            framed.writeUInt16BE(response.length, 0);
            response.copy(framed, 2);
            socket.write(framed);
          });
        }
      });
    });

  // UDP picks the port; TCP must get the same one, which another process may hold: then try again.
  const { udp, tcp, port } = await (async () => {
    for (let attempt = 0; ; attempt++) {
      const udp = udpSocket();
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(options.port ?? 0, '127.0.0.1', () => {
          udp.off('error', reject);
          resolve();
        });
      });
      const port = udp.address().port;
      const tcp = tcpServer();
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, '127.0.0.1', () => {
            tcp.off('error', reject);
            resolve();
          });
        });
        return { udp, tcp, port };
      } catch (error) {
        udp.close();
        const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (!inUse || (options.port ?? 0) !== 0 || attempt >= 20) throw error;
      }
    }
  })();

  return {
    port,
    stop: async () => {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}
