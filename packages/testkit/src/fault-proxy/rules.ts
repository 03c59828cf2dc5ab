/**
 * Fault rules: which requests get which fault, with seeded probabilities and firing limits.
 *
 * @packageDocumentation
 */

import { invalidInput } from '@zonekeeper/core';
import { type AwsErrorPreset, type AwsErrorSpec, awsErrorPresets } from './aws-errors.js';
import type { AwsRequestIdentity } from './identify.js';

/**
 * A fault the proxy injects:
 * - `error`: answer with an AWS-shaped error in the request's protocol. `status` defaults to the
 *   preset's (or 400 for a custom code), `message` to the preset's (or the code). With `when: 'before'`
 *   (the default) the request is not forwarded; with `when: 'after'` it is forwarded, the target applies
 *   it, and its answer is replaced by the error (a 5xx after the side effect: the client cannot tell it
 *   from a failure before).
 * - `latency`: wait `ms` milliseconds, then forward normally; with `maxMs`, a wait drawn for each
 *   request uniformly from `ms` to `maxMs` (whole milliseconds, from the proxy's seeded PRNG), as a real
 *   endpoint's latency varies.
 * - `drop` `before`: read the request, then destroy the client connection; the target never sees it.
 * - `drop` `after`: forward, let the target apply it, then destroy the client connection without a
 *   response (a crash after a side effect).
 * @public
 */
export type FaultAction =
  | {
      readonly kind: 'error';
      readonly code: AwsErrorPreset | (string & {});
      readonly status?: number;
      readonly message?: string;
      /** Before forwarding (default) or after the target applied the request. */
      readonly when?: 'before' | 'after';
    }
  | {
      readonly kind: 'latency';
      /** The wait, or its shortest with `maxMs`. */
      readonly ms: number;
      /** The longest wait: each request waits a uniformly drawn time from `ms` to `maxMs`. */
      readonly maxMs?: number;
    }
  | { readonly kind: 'drop'; readonly when: 'before' | 'after' };

/**
 * When and how to inject a fault. A rule matches a request if its `service` and `operation` match
 * (a missing matcher matches everything). Rules are tried in order; the first one that matches, is not
 * exhausted and passes its probability draw fires, and only that one.
 * @public
 */
export interface FaultRule {
  /** SigV4 service name (`'route53'`, `'iam'`, `'sts'`), exact string or RegExp. Default: any. */
  readonly service?: string | RegExp;
  /** Operation name (`'CreateHostedZone'`, `'CreateUser'`), exact string or RegExp. Default: any. */
  readonly operation?: string | RegExp;
  /**
   * Chance (0–1) that a matching request gets the fault, drawn from the proxy's seeded PRNG, so the
   * same seed and the same request sequence give the same faults. Default 1. (A latency range draws
   * from the same PRNG.)
   */
  readonly probability?: number;
  /** Fire for at most this many matching requests, then never again (until `setRules`). Default: unlimited. */
  readonly times?: number;
  /** The fault, or an error preset name as shorthand for `{ kind: 'error', code: preset }`. */
  readonly fault: FaultAction | AwsErrorPreset;
  /** A name for the log's `rule` field. Default: the rule's index. */
  readonly label?: string;
}

/**
 * A fault chosen for one request.
 * @internal
 */
export type ResolvedFault =
  | { readonly kind: 'error'; readonly error: AwsErrorSpec; readonly when: 'before' | 'after' }
  | { readonly kind: 'latency'; readonly ms: number; readonly maxMs?: number }
  | { readonly kind: 'drop'; readonly when: 'before' | 'after' };

/** @internal */
export interface Decision {
  readonly fault: ResolvedFault;
  /** The rule's label, or its index. */
  readonly rule: string | number;
}

/**
 * Short text for the log: `error:Throttling`, `error-after:ServiceUnavailable`, `latency:200`,
 * `drop:before`, `drop:after`.
 * @internal
 */
export function describeFault(fault: ResolvedFault): string {
  switch (fault.kind) {
    case 'error':
      return `${fault.when === 'after' ? 'error-after' : 'error'}:${fault.error.code}`;
    case 'latency':
      return `latency:${fault.ms}`;
    case 'drop':
      return `drop:${fault.when}`;
  }
}

/**
 * A small deterministic PRNG (mulberry32): uniform floats in [0, 1) from a 32-bit state.
 * @internal
 */
export function createPrng(seed: number | string): () => number {
  let state = seedToUint32(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function seedToUint32(seed: number | string): number {
  if (typeof seed === 'number') return seed >>> 0;
  // FNV-1a over UTF-16 code units.
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function matches(matcher: string | RegExp | undefined, value: string): boolean {
  if (matcher === undefined) return true;
  if (typeof matcher === 'string') return matcher === value;
  matcher.lastIndex = 0; // a /g or /y RegExp is stateful
  return matcher.test(value);
}

function resolve(fault: FaultAction | AwsErrorPreset, index: number): ResolvedFault {
  const where = `fault-proxy: rule ${index}`;
  const action: FaultAction = typeof fault === 'string' ? { kind: 'error', code: fault } : fault;
  switch (action.kind) {
    case 'error': {
      if (typeof action.code !== 'string' || !/^[A-Za-z][\w.:-]*$/.test(action.code)) {
        throw invalidInput(`${where}: error code must be an AWS error code such as "Throttling".`, { index });
      }
      const preset = Object.hasOwn(awsErrorPresets, action.code)
        ? awsErrorPresets[action.code as AwsErrorPreset]
        : undefined;
      const status = action.status ?? preset?.status ?? 400;
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        throw invalidInput(
          `${where}: error status must be an integer from 400 to 599, got ${String(status)}.`,
          {
            index,
          },
        );
      }
      const when = action.when ?? 'before';
      if (when !== 'before' && when !== 'after') {
        throw invalidInput(`${where}: error.when must be 'before' or 'after'.`, { index });
      }
      return {
        kind: 'error',
        when,
        error: { code: action.code, status, message: action.message ?? preset?.message ?? action.code },
      };
    }
    case 'latency':
      if (!(Number.isFinite(action.ms) && action.ms >= 0)) {
        throw invalidInput(`${where}: latency ms must be a non-negative number, got ${String(action.ms)}.`, {
          index,
        });
      }
      if (
        action.maxMs !== undefined &&
        !(Number.isFinite(action.maxMs) && typeof action.maxMs === 'number' && action.maxMs >= action.ms)
      ) {
        throw invalidInput(
          `${where}: latency maxMs must be a number at least ms (${String(action.ms)}), got ${String(action.maxMs)}.`,
          { index },
        );
      }
      return action.maxMs === undefined
        ? { kind: 'latency', ms: action.ms }
        : { kind: 'latency', ms: action.ms, maxMs: action.maxMs };
    case 'drop':
      if (action.when !== 'before' && action.when !== 'after') {
        throw invalidInput(`${where}: drop.when must be 'before' or 'after'.`, { index });
      }
      return { kind: 'drop', when: action.when };
    default:
      throw invalidInput(`${where}: fault.kind must be 'error', 'latency' or 'drop', or a preset name.`, {
        index,
      });
  }
}

interface CompiledRule {
  readonly rule: FaultRule;
  readonly fault: ResolvedFault;
  readonly id: string | number;
  remaining: number;
}

/**
 * Validates rules and decides, request by request, which fault (if any) to inject.
 * @internal
 */
export class RuleEngine {
  private rules: CompiledRule[] = [];
  private random: () => number;

  constructor(rules: readonly FaultRule[], seed: number | string) {
    this.random = createPrng(seed);
    this.setRules(rules);
  }

  /** Replaces the rules (resetting `times` counters) and optionally re-seeds the PRNG. */
  setRules(rules: readonly FaultRule[], seed?: number | string): void {
    if (!Array.isArray(rules)) throw invalidInput('fault-proxy: rules must be an array.');
    const compiled = rules.map((rule, index): CompiledRule => {
      const where = `fault-proxy: rule ${index}`;
      const { probability = 1, times } = rule;
      if (!(probability >= 0 && probability <= 1)) {
        throw invalidInput(`${where}: probability must be between 0 and 1, got ${String(probability)}.`, {
          index,
        });
      }
      if (times !== undefined && !(Number.isInteger(times) && times >= 0)) {
        throw invalidInput(`${where}: times must be a non-negative integer, got ${String(times)}.`, {
          index,
        });
      }
      for (const key of ['service', 'operation'] as const) {
        const m = rule[key];
        if (m !== undefined && typeof m !== 'string' && !(m instanceof RegExp)) {
          throw invalidInput(`${where}: ${key} must be a string or a RegExp.`, { index });
        }
      }
      return {
        rule,
        fault: resolve(rule.fault, index),
        id: rule.label ?? index,
        remaining: times ?? Infinity,
      };
    });
    this.rules = compiled;
    if (seed !== undefined) this.random = createPrng(seed);
  }

  /**
   * The fault for a request, or `undefined` to forward it untouched. Draws from the PRNG only for
   * matching, non-exhausted rules with `probability < 1`, so unrelated traffic does not shift the
   * sequence.
   */
  decide(identity: AwsRequestIdentity): Decision | undefined {
    for (const compiled of this.rules) {
      const { rule } = compiled;
      if (compiled.remaining <= 0) continue;
      if (!matches(rule.service, identity.service) || !matches(rule.operation, identity.operation)) continue;
      const probability = rule.probability ?? 1;
      if (probability < 1 && !(this.random() < probability)) continue;
      compiled.remaining -= 1;
      const fault = compiled.fault;
      if (fault.kind === 'latency' && fault.maxMs !== undefined)
        return {
          fault: { kind: 'latency', ms: Math.round(fault.ms + this.random() * (fault.maxMs - fault.ms)) },
          rule: compiled.id,
        };
      return { fault, rule: compiled.id };
    }
    return undefined;
  }
}
