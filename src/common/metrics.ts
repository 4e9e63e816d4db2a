/**
 * Counters and gauges for everything that moves (CONVENTIONS, after Akvorado). Cheap on the hot
 * path: a counter is a plain object with a number; labels are resolved once, up front, by
 * `counter.labels(...)`, which returns a child to keep and increment.
 */

export type Labels = Readonly<Record<string, string>>;

/** A monotonically increasing count. */
export class Counter {
  value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelValues: Labels = {},
    private readonly children?: Map<string, Counter>,
  ) {}
  inc(n = 1): void {
    this.value += n;
  }
  /** Returns (creating once) the child counter for these label values. */
  labels(labels: Labels): Counter {
    const family = this.children;
    if (!family) throw new Error(`counter ${this.name} is a child and cannot take labels`);
    const key = labelKey(labels);
    let c = family.get(key);
    if (!c) {
      c = new Counter(this.name, this.help, labels);
      family.set(key, c);
    }
    return c;
  }
  /** The unlabelled value plus every labelled child, for rendering. */
  samples(): { labels: Labels; value: number }[] {
    const out: { labels: Labels; value: number }[] = [];
    if (this.value !== 0 || !this.children || this.children.size === 0)
      out.push({ labels: {}, value: this.value });
    for (const c of this.children?.values() ?? []) out.push({ labels: c.labelValues, value: c.value });
    return out;
  }
}

/** A value that goes up and down (queue depth, templates held, bytes of state). */
export class Gauge {
  value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read?: () => number,
  ) {}
  set(v: number): void {
    this.value = v;
  }
  get(): number {
    return this.read ? this.read() : this.value;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A set of metrics with unique names, rendered as Prometheus text (names prefixed `acd_`). */
export class MetricsRegistry {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();

  /** Returns the counter of this name, creating it on first use. */
  counter(name: string, help: string): Counter {
    let c = this.counters.get(name);
    if (!c) {
      c = new Counter(name, help, {}, new Map());
      this.counters.set(name, c);
    }
    return c;
  }

  /** Returns the gauge of this name, creating it (optionally read through `read`) on first use. */
  gauge(name: string, help: string, read?: () => number): Gauge {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge(name, help, read);
      this.gauges.set(name, g);
    }
    return g;
  }

  /** A plain snapshot `{ name{labels}: value }` for status lines, summaries and tests. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.counters.values()) {
      for (const s of c.samples()) out[c.name + renderLabels(s.labels)] = s.value;
    }
    for (const g of this.gauges.values()) out[g.name] = g.get();
    return out;
  }

  /** Prometheus text exposition format 0.0.4. */
  renderPrometheus(): string {
    const lines: string[] = [];
    for (const c of this.counters.values()) {
      const n = `acd_${c.name}_total`;
      lines.push(`# HELP ${n} ${c.help}`, `# TYPE ${n} counter`);
      for (const s of c.samples()) lines.push(`${n}${renderLabels(s.labels)} ${s.value}`);
    }
    for (const g of this.gauges.values()) {
      const n = `acd_${g.name}`;
      lines.push(`# HELP ${n} ${g.help}`, `# TYPE ${n} gauge`, `${n} ${g.get()}`);
    }
    return lines.join('\n') + '\n';
  }
}

function renderLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',') + '}';
}
