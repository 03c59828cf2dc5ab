/**
 * EKS's input rules for Pod Identity associations, checked before anything is sent. Internal.
 *
 * @packageDocumentation
 */

import { describeValue, invalidInput } from '@zonekeeper/core';

const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const ASSOCIATION_ID = /^a-[0-9a-z]{1,64}$/;
const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/(?:[\u0021-\u007E]*\/)?[\w+=,.@-]{1,64}$/;
const TOKEN = /^[\u0021-\u007E]{1,64}$/;

/** Checks an EKS cluster name; returns it. @internal */
export function validateEksClusterName(value: unknown): string {
  if (typeof value !== 'string' || !CLUSTER_NAME.test(value)) {
    throw invalidInput(
      `EKS cluster name ${describeValue(value, { maxLength: 80 })} is invalid: 1–100 letters, digits, "-" and "_", beginning with a letter or digit (the name, not the ARN).`,
    );
  }
  return value;
}

/** Checks a Pod Identity association id (`a-…`); returns it. @internal */
export function validateAssociationId(value: unknown): string {
  if (typeof value !== 'string' || !ASSOCIATION_ID.test(value)) {
    throw invalidInput(
      `EKS Pod Identity association id ${describeValue(value, { maxLength: 80 })} is invalid: it looks like "a-abcdefghijklmnop1".`,
    );
  }
  return value;
}

/** Checks an IAM role ARN; returns it. @internal */
export function validateRoleArn(value: unknown): string {
  if (typeof value !== 'string' || !ROLE_ARN.test(value)) {
    throw invalidInput(
      `IAM role ARN ${describeValue(value, { maxLength: 80 })} is invalid: expected "arn:aws:iam::<12-digit account>:role/<path/>name".`,
    );
  }
  return value;
}

/** Checks an idempotency token; returns it. @internal */
export function validateClientRequestToken(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw invalidInput(
      `EKS client request token ${describeValue(value, { maxLength: 80 })} is invalid: 1–64 printable characters without spaces.`,
    );
  }
  return value;
}
