/**
 * The TCP front of the Vault fake. Node's HTTP parser (llhttp) rejects methods it does not know, and
 * Vault's `LIST` is one of them, so clients connect to this `net.Server` instead: it follows the HTTP/1.1
 * request stream of each connection (request heads, `Content-Length` and chunked bodies), rewrites every
 * `LIST` request line to `GET` with a marker header carrying a per-server secret, and forwards the bytes
 * to the real `node:http` server over loopback. Responses flow back untouched.
 *
 * Because each request on a kept-alive connection is rewritten, clients may reuse connections (Node's
 * default agent does) and still send `LIST`.
 *
 * @packageDocumentation
 */

import { connect, createServer, type Server, type Socket } from 'node:net';

/** Longest request head (request line plus headers) the rewriter buffers before giving up. */
const maxHeadBytes = 64 * 1024;
/** Longest chunk-size or trailer line the rewriter buffers before giving up. */
const maxLineBytes = 8 * 1024;

type State =
  | { readonly kind: 'head' }
  | { readonly kind: 'fixed'; remaining: number }
  | { readonly kind: 'chunk-size' }
  | { readonly kind: 'chunk-data'; remaining: number }
  | { readonly kind: 'trailer' }
  | { readonly kind: 'passthrough' };

/**
 * Follows one connection's request stream and rewrites `LIST` request lines. Feed it the bytes as they
 * arrive with {@link ListRewriter.push}; it returns the bytes to forward. Anything it cannot follow
 * (an oversized head, an upgrade, a malformed length) switches it to pass-through, so the HTTP server
 * behind it answers the malformed request itself.
 */
export class ListRewriter {
  private state: State = { kind: 'head' };
  private pending: Buffer = Buffer.alloc(0);

  /** @param markerHeader - the full header line added to rewritten requests, without CRLF. */
  constructor(private readonly markerHeader: string) {}

  /** Consumes `chunk` and returns what to forward (possibly empty). */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let input = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (input.length > 0) {
      const state = this.state;
      switch (state.kind) {
        case 'passthrough':
          out.push(input);
          input = Buffer.alloc(0);
          break;
        case 'fixed':
        case 'chunk-data': {
          const take = Math.min(state.remaining, input.length);
          out.push(input.subarray(0, take));
          input = input.subarray(take);
          state.remaining -= take;
          if (state.remaining === 0) {
            // after a chunk's data comes its CRLF (an empty line), then the next size line
            this.state = state.kind === 'fixed' ? { kind: 'head' } : { kind: 'chunk-size' };
          }
          break;
        }
        case 'chunk-size':
        case 'trailer': {
          const newline = input.indexOf(0x0a);
          if (newline < 0) {
            if (input.length > maxLineBytes) this.state = { kind: 'passthrough' };
            else {
              this.pending = input;
              input = Buffer.alloc(0);
            }
            break;
          }
          const line = input.subarray(0, newline + 1);
          out.push(line);
          input = input.subarray(newline + 1);
          const text = line.toString('latin1').trim();
          if (state.kind === 'trailer') {
            if (text === '') this.state = { kind: 'head' };
          } else if (text === '') {
            // the CRLF that ends a chunk's data: stay here and read the next size line
          } else {
            const size = Number.parseInt(text.split(';')[0] ?? '', 16);
            if (!/^[0-9a-fA-F]+$/.test((text.split(';')[0] ?? '').trim()) || !Number.isSafeInteger(size)) {
              this.state = { kind: 'passthrough' };
            } else if (size === 0) {
              this.state = { kind: 'trailer' };
            } else {
              this.state = { kind: 'chunk-data', remaining: size };
            }
          }
          break;
        }
        case 'head': {
          // Empty lines before a request line are allowed (RFC 9112 §2.2); forward them as they are.
          let skip = 0;
          while (skip < input.length && (input[skip] === 0x0d || input[skip] === 0x0a)) skip++;
          if (skip > 0) {
            out.push(input.subarray(0, skip));
            input = input.subarray(skip);
            if (input.length === 0) break;
          }
          const blank = /\r?\n\r?\n/.exec(input.toString('latin1'));
          if (blank === null) {
            if (input.length > maxHeadBytes) this.state = { kind: 'passthrough' };
            else {
              this.pending = input;
              input = Buffer.alloc(0);
            }
            break;
          }
          const end = blank.index + blank[0].length;
          const head = input.subarray(0, end);
          input = input.subarray(end);
          out.push(this.rewriteHead(head));
          break;
        }
      }
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  /** Rewrites one request head and sets the state for its body. */
  private rewriteHead(head: Buffer): Buffer {
    const lines = head
      .toString('latin1')
      .replace(/\r?\n\r?\n$/, '')
      .split(/\r?\n/);
    const requestLine = lines[0] ?? '';
    const method = requestLine.slice(0, requestLine.indexOf(' '));
    let contentLength: number | undefined;
    let chunked = false;
    let upgrade = false;
    let malformed = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== Number(value)))
          malformed = true;
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = /(^|,)\s*chunked\s*$/i.test(value);
        if (!chunked) malformed = true;
      } else if (name === 'upgrade') {
        upgrade = true;
      }
    }
    if (malformed || upgrade || method === 'CONNECT' || !Number.isSafeInteger(contentLength ?? 0)) {
      this.state = { kind: 'passthrough' };
    } else if (chunked) {
      this.state = { kind: 'chunk-size' };
    } else if (contentLength !== undefined && contentLength > 0) {
      this.state = { kind: 'fixed', remaining: contentLength };
    } else {
      this.state = { kind: 'head' };
    }
    if (method !== 'LIST') return head;
    const rewritten = [`GET${requestLine.slice(method.length)}`, this.markerHeader, ...lines.slice(1)];
    return Buffer.from(`${rewritten.join('\r\n')}\r\n\r\n`, 'latin1');
  }
}

/** A running front: the port clients use, and how to stop it. */
export interface ListFront {
  readonly server: Server;
  readonly port: number;
  /** Closes the listener and destroys every client and upstream connection. */
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (free port) and forwards every connection to `upstreamPort` on 127.0.0.1 through
 * a {@link ListRewriter}.
 */
export function startListFront(upstreamPort: number, markerHeader: string): Promise<ListFront> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    const rewriter = new ListRewriter(markerHeader);
    client.on('data', (chunk: Buffer) => {
      const out = rewriter.push(chunk);
      if (out.length > 0 && !upstream.write(out)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', destroyBoth);
    upstream.on('error', destroyBoth);
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!client.writableEnded) client.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        server,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
            sockets.clear();
          }),
      });
    });
  });
}
