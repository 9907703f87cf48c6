/** The API answers the page reads (the server's zod schemas in control/capabilities/ are the source). */
export type State = 'running' | 'starting' | 'stopping' | 'stopped' | 'terminated' | 'not-found' | 'unknown';

export interface Instance {
  provider: 'aws' | 'hostinger';
  id: string;
  role: 'gpu' | 'vps';
  state: State;
  detail: string;
  address: string | null;
  costUsd: number | null;
  costBasis: 'session' | 'monthly-fixed' | 'unknown';
  gpu: { instanceType: string | null; market: string | null; usdPerHour: number | null; rateSource: string | null; uptimeSeconds: number | null } | null;
  vps: { containersUp: number | null; containersTotal: number | null; diskGb: number | null; lastBackupAt: string | null; unknownWhy: string } | null;
}

export interface Me { agent: string; capabilities: string[] }

export interface Costs {
  month: string;
  currency: string;
  aws: { byService: { service: string; usd: number }[]; monthToDateUsd: number; forecastUsd: number | null; forecastNote: string | null };
  hostinger: { fixedMonthlyUsd: number };
  total: { monthToDateUsd: number; forecastUsd: number | null };
  budget: { name: string; limitUsd: number; status: 'ok' | 'warning' | 'over' } | null;
  thresholdsUsd?: number[];
}

export interface DailyCosts { days: { date: string; usd: number; estimated: boolean }[] }
export interface GpuHours { instanceType: string; days: { date: string; hours: number; usd: number }[] }
export interface PowerResult { state: State; message: string; changed: boolean }
