/**
 * Every query of the Grafana "Ziggie overview" dashboard names a metric that really exists: namespace, metric name,
 * dimension keys and region are looked up in what is actually published —
 *   (a) the metrics the synthesized gpu stack's alarms and CloudWatch dashboard read,
 *   (b) what the watchdog (its rendered /etc/ziggie/comfyui-watchdog.json) and the CloudWatch agent (its rendered
 *       config) publish, parsed from the files the playbook installs,
 *   (c) the few AWS-published metrics the dashboard reads (AWS/EC2, AWS/Billing — the latter in us-east-1 only).
 * A renamed metric fails here instead of showing an empty panel.
 */
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { loadConfig } from '../../../config/load';
import { GpuStack } from '../../../stacks/gpu';
import { resourcesOf, type TerraformJson } from '../../../shared/terraform-json';
import { cloudwatchAgentConfigJson, watchdogConfigJson } from '../../../playbooks/comfyui/render';
import { grafanaProvisioningFiles } from '../../../playbooks/hostinger-vps/grafana';

const config = loadConfig();

/** A published metric: its dimension key sets (each one a distinct CloudWatch metric) and where it lives. */
interface Known { namespace: string; name: string; dimensionSets: string[][]; region: string; source: string }

function fromGpuStack(): Known[] {
  const stack = new GpuStack(Testing.app(), 'gpu', config, { subnetId: 'subnet-0aaa', comfyuiSecurityGroupId: 'sg-0bbb' });
  const all = resourcesOf({ name: 'gpu', json: JSON.parse(Testing.synth(stack)) as TerraformJson });
  const known: Known[] = [];
  const add = (namespace: string, name: string, dims: string[], source: string) =>
    known.push({ namespace, name, dimensionSets: [dims], region: config.region, source });
  for (const r of all.filter((x) => x.type === 'aws_cloudwatch_metric_alarm')) {
    const a = r.config as Record<string, any>;
    if (a.metric_name) add(a.namespace, a.metric_name, Object.keys(a.dimensions ?? {}), `alarm ${a.alarm_name}`);
    for (const q of a.metric_query ?? []) {
      if (q.metric) add(q.metric.namespace, q.metric.metric_name, Object.keys(q.metric.dimensions ?? {}), `alarm ${a.alarm_name}`);
    }
  }
  // The dashboard body is Terraform jsonencode of HCL: read its metric lines ["ns", "name", "dim", value, …].
  for (const r of all.filter((x) => x.type === 'aws_cloudwatch_dashboard')) {
    const body = String((r.config as Record<string, any>).dashboard_body);
    for (const m of body.matchAll(/\[\s*"([\w/.-]+)",\s*"(\w+)"((?:,\s*(?:"[^"]*"|[\w.\-[\]]+))*)/g)) {
      const rest = m[3].split(',').map((s) => s.trim()).filter(Boolean);
      add(m[1], m[2], rest.filter((_, i) => i % 2 === 0).map((s) => s.replace(/^"|"$/g, '')), 'gpu dashboard');
    }
  }
  return known;
}

function fromInstance(): Known[] {
  const watchdog = JSON.parse(watchdogConfigJson({ comfyuiPort: 8188, idleMinutes: config.gpu.idleMinutes })) as { metric: { namespace: string; name: string; dimension: string } };
  const known: Known[] = [{
    namespace: watchdog.metric.namespace, name: watchdog.metric.name, dimensionSets: [[watchdog.metric.dimension]],
    region: config.region, source: 'watchdog',
  }];
  const agent = JSON.parse(cloudwatchAgentConfigJson()) as { metrics: { namespace: string; aggregation_dimensions: string[][]; metrics_collected: Record<string, { measurement: (string | { name: string })[] }> } };
  // The agent names a plugin's metrics `<plugin>_<measurement>`; nvidia_gpu's prefix is nvidia_smi.
  const prefix = (plugin: string) => (plugin === 'nvidia_gpu' ? 'nvidia_smi' : plugin);
  for (const [plugin, { measurement }] of Object.entries(agent.metrics.metrics_collected)) {
    for (const m of measurement) {
      known.push({
        namespace: agent.metrics.namespace, name: `${prefix(plugin)}_${typeof m === 'string' ? m : m.name}`,
        dimensionSets: agent.metrics.aggregation_dimensions, region: config.region, source: 'cloudwatch agent',
      });
    }
  }
  return known;
}

/** Published by AWS itself. Billing metrics exist only in us-east-1. */
const AWS_METRICS: Known[] = [
  { namespace: 'AWS/EC2', name: 'CPUUtilization', dimensionSets: [['InstanceId']], region: config.region, source: 'AWS' },
  { namespace: 'AWS/Billing', name: 'EstimatedCharges', dimensionSets: [['Currency'], ['ServiceName', 'Currency']], region: 'us-east-1', source: 'AWS' },
];

type Dashboard = { panels: { title: string; targets: Record<string, any>[] }[] };

/** What is wrong with the dashboard's queries: one line per problem, empty when every panel has data to show. */
function checkPanels(dashboard: Dashboard, known: Known[], defaultRegion: string): string[] {
  const problems: string[] = [];
  for (const p of dashboard.panels) {
    const ids = new Set(p.targets.map((t) => t.id));
    for (const t of p.targets) {
      const where = `panel "${p.title}" query ${t.refId}`;
      if (t.expression) {
        for (const word of String(t.expression).match(/\b[a-z]\w*\b/g) ?? []) {
          if (!ids.has(word)) problems.push(`${where}: expression references "${word}", not a query of the panel`);
        }
        continue;
      }
      const region = !t.region || t.region === 'default' ? defaultRegion : t.region;
      const keys = Object.keys(t.dimensions ?? {}).sort();
      const candidates = known.filter((k) => k.namespace === t.namespace && k.name === t.metricName);
      if (candidates.length === 0) {
        problems.push(`${where}: ${t.namespace} ${t.metricName} is published by nothing`);
        continue;
      }
      // matchExact: the dimension keys must be one published set exactly; otherwise a subset of one.
      const fits = (set: string[]) => (t.matchExact ? set.length === keys.length : true) && keys.every((k) => set.includes(k));
      const withDims = candidates.filter((k) => k.dimensionSets.some(fits));
      if (withDims.length === 0) {
        problems.push(`${where}: ${t.namespace} ${t.metricName} has no dimension set matching [${keys.join(', ')}] ` +
          `(published: ${candidates.flatMap((k) => k.dimensionSets.map((s) => `[${s.join(', ')}]`)).join(' ')})`);
        continue;
      }
      if (!withDims.some((k) => k.region === region)) {
        problems.push(`${where}: ${t.namespace} ${t.metricName} exists in ${[...new Set(withDims.map((k) => k.region))].join(', ')}, queried in ${region}`);
      }
    }
  }
  return problems;
}

const files = grafanaProvisioningFiles(config);
const dashboard = JSON.parse(files['dashboards/ziggie/overview.json']!) as Dashboard;
const datasource = parse(files['datasources/cloudwatch.yaml']!).datasources[0] as Record<string, any>;
const known = [...fromGpuStack(), ...fromInstance(), ...AWS_METRICS];

describe('every Grafana panel queries a metric that exists', () => {
  test('the catalogue is read from the stacks and the rendered instance config, not typed here', () => {
    const sources = new Set(known.map((k) => k.source.split(' ')[0]));
    expect([...sources].sort()).toEqual(['AWS', 'alarm', 'cloudwatch', 'gpu', 'watchdog']);
    expect(known.filter((k) => k.source === 'watchdog').map((k) => `${k.namespace} ${k.name}`)).toEqual(['Ziggie/ComfyUI QueueDepth']);
    expect(known.filter((k) => k.source === 'cloudwatch agent').map((k) => k.name)).toContain('nvidia_smi_utilization_gpu');
  });

  test('each panel query: namespace, metric name, dimensions and region check out', () => {
    const queries = dashboard.panels.flatMap((p) => p.targets).filter((t) => !t.expression);
    expect(queries.length).toBeGreaterThanOrEqual(5);
    expect(checkPanels(dashboard, known, datasource.jsonData.defaultRegion)).toEqual([]);
  });

  test('the custom metrics the gpu stack reads are the ones the instance publishes (same names, same dimensions)', () => {
    const published = fromInstance();
    const custom = fromGpuStack().filter((k) => !k.namespace.startsWith('AWS/'));
    expect(custom.length).toBeGreaterThan(0);
    for (const k of custom) {
      expect(published.filter((p) => p.namespace === k.namespace && p.name === k.name && p.dimensionSets.some((s) => s.join() === k.dimensionSets[0].join()))
        .map((p) => `${p.namespace} ${p.name}`)).toEqual([`${k.namespace} ${k.name}`]);
    }
  });

  test('a renamed metric is reported, naming the panel', () => {
    const renamed = structuredClone(dashboard);
    const util = renamed.panels.find((p) => p.title === 'GPU utilisation')!;
    util.targets[0].metricName = 'nvidia_smi_utilisation_gpu';
    expect(checkPanels(renamed, known, config.region)).toEqual([
      'panel "GPU utilisation" query A: CWAgent nvidia_smi_utilisation_gpu is published by nothing',
    ]);
  });

  test('a dimension the publisher does not set, and an expression naming a missing query, are reported', () => {
    const broken = structuredClone(dashboard);
    broken.panels.find((p) => p.title === 'ComfyUI queue depth')!.targets[0].dimensions = { QueueName: '*' };
    broken.panels.find((p) => p.title === 'GPU idle minutes (in range)')!.targets[2].expression = 'IF(gpux < 5, 1, 0)';
    const problems = checkPanels(broken, known, config.region);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/"GPU idle minutes \(in range\)" query C: expression references "gpux"/);
    expect(problems[1]).toMatch(/"ComfyUI queue depth" query A: Ziggie\/ComfyUI QueueDepth has no dimension set matching \[QueueName\]/);
  });

  test('AWS/Billing is queried in us-east-1 (it exists nowhere else), whatever the data source region', () => {
    expect(config.region).not.toBe('us-east-1');
    const cost = dashboard.panels.find((p) => p.targets.some((t) => t.namespace === 'AWS/Billing'))!;
    for (const t of cost.targets) expect(t.region).toBe('us-east-1');
    const defaulted = structuredClone(dashboard);
    defaulted.panels.find((p) => p.title === cost.title)!.targets[0].region = 'default';
    expect(checkPanels(defaulted, known, config.region)).toEqual([
      `panel "${cost.title}" query A: AWS/Billing EstimatedCharges exists in us-east-1, queried in ${config.region}`,
    ]);
  });
});

describe('no AWS key in the Grafana provisioning files', () => {
  test('the data source uses the default credential chain (the key comes from the environment)', () => {
    expect(datasource.jsonData.authType).toBe('default');
    expect(datasource.secureJsonData).toBeUndefined();
    const leaks = Object.entries(files).filter(([, text]) => /accessKey|secretKey|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|aws_secret/i.test(text));
    expect(leaks.map(([name]) => name)).toEqual([]);
  });
});
