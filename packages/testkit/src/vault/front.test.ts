/**
 * The request-stream rewriter behind the fake's `LIST` support: every `LIST` request line on a
 * connection becomes `GET` plus the marker header, nothing else changes, wherever the TCP stream is cut.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ListRewriter } from './front.js';

const marker = 'x-test-list-marker: 1';

interface Req {
  readonly method: string;
  readonly target: string;
  readonly headers: readonly string[];
  readonly body: { readonly kind: 'none' } | { readonly kind: 'length'; readonly data: string } | Chunked;
}
interface Chunked {
  readonly kind: 'chunked';
  readonly chunks: readonly string[];
  readonly extensions: boolean;
  readonly trailers: readonly string[];
}

/** Serializes a request; with `rewritten`, as the rewriter must emit it. */
function serialize(req: Req, rewritten: boolean): string {
  const list = rewritten && req.method === 'LIST';
  const lines = [
    `${list ? 'GET' : req.method} ${req.target} HTTP/1.1`,
    ...(list ? [marker] : []),
    ...req.headers,
  ];
  let body = '';
  if (req.body.kind === 'length') {
    lines.push(`Content-Length: ${Buffer.byteLength(req.body.data, 'latin1')}`);
    body = req.body.data;
  } else if (req.body.kind === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    for (const chunk of req.body.chunks) {
      body += `${Buffer.byteLength(chunk, 'latin1').toString(16)}${req.body.extensions ? ';ext=1' : ''}\r\n${chunk}\r\n`;
    }
    body += `0\r\n${req.body.trailers.map((t) => `${t}\r\n`).join('')}\r\n`;
  }
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Body text that looks like HTTP on purpose. */
const tricky = fc
  .array(
    fc.constantFrom(
      'LIST /v1/secret/metadata HTTP/1.1\r\n\r\n',
      '\r\n',
      '\r\n\r\n',
      '0\r\n\r\n',
      'abc',
      '{"a":1}',
      'ff\r\n',
      'é',
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

const request: fc.Arbitrary<Req> = fc.record({
  method: fc.constantFrom('GET', 'LIST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'),
  target: fc.constantFrom(
    '/v1/secret/metadata',
    '/v1/secret/metadata/a/b?list=true',
    '/v1/sys/health',
    '/v1/x%20y',
  ),
  headers: fc.array(
    fc.constantFrom('Host: 127.0.0.1', 'X-Vault-Token: hvs.x', 'Accept: */*', 'X-Note: LIST'),
    {
      maxLength: 3,
    },
  ),
  body: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    tricky.filter((s) => s.length > 0).map((data) => ({ kind: 'length' as const, data })),
    fc.record({
      kind: fc.constant('chunked' as const),
      chunks: fc.array(
        tricky.filter((s) => s.length > 0),
        { maxLength: 4 },
      ),
      extensions: fc.boolean(),
      trailers: fc.array(fc.constantFrom('X-Trailer: 1', 'X-Other: LIST'), { maxLength: 2 }),
    }),
  ),
});

/** Feeds `input` to a fresh rewriter cut at the given offsets and returns everything it emitted. */
function feed(input: Buffer, cuts: readonly number[]): string {
  const rewriter = new ListRewriter(marker);
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const point of [...points, input.length]) {
    out.push(rewriter.push(input.subarray(start, point)));
    start = point;
  }
  return Buffer.concat(out).toString('latin1');
}

describe('ListRewriter', () => {
  it('rewrites each LIST request line and leaves every other byte alone, however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (reqs, cuts) => {
          const input = Buffer.from(reqs.map((r) => serialize(r, false)).join(''), 'latin1');
          const expected = reqs.map((r) => serialize(r, true)).join('');
          expect(feed(input, cuts)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('forwards leading empty lines and handles bare-LF heads', () => {
    const rewriter = new ListRewriter(marker);
    const out = rewriter.push(
      Buffer.from('\r\nLIST /v1/a HTTP/1.1\nHost: x\n\nLIST /v1/b HTTP/1.1\r\n\r\n', 'latin1'),
    );
    expect(out.toString('latin1')).toBe(
      `\r\nGET /v1/a HTTP/1.1\r\n${marker}\r\nHost: x\r\n\r\nGET /v1/b HTTP/1.1\r\n${marker}\r\n\r\n`,
    );
  });

  it('holds back an incomplete head and forwards it once complete', () => {
    const rewriter = new ListRewriter(marker);
    expect(rewriter.push(Buffer.from('LIST /v1/a HT')).length).toBe(0);
    expect(rewriter.push(Buffer.from('TP/1.1\r\n\r\n')).toString('latin1')).toBe(
      `GET /v1/a HTTP/1.1\r\n${marker}\r\n\r\n`,
    );
  });

  it('passes through what it cannot follow, so the HTTP server answers it', () => {
    const malformed = new ListRewriter(marker);
    const bad = 'POST /v1/a HTTP/1.1\r\nContent-Length: nope\r\n\r\nLIST /v1/b HTTP/1.1\r\n\r\n';
    expect(malformed.push(Buffer.from(bad, 'latin1')).toString('latin1')).toBe(bad);

    const huge = new ListRewriter(marker);
    const head = `LIST /v1/a HTTP/1.1\r\nX-Big: ${'a'.repeat(70 * 1024)}`;
    expect(huge.push(Buffer.from(head, 'latin1')).toString('latin1')).toBe(head);
    expect(huge.push(Buffer.from('\r\n\r\nLIST /v1/b HTTP/1.1\r\n\r\n')).toString('latin1')).toBe(
      '\r\n\r\nLIST /v1/b HTTP/1.1\r\n\r\n',
    );

    const upgrade = new ListRewriter(marker);
    const text = 'GET /v1/a HTTP/1.1\r\nUpgrade: websocket\r\n\r\nLIST /v1/b HTTP/1.1\r\n\r\n';
    expect(upgrade.push(Buffer.from(text, 'latin1')).toString('latin1')).toBe(text);
  });
});
