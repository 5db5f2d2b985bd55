const WIDTH = 560;
const HEIGHT = 180;
const PAD = 32;

export interface Point {
  x: number;
  y: number;
}

/**
 * A small line chart in SVG: enough for power over a lease or prices over days, with a text
 * summary for screen readers (the picture alone would say nothing to them).
 */
export function LineChart(props: {
  title: string;
  points: readonly Point[];
  unit: string;
  xLabel: (x: number) => string;
}) {
  const { points, title, unit } = props;
  if (points.length === 0) return <p className="empty">No data yet for “{title}”.</p>;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const y1 = Math.max(...ys, 0) || 1;
  const px = (x: number) => PAD + ((x - x0) / (x1 - x0 || 1)) * (WIDTH - 2 * PAD);
  const py = (y: number) => HEIGHT - PAD - (y / y1) * (HEIGHT - 2 * PAD);
  const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ");
  const last = points.at(-1);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${title}: ${points.length} points, up to ${y1} ${unit}`}
      >
        <line x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} className="axis" />
        <line x1={PAD} y1={PAD} x2={PAD} y2={HEIGHT - PAD} className="axis" />
        <text x={PAD} y={PAD - 8} className="tick">
          {y1} {unit}
        </text>
        <text x={PAD} y={HEIGHT - 8} className="tick">
          {props.xLabel(x0)}
        </text>
        <text x={WIDTH - PAD} y={HEIGHT - 8} className="tick" textAnchor="end">
          {props.xLabel(x1)}
        </text>
        <path d={path} className="line" />
        {points.map((p) => (
          <circle key={p.x} cx={px(p.x)} cy={py(p.y)} r={2.5} className="dot" />
        ))}
      </svg>
      <figcaption>
        {title}: last {last?.y} {unit}
      </figcaption>
    </figure>
  );
}

/** Bars by label, e.g. revenue per node. */
export function BarChart(props: { title: string; bars: readonly { label: string; value: number }[]; unit: string }) {
  const { bars, title, unit } = props;
  if (bars.length === 0) return <p className="empty">No data yet for “{title}”.</p>;
  const top = Math.max(...bars.map((b) => b.value), 0) || 1;
  return (
    <figure className="chart">
      <div className="bars" role="list" aria-label={title}>
        {bars.map((bar) => (
          <div role="listitem" key={bar.label} className="bar-row">
            <span className="bar-label">{bar.label}</span>
            <span className="bar" style={{ width: `${(bar.value / top) * 100}%` }} />
            <span className="bar-value">
              {bar.value} {unit}
            </span>
          </div>
        ))}
      </div>
      <figcaption>{title}</figcaption>
    </figure>
  );
}

const DAY_SECONDS = 86_400;

/** Sums `amount` of each item by the UTC day of `at`, oldest day first: for spending and revenue over time. */
export function byDay<T>(items: readonly T[], at: (item: T) => string, amount: (item: T) => number): Point[] {
  const days = new Map<number, number>();
  for (const item of items) {
    const day = Math.floor(Date.parse(at(item)) / 1000 / DAY_SECONDS) * DAY_SECONDS;
    days.set(day, (days.get(day) ?? 0) + amount(item));
  }
  return [...days.entries()].sort(([a], [b]) => a - b).map(([x, y]) => ({ x, y: Math.round(y * 1e6) / 1e6 }));
}
