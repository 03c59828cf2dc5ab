/**
 * `GET …/pods/<name>/log`: the API server's side of `kubectl logs`, with the lines supplied by whoever
 * plays the kubelet ({@link PodLogSource}; the fake runs no containers itself).
 *
 * What the API server does, and so the fake (read from kube-apiserver 1.32's pod log REST storage and
 * checked against a real one in `real-apiserver.test.ts`):
 * - the options are validated first: `tailLines` ≥ 0, `limitBytes` and `sinceSeconds` > 0 (422);
 * - the container is resolved: the only one, else the request must name one (400, listing them), and a
 *   named container must exist (400);
 * - a pod without `spec.nodeName` has no kubelet to ask: 204 No Content;
 * - otherwise the kubelet answers: here the source, or `container "<c>" in pod "<p>" is waiting to start:
 *   ContainerCreating` (400) when it has nothing for that container.
 *
 * @internal
 * @packageDocumentation
 */

import { badRequest, type FieldError, invalid } from './errors.js';
import { isObject, type JsonObject, str } from './json.js';

/** One line a container wrote, with the time it was written (for `timestamps=true`). @public */
export interface PodLogLine {
  readonly time: Date;
  readonly text: string;
}

/** What one container wrote, as its kubelet would serve it. @public */
export interface ContainerLog {
  /** The lines so far, oldest first (without line breaks). */
  readonly lines: readonly PodLogLine[];
  /**
   * Follows the container (`follow=true`): `onLine` for every new line, `onEnd` once the container has
   * stopped. Returns a function that stops following. Absent: the container is not running, and a
   * follow ends after the lines so far, as a kubelet's does.
   */
  follow?(onLine: (line: PodLogLine) => void, onEnd: () => void): () => void;
}

/** Which log a request asks for. @public */
export interface PodLogRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  /** `previous=true`: the container's previous run (before its last restart). */
  readonly previous: boolean;
}

/**
 * Supplies containers' logs to `GET …/pods/<name>/log`: the kubelet's part, played by the caller (the
 * local backend's agents serve their ExternalDNS processes' output this way). `undefined`: nothing for
 * that container (the request is answered as a kubelet answers a container that has not started).
 * @public
 */
export type PodLogSource = (request: PodLogRequest) => ContainerLog | undefined;

/** The validated `PodLogOptions` of a request. */
export interface PodLogOptions {
  readonly container: string | undefined;
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines: number | undefined;
  readonly limitBytes: number | undefined;
  readonly sinceSeconds: number | undefined;
}

function integer(query: Record<string, string>, name: string): number | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) {
    throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  return Number(value);
}

/** Parses and validates the query as the API server does (ParseInt errors 400, range errors 422). */
export function parsePodLogOptions(
  podName: string,
  query: Record<string, string>,
  parseBool: (value: string | undefined, name: string) => boolean | undefined,
): PodLogOptions {
  const options: PodLogOptions = {
    container: query.container === undefined || query.container === '' ? undefined : query.container,
    follow: parseBool(query.follow, 'follow') ?? false,
    previous: parseBool(query.previous, 'previous') ?? false,
    timestamps: parseBool(query.timestamps, 'timestamps') ?? false,
    tailLines: integer(query, 'tailLines'),
    limitBytes: integer(query, 'limitBytes'),
    sinceSeconds: integer(query, 'sinceSeconds'),
  };
  const causes: FieldError[] = [];
  if (options.tailLines !== undefined && options.tailLines < 0)
    causes.push({
      type: 'FieldValueInvalid',
      field: 'tailLines',
      value: options.tailLines,
      detail: 'must be greater than or equal to 0',
    });
  if (options.limitBytes !== undefined && options.limitBytes < 1)
    causes.push({
      type: 'FieldValueInvalid',
      field: 'limitBytes',
      value: options.limitBytes,
      detail: 'must be greater than 0',
    });
  if (options.sinceSeconds !== undefined && options.sinceSeconds < 1)
    causes.push({
      type: 'FieldValueInvalid',
      field: 'sinceSeconds',
      value: options.sinceSeconds,
      detail: 'must be greater than 0',
    });
  if (causes.length > 0) throw invalid('', 'PodLogOptions', podName, causes);
  return options;
}

/** The container a log request reads: the named one, or the pod's only one. */
export function resolveLogContainer(pod: JsonObject, podName: string, named: string | undefined): string {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const names = (Array.isArray(spec.containers) ? spec.containers : [])
    .map((c) => (isObject(c) ? str(c.name) : undefined))
    .filter((n): n is string => n !== undefined);
  const all = [
    ...(Array.isArray(spec.initContainers) ? spec.initContainers : []),
    ...(Array.isArray(spec.containers) ? spec.containers : []),
    ...(Array.isArray(spec.ephemeralContainers) ? spec.ephemeralContainers : []),
  ]
    .map((c) => (isObject(c) ? str(c.name) : undefined))
    .filter((n): n is string => n !== undefined);
  if (named !== undefined) {
    if (!all.includes(named)) throw badRequest(`container ${named} is not valid for pod ${podName}`);
    return named;
  }
  if (names.length === 1) return names[0] as string;
  if (names.length === 0) throw badRequest(`a container name must be specified for pod ${podName}`);
  throw badRequest(
    `a container name must be specified for pod ${podName}, choose one of: [${all.join(' ')}]`,
  );
}

/** One line as the kubelet writes it: RFC 3339 with nanoseconds when `timestamps=true`, then the text. */
export function formatLogLine(line: PodLogLine, timestamps: boolean): string {
  if (!timestamps) return `${line.text}\n`;
  const iso = line.time.toISOString(); // 2026-12-02T18:00:00.123Z
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z ${line.text}\n`;
}

/** The lines a request gets before any follow: after `sinceSeconds`, the last `tailLines`. */
export function selectLogLines(
  lines: readonly PodLogLine[],
  options: PodLogOptions,
  now: Date,
): readonly PodLogLine[] {
  const since = options.sinceSeconds === undefined ? undefined : now.getTime() - options.sinceSeconds * 1000;
  const recent = since === undefined ? lines : lines.filter((l) => l.time.getTime() >= since);
  return options.tailLines === undefined ? recent : recent.slice(recent.length - options.tailLines);
}
