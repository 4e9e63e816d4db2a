/**
 * A uPlot time-series chart that follows its container's width and the colour theme. The data
 * changes often (every second); the plot is created once per series layout and fed with setData.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One plotted line. */
export interface ChartSeries {
  label: string;
  /** A CSS colour or a `var(--…)` custom property of the stylesheet. */
  color: string;
  /** Draw as steps (counts per bucket) instead of a sloped line. */
  stepped?: boolean;
}

/** Props of {@link TimeChart}. */
export interface TimeChartProps {
  /** Accessible name of the chart. */
  title: string;
  series: ChartSeries[];
  /** `[times (epoch s), ...one array per series]`. */
  data: (number | null)[][];
  height?: number;
  /** Formats y values on the axis. */
  yFormat?: (v: number) => string;
  /** Changes when the theme toggles, so colours are re-read. */
  theme: string;
}

function cssColour(el: Element, c: string): string {
  const m = /^var\((--[a-z0-9-]+)\)$/.exec(c);
  if (m === null) return c;
  const v = getComputedStyle(el)
    .getPropertyValue(m[1] ?? '')
    .trim();
  return v === '' ? '#888' : v;
}

/** A responsive uPlot chart. */
export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const layout =
    props.series.map((s) => `${s.label}:${s.color}:${s.stepped === true}`).join('|') + props.theme;

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const fg = cssColour(el, 'var(--muted)');
    const grid = cssColour(el, 'var(--grid)');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const stepped = uPlot.paths.stepped?.({ align: 1 });
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 200,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        axis,
        {
          ...axis,
          size: 60,
          values: (_u, vals) => vals.map((v) => (props.yFormat ? props.yFormat(v) : String(v))),
        },
      ],
      series: [
        {},
        ...props.series.map((s) => {
          const colour = cssColour(el, s.color);
          const opt: uPlot.Series = { label: s.label, stroke: colour, width: 2, points: { show: false } };
          if (s.stepped === true && stepped !== undefined) opt.paths = stepped;
          return opt;
        }),
      ],
    };
    const u = new uPlot(opts, props.data as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() =>
      u.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 200 }),
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Re-created only when the series layout or theme changes; data goes through setData below.
  }, [layout]);

  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

  return <div class="chart" ref={box} role="img" aria-label={props.title} />;
}
