import { resourcesOf, type SynthesizedStack } from '../../shared/terraform-json';

/** Stacks with their resource counts by type, as an aligned plain-text table. */
export function formatResourceSummary(stacks: SynthesizedStack[]): string {
  const lines: string[] = [];
  for (const stack of stacks) {
    const resources = resourcesOf(stack);
    const byType = new Map<string, number>();
    for (const r of resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    const backend = Object.keys(stack.json.terraform?.backend ?? {})[0] ?? 'none';
    lines.push(`${stack.name}  (${resources.length} resources, ${backend} backend)`);
    const width = Math.max(0, ...[...byType.keys()].map((t) => t.length));
    for (const [type, n] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`  ${type.padEnd(width)}  ${String(n).padStart(3)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
