/**
 * The EKS adapter of the {@link PodIdentityAssociationProvider} port, on `@aws-sdk/client-eks` (an
 * optional peer dependency of this package: install it to use `@zonekeeper/iam-scoper/eks`).
 *
 * - `ListPodIdentityAssociations` is paged to the end (`nextToken`, `maxResults` 1–100).
 * - Errors are translated to `ZonekeeperError`s (`EKS: …`) at this boundary, keeping only the AWS
 *   error name, message, HTTP status and request id as `cause`:
 *
 * ```
 *  EKS error                          code              retry
 *  ResourceNotFoundException          NOT_FOUND         permanent
 *  ResourceInUseException             ALREADY_EXISTS    permanent
 *  ResourceLimitExceededException     CONFLICT          permanent
 *  InvalidParameterException,
 *  InvalidRequestException            INVALID_INPUT     permanent
 *  AccessDeniedException, 403         PERMISSION_DENIED permanent
 *  ThrottlingException, 429           THROTTLED         transient
 *  ServerException, 5xx, network      UNAVAILABLE       transient
 * ```
 *
 * - Input is validated before anything is sent (`INVALID_INPUT`); aborts re-throw `signal.reason`.
 * - moto has no Pod Identity API, so this adapter is tested with a stubbed client only
 *   (`adapter.unit.test.ts`: request shapes, paging, error mapping).
 *
 * @packageDocumentation
 */

import {
  CreatePodIdentityAssociationCommand,
  type CreatePodIdentityAssociationCommandOutput,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  type DescribePodIdentityAssociationCommandOutput,
  EKSClient,
  type EKSClientConfig,
  ListPodIdentityAssociationsCommand,
  type ListPodIdentityAssociationsCommandOutput,
  type PodIdentityAssociation as SdkAssociation,
} from '@aws-sdk/client-eks';
import { StandardRetryStrategy } from '@smithy/core/retry';
import {
  type CallOptions,
  type ErrorCode,
  hasErrorCode,
  invalidInput,
  throwIfAborted,
  ZonekeeperError,
} from '@zonekeeper/core';
import { validateTags } from '../identity-validation.js';
import type {
  PodIdentityAssociation,
  PodIdentityAssociationProvider,
  PodIdentityAssociationSummary,
} from '../pod-identity-ports.js';
import {
  validateAssociationId,
  validateClientRequestToken,
  validateEksClusterName,
  validateRoleArn,
} from '../pod-identity-validation.js';
import { validateKubernetesNamespace, validateServiceAccountName } from '../trust-policy.js';

/** The part of an `EKSClient` the adapter uses: `send`. @public */
export interface EksClientLike {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Options of {@link createEksPodIdentityProvider}. @public */
export interface EksPodIdentityProviderOptions {
  /** A caller-built EKS client; when given, `region`, `endpoint`, `credentials` and `maxAttempts` are ignored. */
  readonly client?: EksClientLike;
  /** The clusters' region (default `AWS_REGION`; EKS is regional). */
  readonly region?: string;
  readonly endpoint?: string;
  /** zonekeeper's own AWS credentials (default: the SDK's provider chain). Never logged. */
  readonly credentials?: EKSClientConfig['credentials'];
  /** Attempts per call, first included (default 3). */
  readonly maxAttempts?: number;
  /** `maxResults` per page of `ListPodIdentityAssociations` (1–100, default EKS's). */
  readonly pageSize?: number;
}

interface SdkErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

const CODES: Readonly<Record<string, ErrorCode>> = {
  ResourceNotFoundException: 'NOT_FOUND',
  NotFoundException: 'NOT_FOUND',
  ResourceInUseException: 'ALREADY_EXISTS',
  ResourceLimitExceededException: 'CONFLICT',
  InvalidParameterException: 'INVALID_INPUT',
  InvalidRequestException: 'INVALID_INPUT',
  AccessDeniedException: 'PERMISSION_DENIED',
  UnrecognizedClientException: 'PERMISSION_DENIED',
  ThrottlingException: 'THROTTLED',
  TooManyRequestsException: 'THROTTLED',
  ServerException: 'UNAVAILABLE',
  ServiceUnavailableException: 'UNAVAILABLE',
};

const ADVICE: Readonly<Record<ErrorCode, string>> = {
  NOT_FOUND: 'The cluster or the association does not exist (check the cluster name and region).',
  ALREADY_EXISTS:
    'The service account already has a Pod Identity association in this cluster; list it, and delete it if zonekeeper should own it.',
  CONFLICT: 'An EKS quota on Pod Identity associations is exhausted; delete unused associations.',
  INVALID_INPUT:
    'EKS rejected the input (zonekeeper validates it first, so this is unexpected: please report it).',
  PERMISSION_DENIED:
    "Check zonekeeper's own AWS credentials: it needs eks:CreatePodIdentityAssociation, eks:DescribePodIdentityAssociation, eks:ListPodIdentityAssociations and eks:DeletePodIdentityAssociation on the cluster, and iam:PassRole on the role.",
  THROTTLED: "EKS rate-limited the call even after the SDK's retries; try again later.",
  UNAVAILABLE: 'EKS is unreachable or failing; try again later (the operation converges when re-run).',
  NOT_OWNED: '',
  PENDING: '',
  TIMEOUT: '',
  INTERNAL: 'This EKS error is not one zonekeeper expects; please report it.',
};

/** Translates an SDK error (see the module table). @internal */
export function translateEksError(
  error: unknown,
  op: string,
  target: Readonly<Record<string, string>>,
): ZonekeeperError {
  const e = (error ?? {}) as SdkErrorLike;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const status = e.$metadata?.httpStatusCode;
  const networkCode = typeof e.code === 'string' ? e.code : undefined;
  const message = String(e.message ?? '').slice(0, 500);
  let code: ErrorCode =
    CODES[name] ??
    (status === 429
      ? 'THROTTLED'
      : status === 403
        ? 'PERMISSION_DENIED'
        : status === undefined || status >= 500
          ? 'UNAVAILABLE'
          : 'INTERNAL');
  if (status === undefined && networkCode !== undefined) code = 'UNAVAILABLE';
  const what = Object.entries(target)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const cause = new Error(`${name}: ${message}`);
  cause.name = name;
  return new ZonekeeperError(
    code,
    `EKS: ${op}${what ? ` (${what})` : ''} failed: ${message || name}${status === undefined ? '' : ` (${name}, HTTP ${status})`}. ${ADVICE[code]}`,
    {
      cause,
      details: {
        operation: op,
        ...target,
        awsCode: networkCode ?? name,
        ...(status === undefined ? {} : { httpStatusCode: status }),
        ...(e.$metadata?.requestId === undefined ? {} : { requestId: e.$metadata.requestId }),
      },
    },
  );
}

function toAssociation(a: SdkAssociation | undefined, op: string): PodIdentityAssociation {
  if (
    !a?.associationId ||
    !a.associationArn ||
    !a.clusterName ||
    !a.namespace ||
    !a.serviceAccount ||
    !a.roleArn
  ) {
    throw new ZonekeeperError(
      'INTERNAL',
      `EKS: ${op} returned no association; this is unexpected, please report it.`,
      {
        details: { operation: op },
      },
    );
  }
  return {
    associationId: a.associationId,
    associationArn: a.associationArn,
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    tags: { ...(a.tags ?? {}) },
    createdAt: a.createdAt instanceof Date ? a.createdAt : new Date(a.createdAt ?? 0),
    ...(a.ownerArn ? { ownerArn: a.ownerArn } : {}),
  };
}

/**
 * Creates the EKS Pod Identity association provider.
 *
 * @example
 * ```ts
 * import { createEksPodIdentityProvider } from '@zonekeeper/iam-scoper/eks';
 * const eks = createEksPodIdentityProvider({ region: 'eu-west-1' });
 * ```
 * @public
 */
export function createEksPodIdentityProvider(
  options: EksPodIdentityProviderOptions = {},
): PodIdentityAssociationProvider {
  const { pageSize, maxAttempts } = options;
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 100)) {
    throw invalidInput(`EKS: pageSize must be an integer from 1 to 100, got ${String(pageSize)}.`);
  }
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw invalidInput(`EKS: maxAttempts must be an integer ≥ 1, got ${String(maxAttempts)}.`);
  }
  const region = options.region ?? process.env.AWS_REGION;
  const client: EksClientLike =
    options.client ??
    new EKSClient({
      ...(region === undefined ? {} : { region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      retryStrategy: new StandardRetryStrategy(maxAttempts ?? 3),
    });

  async function send<T>(
    op: string,
    target: Record<string, string>,
    command: unknown,
    opts: CallOptions | undefined,
  ): Promise<T> {
    const signal = opts?.signal;
    throwIfAborted(signal);
    try {
      return (await client.send(command, signal === undefined ? {} : { abortSignal: signal })) as T;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw translateEksError(error, op, target);
    }
  }

  return {
    kind: 'eks',

    async createAssociation(spec, opts) {
      const clusterName = validateEksClusterName(spec?.clusterName);
      const namespace = validateKubernetesNamespace(spec.namespace);
      const serviceAccount = validateServiceAccountName(spec.serviceAccount);
      const roleArn = validateRoleArn(spec.roleArn);
      const tags = validateTags(spec.tags);
      const token = validateClientRequestToken(spec.clientRequestToken);
      const out = await send<CreatePodIdentityAssociationCommandOutput>(
        'CreatePodIdentityAssociation',
        { cluster: clusterName, serviceAccount: `${namespace}/${serviceAccount}` },
        new CreatePodIdentityAssociationCommand({
          clusterName,
          namespace,
          serviceAccount,
          roleArn,
          ...(Object.keys(tags).length === 0 ? {} : { tags }),
          ...(token === undefined ? {} : { clientRequestToken: token }),
        }),
        opts,
      );
      return toAssociation(out.association, 'CreatePodIdentityAssociation');
    },

    async describeAssociation(clusterName, associationId, opts) {
      validateEksClusterName(clusterName);
      validateAssociationId(associationId);
      try {
        const out = await send<DescribePodIdentityAssociationCommandOutput>(
          'DescribePodIdentityAssociation',
          { cluster: clusterName, association: associationId },
          new DescribePodIdentityAssociationCommand({ clusterName, associationId }),
          opts,
        );
        return toAssociation(out.association, 'DescribePodIdentityAssociation');
      } catch (error) {
        if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
        throw error;
      }
    },

    async listAssociations(clusterName, filter = {}, opts) {
      validateEksClusterName(clusterName);
      const namespace =
        filter.namespace === undefined ? undefined : validateKubernetesNamespace(filter.namespace);
      const serviceAccount =
        filter.serviceAccount === undefined ? undefined : validateServiceAccountName(filter.serviceAccount);
      const result: PodIdentityAssociationSummary[] = [];
      let nextToken: string | undefined;
      do {
        const out = await send<ListPodIdentityAssociationsCommandOutput>(
          'ListPodIdentityAssociations',
          { cluster: clusterName },
          new ListPodIdentityAssociationsCommand({
            clusterName,
            ...(namespace === undefined ? {} : { namespace }),
            ...(serviceAccount === undefined ? {} : { serviceAccount }),
            ...(pageSize === undefined ? {} : { maxResults: pageSize }),
            ...(nextToken === undefined ? {} : { nextToken }),
          }),
          opts,
        );
        for (const a of out.associations ?? []) {
          if (!a.associationId || !a.associationArn || !a.clusterName || !a.namespace || !a.serviceAccount)
            continue;
          result.push({
            associationId: a.associationId,
            associationArn: a.associationArn,
            clusterName: a.clusterName,
            namespace: a.namespace,
            serviceAccount: a.serviceAccount,
            ...(a.ownerArn ? { ownerArn: a.ownerArn } : {}),
          });
        }
        nextToken = out.nextToken || undefined;
      } while (nextToken);
      return result;
    },

    async deleteAssociation(clusterName, associationId, opts) {
      validateEksClusterName(clusterName);
      validateAssociationId(associationId);
      await send(
        'DeletePodIdentityAssociation',
        { cluster: clusterName, association: associationId },
        new DeletePodIdentityAssociationCommand({ clusterName, associationId }),
        opts,
      );
    },
  } satisfies PodIdentityAssociationProvider;
}
