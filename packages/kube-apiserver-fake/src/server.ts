/**
 * The HTTP layer: authentication, routing of `/api/v1/...` and `/apis/<group>/<version>/...`, content
 * negotiation (JSON, YAML bodies, Table and PartialObjectMetadata answers, aggregated discovery),
 * watches, and the request log.
 * @internal
 */

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { type Api, fieldSelectorFields, PatchTypes, type WriteOptions, type WriteResult } from './api.js';
import { parseFieldValidation } from './decode.js';
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  serverVersion,
} from './discovery.js';
import {
  badRequest,
  invalid,
  methodNotAllowed,
  notAcceptable,
  pathNotFound,
  StatusError,
  unauthorized,
  unsupportedMediaType,
} from './errors.js';
import { isObject, type Json, type JsonObject, obj, str } from './json.js';
import { openApiV3Document, openApiV3Index } from './openapi.js';
import {
  formatLogLine,
  type PodLogLine,
  type PodLogSource,
  parsePodLogOptions,
  resolveLogContainer,
  selectLogLines,
} from './pod-logs.js';
import { decodeProtobufObject, decodesProtobuf, PROTOBUF, ProtobufError } from './protobuf.js';
import { apiGroups, findResource, groupVersion, type ResourceDefinition } from './resources.js';
import {
  type LabelSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from './selectors.js';
import type { Store, StoreEvent } from './store.js';
import { type IncludeObject, renderTable } from './table.js';

/** One entry of the request log (never the token). @public */
export interface KubernetesRequestRecord {
  /** HTTP method. */
  readonly method: string;
  /** URL path, e.g. `/apis/apps/v1/namespaces/demo/deployments/x`. */
  readonly path: string;
  /** Query parameters. */
  readonly query: Readonly<Record<string, string>>;
  /** HTTP status answered. */
  readonly status: number;
  /** Request Content-Type (e.g. `application/apply-patch+yaml`), when a body was sent. */
  readonly contentType?: string;
  /** The `fieldManager` query parameter, when sent. */
  readonly fieldManager?: string;
  /** The API verb (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`), for resource requests. */
  readonly verb?: string;
  /** The request's User-Agent. */
  readonly userAgent?: string;
}

const MAX_BODY = 3 * 1024 * 1024;

interface MediaRange {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

function jsonAcceptable(ranges: readonly MediaRange[]): boolean {
  return (
    ranges.length === 0 ||
    ranges.some(
      (r) =>
        r.params.as === undefined &&
        (r.type === 'application/json' ||
          r.type === '*/*' ||
          r.type === 'application/*' ||
          r.type === 'application/yaml'),
    )
  );
}

function parseBool(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw badRequest(`invalid boolean value for ${name}: ${JSON.stringify(value)}`);
}

function withoutTypeMeta(o: JsonObject): JsonObject {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

/** What the server needs from the rest of the fake. */
export interface ServerContext {
  readonly api: Api;
  readonly store: Store;
  readonly token: () => string;
  readonly allowAnonymous: boolean;
  readonly clock: () => Date;
  readonly log: (entry: KubernetesRequestRecord) => void;
  readonly serverAddress: () => string;
  /** Who plays the kubelet for `pods/<name>/log` (none: every running pod's log is unavailable). */
  readonly podLogs: () => PodLogSource | undefined;
}

interface Route {
  readonly def: ResourceDefinition;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly watchPrefix: boolean;
}

/** The request handler of the fake API server. */
export class RequestHandler {
  private readonly watches = new Set<ServerResponse>();

  constructor(private readonly ctx: ServerContext) {}

  /** Ends every open watch. */
  closeWatches(): void {
    for (const res of this.watches) res.end();
    this.watches.clear();
  }

  /** Entry point for `http.createServer`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const contentType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
      const fieldManager = query.fieldManager;
      const userAgent = req.headers['user-agent'];
      let verb: string | undefined;
      const record = (status: number): void => {
        this.ctx.log({
          method: req.method ?? 'GET',
          path: url.pathname,
          query,
          status,
          ...(contentType && size > 0 ? { contentType } : {}),
          ...(fieldManager !== undefined ? { fieldManager } : {}),
          ...(verb ? { verb } : {}),
          ...(userAgent ? { userAgent } : {}),
        });
      };
      try {
        if (tooLarge)
          throw new StatusError(
            413,
            'RequestEntityTooLarge',
            `Request entity too large: limit is ${MAX_BODY}`,
          );
        const result = this.dispatch(req, res, url, query, Buffer.concat(chunks), contentType, (v) => {
          verb = v;
        });
        if (result === 'streaming') {
          record(200);
          return;
        }
        record(res.statusCode);
      } catch (error) {
        const status =
          error instanceof StatusError
            ? error
            : new StatusError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`);
        this.send(res, status.code, status.toStatus(), query.pretty === 'true');
        record(status.code);
      }
    });
  }

  private send(
    res: ServerResponse,
    code: number,
    body: Json,
    pretty = false,
    contentType = 'application/json',
  ): void {
    const text = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
    res.end(`${text}\n`);
  }

  private authenticate(req: IncomingMessage, publicPath: boolean): void {
    const header = req.headers.authorization;
    if (header === undefined && (publicPath || this.ctx.allowAnonymous)) return;
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    const expected = Buffer.from(this.ctx.token());
    const given = Buffer.from(match?.[1]?.trim() ?? '');
    if (!match || given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthorized();
  }

  private dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    query: Record<string, string>,
    raw: Buffer,
    contentType: string | undefined,
    setVerb: (verb: string) => void,
  ): 'done' | 'streaming' {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const pretty = query.pretty === 'true';
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return 'done';
    }
    this.authenticate(req, path === '/version');
    const accept = parseAccept(req.headers.accept);
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (method === 'GET') {
      const doc = this.discovery(path, accept, res, pretty);
      if (doc === 'done') return 'done';
    }
    let route: Route | undefined;
    if (segments[0] === 'api' && segments[1] === 'v1' && segments.length > 2)
      route = this.route('', 'v1', segments.slice(2));
    else if (segments[0] === 'apis' && segments.length > 3)
      route = this.route(segments[1] as string, segments[2] as string, segments.slice(3));
    if (!route) throw pathNotFound();
    this.resource(req, res, route, method, query, raw, contentType, accept, setVerb);
    return res.headersSent && this.watches.has(res) ? 'streaming' : 'done';
  }

  private discovery(
    path: string,
    accept: readonly MediaRange[],
    res: ServerResponse,
    pretty: boolean,
  ): 'done' | undefined {
    if (path === '/version') {
      this.send(res, 200, serverVersion, pretty);
      return 'done';
    }
    if (path === '/api' || path === '/apis') {
      for (const r of accept) {
        if (
          r.params.as === 'APIGroupDiscoveryList' &&
          r.params.g === 'apidiscovery.k8s.io' &&
          (r.params.v === 'v2' || r.params.v === 'v2beta1')
        ) {
          const v = r.params.v;
          this.send(
            res,
            200,
            aggregatedDiscovery(path === '/api', `apidiscovery.k8s.io/${v}`),
            pretty,
            `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`,
          );
          return 'done';
        }
      }
      this.send(res, 200, path === '/api' ? apiVersions(this.ctx.serverAddress()) : apiGroupList(), pretty);
      return 'done';
    }
    if (path === '/api/v1') {
      this.send(res, 200, apiResourceList('', 'v1') ?? {}, pretty);
      return 'done';
    }
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const group = apiGroups().find((g) => g.name === m[1]);
      if (!group) throw pathNotFound();
      if (m[2] === undefined) {
        this.send(res, 200, apiGroup(group), pretty);
        return 'done';
      }
      const list = apiResourceList(group.name, m[2]);
      if (!list) throw pathNotFound();
      this.send(res, 200, list, pretty);
      return 'done';
    }
    if (path === '/openapi/v3') {
      this.send(res, 200, openApiV3Index(), pretty);
      return 'done';
    }
    if (path.startsWith('/openapi/v3/')) {
      if (!jsonAcceptable(accept)) throw notAcceptable();
      const doc = openApiV3Document(path.slice('/openapi/v3/'.length));
      if (!doc) throw pathNotFound();
      this.send(res, 200, doc, pretty);
      return 'done';
    }
    return undefined;
  }

  private route(group: string, version: string, rest: string[]): Route | undefined {
    let watchPrefix = false;
    let parts = rest;
    if (parts[0] === 'watch') {
      watchPrefix = true;
      parts = parts.slice(1);
    }
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      const def = findResource(group, version, parts[2] as string);
      if (def?.namespaced) {
        if (parts.length > 5) return undefined;
        return {
          def,
          namespace: parts[1] as string,
          ...(parts[3] !== undefined ? { name: parts[3] } : {}),
          ...(parts[4] !== undefined ? { subresource: parts[4] } : {}),
          watchPrefix,
        };
      }
    }
    const def = findResource(group, version, parts[0] as string);
    if (!def || parts.length > 3) return undefined;
    if (def.namespaced && parts.length > 1) return undefined;
    return {
      def,
      ...(parts[1] !== undefined ? { name: parts[1] } : {}),
      ...(parts[2] !== undefined ? { subresource: parts[2] } : {}),
      watchPrefix,
    };
  }

  private body(raw: Buffer, contentType: string | undefined, allowYaml: boolean, kindForError: string): Json {
    const text = raw.toString('utf8');
    if (text.trim() === '') throw badRequest('the request body is empty');
    if (contentType === 'application/yaml' && allowYaml) {
      try {
        return parseYaml(text) as Json;
      } catch (error) {
        throw badRequest(`error converting YAML to JSON: ${(error as Error).message}`);
      }
    }
    try {
      return JSON.parse(text) as Json;
    } catch (error) {
      throw badRequest(`${kindForError}: json parse error: ${(error as Error).message}`);
    }
  }

  private resource(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    method: string,
    query: Record<string, string>,
    raw: Buffer,
    contentType: string | undefined,
    accept: readonly MediaRange[],
    setVerb: (verb: string) => void,
  ): void {
    const { def, namespace, name, subresource } = route;
    const api = this.ctx.api;
    const pretty = query.pretty === 'true';
    const dryRun = query.dryRun === undefined ? undefined : query.dryRun === 'All';
    if (query.dryRun !== undefined && query.dryRun !== 'All') {
      throw invalid('meta.k8s.io', 'CreateOptions', '', [
        { type: 'FieldValueNotSupported', field: 'dryRun', value: query.dryRun, supported: ['All'] },
      ]);
    }
    const optionsKind =
      method === 'POST' ? 'CreateOptions' : method === 'PUT' ? 'UpdateOptions' : 'PatchOptions';
    const write: WriteOptions = {
      ...(method === 'POST' || method === 'PUT' || method === 'PATCH'
        ? { fieldValidation: parseFieldValidation(query.fieldValidation, optionsKind) }
        : {}),
      ...(query.fieldManager !== undefined ? { fieldManager: query.fieldManager } : {}),
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      ...(dryRun ? { dryRun } : {}),
    };
    const respondObject = (code: number, o: JsonObject): void => {
      this.respondObject(res, code, def, o, accept, query, pretty);
    };
    const respondWrite = (r: WriteResult): void => {
      if (r.warnings && r.warnings.length > 0)
        res.setHeader(
          'Warning',
          r.warnings.map((w) => `299 - ${JSON.stringify(w)}`),
        );
      respondObject(r.code, r.object);
    };
    const writeBodyType = (): void => {
      if (
        contentType !== undefined &&
        contentType !== 'application/json' &&
        contentType !== 'application/yaml'
      ) {
        throw unsupportedMediaType(['application/json', 'application/yaml']);
      }
    };

    if (subresource !== undefined) {
      if (name === undefined) throw pathNotFound();
      if (subresource === 'log' && def.group === '' && def.kind === 'Pod') {
        // (A real server answers other methods here with an empty `details`, unlike elsewhere.)
        if (method !== 'GET') throw new StatusError(405, 'MethodNotAllowed', methodNotAllowed().message, {});
        setVerb('get');
        this.podLog(res, def, namespace as string, name, query);
        return;
      }
      if (subresource === 'status' && def.subresources.includes('status')) {
        if (method === 'GET') {
          setVerb('get');
          respondObject(200, api.get(def, namespace, name));
          return;
        }
        if (method === 'PUT') {
          setVerb('update');
          writeBodyType();
          const r = api.update(
            def,
            namespace,
            name,
            this.body(raw, contentType, true, def.kind),
            write,
            'status',
          );
          respondWrite(r);
          return;
        }
        if (method === 'PATCH') {
          setVerb('patch');
          const r = api.patch(
            def,
            namespace,
            name,
            contentType ?? '',
            this.patchBody(raw, contentType),
            this.patchOptions(write, query),
            'status',
          );
          respondWrite(r);
          return;
        }
        throw methodNotAllowed();
      }
      throw pathNotFound();
    }

    if (name === undefined) {
      const watch = route.watchPrefix || parseBool(query.watch, 'watch') === true;
      if (method === 'GET' && watch) {
        setVerb('watch');
        this.watch(res, def, namespace, query, accept);
        return;
      }
      if (method === 'GET') {
        setVerb('list');
        const result = api.list(def, namespace, {
          ...this.selectors(def, query),
          ...(query.limit !== undefined ? { limit: this.limit(query.limit) } : {}),
          ...(query.continue ? { continue: query.continue } : {}),
        });
        const listMeta: JsonObject = { resourceVersion: result.resourceVersion };
        if (result.continue) listMeta.continue = result.continue;
        if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
        this.respondList(res, def, result.items, listMeta, accept, query, pretty);
        return;
      }
      if (method === 'POST') {
        setVerb('create');
        if (def.namespaced && namespace === undefined) throw methodNotAllowed();
        let body: Json;
        if (contentType === PROTOBUF && decodesProtobuf(groupVersion(def), def.kind)) {
          // kubectl's typed create commands send protobuf (a real server accepts it).
          try {
            body = decodeProtobufObject(raw);
          } catch (error) {
            if (error instanceof ProtobufError) throw badRequest(error.message);
            throw error;
          }
        } else {
          writeBodyType();
          body = this.body(raw, contentType, true, def.kind);
        }
        respondWrite(api.create(def, namespace, body, write));
        return;
      }
      throw methodNotAllowed();
    }

    if (method === 'GET') {
      if (parseBool(query.watch, 'watch') === true || route.watchPrefix) {
        setVerb('watch');
        this.watch(res, def, namespace, { ...query, fieldSelector: `metadata.name=${name}` }, accept);
        return;
      }
      setVerb('get');
      respondObject(200, api.get(def, namespace, name));
      return;
    }
    if (method === 'PUT') {
      setVerb('update');
      writeBodyType();
      const r = api.update(def, namespace, name, this.body(raw, contentType, true, def.kind), write);
      respondWrite(r);
      return;
    }
    if (method === 'PATCH') {
      setVerb('patch');
      const r = api.patch(
        def,
        namespace,
        name,
        contentType ?? '',
        this.patchBody(raw, contentType),
        this.patchOptions(write, query),
      );
      respondWrite(r);
      return;
    }
    if (method === 'DELETE') {
      setVerb('delete');
      const out = api.delete(def, namespace, name, this.deleteOptions(raw, query));
      respondObject(200, out);
      return;
    }
    throw methodNotAllowed();
  }

  /** `GET …/pods/<name>/log` (see pod-logs.ts): plain text, streamed while following. */
  private podLog(
    res: ServerResponse,
    def: ResourceDefinition,
    namespace: string,
    name: string,
    query: Record<string, string>,
  ): void {
    const options = parsePodLogOptions(name, query, parseBool);
    const pod = this.ctx.api.get(def, namespace, name);
    const container = resolveLogContainer(pod, name, options.container);
    const head = { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' };
    if (str(obj(pod.spec)?.nodeName) === undefined) {
      // No kubelet to ask: a real server answers 204 No Content.
      res.writeHead(204, { 'Cache-Control': 'no-cache, private' });
      res.end();
      return;
    }
    const log = this.ctx.podLogs()?.({ namespace, pod: name, container, previous: options.previous });
    if (log === undefined) {
      throw badRequest(
        options.previous
          ? `previous terminated container "${container}" in pod "${name}" not found`
          : `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`,
      );
    }
    let budget = options.limitBytes ?? Number.POSITIVE_INFINITY;
    /** Writes a line within `limitBytes`; false once the budget is spent (the response ends there). */
    const write = (line: PodLogLine): boolean => {
      const bytes = Buffer.from(formatLogLine(line, options.timestamps), 'utf8');
      if (bytes.length >= budget) {
        res.write(bytes.subarray(0, budget));
        budget = 0;
        return false;
      }
      budget -= bytes.length;
      res.write(bytes);
      return true;
    };
    res.writeHead(200, head);
    for (const line of selectLogLines(log.lines, options, this.ctx.clock())) {
      if (!write(line)) {
        res.end();
        return;
      }
    }
    if (!options.follow || options.previous || log.follow === undefined) {
      res.end();
      return;
    }
    this.watches.add(res);
    let unfollow = (): void => {};
    let ended = false;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      unfollow();
      this.watches.delete(res);
      res.end();
    };
    unfollow = log.follow((line) => {
      if (!ended && !write(line)) finish();
    }, finish);
    if (ended) unfollow();
    res.on('close', () => {
      unfollow();
      this.watches.delete(res);
    });
  }

  private patchOptions(write: WriteOptions, query: Record<string, string>): WriteOptions {
    const force = parseBool(query.force, 'force');
    return force === undefined ? write : { ...write, force };
  }

  private patchBody(raw: Buffer, contentType: string | undefined): Json {
    const accepted = [PatchTypes.json, PatchTypes.merge, PatchTypes.strategic, PatchTypes.apply];
    if (!accepted.includes(contentType as (typeof accepted)[number])) throw unsupportedMediaType(accepted);
    if (contentType === PatchTypes.apply) {
      const text = raw.toString('utf8');
      try {
        return (parseYaml(text) ?? null) as Json;
      } catch (error) {
        throw badRequest(`error decoding YAML: ${(error as Error).message}`);
      }
    }
    return this.body(raw, 'application/json', false, 'error decoding patch');
  }

  private deleteOptions(
    raw: Buffer,
    query: Record<string, string>,
  ): {
    dryRun?: boolean;
    propagationPolicy?: string;
    preconditions?: { uid?: string; resourceVersion?: string };
  } {
    let body: JsonObject = {};
    if (raw.length > 0 && raw.toString('utf8').trim() !== '') {
      const parsed = this.body(raw, 'application/json', false, 'DeleteOptions');
      if (isObject(parsed)) body = parsed;
    }
    const policy = query.propagationPolicy ?? str(body.propagationPolicy);
    const orphan =
      parseBool(query.orphanDependents, 'orphanDependents') ??
      (body.orphanDependents === true ? true : undefined);
    const dryRun = query.dryRun === 'All' || (Array.isArray(body.dryRun) && body.dryRun.includes('All'));
    const pre = obj(body.preconditions);
    const preconditions = pre
      ? {
          ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
          ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
        }
      : undefined;
    return {
      ...(dryRun ? { dryRun } : {}),
      ...(policy !== undefined
        ? { propagationPolicy: policy }
        : orphan
          ? { propagationPolicy: 'Orphan' }
          : {}),
      ...(preconditions ? { preconditions } : {}),
    };
  }

  private limit(value: string): number {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid value for limit: ${JSON.stringify(value)}`);
    return n;
  }

  private selectors(
    def: ResourceDefinition,
    query: Record<string, string>,
  ): {
    labelSelector?: LabelSelector;
    fieldSelector?: ReturnType<typeof parseFieldSelector>;
  } {
    try {
      return {
        ...(query.labelSelector ? { labelSelector: parseLabelSelector(query.labelSelector) } : {}),
        ...(query.fieldSelector
          ? { fieldSelector: parseFieldSelector(query.fieldSelector, fieldSelectorFields(def)) }
          : {}),
      };
    } catch (error) {
      if (error instanceof SelectorError) throw badRequest(error.message);
      throw error;
    }
  }

  private wants(accept: readonly MediaRange[], as: string): string | undefined {
    for (const r of accept) {
      if (
        r.params.as === as &&
        r.params.g === 'meta.k8s.io' &&
        (r.params.v === 'v1' || r.params.v === 'v1beta1')
      ) {
        return `meta.k8s.io/${r.params.v}`;
      }
      if (r.params.as === undefined && (r.type === 'application/json' || r.type === '*/*')) return undefined;
    }
    return undefined;
  }

  private checkAcceptable(accept: readonly MediaRange[]): void {
    const ok =
      jsonAcceptable(accept) ||
      accept.some(
        (r) =>
          (r.params.as === 'Table' ||
            r.params.as === 'PartialObjectMetadata' ||
            r.params.as === 'PartialObjectMetadataList') &&
          r.params.g === 'meta.k8s.io',
      );
    if (!ok) throw notAcceptable();
  }

  private includeObject(query: Record<string, string>): IncludeObject {
    const v = query.includeObject;
    if (v === 'None' || v === 'Object') return v;
    return 'Metadata';
  }

  private respondObject(
    res: ServerResponse,
    code: number,
    def: ResourceDefinition,
    o: JsonObject,
    accept: readonly MediaRange[],
    query: Record<string, string>,
    pretty: boolean,
  ): void {
    if (o.kind === 'Status') {
      this.send(res, code, o, pretty);
      return;
    }
    this.checkAcceptable(accept);
    const table = this.wants(accept, 'Table');
    if (table) {
      this.send(
        res,
        code,
        renderTable(
          def,
          [o],
          { resourceVersion: String(obj(o.metadata)?.resourceVersion ?? '') },
          this.includeObject(query),
          table,
          this.ctx.clock(),
        ),
        pretty,
      );
      return;
    }
    const partial = this.wants(accept, 'PartialObjectMetadata');
    if (partial) {
      this.send(
        res,
        code,
        { kind: 'PartialObjectMetadata', apiVersion: partial, metadata: o.metadata ?? {} },
        pretty,
      );
      return;
    }
    this.send(res, code, o, pretty);
  }

  private respondList(
    res: ServerResponse,
    def: ResourceDefinition,
    items: JsonObject[],
    listMeta: JsonObject,
    accept: readonly MediaRange[],
    query: Record<string, string>,
    pretty: boolean,
  ): void {
    this.checkAcceptable(accept);
    const table = this.wants(accept, 'Table');
    if (table) {
      this.send(
        res,
        200,
        renderTable(def, items, listMeta, this.includeObject(query), table, this.ctx.clock()),
        pretty,
      );
      return;
    }
    const partial = this.wants(accept, 'PartialObjectMetadataList');
    if (partial) {
      this.send(
        res,
        200,
        {
          kind: 'PartialObjectMetadataList',
          apiVersion: partial,
          metadata: listMeta,
          items: items.map((o) => ({ metadata: o.metadata ?? {} })),
        },
        pretty,
      );
      return;
    }
    this.send(
      res,
      200,
      {
        kind: `${def.kind}List`,
        apiVersion: groupVersion(def),
        metadata: listMeta,
        items: items.map(withoutTypeMeta),
      },
      pretty,
    );
  }

  private watch(
    res: ServerResponse,
    def: ResourceDefinition,
    namespace: string | undefined,
    query: Record<string, string>,
    accept: readonly MediaRange[],
  ): void {
    const sel = this.selectors(def, query);
    const table = this.wants(accept, 'Table');
    const include = this.includeObject(query);
    const matches = (o: JsonObject | undefined): boolean => {
      if (!o) return false;
      const meta = obj(o.metadata) ?? {};
      if (namespace !== undefined && meta.namespace !== namespace) return false;
      if (
        sel.labelSelector &&
        !matchesLabels(sel.labelSelector, obj(meta.labels) as Record<string, string> | undefined)
      )
        return false;
      if (sel.fieldSelector) {
        const fields: Record<string, string> = {
          'metadata.name': String(meta.name ?? ''),
          'metadata.namespace': String(meta.namespace ?? ''),
        };
        for (const [f, get] of Object.entries(def.fieldSelectors)) fields[f] = get(o);
        if (!matchesFields(sel.fieldSelector, fields)) return false;
      }
      return true;
    };
    const rv = query.resourceVersion;
    let backlog: StoreEvent[] | undefined = [];
    if (rv !== undefined && rv !== '' && rv !== '0') {
      const n = Number(rv);
      if (!Number.isInteger(n)) throw badRequest(`invalid resource version: ${rv}`);
      backlog = this.ctx.store.since(def, n);
    }
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    // Clients (node-fetch) resolve on headers: send them now, not with the first event.
    res.flushHeaders();
    this.watches.add(res);
    const emit = (type: string, object: JsonObject): void => {
      const payload = table
        ? renderTable(
            def,
            [object],
            { resourceVersion: String(obj(object.metadata)?.resourceVersion ?? '') },
            include,
            table,
            this.ctx.clock(),
          )
        : object;
      res.write(`${JSON.stringify({ type, object: payload })}\n`);
    };
    if (backlog === undefined) {
      const status = new StatusError(
        410,
        'Expired',
        `too old resource version: ${rv} (${this.ctx.store.oldestWatchable})`,
      );
      res.write(`${JSON.stringify({ type: 'ERROR', object: status.toStatus() })}\n`);
      res.end();
      this.watches.delete(res);
      return;
    }
    const deliver = (e: StoreEvent): void => {
      const was = e.previous !== undefined && matches(e.previous);
      const is = e.type !== 'DELETED' && matches(e.object);
      if (e.type === 'DELETED') {
        if (was) emit('DELETED', e.object);
      } else if (is && was) emit('MODIFIED', e.object);
      else if (is) emit('ADDED', e.object);
      else if (was) emit('DELETED', e.object);
    };
    if (rv === undefined || rv === '' || rv === '0') {
      for (const o of this.ctx.store.list(def, namespace)) if (matches(o)) emit('ADDED', o);
      if (query.sendInitialEvents === 'true' && query.allowWatchBookmarks === 'true') {
        res.write(
          `${JSON.stringify({
            type: 'BOOKMARK',
            object: {
              kind: def.kind,
              apiVersion: groupVersion(def),
              metadata: {
                resourceVersion: String(this.ctx.store.resourceVersion),
                annotations: { 'k8s.io/initial-events-end': 'true' },
              },
            },
          })}\n`,
        );
      }
    } else {
      for (const e of backlog) deliver(e);
    }
    const unsubscribe = this.ctx.store.subscribe({
      def,
      ...(namespace !== undefined ? { namespace } : {}),
      deliver,
    });
    const timeoutSeconds = Number(query.timeoutSeconds ?? 1800);
    const timer = setTimeout(() => res.end(), Math.max(0, timeoutSeconds) * 1000);
    timer.unref();
    const cleanup = (): void => {
      clearTimeout(timer);
      unsubscribe();
      this.watches.delete(res);
    };
    // Not req 'close': an IncomingMessage closes as soon as its (empty) body has been read.
    res.on('close', cleanup);
  }
}
