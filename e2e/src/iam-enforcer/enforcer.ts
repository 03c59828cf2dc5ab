/**
 * Wire-level IAM enforcement for Route 53: an HTTP proxy on 127.0.0.1 in front of moto (or of the
 * testkit fault proxy in front of moto) that authorises every request the way AWS does, then forwards
 * it or answers `AccessDenied`.
 *
 * ```
 *  client ──► enforcer ──► target (fault proxy ──► moto)
 *               │  1. access key id from the SigV4 Authorization header
 *               │  2. administrator key? forward (logged as "admin")
 *               │  3. the key's IAM user and identity policies, read from moto's IAM (no cache:
 *               │     rotations and policy changes take effect on the next request)
 *               │  4. action, resources and Route 53 condition keys from the request (route53-request.ts)
 *               │  5. @cloud-copilot/iam-simulate decides each resource; all must be Allowed
 *               ▼  6. forward, or 403 AccessDenied (Route 53's ErrorResponse XML); log either way
 * ```
 *
 * Unknown or deleted keys get 403 `InvalidClientTokenId`, inactive ones too, as AWS answers. Signatures
 * are not verified (moto does not expose secret keys); requests of other services than Route 53 from
 * non-administrators are denied, since this enforcer models Route 53's resources only — except STS
 * `AssumeRoleWithWebIdentity`, which is unsigned:
 *
 * ```
 *  AssumeRoleWithWebIdentity ──► web-identity.ts: token, OIDC provider, audience, expiry, and the role's
 *                                trust policy through the simulator (moto checks none of it)
 *        refused: STS's error (InvalidIdentityToken, ExpiredTokenException, AccessDenied), nothing forwarded
 *        allowed: forwarded to moto; the temporary key it returns is remembered as a session of the role,
 *                 and later requests signed with it are decided with the role's policies (read each time)
 * ```
 *
 * `@cloud-copilot/iam-simulate` is AGPL-3.0-or-later, which is why this lives in the private `e2e`
 * workspace package and never in a published one.
 */

import { randomUUID } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { IAMClient } from '@aws-sdk/client-iam';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { identifyAwsRequest } from '@zonekeeper/testkit/fault-proxy';
import { accessKeyIdOf, createPrincipalReader, type Principal } from './principal.js';
import { type RecordChange, route53Authorization } from './route53-request.js';
import { checkWebIdentityExchange, type ExchangeRefusal, stsErrorOf } from './web-identity.js';

/** How the enforcer decided a request. */
export type EnforcerDecision = 'allowed' | 'denied' | 'admin' | 'unauthenticated';

/** One request the enforcer handled. Never holds a secret, a signature or a body. */
export interface EnforcerLogEntry {
  readonly seq: number;
  /** The access key id the request was signed with (an identifier, not a secret). */
  readonly accessKeyId: string | undefined;
  /** The IAM user's ARN, the role session's (`arn:aws:sts::…:assumed-role/<role>/<session>`), `admin`, `anonymous`, or `web-identity` for an exchange. */
  readonly principal: string;
  /** Of an `AssumeRoleWithWebIdentity`: the token's `sub` (when it had one) and why it was refused. */
  readonly webIdentity?: {
    readonly sub?: string;
    readonly roleArn: string;
    readonly refusal?: ExchangeRefusal;
  };
  readonly service: string;
  readonly operation: string;
  /** `route53:<Operation>` for Route 53 requests. */
  readonly action: string;
  readonly resources: readonly string[];
  readonly decision: EnforcerDecision;
  /** The simulator's overall result for the first resource that was not allowed (or `Allowed`). */
  readonly result?: 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | 'Error';
  /** The change batch of a ChangeResourceRecordSets call. */
  readonly changes: readonly RecordChange[];
  /**
   * Status the client got; undefined while a forwarded request waits for its answer. A forwarded
   * request is logged before it is forwarded, so a write that is visible in moto is always in the log.
   */
  readonly status: number | undefined;
}

/** Filter of {@link IamEnforcer.count}; every given field must match. */
export interface EnforcerLogFilter {
  readonly operation?: string | RegExp;
  readonly decision?: EnforcerDecision;
  readonly accessKeyId?: string;
}

/** Options of {@link startIamEnforcer}. */
export interface IamEnforcerOptions {
  /** Where allowed requests go: the fault proxy in front of moto, or moto itself. */
  readonly target: string;
  /** moto's own endpoint, to read IAM from (not through any proxy). */
  readonly iamEndpoint: string;
  /** The administrator's credentials, used to read IAM; requests signed with this key are forwarded unchecked. */
  readonly adminCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Fetches OIDC issuers' discovery documents and JWKS (test issuers: their `fetch`). Default: the global fetch. */
  readonly issuerFetch?: typeof fetch;
}

/** A running enforcer. */
export interface IamEnforcer extends AsyncDisposable {
  /** Base URL for clients, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The log so far (a snapshot). */
  readonly log: readonly EnforcerLogEntry[];
  /** Denied requests so far. */
  denials(): readonly EnforcerLogEntry[];
  count(filter?: EnforcerLogFilter): number;
  clearLog(): void;
  stop(): Promise<void>;
}

const ROUTE53_NAMESPACE = 'https://route53.amazonaws.com/doc/2013-04-01/';
const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** A role session the enforcer saw STS issue. */
interface RoleSession {
  readonly roleName: string;
  readonly sessionName: string;
  readonly sessionToken: string;
}
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
]);

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorResponse(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  namespace = ROUTE53_NAMESPACE,
): void {
  const requestId = randomUUID();
  const body =
    '<?xml version="1.0"?>\n' +
    `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  res.writeHead(status, {
    'content-type': 'text/xml',
    'x-amzn-requestid': requestId,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forwardHeaders(headers: IncomingHttpHeaders, length: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  out['content-length'] = length;
  return out;
}

async function decide(
  principal: Principal,
  action: string,
  resource: string,
  context: Readonly<Record<string, readonly string[]>>,
): Promise<'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | 'Error'> {
  const result = await runSimulation(
    {
      identityPolicies: principal.policies.map((p) => ({ name: p.name, policy: p.policy as never })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action,
        principal: principal.arn,
        resource: { accountId: principal.accountId, resource },
        contextVariables: Object.fromEntries(Object.entries(context).map(([k, v]) => [k, [...v]])),
      },
    },
    {},
  );
  if (result.resultType !== 'single') return 'Error';
  if ((result.result.ignoredContextKeys ?? []).length > 0) {
    // A key the simulator does not know would silently count as absent: refuse to guess.
    throw new Error(`IAM enforcer: the simulator ignored ${result.result.ignoredContextKeys?.join(', ')}`);
  }
  return result.result.analysis.result as 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';
}

/** Starts the enforcer on 127.0.0.1 (a free port). */
export async function startIamEnforcer(options: IamEnforcerOptions): Promise<IamEnforcer> {
  const target = new URL(options.target);
  const reader = createPrincipalReader({
    endpoint: options.iamEndpoint,
    credentials: options.adminCredentials,
  });
  const iam = new IAMClient({
    endpoint: options.iamEndpoint,
    region: 'us-east-1',
    credentials: options.adminCredentials,
    maxAttempts: 2,
  });
  const sessions = new Map<string, RoleSession>();
  let log: EnforcerLogEntry[] = [];
  let seq = 0;

  /** Forwards the request; `logged(status)` runs before the client gets the answer. */
  const forward = (
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    logged: (status: number, payload: Buffer) => void,
  ): Promise<void> =>
    new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req.headers, body.length),
        },
        (answer) => {
          const headers: OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
          }
          readBody(answer).then((payload) => {
            headers['content-length'] = payload.length;
            logged(answer.statusCode ?? 502, payload);
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(payload);
            resolve();
          }, reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  /** An unsigned `AssumeRoleWithWebIdentity`: checked as STS would, forwarded only when allowed. */
  const exchange = async (
    req: IncomingMessage,
    body: Buffer,
    res: ServerResponse,
    record: (entry: Omit<EnforcerLogEntry, 'seq' | 'accessKeyId' | 'service' | 'operation'>) => void,
  ): Promise<void> => {
    const params = new URLSearchParams(
      req.method === 'GET' ? ((req.url ?? '').split('?')[1] ?? '') : body.toString('utf8'),
    );
    const roleArn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    const check = await checkWebIdentityExchange({
      token: params.get('WebIdentityToken') ?? '',
      roleArn,
      iam,
      fetch: options.issuerFetch ?? fetch,
    });
    const base = { action: 'sts:AssumeRoleWithWebIdentity', resources: [roleArn], changes: [] };
    if (!check.allowed) {
      const { code, status } = stsErrorOf(check.refusal);
      const sub = /"sub":"([^"]*)"/.exec(
        Buffer.from((params.get('WebIdentityToken') ?? '').split('.')[1] ?? '', 'base64url').toString('utf8'),
      )?.[1];
      record({
        ...base,
        principal: 'web-identity',
        decision: 'denied',
        status,
        webIdentity: { roleArn, refusal: check.refusal, ...(sub === undefined ? {} : { sub }) },
      });
      errorResponse(res, status, code, check.detail, STS_NAMESPACE);
      return;
    }
    await forward(req, body, res, (status, payload) => {
      const text = payload.toString('utf8');
      const keyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(text)?.[1];
      const token = /<SessionToken>([^<]+)<\/SessionToken>/.exec(text)?.[1];
      const roleName = /:role\/(?:.*\/)?([^/]+)$/.exec(roleArn)?.[1];
      if (status === 200 && keyId && token && roleName)
        sessions.set(keyId, { roleName, sessionName, sessionToken: token });
      record({
        ...base,
        principal: 'web-identity',
        decision: 'allowed',
        result: 'Allowed',
        status,
        webIdentity: { roleArn, sub: check.sub },
      });
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const identity = identifyAwsRequest({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body,
    });
    const accessKeyId = accessKeyIdOf(req.headers.authorization);
    const base = {
      seq: ++seq,
      accessKeyId,
      service: identity.service,
      operation: identity.operation,
    };
    const record = (entry: Omit<EnforcerLogEntry, 'seq' | 'accessKeyId' | 'service' | 'operation'>) => {
      const logged: { -readonly [K in keyof EnforcerLogEntry]: EnforcerLogEntry[K] } = { ...base, ...entry };
      log.push(logged);
      return logged;
    };

    if (accessKeyId === options.adminCredentials.accessKeyId) {
      const entry = record({
        principal: 'admin',
        action: '',
        resources: [],
        decision: 'admin',
        changes: [],
        status: undefined,
      });
      await forward(req, body, res, (status) => {
        entry.status = status;
      });
      return;
    }
    if (
      accessKeyId === undefined &&
      identity.service === 'sts' &&
      identity.operation === 'AssumeRoleWithWebIdentity'
    ) {
      await exchange(req, body, res, record);
      return;
    }
    const session = accessKeyId === undefined ? undefined : sessions.get(accessKeyId);
    const principal =
      accessKeyId === undefined
        ? 'unknown-key'
        : session
          ? req.headers['x-amz-security-token'] === session.sessionToken
            ? await reader.readRole(session.roleName, session.sessionName)
            : 'unknown-key'
          : await reader.read(accessKeyId);
    if (typeof principal === 'string') {
      record({
        principal: 'anonymous',
        action: '',
        resources: [],
        decision: 'unauthenticated',
        changes: [],
        status: 403,
      });
      errorResponse(
        res,
        403,
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
      );
      return;
    }
    const auth =
      identity.service === 'route53'
        ? route53Authorization(identity.operation, req.url ?? '/', body.toString('utf8'))
        : { action: `${identity.service}:${identity.operation}`, resources: ['*'], context: {}, changes: [] };
    let result: 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied' | 'Error' = 'Allowed';
    let deniedOn = '';
    if (identity.service !== 'route53') {
      result = 'ImplicitlyDenied';
      deniedOn = '*';
    } else {
      for (const resource of auth.resources) {
        result = await decide(principal, auth.action, resource, auth.context);
        if (result !== 'Allowed') {
          deniedOn = resource;
          break;
        }
      }
    }
    if (result === 'Allowed') {
      const entry = record({
        principal: principal.arn,
        action: auth.action,
        resources: auth.resources,
        decision: 'allowed',
        result: 'Allowed',
        changes: auth.changes,
        status: undefined,
      });
      await forward(req, body, res, (status) => {
        entry.status = status;
      });
      return;
    }
    const why =
      result === 'ExplicitlyDenied'
        ? 'with an explicit deny in an identity-based policy'
        : `because no identity-based policy allows the ${auth.action} action`;
    record({
      principal: principal.arn,
      action: auth.action,
      resources: auth.resources,
      decision: 'denied',
      result,
      changes: auth.changes,
      status: 403,
    });
    errorResponse(
      res,
      403,
      'AccessDenied',
      `User: ${principal.arn} is not authorized to perform: ${auth.action} on resource: ${deniedOn} ${why}`,
    );
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        errorResponse(res, 500, 'InternalFailure', `IAM enforcer: ${(error as Error).message}`);
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= new Promise<void>((resolve) => {
      iam.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return stopped;
  };
  const matches = (e: EnforcerLogEntry, f: EnforcerLogFilter): boolean =>
    (f.decision === undefined || e.decision === f.decision) &&
    (f.accessKeyId === undefined || e.accessKeyId === f.accessKeyId) &&
    (f.operation === undefined ||
      (typeof f.operation === 'string' ? e.operation === f.operation : f.operation.test(e.operation)));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get log() {
      return log.map((e) => ({ ...e }));
    },
    denials: () => log.filter((e) => e.decision === 'denied'),
    count: (filter = {}) => log.filter((e) => matches(e, filter)).length,
    clearLog() {
      log = [];
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
