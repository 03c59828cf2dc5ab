/**
 * Gathering an identity's key state, and applying a {@link CredentialsPlan} under the organisation lock.
 *
 * Crash safety, step by step (the invariant: every IAM key is known to the store, or the next run
 * deletes it as unknown; the store's key is live in IAM):
 * - `issue-key`: IAM creates the key; the store is written at once with check-and-set. A crash in
 *   between leaves a key the store does not know: the next run's `delete-unknown-keys` removes it. A
 *   create whose answer was lost (a 5xx after IAM applied it, a dropped connection — never retried by
 *   the adapter) is recovered in the same run: the keys are listed again, the unknown one deleted, and
 *   the create tried once more. A store write that fails is read back: if the store holds the new key
 *   the run goes on with it; otherwise the new key is deleted from IAM and the error re-thrown.
 * - `publish-key`: the clusters get the key (server-side apply; an unchanged object is not written).
 * - `delete-previous-key` runs only after the new key is stored (recorded as previous) and published.
 * - `forget-previous-key` rewrites the record without the previous key.
 *
 * @internal
 * @packageDocumentation
 */

import {
  applySteps,
  type CallOptions,
  hasErrorCode,
  isRetryable,
  rethrowIfAborted,
  signalOnly,
  ZonekeeperError,
} from '@zonekeeper/core';
import type { AccessKey } from '@zonekeeper/iam-scoper';
import {
  type AccessKeyRef,
  readAccessKey,
  type StoredAccessKey,
  writeAccessKey,
} from '@zonekeeper/vault-keys';
import type { Context } from '../context.js';
import type { CredentialsPlan, CredentialsState } from './plan.js';

/** The gathered key state: the planner's facts, and the stored key itself (with its secret). @internal */
export interface GatheredCredentials {
  readonly facts: CredentialsState;
  /** Never logged, never returned. */
  readonly stored?: StoredAccessKey;
}

/**
 * Reads an identity's key state: the stored record, the user's IAM keys (`null` when the user does
 * not exist), and the clusters that use it.
 * @internal
 */
export async function gatherCredentials(
  ctx: Context,
  ref: AccessKeyRef,
  userName: string,
  userExists: boolean,
  consumers: readonly string[],
  call: CallOptions,
): Promise<GatheredCredentials> {
  const stored = await readAccessKey(ctx.ports.secrets, ref, { ...ctx.layout, ...call });
  const iamKeys = userExists
    ? (await ctx.ports.identity.listAccessKeys(userName, call)).map((k) => k.accessKeyId)
    : null;
  return {
    facts: {
      userName,
      ...(stored
        ? {
            stored: {
              userName: stored.userName,
              accessKeyId: stored.accessKeyId,
              version: stored.version,
              ...(stored.previousAccessKeyId ? { previousAccessKeyId: stored.previousAccessKeyId } : {}),
            },
          }
        : {}),
      iamKeys,
      consumers: [...consumers],
    },
    ...(stored ? { stored } : {}),
  };
}

/** Publishes a key to clusters (the clusters module renders and applies their ExternalDNS). @internal */
export type PublishKey = (
  clusterIds: readonly string[],
  key: StoredAccessKey,
  call: CallOptions,
) => Promise<void>;

async function deleteKey(
  ctx: Context,
  userName: string,
  accessKeyId: string,
  call: CallOptions,
): Promise<void> {
  try {
    await ctx.ports.identity.deleteAccessKey(userName, accessKeyId, call);
  } catch (error) {
    if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
  }
}

/**
 * Creates a key. When the answer is lost (the adapter never retries a create IAM may have applied),
 * lists the keys again, deletes the one the store does not know, and tries once more.
 */
async function createKey(
  ctx: Context,
  userName: string,
  known: ReadonlySet<string>,
  call: CallOptions,
): Promise<AccessKey> {
  try {
    return await ctx.ports.identity.createAccessKey(userName, call);
  } catch (error) {
    rethrowIfAborted(call.signal);
    if (!isRetryable(error) || hasErrorCode(error, 'THROTTLED')) throw error;
    ctx.logger.warn(
      `zonekeeper: creating an access key for ${userName} failed without an answer (${(error as Error).message}); looking for a key it may have created.`,
    );
    const keys = await ctx.ports.identity.listAccessKeys(userName, call);
    for (const k of keys) {
      if (known.has(k.accessKeyId)) continue;
      await deleteKey(ctx, userName, k.accessKeyId, call);
      ctx.logger.warn(
        `zonekeeper: deleted access key ${k.accessKeyId} of ${userName}, created by the failed attempt.`,
      );
    }
    return ctx.ports.identity.createAccessKey(userName, call);
  }
}

/**
 * Executes a credentials plan exactly as planned and returns the key the store holds afterwards.
 * @internal
 */
export async function applyCredentialsPlan(
  ctx: Context,
  plan: CredentialsPlan,
  ref: AccessKeyRef,
  gathered: GatheredCredentials,
  publish: PublishKey,
  options: CallOptions,
): Promise<StoredAccessKey | undefined> {
  const call = signalOnly(options);
  const store = ctx.ports.secrets;
  const at = { ...ctx.layout, ...call };
  let record: StoredAccessKey | undefined = gathered.stored;
  let issued: StoredAccessKey | undefined;
  const known = new Set<string>(gathered.facts.iamKeys ?? []);

  await applySteps(
    plan.steps,
    async (step) => {
      switch (step.op) {
        case 'delete-unknown-keys':
          for (const id of step.accessKeyIds) {
            await deleteKey(ctx, step.userName, id, call);
            known.delete(id);
          }
          ctx.logger.warn(
            `zonekeeper: deleted access key(s) of ${step.userName} the store did not know: ${step.accessKeyIds.join(', ')}.`,
          );
          return;
        case 'issue-key': {
          const key = await createKey(ctx, step.userName, known, call);
          const toStore = {
            userName: step.userName,
            accessKeyId: key.accessKeyId,
            secretAccessKey: key.secretAccessKey,
            createdAt: key.createdAt,
            ...(step.previousAccessKeyId ? { previousAccessKeyId: step.previousAccessKeyId } : {}),
          };
          try {
            const { version } = await writeAccessKey(store, ref, toStore, {
              ...at,
              cas: record?.version ?? 0,
            });
            record = { ...toStore, version };
          } catch (error) {
            rethrowIfAborted(call.signal);
            let now: StoredAccessKey | undefined;
            try {
              now = await readAccessKey(store, ref, at);
            } catch {
              throw error; // the store is unreachable: the next run deletes the key as unknown
            }
            if (now?.accessKeyId !== key.accessKeyId) {
              await deleteKey(ctx, step.userName, key.accessKeyId, {}).catch(() => undefined);
              throw error;
            }
            record = now;
          }
          known.add(key.accessKeyId);
          issued = record;
          ctx.logger.info(
            `zonekeeper: issued access key ${key.accessKeyId} for ${step.userName} (${step.reason}).`,
          );
          return;
        }
        case 'publish-key': {
          const key = step.accessKeyId === null ? issued : record;
          if (!key || (step.accessKeyId !== null && key.accessKeyId !== step.accessKeyId))
            throw new ZonekeeperError(
              'INTERNAL',
              `zonekeeper: the key to publish for ${step.userName} is not the one planned; run again.`,
            );
          await publish(step.clusterIds, key, call);
          return;
        }
        case 'delete-previous-key':
          await deleteKey(ctx, step.userName, step.accessKeyId, call);
          known.delete(step.accessKeyId);
          ctx.logger.info(
            `zonekeeper: deleted the previous access key ${step.accessKeyId} of ${step.userName}.`,
          );
          return;
        case 'forget-previous-key': {
          if (!record) return;
          const { previousAccessKeyId: _forgotten, version, ...rest } = record;
          const written = await writeAccessKey(store, ref, rest, { ...at, cas: version });
          record = { ...rest, version: written.version };
          return;
        }
      }
    },
    { ...call, logger: ctx.logger },
  );
  return record;
}
