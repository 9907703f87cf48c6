/**
 * The capacity fallback policy from the config (gpu.fallback), priced from cost/prices: built once, used by
 * `ziggie gpu` and handed to the gpu-control Lambda as JSON (its FALLBACK_POLICY), so both try the same
 * alternatives in the same order. A type the price book lacks is priced unknown, never zero.
 */
import type { ZiggieConfig } from '../config/schema';
import { priceBook } from '../cost/prices';
import { GPU_NAMES } from '../shared/names';
import type { FallbackPolicy } from './fallback';

export function fallbackPolicy(config: Pick<ZiggieConfig, 'region' | 'gpu'>): FallbackPolicy {
  const book = priceBook(config.region);
  const onDemand = (type: string) => {
    const id = `ec2.on-demand.${type}`;
    return book.has(id) && !book.fallbackFrom ? book.price(id).usd : undefined;
  };
  const types = [config.gpu.instanceType, ...config.gpu.fallback.instanceTypes];
  return {
    otherZones: config.gpu.fallback.otherZones,
    instanceTypes: config.gpu.fallback.instanceTypes,
    allowOnDemand: config.gpu.fallback.allowOnDemand,
    spotLaunchTemplate: GPU_NAMES.instance,
    onDemandLaunchTemplate: `${GPU_NAMES.instance}-on-demand`,
    spotMaxUsdPerHour: config.gpu.spot.maxPriceUsdPerHour,
    onDemandUsdPerHour: Object.fromEntries(types.map((t) => [t, onDemand(t)])),
  };
}

/** The policy back from FALLBACK_POLICY, or undefined (no fallback) when unset; a malformed one is an error. */
export function parseFallbackPolicy(json: string | undefined): FallbackPolicy | undefined {
  if (!json) return undefined;
  const p = JSON.parse(json) as FallbackPolicy;
  if (typeof p.spotLaunchTemplate !== 'string' || !Array.isArray(p.instanceTypes) || typeof p.spotMaxUsdPerHour !== 'number') {
    throw new Error('FALLBACK_POLICY is not a fallback policy');
  }
  return p;
}
