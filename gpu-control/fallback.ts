/**
 * Capacity fallback: when the GPU cannot start for lack of Spot capacity, launch a stand-in GPU from the same
 * image, trying the configured alternatives in order — the other subnets (zones) of the GPU's VPC, then the other
 * instance types from the config, then, only if the config allows it, on-demand — and say which one it took and
 * what it costs.
 *
 * Why a new instance: the GPU is a persistent Spot instance that is stopped and started; a stopped instance cannot
 * move to another zone, and a stopped Spot instance cannot change its type. The stand-in is launched from the GPU
 * stack's launch template (the on-demand one for on-demand), so it is the same ComfyUI image with the same role and
 * worker: jobs in the queue run on it unchanged. It terminates when it powers itself off (the watchdog's idle stop)
 * and `stop` terminates it, so it never lingers; it is tagged with what it is and its hourly price, which `status`
 * reports.
 */
import {
  DescribeInstancesCommand, DescribeSubnetsCommand, RunInstancesCommand, TerminateInstancesCommand,
  type EC2Client, type Instance, type _InstanceType,
} from '@aws-sdk/client-ec2';
import { awsErrorCode } from '../shared/aws-errors';

type Ec2Like = Pick<EC2Client, 'send'>;

/** The errors that mean "no Spot capacity for this type here, now" — the ones an alternative can get round. */
export const FALLBACK_ERRORS: readonly string[] = ['InsufficientInstanceCapacity', 'SpotMaxPriceTooLow', 'MaxSpotInstanceCountExceeded'];

/** Tags on a stand-in: which GPU it stands in for, and its price (so `status` can say what it costs). */
export const FALLBACK_TAGS = { standsInFor: 'ziggie:fallback-for', usdPerHour: 'ziggie:fallback-usd-per-hour', market: 'ziggie:fallback-market' } as const;

export interface FallbackPolicy {
  /** Try the other subnets (availability zones) of the GPU's VPC. */
  otherZones: boolean;
  /** Other instance types, in order of preference. */
  instanceTypes: string[];
  /** Only then on-demand. */
  allowOnDemand: boolean;
  /** The launch templates: the GPU's (Spot) and its on-demand twin. */
  spotLaunchTemplate: string;
  onDemandLaunchTemplate: string;
  /** The Spot max price (gpu.spot.maxPriceUsdPerHour): a Spot stand-in never pays more. */
  spotMaxUsdPerHour: number;
  /** On-demand rates by instance type (cost/prices); a type without one is priced "unknown", never zero. */
  onDemandUsdPerHour: Record<string, number | undefined>;
}

export interface Candidate {
  subnetId: string;
  availabilityZone: string;
  instanceType: string;
  market: 'spot' | 'on-demand';
}

export interface FallbackChoice extends Candidate {
  instanceId: string;
  /** What it costs per hour, or undefined when unknown (no Spot price history, no on-demand rate). */
  usdPerHour?: number;
  priceSource: 'spot-price' | 'spot-max-price' | 'on-demand' | 'unknown';
  /** Every alternative tried before it, with the error it got. */
  tried: Array<Candidate & { error: string }>;
}

export interface FallbackOutcome {
  choice?: FallbackChoice;
  tried: Array<Candidate & { error: string }>;
}

/**
 * The alternatives, in order: the primary type on Spot in each other zone; each other type on Spot in every zone
 * (the primary's first); then, if allowed, every type on-demand in every zone. Pure.
 */
export function fallbackCandidates(primary: { subnetId: string; availabilityZone: string; instanceType: string },
  subnets: Array<{ subnetId: string; availabilityZone: string }>, policy: FallbackPolicy): Candidate[] {
  const others = subnets.filter((s) => s.subnetId !== primary.subnetId).sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone));
  const zones = [{ subnetId: primary.subnetId, availabilityZone: primary.availabilityZone }, ...(policy.otherZones ? others : [])];
  const types = policy.instanceTypes.filter((t) => t !== primary.instanceType);
  const out: Candidate[] = [];
  if (policy.otherZones) for (const z of others) out.push({ ...z, instanceType: primary.instanceType, market: 'spot' });
  for (const t of types) for (const z of zones) out.push({ ...z, instanceType: t, market: 'spot' });
  if (policy.allowOnDemand) {
    for (const t of [primary.instanceType, ...types]) for (const z of zones) out.push({ ...z, instanceType: t, market: 'on-demand' });
  }
  return out;
}

/** The hourly price of a candidate: the latest Spot price in its zone (capped by the max price), or on-demand. */
export async function candidatePrice(ec2: Ec2Like, c: Candidate, policy: FallbackPolicy,
  spotPrice: (type: string, az: string) => Promise<number | undefined>): Promise<Pick<FallbackChoice, 'usdPerHour' | 'priceSource'>> {
  if (c.market === 'on-demand') {
    const rate = policy.onDemandUsdPerHour[c.instanceType];
    return rate === undefined ? { priceSource: 'unknown' } : { usdPerHour: rate, priceSource: 'on-demand' };
  }
  const spot = await spotPrice(c.instanceType, c.availabilityZone).catch(() => undefined);
  if (spot !== undefined) return { usdPerHour: Math.min(spot, policy.spotMaxUsdPerHour), priceSource: 'spot-price' };
  return { usdPerHour: policy.spotMaxUsdPerHour, priceSource: 'spot-max-price' };
}

/** Launch the first alternative EC2 accepts. Errors other than capacity ones stop the search (and are thrown). */
export async function launchFallback(ec2: Ec2Like, primary: Instance, policy: FallbackPolicy,
  spotPrice: (type: string, az: string) => Promise<number | undefined>): Promise<FallbackOutcome> {
  const primaryNic = primary.NetworkInterfaces?.[0];
  const subnetId = primary.SubnetId ?? primaryNic?.SubnetId;
  if (!subnetId || !primary.VpcId) throw new Error(`${primary.InstanceId} has no subnet/VPC to fall back from`);
  const groups = (primaryNic?.Groups ?? primary.SecurityGroups ?? []).map((g) => g.GroupId!).filter(Boolean);
  const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [primary.VpcId] }] }))).Subnets ?? [];
  const candidates = fallbackCandidates(
    { subnetId, availabilityZone: primary.Placement?.AvailabilityZone ?? '', instanceType: primary.InstanceType ?? '' },
    subnets.map((s) => ({ subnetId: s.SubnetId!, availabilityZone: s.AvailabilityZone ?? '' })),
    policy,
  );
  const tried: FallbackOutcome['tried'] = [];
  for (const c of candidates) {
    const price = await candidatePrice(ec2, c, policy, spotPrice);
    try {
      const out = await ec2.send(new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        LaunchTemplate: { LaunchTemplateName: c.market === 'spot' ? policy.spotLaunchTemplate : policy.onDemandLaunchTemplate, Version: '$Latest' },
        InstanceType: c.instanceType as _InstanceType,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: c.subnetId, Groups: groups, AssociatePublicIpAddress: true, DeleteOnTermination: true }],
        // A stand-in is temporary: a one-time Spot request, and its own poweroff (the watchdog) terminates it.
        ...(c.market === 'spot' ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: {
          SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate', MaxPrice: policy.spotMaxUsdPerHour.toFixed(4) } } } : {}),
        InstanceInitiatedShutdownBehavior: 'terminate',
        TagSpecifications: [{ ResourceType: 'instance', Tags: [
          { Key: FALLBACK_TAGS.standsInFor, Value: primary.InstanceId! },
          { Key: FALLBACK_TAGS.market, Value: c.market },
          { Key: FALLBACK_TAGS.usdPerHour, Value: price.usdPerHour === undefined ? 'unknown' : String(price.usdPerHour) },
        ] }],
      } as never));
      const instanceId = out.Instances?.[0]?.InstanceId;
      if (!instanceId) throw new Error('RunInstances returned no instance');
      return { choice: { ...c, ...price, instanceId, tried: [...tried] }, tried };
    } catch (err) {
      const code = awsErrorCode(err);
      if (!code || !(FALLBACK_ERRORS.includes(code) || code === 'Unsupported' || code === 'InsufficientCapacity')) throw err;
      tried.push({ ...c, error: code });
    }
  }
  return { tried };
}

/** A stand-in running (or starting) for the primary, if any. */
export async function findStandIn(ec2: Ec2Like, primaryId: string): Promise<Instance | undefined> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [
    { Name: `tag:${FALLBACK_TAGS.standsInFor}`, Values: [primaryId] },
    { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping'] },
  ] }));
  return out.Reservations?.flatMap((r) => r.Instances ?? [])
    .find((i) => i.Tags?.some((t) => t.Key === FALLBACK_TAGS.standsInFor && t.Value === primaryId));
}

export async function terminateStandIn(ec2: Ec2Like, instanceId: string): Promise<void> {
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
}

/** What a stand-in is and costs, from its tags. */
export function standInInfo(instance: Instance): { market?: string; usdPerHour?: number } {
  const tag = (k: string) => instance.Tags?.find((t) => t.Key === k)?.Value;
  const price = tag(FALLBACK_TAGS.usdPerHour);
  return { market: tag(FALLBACK_TAGS.market), usdPerHour: price && price !== 'unknown' ? Number(price) : undefined };
}
