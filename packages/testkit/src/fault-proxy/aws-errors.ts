/**
 * AWS-shaped error responses in the protocol of the request they answer.
 *
 * @packageDocumentation
 */

import { randomUUID } from 'node:crypto';
import type { AwsRequestIdentity } from './identify.js';

/**
 * The error presets, with the status and message AWS uses for them.
 * @public
 */
export const awsErrorPresets = {
  /** Rate limit (Route 53, IAM, STS): HTTP 400. */
  Throttling: { status: 400, message: 'Rate exceeded' },
  /** Route 53: a change to the same zone is still being processed. HTTP 400. */
  PriorRequestNotComplete: {
    status: 400,
    message: 'The request was rejected because Route 53 was still processing a prior request.',
  },
  /** Temporary failure of the service: HTTP 503. */
  ServiceUnavailable: { status: 503, message: 'Service is unavailable. Please retry the request later.' },
  /** Unknown server-side failure: HTTP 500. */
  InternalFailure: {
    status: 500,
    message: 'The request processing has failed because of an unknown error, exception or failure.',
  },
} as const satisfies Readonly<Record<string, { readonly status: number; readonly message: string }>>;

/** One of the names in {@link awsErrorPresets}. @public */
export type AwsErrorPreset = keyof typeof awsErrorPresets;

/**
 * An error to send instead of forwarding the request.
 * @public
 */
export interface AwsErrorSpec {
  /** The AWS error code (`Throttling`, `NoSuchHostedZone`, …). */
  readonly code: string;
  /** HTTP status (400–599). */
  readonly status: number;
  /** The error message. */
  readonly message: string;
}

/**
 * An HTTP response ready to send.
 * @internal
 */
export interface RenderedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const namespaceByService: Readonly<Record<string, string>> = {
  route53: 'https://route53.amazonaws.com/doc/2013-04-01/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
};

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) =>
    c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === "'" ? '&apos;' : '&quot;',
  );
}

/** The XML namespace of the error document for this request, if one is known. */
function namespaceFor(identity: AwsRequestIdentity): string | undefined {
  const known = namespaceByService[identity.service];
  if (known !== undefined) return known;
  if (identity.protocol === 'query' && identity.service !== 'unknown' && identity.apiVersion !== undefined) {
    return `https://${identity.service}.amazonaws.com/doc/${identity.apiVersion}/`;
  }
  return undefined;
}

/**
 * Renders `error` the way AWS would answer this request: REST-XML and Query services get
 * `<ErrorResponse xmlns="…"><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/></ErrorResponse>`,
 * JSON services get `{"__type": code, "message": …}`. `Type` is `Receiver` for 5xx, `Sender` otherwise.
 * @internal
 */
export function renderAwsError(identity: AwsRequestIdentity, error: AwsErrorSpec): RenderedResponse {
  const requestId = randomUUID();
  if (identity.protocol === 'json') {
    return {
      status: error.status,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': error.code,
      },
      body: JSON.stringify({ __type: error.code, message: error.message }),
    };
  }
  const namespace = namespaceFor(identity);
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<ErrorResponse${namespace === undefined ? '' : ` xmlns="${namespace}"`}>` +
    `<Error><Type>${type}</Type><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body,
  };
}
