/**
 * A small bar chart as an SVG string: one `<rect class="point">` per value, a title per bar, the maximum on the
 * axis. Pure (no DOM), so the cloud page (bundled for the browser) and `cost report --html` draw the same chart.
 * A null value is a gap with its own mark (`class="point unknown"`), never a zero-height bar that reads as $0.
 */
export interface ChartPoint {
  label: string;
  value: number | null;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  /** Formats a value for the titles and the axis, e.g. `(v) => `$${v.toFixed(2)}``. */
  format?: (v: number) => string;
  /** Accessible name of the chart. */
  title: string;
  /** Horizontal lines (e.g. budget thresholds per day) with a label. */
  lines?: { value: number; label: string }[];
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function barChartSvg(points: readonly ChartPoint[], opts: ChartOptions): string {
  const width = opts.width ?? 720;
  const height = opts.height ?? 200;
  const fmt = opts.format ?? ((v: number) => v.toFixed(2));
  const pad = { left: 48, right: 8, top: 12, bottom: 22 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const max = Math.max(0, ...values, ...(opts.lines ?? []).map((l) => l.value)) || 1;
  const slot = points.length ? plotW / points.length : plotW;
  const barW = Math.max(1, slot * 0.8);
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeXml(opts.title)}">`);
  parts.push(`<title>${escapeXml(opts.title)}</title>`);
  parts.push(`<line x1="${pad.left}" y1="${pad.top + plotH}" x2="${width - pad.right}" y2="${pad.top + plotH}" stroke="#888"/>`);
  parts.push(`<text x="${pad.left - 4}" y="${pad.top + 8}" text-anchor="end" font-size="10" fill="#555">${escapeXml(fmt(max))}</text>`);
  parts.push(`<text x="${pad.left - 4}" y="${pad.top + plotH}" text-anchor="end" font-size="10" fill="#555">${escapeXml(fmt(0))}</text>`);
  points.forEach((p, i) => {
    const x = (pad.left + i * slot + (slot - barW) / 2).toFixed(2);
    if (p.value === null) {
      parts.push(`<rect class="point unknown" x="${x}" y="${pad.top}" width="${barW.toFixed(2)}" height="${plotH}" fill="#999" fill-opacity="0.2"><title>${escapeXml(p.label)}: unknown</title></rect>`);
      return;
    }
    const top = y(p.value);
    parts.push(`<rect class="point" x="${x}" y="${top.toFixed(2)}" width="${barW.toFixed(2)}" height="${(pad.top + plotH - top).toFixed(2)}" fill="#3b6ea8"><title>${escapeXml(p.label)}: ${escapeXml(fmt(p.value))}</title></rect>`);
  });
  for (const l of opts.lines ?? []) {
    const ly = y(l.value).toFixed(2);
    parts.push(`<line class="threshold" x1="${pad.left}" y1="${ly}" x2="${width - pad.right}" y2="${ly}" stroke="#c0392b" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${width - pad.right}" y="${Number(ly) - 2}" text-anchor="end" font-size="10" fill="#c0392b">${escapeXml(l.label)}</text>`);
  }
  if (points.length) {
    parts.push(`<text x="${pad.left}" y="${height - 6}" font-size="10" fill="#555">${escapeXml(points[0]!.label)}</text>`);
    parts.push(`<text x="${width - pad.right}" y="${height - 6}" text-anchor="end" font-size="10" fill="#555">${escapeXml(points[points.length - 1]!.label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}
