/**
 * Grafana on the VPS, provisioned as files (mounted read-only at /etc/grafana/provisioning): a CloudWatch data
 * source and the "Ziggie overview" dashboard (GPU state and utilisation, idle minutes, month-to-date cost).
 *
 * Credentials: the data source uses the AWS SDK's default chain (authType "default"), so Grafana reads
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from its environment. Map them under the grafana container's
 * `secrets` in the config (values in Secrets Manager, fetched to tmpfs like every other secret); the key needs
 * cloudwatch:GetMetricData / ListMetrics and, for the cost panel, read access to AWS/Billing in us-east-1.
 */
import { stringify } from 'yaml';
import type { ZiggieConfig } from '../../config/schema';
import { COMFYUI_QUEUE_METRIC, GPU_UTILIZATION_METRIC, IDLE_THRESHOLDS } from '../../shared/gpu-signals';

export const DATASOURCE_UID = 'ziggie-cloudwatch';
export const DASHBOARD_UID = 'ziggie-overview';
const HEADER = '# Managed by `npm run provision:vps`: local edits are overwritten.\n';

export function datasourceYaml(config: ZiggieConfig): string {
  return HEADER + stringify({
    apiVersion: 1,
    datasources: [{
      name: 'CloudWatch',
      uid: DATASOURCE_UID,
      type: 'cloudwatch',
      access: 'proxy',
      isDefault: true,
      editable: false,
      jsonData: { authType: 'default', defaultRegion: config.region },
    }],
  });
}

export function dashboardProviderYaml(): string {
  return HEADER + stringify({
    apiVersion: 1,
    providers: [{
      name: 'ziggie',
      orgId: 1,
      folder: 'Ziggie',
      type: 'file',
      disableDeletion: true,
      allowUiUpdates: false,
      updateIntervalSeconds: 60,
      options: { path: '/etc/grafana/provisioning/dashboards/ziggie', foldersFromFilesStructure: false },
    }],
  });
}

const ds = { type: 'cloudwatch', uid: DATASOURCE_UID };

interface CwQuery {
  refId: string;
  id: string;
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string>;
  statistic?: string;
  period: string;
  region?: string;
  expression?: string;
  hide?: boolean;
}

function metric(q: CwQuery): Record<string, unknown> {
  return {
    datasource: ds,
    queryMode: 'Metrics',
    metricQueryType: 0,
    metricEditorMode: q.expression ? 1 : 0,
    region: q.region ?? 'default',
    matchExact: false,
    dimensions: {},
    expression: '',
    ...q,
  };
}

function panel(id: number, title: string, type: string, grid: [number, number, number, number], targets: Record<string, unknown>[],
  extra: Record<string, unknown> = {}): Record<string, unknown> {
  const [x, y, w, h] = grid;
  return { id, title, type, datasource: ds, gridPos: { x, y, w, h }, targets, ...extra };
}

const thresholds = (steps: { color: string; value: number | null }[]) => ({ mode: 'absolute', steps });

/** The dashboard JSON (Grafana 11 schema). Thresholds come from the config: idle window, budget thresholds. */
export function overviewDashboard(config: ZiggieConfig): Record<string, unknown> {
  const gpuUtil = (refId: string, hide = false) => metric({
    refId, id: 'gpu', namespace: GPU_UTILIZATION_METRIC.namespace, metricName: GPU_UTILIZATION_METRIC.name,
    dimensions: { InstanceId: '*' }, statistic: 'Maximum', period: '60', hide,
  });
  const queue = (refId: string, hide = false) => metric({
    refId, id: 'queue', namespace: COMFYUI_QUEUE_METRIC.namespace, metricName: COMFYUI_QUEUE_METRIC.name,
    statistic: 'Maximum', period: '60', hide,
  });
  const budget = config.budgets.thresholdsUsd;
  return {
    uid: DASHBOARD_UID,
    title: 'Ziggie overview',
    tags: ['ziggie'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: '1m',
    time: { from: 'now-24h', to: 'now' },
    panels: [
      panel(1, 'GPU state', 'stat', [0, 0, 6, 5], [gpuUtil('A')], {
        description: 'Running while the GPU instance publishes utilisation (CloudWatch agent, every minute); no data = stopped.',
        options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value' },
        fieldConfig: {
          defaults: {
            noValue: 'stopped',
            mappings: [{ type: 'range', options: { from: 0, to: 100, result: { text: 'running', color: 'green' } } }],
            thresholds: thresholds([{ color: 'blue', value: null }]),
          },
          overrides: [],
        },
        timeFrom: '5m',
      }),
      panel(2, 'GPU idle minutes (in range)', 'stat', [6, 0, 6, 5], [
        gpuUtil('A', true),
        queue('B', true),
        metric({ refId: 'C', id: 'idle', period: '60',
          expression: `IF(gpu < ${IDLE_THRESHOLDS.gpuPercent} AND queue < ${IDLE_THRESHOLDS.queueDepth}, 1, 0)` }),
      ], {
        description: `Minutes the GPU ran with utilisation < ${IDLE_THRESHOLDS.gpuPercent}% and an empty ComfyUI queue. ` +
          `The idle alarm stops it after ${config.gpu.idleMinutes} consecutive idle minutes.`,
        options: { reduceOptions: { calcs: ['sum'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' },
        fieldConfig: {
          defaults: { unit: 'none', decimals: 0, thresholds: thresholds([{ color: 'green', value: null }, { color: 'orange', value: config.gpu.idleMinutes }]) },
          overrides: [],
        },
        timeFrom: '1h',
      }),
      panel(3, 'AWS month-to-date cost', 'stat', [12, 0, 6, 5], [metric({
        refId: 'A', id: 'cost', namespace: 'AWS/Billing', metricName: 'EstimatedCharges', dimensions: { Currency: 'USD' },
        statistic: 'Maximum', period: '21600', region: 'us-east-1',
      })], {
        description: `AWS/Billing EstimatedCharges (us-east-1; needs "Receive Billing Alerts" on). Budget: ${config.budgets.monthlyLimitUsd} USD.`,
        options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' },
        fieldConfig: {
          defaults: {
            unit: 'currencyUSD',
            decimals: 2,
            thresholds: thresholds([{ color: 'green', value: null }, ...budget.map((v, i) => ({ color: i === budget.length - 1 ? 'red' : 'orange', value: v }))]),
          },
          overrides: [],
        },
        timeFrom: '31d',
      }),
      panel(4, 'VPS monthly cost (fixed)', 'stat', [18, 0, 6, 5], [], {
        type: 'text',
        options: { mode: 'markdown', content: `Hostinger VPS: **${config.vps.monthlyCostUsd} USD / month** (from the config).` },
      }),
      panel(5, 'GPU utilisation', 'timeseries', [0, 5, 12, 8], [gpuUtil('A')], {
        fieldConfig: { defaults: { unit: 'percent', min: 0, max: 100 }, overrides: [] },
      }),
      panel(6, 'ComfyUI queue depth', 'timeseries', [12, 5, 12, 8], [queue('A')], {
        fieldConfig: { defaults: { unit: 'none', min: 0, decimals: 0 }, overrides: [] },
      }),
    ],
  };
}

/** Files under PATHS.grafanaProvisioning, by relative path. */
export function grafanaProvisioningFiles(config: ZiggieConfig): Record<string, string> {
  return {
    'datasources/cloudwatch.yaml': datasourceYaml(config),
    'dashboards/ziggie.yaml': dashboardProviderYaml(),
    'dashboards/ziggie/overview.json': JSON.stringify(overviewDashboard(config), null, 2) + '\n',
  };
}
