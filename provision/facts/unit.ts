/** systemd unit facts: load, active and unit-file state of units, in ONE `systemctl show` for every unit. */
import { defineBatchFact, need, type Need } from '../fact';
import { quote } from '../shell';

export interface UnitState {
  /** systemctl answered at all (false: no systemd, or not running) */
  queried: boolean;
  /** "loaded", "not-found", "masked", … (undefined when not queried) */
  load?: string;
  active?: string;
  fileState?: string;
  needDaemonReload: boolean;
}

export function parseShow(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) r[l.slice(0, i)] = l.slice(i + 1).trim();
  }
  return r;
}

/**
 * `systemctl show` prints one block per unit, in the order given, separated by an empty line. Started beside the
 * rest of the probe: it asks systemd over D-Bus (~30 ms on a small host).
 */
export const unitFact = defineBatchFact<string, UnitState>({
  name: 'unit',
  concurrent: true,
  command: (units) => `systemctl show -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- ${units.map(quote).join(' ')}`,
  parse([s], units) {
    const blocks = s!.text.split(/\n\n/).filter((b) => b.trim());
    const queried = s!.code === 0 && blocks.length === units.length;
    return units.map((_, i) => {
      if (!queried) return { queried: false, needDaemonReload: false };
      const p = parseShow(blocks[i]!);
      return { queried, load: p.LoadState, active: p.ActiveState, fileState: p.UnitFileState, needDaemonReload: p.NeedDaemonReload === 'yes' };
    });
  },
});

export const unit = (name: string): Need<UnitState> => need(unitFact, name);
