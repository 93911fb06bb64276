import type { JSX } from 'preact';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import type { FleetVersionRow } from './api.ts';

// Only the parts of Chart.js a stacked bar chart needs (tree-shaken: the bundle stays small).
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

// Colour-blind-safe palette (Okabe–Ito); the table beside the chart carries the same numbers as text.
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export function versionLabel(r: Pick<FleetVersionRow, 'version' | 'basis'>): string {
  if (!r.version) return 'unknown';
  return r.basis === 'fetched' ? `${r.version} (fetched)` : r.version;
}

/** Devices per profile (one bar each), stacked by firmware version. */
export function FleetChart({ rows }: { rows: FleetVersionRow[] }): JSX.Element {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'>>(undefined);
  useEffect(() => {
    const profiles = [...new Set(rows.map((r) => r.profile))];
    const versions = [...new Set(rows.map(versionLabel))];
    const datasets = versions.map((v, i) => ({
      label: v,
      backgroundColor: COLOURS[i % COLOURS.length],
      data: profiles.map((p) => rows.filter((r) => r.profile === p && versionLabel(r) === v).reduce((n, r) => n + r.devices, 0)),
    }));
    if (!chart.current) {
      chart.current = new Chart(canvas.current!, {
        type: 'bar',
        data: { labels: profiles, datasets },
        options: {
          indexAxis: 'y',
          animation: false,
          maintainAspectRatio: false,
          scales: { x: { stacked: true, ticks: { precision: 0 }, title: { display: true, text: 'devices' } }, y: { stacked: true } },
          plugins: { legend: { position: 'bottom' } },
        },
      });
    } else {
      chart.current.data = { labels: profiles, datasets };
      chart.current.update();
    }
  }, [rows]);
  useEffect(() => () => chart.current?.destroy(), []);
  const total = rows.reduce((n, r) => n + r.devices, 0);
  return (
    <div class="chart" style={{ height: `${Math.max(160, 40 * new Set(rows.map((r) => r.profile)).size + 80)}px` }}>
      <canvas
        ref={canvas}
        role="img"
        aria-label={`Bar chart: ${total} devices per profile by firmware version; the table beside it has the same numbers.`}
      />
    </div>
  );
}
