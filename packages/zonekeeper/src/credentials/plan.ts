/**
 * The pure planner of an identity's access key: from what the store holds (without the secret) and the
 * keys IAM has, the steps that leave exactly one key — live in IAM, held by the store, on every
 * attached cluster that uses the identity. One algorithm for issuing, repairing, resuming and rotating:
 *
 * ```
 *  state (under the organisation lock)                      steps
 *  ───────────────────────────────────────────────────────  ─────────────────────────────────────────────
 *  IAM keys the store does not know (leaks of a crash or    delete-unknown-keys        (first: IAM allows 2)
 *    of a create whose answer was lost)
 *  stored key live, a previous one recorded (a rotation     publish-key (its clusters), delete-previous-key
 *    stopped half-way; with rotate, finishing it is the       (if still live), forget-previous-key
 *    rotation)
 *  no stored key, or the stored one gone from IAM           issue-key (keeping a still-live previous key
 *                                                             until the clusters have the new one),
 *                                                             publish-key, delete-previous-key, forget…
 *  rotate                                                   issue-key (previous: the stored key),
 *                                                             publish-key, delete-previous-key,
 *                                                             forget-previous-key
 *  stored key live, nothing recorded (converged)            —
 * ```
 *
 * Under the lock a key the store does not know is never a concurrent run's fresh key (no other run is
 * writing), so deleting it is safe; the store's key is never deleted except as the previous key of a
 * rotation whose new key is stored and published.
 *
 * @internal
 * @packageDocumentation
 */

/** The stored key record, without its secret. @public */
export interface StoredKeyFacts {
  readonly userName: string;
  readonly accessKeyId: string;
  readonly previousAccessKeyId?: string;
  readonly version: number;
}

/** What {@link planCredentials} needs. JSON data, secret-free. @public */
export interface CredentialsState {
  readonly userName: string;
  /** The key record in the store, if any (for this user name). */
  readonly stored?: StoredKeyFacts;
  /** The user's access key ids in IAM; `null` when the user does not exist yet (the plan creates it). */
  readonly iamKeys: readonly string[] | null;
  /** The attached clusters that run this identity's key. */
  readonly consumers: readonly string[];
}

/** Why a key is issued. @public */
export type IssueKeyReason = 'missing' | 'not-in-iam' | 'rotation';

/** A step of {@link planCredentials}. @public */
export type CredentialStep =
  | {
      readonly op: 'delete-unknown-keys';
      readonly userName: string;
      readonly accessKeyIds: readonly string[];
    }
  | {
      readonly op: 'issue-key';
      readonly userName: string;
      readonly reason: IssueKeyReason;
      /** Recorded with the new key until the clusters have it (`null`: none). */
      readonly previousAccessKeyId: string | null;
    }
  | {
      readonly op: 'publish-key';
      readonly userName: string;
      readonly clusterIds: readonly string[];
      /** The key to publish; `null`: the one this plan's `issue-key` creates. */
      readonly accessKeyId: string | null;
    }
  | { readonly op: 'delete-previous-key'; readonly userName: string; readonly accessKeyId: string }
  | { readonly op: 'forget-previous-key'; readonly userName: string; readonly accessKeyId: string };

/** A plan of {@link planCredentials}. @public */
export interface CredentialsPlan {
  readonly steps: readonly CredentialStep[];
}

/** `ensure` converges; `rotate` also replaces a healthy key. @public */
export type CredentialIntent = 'ensure' | 'rotate';

/**
 * Plans an identity's key. Pure: the same state and intent give the same plan, and with `ensure`,
 * planning the state a successful apply leaves gives an empty plan.
 * @public
 */
export function planCredentials(state: CredentialsState, intent: CredentialIntent): CredentialsPlan {
  const { userName } = state;
  const live = new Set(state.iamKeys ?? []);
  const stored = state.stored?.userName === userName ? state.stored : undefined;
  const current = stored && live.has(stored.accessKeyId) ? stored.accessKeyId : null;
  const recordedPrevious = stored?.previousAccessKeyId ?? null;
  const previous = recordedPrevious && live.has(recordedPrevious) ? recordedPrevious : null;
  const consumers = [...state.consumers].sort();
  const steps: CredentialStep[] = [];

  const unknown = [...live].filter((id) => id !== current && id !== previous).sort();
  if (unknown.length > 0) steps.push({ op: 'delete-unknown-keys', userName, accessKeyIds: unknown });

  const publish = (accessKeyId: string | null) => {
    if (consumers.length > 0) steps.push({ op: 'publish-key', userName, clusterIds: consumers, accessKeyId });
  };
  const retire = (accessKeyId: string, live: boolean) => {
    if (live) steps.push({ op: 'delete-previous-key', userName, accessKeyId });
    steps.push({ op: 'forget-previous-key', userName, accessKeyId });
  };

  if (current !== null) {
    if (recordedPrevious !== null) {
      // A rotation stored its new key and stopped: whether every cluster has it is unknown, so publish
      // again (applying an unchanged object changes nothing), then retire the previous key. Finishing it
      // is the rotation: the stored key is the new one.
      if (previous !== null) publish(current);
      retire(recordedPrevious, previous !== null);
      return { steps };
    }
    if (intent === 'rotate') {
      steps.push({ op: 'issue-key', userName, reason: 'rotation', previousAccessKeyId: current });
      publish(null);
      retire(current, true);
    }
    return { steps };
  }

  steps.push({
    op: 'issue-key',
    userName,
    reason: stored ? 'not-in-iam' : 'missing',
    previousAccessKeyId: previous,
  });
  publish(null);
  if (previous !== null) retire(previous, true);
  return { steps };
}

/** The state a successful apply of `plan` leaves (for properties and tests): one key, nothing recorded. @public */
export function credentialsStateAfter(
  state: CredentialsState,
  plan: CredentialsPlan,
  issuedAccessKeyId: string,
): CredentialsState {
  const issues = plan.steps.some((s) => s.op === 'issue-key');
  const stored = state.stored?.userName === state.userName ? state.stored : undefined;
  const keyId = issues ? issuedAccessKeyId : (stored?.accessKeyId ?? issuedAccessKeyId);
  return {
    ...state,
    stored: { userName: state.userName, accessKeyId: keyId, version: (stored?.version ?? 0) + 1 },
    iamKeys: [keyId],
  };
}
