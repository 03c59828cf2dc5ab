/**
 * One traced collection: `collectGarbage` inside its span and `operation` event, its decisions reported
 * to the span and the `decision` hook. The facade method and every pass of the collector loop run it.
 *
 * @internal
 * @packageDocumentation
 */

import type { EnsureOptions } from '@zonekeeper/core';
import type { Context } from '../context.js';
import type { CollectionResult } from '../results.js';
import { traced } from '../telemetry/telemetry.js';
import { collectGarbage } from './collect.js';

/** {@link collectGarbage}, traced; `trigger` tells a facade call from a pass of the loop. @internal */
export function collectionPass(
  ctx: Context,
  options: EnsureOptions & { readonly now?: Date } = {},
  trigger: 'call' | 'loop' = 'call',
): Promise<CollectionResult> {
  return traced(ctx, 'collectGarbage', { dryRun: options?.dryRun, trigger }, async () => {
    const result = await collectGarbage(ctx, options);
    ctx.telemetry.collection(result);
    return result;
  });
}
