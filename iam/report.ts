/** One simulation run over the synthesized stacks: the outcomes and docs/iam.md rendered from them. */
import type { ZiggieConfig } from '../config/schema';
import type { SynthesizedStack } from '../shared/terraform-json';
import { commandNeeds } from './commands';
import { iamMarkdown } from './doc';
import { expectations, type Outcome, runExpectations } from './expectations';
import { type ResolvedIam, resolveIam } from './resolve';

export interface IamReport {
  readonly iam: ResolvedIam;
  readonly outcomes: Outcome[];
  readonly markdown: string;
}

export async function iamReport(config: ZiggieConfig, stacks: readonly SynthesizedStack[], configFile: string): Promise<IamReport> {
  const iam = resolveIam(stacks);
  const needs = commandNeeds(config);
  const outcomes = await runExpectations(iam, expectations(config, iam, needs));
  return { iam, outcomes, markdown: iamMarkdown(iam, outcomes, needs, configFile) };
}
