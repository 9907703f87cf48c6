import type { PolicyStatement } from '../../shared/iam-policy';

/** Grafana's CloudWatch data source (playbooks/hostinger-vps/grafana.ts): metric reads only, from the VPS only. */
export function grafanaStatements(fromVps: PolicyStatement['Condition']): PolicyStatement[] {
  return [{
    // Metric reads support no resource-level permissions; they return numbers, never logs or secrets.
    Sid: 'ReadMetrics',
    Effect: 'Allow',
    Action: ['cloudwatch:GetMetricData', 'cloudwatch:GetMetricStatistics', 'cloudwatch:ListMetrics'],
    Resource: '*',
    Condition: fromVps,
  }];
}
