/**
 * An HTTP fault-injection proxy for AWS API calls: put it between an AWS SDK client (or the AWS CLI)
 * and moto, and inject throttling, 5xx errors, latency and dropped connections per service and
 * operation, deterministically. Its request log counts API calls per operation.
 *
 * @packageDocumentation
 */

export type { AwsErrorPreset, AwsErrorSpec } from './aws-errors.js';
export { awsErrorPresets } from './aws-errors.js';
export type { AwsProtocol, AwsRequestIdentity, AwsRequestLike } from './identify.js';
export { identifyAwsRequest, route53OperationNames } from './identify.js';
export type {
  FaultProxy,
  FaultProxyLogEntry,
  FaultProxyLogFilter,
  FaultProxyOptions,
} from './proxy.js';
export { startFaultProxy } from './proxy.js';
export type { FaultAction, FaultRule } from './rules.js';
