/**
 * Known research scanners: organisations that scan the whole Internet and publish where they scan
 * from. Their probes are real scans and stay visible as evidence, but are down-ranked to severity
 * `low` (REQUIREMENTS R-DET-1: down-ranked, not dropped). Facts only: the organisation, the ranges
 * and ASNs it publishes, and where it publishes them. The list is versioned; bump
 * `RESEARCH_SCANNERS_VERSION` with every change and re-check the sources when you do.
 */
import { parseIpv4, parseIpv6Into } from '../../common/prefixes/address.ts';

/** Version of the list below (date of the last review). */
export const RESEARCH_SCANNERS_VERSION = '2026-11-25';

/** One research scanner operator. */
export interface ResearchScanner {
  /** Short name stamped on evidence (`facts.researchScanner`). */
  name: string;
  /** Where the operator publishes its scanning addresses. */
  source: string;
  /** Published ranges (CIDR). */
  ranges: readonly string[];
  /** Published autonomous systems used only for scanning. */
  asns: readonly number[];
}

/** The list (v`RESEARCH_SCANNERS_VERSION`). */
export const RESEARCH_SCANNERS: readonly ResearchScanner[] = [
  {
    name: 'censys',
    source: 'https://support.censys.io (Censys scanning IP addresses)',
    ranges: [
      '162.142.125.0/24',
      '167.94.138.0/24',
      '167.94.145.0/24',
      '167.94.146.0/24',
      '167.248.133.0/24',
      '199.45.154.0/24',
      '199.45.155.0/24',
      '206.168.34.0/24',
    ],
    asns: [398324, 398705, 398722],
  },
  {
    name: 'shadowserver',
    source: 'https://www.shadowserver.org/what-we-do/network-reporting/get-reports/ (scanning FAQ)',
    ranges: [
      '184.105.139.64/26',
      '184.105.247.192/26',
      '216.218.206.64/26',
      '65.49.20.64/26',
      '74.82.47.0/26',
    ],
    // The Shadowserver Foundation's own AS (registry organisation name), used for its scanning.
    asns: [22168],
  },
  {
    name: 'shodan',
    source: 'census*.shodan.io hosts listed by Shodan (https://help.shodan.io)',
    ranges: [
      '198.20.69.74/32',
      '198.20.69.98/32',
      '198.20.70.114/32',
      '198.20.99.130/32',
      '93.120.27.62/32',
      '66.240.236.119/32',
      '71.6.135.131/32',
      '66.240.192.138/32',
      '71.6.167.142/32',
      '82.221.105.6/32',
      '82.221.105.7/32',
      '71.6.165.200/32',
    ],
    asns: [],
  },
  {
    name: 'rapid7-sonar',
    source: 'https://opendata.rapid7.com/about (Project Sonar opt-out page)',
    ranges: [
      '5.63.151.96/27',
      '71.6.233.0/24',
      '88.202.190.128/27',
      '146.185.25.160/27',
      '109.123.117.224/27',
    ],
    // Rapid7's own AS (registry organisation name "Rapid7 Inc").
    asns: [395213],
  },
  {
    name: 'internet-measurement',
    source: 'https://internet-measurement.com (research scanning; AS "Internet Measurement Research")',
    ranges: [],
    asns: [399628],
  },
  {
    name: 'driftnet',
    source: 'https://driftnet.io (Internet-wide scanning; AS "Driftnet Ltd")',
    ranges: [],
    asns: [211298],
  },
  {
    name: 'onyphe',
    source: 'https://www.onyphe.io (Internet-wide scanning; AS "ONYPHE SAS")',
    ranges: [],
    asns: [213412],
  },
  {
    // Stretchoid scans from changing cloud addresses (reverse names *.stretchoid.com) and
    // publishes no ranges: it can only be listed by name until it does.
    name: 'stretchoid',
    source: 'http://www.stretchoid.com (opt-out page; no published ranges)',
    ranges: [],
    asns: [],
  },
];

/** Compiled lookup: IPv4 ranges as sorted [first, last] pairs, IPv6 as prefixes, ASNs in a map. */
export class ResearchScannerIndex {
  private readonly v4First: number[] = [];
  private readonly v4Last: number[] = [];
  private readonly v4Name: number[] = [];
  private readonly v6: { words: Uint32Array; bits: number; name: number }[] = [];
  private readonly asns = new Map<number, number>();
  readonly names: string[];

  constructor(list: readonly ResearchScanner[] = RESEARCH_SCANNERS) {
    this.names = list.map((s) => s.name);
    const v4: [number, number, number][] = [];
    list.forEach((s, n) => {
      for (const asn of s.asns) this.asns.set(asn, n);
      for (const r of s.ranges) {
        const [addr = '', lenText = ''] = r.split('/');
        const len = Number(lenText);
        const a4 = parseIpv4(addr);
        if (a4 !== undefined && len >= 0 && len <= 32) {
          const size = 2 ** (32 - len);
          const first = a4 - (a4 % size);
          v4.push([first, first + size - 1, n]);
        } else {
          const w = new Uint32Array(4);
          if (parseIpv6Into(addr, w) && len >= 0 && len <= 128)
            this.v6.push({ words: w, bits: len, name: n });
        }
      }
    });
    v4.sort((x, y) => x[0] - y[0]);
    for (const [f, l, n] of v4) {
      this.v4First.push(f);
      this.v4Last.push(l);
      this.v4Name.push(n);
    }
  }

  /** Index into `names` of the scanner owning the address (or ASN), or −1. */
  match(v: number, words: Uint32Array, off: number, asn: number): number {
    if (asn !== 0) {
      const n = this.asns.get(asn);
      if (n !== undefined) return n;
    }
    if (v === 4) {
      const a = words[off]!;
      let lo = 0;
      let hi = this.v4First.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (this.v4First[mid]! <= a) lo = mid + 1;
        else hi = mid - 1;
      }
      return hi >= 0 && a <= this.v4Last[hi]! ? this.v4Name[hi]! : -1;
    }
    for (const p of this.v6) {
      let ok = true;
      for (let k = 0, bits = p.bits; k < 4 && bits > 0; k++, bits -= 32) {
        const mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0;
        if (((words[off + k]! ^ p.words[k]!) & mask) >>> 0 !== 0) ok = false;
      }
      if (ok) return p.name;
    }
    return -1;
  }
}
