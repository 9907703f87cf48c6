/**
 * Every capability the control plane offers. Adding one: a file in control/capabilities/, one line here, and a
 * grant in the config (`agents.<name>.capabilities`). The HTTP routes, MCP tools and OpenAPI document follow.
 */
import type { ZiggieConfig } from '../config/schema';
import type { AnyCapability } from './capability';
import { awsBedrockInvoke } from './capabilities/aws-bedrock-invoke';
import { cloudCostDaily } from './capabilities/cloud-cost-daily';
import { cloudCosts } from './capabilities/cloud-costs';
import { cloudDeploy } from './capabilities/cloud-deploy';
import { cloudGpuHours } from './capabilities/cloud-gpu-hours';
import { cloudRollback } from './capabilities/cloud-rollback';
import { cloudStartInstance } from './capabilities/cloud-start-instance';
import { cloudStatus } from './capabilities/cloud-status';
import { cloudStopInstance } from './capabilities/cloud-stop-instance';
import { health } from './capabilities/health';
import type { IamNeeds } from '../shared/iam-needs';
import { capabilityNeeds } from './iam';

export const CAPABILITIES: readonly AnyCapability[] = [
  cloudStatus, cloudStartInstance, cloudStopInstance, cloudDeploy, cloudRollback, cloudCosts, cloudCostDaily, cloudGpuHours, health, awsBedrockInvoke,
] as unknown as AnyCapability[];

export class Registry {
  private readonly byName: Map<string, AnyCapability>;

  constructor(readonly capabilities: readonly AnyCapability[] = CAPABILITIES) {
    this.byName = new Map(capabilities.map((c) => [c.name, c]));
    if (this.byName.size !== capabilities.length) throw new Error('registry: two capabilities share a name');
  }

  get(name: string): AnyCapability | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The capabilities an agent holds, in registry order (unknown grants are left out; `checkGrants` reports them). */
  forAgent(config: ZiggieConfig, agent: string): AnyCapability[] {
    const grants = config.agents[agent]?.capabilities ?? {};
    return this.capabilities.filter((c) => c.name in grants);
  }

  /**
   * Grants the registry cannot honour, as `config error:` lines: an unknown capability, or an allowed-values
   * constraint on a parameter the capability does not have.
   */
  checkGrants(config: ZiggieConfig): string[] {
    const problems: string[] = [];
    for (const [agent, a] of Object.entries(config.agents)) {
      for (const [name, grant] of Object.entries(a.capabilities)) {
        const cap = this.byName.get(name);
        const at = `agents.${agent}.capabilities.${name}`;
        if (!cap) {
          problems.push(`${at}: unknown capability (known: ${this.names().join(', ')})`);
          continue;
        }
        const shape = (cap.params as unknown as { shape?: Record<string, unknown> }).shape ?? {};
        for (const key of Object.keys(grant)) {
          if (!(key in shape)) problems.push(`${at}.${key}: ${name} has no parameter ${key} (it has: ${Object.keys(shape).join(', ') || 'none'})`);
        }
      }
    }
    return problems;
  }

  /** What each capability calls in AWS (with the pipeline's audit record), as the control plane's identity. */
  iamNeeds(config: ZiggieConfig): IamNeeds[] {
    return capabilityNeeds(config, this.capabilities);
  }
}
