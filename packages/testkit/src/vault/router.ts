/**
 * Request handling: the HTTP method to Vault operation, body parsing, the unauthenticated
 * endpoints, sealed state, token and ACL checks, the mount table lookup, the response envelope,
 * injected failures and the request log.
 * @internal
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EngineResult, Operation } from './engine.js';
import type { Health } from './health.js';
import type { VaultCapability } from './policy.js';
import { errorBody, type Mount, type PendingFailure, type Reply, type VaultState } from './state.js';
import type { Tokens } from './tokens.js';
import { envelope, isJsonObject, type JsonObject, multiError, parseGoBool, VaultHttpError } from './wire.js';

const maxBodyBytes = 32 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The request handler of one fake. */
export function createRouter(s: VaultState, tokens: Tokens, health: Health) {
  const { listMarker, mounts, now } = s;
  const { liveToken, aclFor } = tokens;
  const { healthReply, unauthenticated } = health;

  function findMount(path: string): Mount | undefined {
    let best: Mount | undefined;
    for (const candidate of [path, `${path}/`]) {
      for (const mount of mounts.values()) {
        if (
          candidate.startsWith(mount.path) &&
          (best === undefined || mount.path.length > best.path.length)
        ) {
          best = mount;
        }
      }
      if (best !== undefined) return best;
    }
    return undefined;
  }

  function needsSudo(path: string): boolean {
    return path === 'sys/seal' || path === 'auth/token/create-orphan';
  }

  function renderResult(result: EngineResult, op: Operation, mount: Mount, requestId: string): Reply {
    const mountType = mount.type;
    if (result.kind === 'nil') {
      return op === 'read' || op === 'list' ? { status: 404, body: errorBody([]) } : { status: 204 };
    }
    if (result.kind === 'raw') {
      if (result.fields === null) return { status: result.status, body: '' };
      return { status: result.status, body: envelope(requestId, result.fields, '') };
    }
    const body = envelope(requestId, result.fields, mountType);
    const data = result.fields.data;
    if (mountType === 'system' && data) return { status: 200, body: { ...data, ...body } };
    return { status: 200, body };
  }

  function handle(
    method: string,
    rawPath: string,
    query: URLSearchParams,
    headers: IncomingMessage['headers'],
    rawBody: Buffer,
  ): Reply {
    let path: string;
    try {
      path = decodeURIComponent(rawPath.slice('/v1/'.length));
    } catch {
      return { status: 400, body: errorBody([]) };
    }

    let op: Operation;
    let bodyNeeded = false;
    switch (method) {
      case 'GET': {
        op = 'read';
        const list = query.get('list');
        if (list !== null && list !== '') {
          const parsed = parseGoBool(list);
          if (parsed === undefined) return { status: 400, body: errorBody([]) };
          if (parsed) op = 'list';
        }
        break;
      }
      case 'LIST':
        op = 'list';
        break;
      case 'POST':
      case 'PUT':
        op = 'update';
        bodyNeeded = true;
        break;
      case 'PATCH': {
        op = 'patch';
        bodyNeeded = true;
        const contentType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (contentType === '') return { status: 400, body: errorBody(['mime: no media type']) };
        if (contentType !== 'application/merge-patch+json') {
          return {
            status: 415,
            body: errorBody([
              `PATCH requires Content-Type of application/merge-patch+json, provided ${contentType}`,
            ]),
          };
        }
        break;
      }
      case 'DELETE':
        op = 'delete';
        break;
      case 'HEAD':
        if (path === 'sys/health') return healthReply(query, true);
        return { status: 405 };
      default:
        return { status: 405, body: errorBody([]) };
    }
    if (op === 'list' && !path.endsWith('/')) path += '/';

    let body: JsonObject | null = null;
    if (bodyNeeded && rawBody.length > 0 && rawBody.toString('utf8').trim() !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return { status: 400, body: errorBody(['error parsing JSON']) };
      }
      if (parsed !== null && !isJsonObject(parsed))
        return { status: 400, body: errorBody(['error parsing JSON']) };
      body = parsed as JsonObject | null;
    }

    const early = unauthenticated(method, path, query, body);
    if (early !== undefined) return early;
    if (s.sealed) return { status: 503, body: errorBody(['Vault is sealed']) };

    const header = headers['x-vault-token'];
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    const tokenId = (Array.isArray(header) ? header[0] : header) || bearer || '';
    if (tokenId === '') return { status: 403, body: errorBody(['permission denied']) };
    const caller = liveToken(tokenId);
    if (caller === undefined) {
      return { status: 403, body: errorBody([multiError(['permission denied', 'invalid token'])]) };
    }

    const mount = findMount(path);
    const relative =
      mount === undefined ? '' : path.length < mount.path.length ? '' : path.slice(mount.path.length);
    if (op === 'update' && mount !== undefined && mount.engine.exists(relative) === false) op = 'create';
    const acl = aclFor(caller);
    // `sys/internal/ui/mounts` needs no grant on itself: it answers by what the token may use.
    const preflight = op === 'read' && /^sys\/internal\/ui\/mounts(\/|$)/.test(path);
    if (!preflight && !acl.allows(path, op satisfies VaultCapability, needsSudo(path), op === 'list')) {
      return { status: 403, body: errorBody([multiError(['permission denied'])]) };
    }
    if (mount === undefined) {
      return {
        status: 404,
        body: errorBody([`no handler for route ${JSON.stringify(path)}. route entry not found.`]),
      };
    }

    const requestId = randomUUID();
    s.currentCaller = caller;
    try {
      const result = mount.engine.handle({ operation: op, path: relative, query, body, now: now() });
      return renderResult(result, op, mount, requestId);
    } catch (error) {
      if (error instanceof VaultHttpError) return { status: error.status, body: errorBody(error.errors) };
      // never echo the exception: its message could carry request data
      return { status: 500, body: errorBody([multiError(['internal error'])]) };
    } finally {
      s.currentCaller = undefined;
    }
  }

  function takeFailure(method: string, path: string): PendingFailure | undefined {
    const failure = s.failures.find(
      (f) => f.remaining > 0 && (f.match === undefined || f.match({ method, path })),
    );
    if (failure === undefined) return undefined;
    failure.remaining -= 1;
    s.failures = s.failures.filter((f) => f.remaining > 0);
    return failure;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const listed = req.method === 'GET' && req.headers[listMarker] !== undefined;
    const method = listed ? 'LIST' : (req.method ?? 'GET');
    const path = url.pathname;
    const query = url.search.replace(/^\?/, '');
    let reply: Reply;
    let injected = false;
    const raw = await readBody(req).catch(() => Buffer.alloc(0));
    const failure = takeFailure(method, path);
    if (failure !== undefined) {
      injected = true;
      reply = { status: failure.status, body: errorBody([failure.message]) };
    } else if (raw === 'too-large') {
      reply = { status: 413, body: errorBody(['http: request body too large']) };
    } else if (!path.startsWith('/v1/')) {
      reply = { status: 404, body: '404 page not found\n', contentType: 'text/plain; charset=utf-8' };
    } else {
      reply = handle(method, path, url.searchParams, req.headers, raw);
    }
    s.requestLog.push({ method, path, query, status: reply.status, injected });
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    let payload = '';
    if (reply.body !== undefined && reply.status !== 204) {
      payload = typeof reply.body === 'string' ? reply.body : `${JSON.stringify(reply.body)}\n`;
    }
    headers['Content-Type'] = reply.contentType ?? 'application/json';
    if (reply.status !== 204) headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(method === 'HEAD' || reply.status === 204 ? undefined : payload);
  }

  return { onRequest };
}
