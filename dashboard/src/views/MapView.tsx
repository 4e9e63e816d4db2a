/**
 * Attack origins by country (a choropleth of /api/stats/top?dimension=sourceCountry over the bundled
 * world-atlas 110m shapes) and top-N tables for every dimension the API ranks. The time range is
 * in the URL (`#/map?range=24h`).
 */
import { geoNaturalEarth1, geoPath } from 'd3-geo';
import type { GeoPermissibleObjects } from 'd3-geo';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { get } from '../api.ts';
import { ALPHA2_TO_NAME, ALPHA2_TO_NUMERIC } from '../data/iso3166.ts';
import { href, navigate } from '../router.ts';
import type { Route } from '../router.ts';
import type { TopResponse } from '../types.ts';
import { Card, ErrorBox, fmtNum, useResource, useTick } from '../ui.tsx';

/** Selectable time ranges. */
const RANGES: Record<string, number> = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};
const DIMENSIONS: { key: string; title: string; column: string }[] = [
  { key: 'sourceCountry', title: 'Source countries', column: 'Country' },
  { key: 'destinationCountry', title: 'Destination countries', column: 'Country' },
  { key: 'sourceAsn', title: 'Source ASNs', column: 'ASN' },
  { key: 'destinationAsn', title: 'Destination ASNs', column: 'ASN' },
  { key: 'destinationPort', title: 'Destination ports', column: 'Port' },
  { key: 'detector', title: 'Detectors (alerts)', column: 'Detector' },
];
const TOP_N = 10;
/** Countries fetched for the map (there are fewer than 250). */
const MAP_LIMIT = 250;
const WIDTH = 960;
const HEIGHT = 500;

interface Shape {
  id: string;
  name: string;
  d: string;
}

let shapes: Promise<Shape[]> | undefined;

/** Projects the world shapes once (the JSON is a separate chunk, loaded on first use). */
function loadShapes(): Promise<Shape[]> {
  shapes ??= import('world-atlas/countries-110m.json').then((mod) => {
    const topo = (mod as { default: unknown }).default as Topology<{
      countries: GeometryCollection<{ name: string }>;
    }>;
    const countries = feature(topo, topo.objects.countries);
    const projection = geoNaturalEarth1().fitSize([WIDTH, HEIGHT], countries);
    const path = geoPath(projection);
    return countries.features.map((f) => ({
      id: String(f.id ?? ''),
      name: f.properties.name,
      d: path(f as GeoPermissibleObjects) ?? '',
    }));
  });
  return shapes;
}

function label(dimension: string, key: string): string {
  if (dimension.endsWith('Country')) return `${ALPHA2_TO_NAME[key] ?? key} (${key})`;
  if (dimension.endsWith('Asn')) return key === '0' ? 'unknown' : `AS${key}`;
  return key;
}

/** The map and top-N page. */
export function MapView(props: { route: Route }) {
  const range = props.route.query.get('range') ?? '24h';
  const span = RANGES[range] ?? RANGES['24h'] ?? 86_400_000;
  const tick = useTick(15_000);
  const world = useResource(loadShapes, []);
  const tops = useResource(async () => {
    const to = Date.now();
    const from = to - span;
    return Promise.all(
      DIMENSIONS.map((d) =>
        get<TopResponse>('/api/stats/top', {
          dimension: d.key,
          from,
          to,
          limit: d.key === 'sourceCountry' ? MAP_LIMIT : TOP_N,
        }),
      ),
    );
  }, [span, tick]);

  const origins = tops.data?.[0]?.items ?? [];
  const byNumeric = new Map<string, { key: string; count: number }>();
  for (const it of origins) {
    const n = ALPHA2_TO_NUMERIC[it.key];
    if (n !== undefined) byNumeric.set(n, it);
  }
  const max = Math.max(1, ...origins.map((o) => o.count));
  // Log scale: a few huge sources must not wash out the rest.
  const level = (count: number): number =>
    Math.min(5, Math.max(1, Math.ceil((Math.log1p(count) / Math.log1p(max)) * 5)));

  return (
    <div>
      <form class="filters" aria-label="Time range">
        <label>
          Range
          <select
            value={range}
            name="range"
            onChange={(e) => navigate(href(['map'], { range: e.currentTarget.value }), true)}
          >
            {Object.keys(RANGES).map((r) => (
              <option key={r} value={r}>
                last {r}
              </option>
            ))}
          </select>
        </label>
      </form>
      {tops.error !== undefined ? <ErrorBox error={tops.error} title="Statistics" /> : null}
      <Card title="Attack origins by country" wide>
        {world.error !== undefined ? <ErrorBox error={world.error} title="World shapes" /> : null}
        <svg
          class="map"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          role="img"
          aria-label={`Map of source countries, ${origins.length} countries with traffic`}
        >
          {(world.data ?? []).map((s) => {
            const hit = byNumeric.get(s.id);
            return (
              <path
                key={s.id + s.name}
                d={s.d}
                class={hit ? `country lvl-${level(hit.count)}` : 'country'}
                data-country={s.id}
              >
                <title>{hit ? `${s.name}: ${fmtNum(hit.count)}` : s.name}</title>
              </path>
            );
          })}
        </svg>
        <p class="legend">
          <span class="muted">fewer</span>
          {[1, 2, 3, 4, 5].map((l) => (
            <span key={l} class={`swatch lvl-${l}`} aria-hidden="true" />
          ))}
          <span class="muted">more records (log scale; max {fmtNum(max)})</span>
        </p>
      </Card>
      <div class="grid">
        {DIMENSIONS.map((d, i) => (
          <Card key={d.key} title={d.title} id={`top-${d.key}`}>
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">{d.column}</th>
                  <th scope="col" class="num">
                    {d.key === 'detector' ? 'Alerts' : 'Records'}
                  </th>
                  <th scope="col" class="num">
                    Bytes
                  </th>
                </tr>
              </thead>
              <tbody>
                {(tops.data?.[i]?.items ?? []).slice(0, TOP_N).map((it, n) => (
                  <tr key={it.key}>
                    <td>{n + 1}</td>
                    <td>{label(d.key, it.key)}</td>
                    <td class="num">{fmtNum(it.count)}</td>
                    <td class="num">{fmtNum(it.bytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        ))}
      </div>
    </div>
  );
}
