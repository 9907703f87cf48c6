/**
 * Option parsers for the ops CLI: a bad value is a usage error (commander prints one line, the CLI exits 2)
 * caught while parsing argv, before any config is read or any network call is made.
 */
import { InvalidArgumentError } from 'commander';
import { parseSince } from './output';

/** A whole number in [min, max]. */
export const intIn = (min: number, max: number) => (v: string): number => {
  if (!/^\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
  return Number(v);
};

/** Minutes to wait: a positive number up to a day. */
export function minutes(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0) || n > 24 * 60) throw new InvalidArgumentError('expected minutes, a number above 0 (at most 1440)');
  return n;
}

/** `30m`, `24h`, `7d` → the same text, checked. */
export function since(v: string): string {
  try {
    parseSince(v);
  } catch {
    throw new InvalidArgumentError('expected an age such as 30m, 24h or 7d');
  }
  return v;
}

/** `YYYY-MM`. */
export function month(v: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(v)) throw new InvalidArgumentError('expected a month such as 2025-06');
  return v;
}

export const DNS_TYPES = ['A', 'AAAA', 'CNAME', 'ALIAS', 'MX', 'TXT', 'NS', 'SOA', 'SRV', 'CAA'] as const;

/** A DNS record type Hostinger's zone API takes (any case). */
export function dnsType(v: string): (typeof DNS_TYPES)[number] {
  const t = v.toUpperCase();
  if (!(DNS_TYPES as readonly string[]).includes(t)) throw new InvalidArgumentError(`expected one of ${DNS_TYPES.join(', ')}`);
  return t as (typeof DNS_TYPES)[number];
}
