/**
 * The character model of the `dga` detector: a bigram (character-transition) model of the
 * registrable labels of real domain names, with start and end markers and add-k smoothing, plus
 * simple shape features (length, digit ratio, longest consonant run, character entropy).
 *
 * Training data: the `email-providers` npm package (ISC licence; version pinned in
 * package.json, 2.26.0 when written), `all.json` — about 8,700 real domains of mail providers
 * (large webmail services, ISPs, universities, company and free-mail domains, derived by the
 * package from the goware/emailproviders list; its `common.json` subset is ranked in the Majestic
 * Million). Each domain's registrable label (`tldts` `domainWithoutSuffix`, last label) is counted
 * once. The model is built at first use (a few milliseconds) and cached per process; nothing is
 * fetched at run time. See README.md for why this list and how the score is combined.
 */
import { createRequire } from 'node:module';
import { parse } from 'tldts';

/** Alphabet: a–z (0–25), 0–9 (26–35), '-' (36), start (37), end (38). */
const A = 39;
const START = 37;
const END = 38;
/** Add-k smoothing constant of the transition probabilities. */
const SMOOTHING = 0.5;
/** Longest label scored (a DNS label has at most 63 characters). */
export const MAX_LABEL_CHARS = 63;

/** Index of a character code in the alphabet, −1 for anything else. */
function charIndex(c: number): number {
  if (c >= 97 && c <= 122) return c - 97;
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 48 && c <= 57) return 26 + c - 48;
  return c === 45 ? 36 : -1;
}

const VOWELS = new Set([0, 4, 8, 14, 20, 24]); // a e i o u y

/** Per-label features the score is made of (exposed for facts and tests). */
export interface LabelFeatures {
  length: number;
  /** Mean log-probability per transition under the model (natural log; higher = more name-like). */
  meanLogP: number;
  /** Shannon entropy of the label's characters (bits per character). */
  entropy: number;
  digitRatio: number;
  /** Longest run of consonants (letters other than a e i o u y). */
  consonantRun: number;
}

/** A trained model. */
export class DgaModel {
  private readonly logp: Float64Array;
  /** Labels the model was trained on. */
  readonly trainedLabels: number;
  /** Median and spread (p95 − p50) of `meanLogP` over training labels of 7+ characters. */
  readonly benignMedian: number;
  readonly benignSpread: number;
  private readonly counts = new Uint8Array(A);

  /** Builds the model from domain names (any form `tldts` parses; duplicates count once). */
  constructor(domains: Iterable<string>) {
    const labels = new Set<string>();
    for (const d of domains) {
      const l = registrableLabel(d);
      if (l !== undefined && l.length >= 2) labels.add(l);
    }
    const counts = new Float64Array(A * A);
    for (const l of labels) {
      let prev = START;
      for (let i = 0; i < l.length; i++) {
        const c = charIndex(l.charCodeAt(i));
        if (c < 0) continue;
        counts[prev * A + c]!++;
        prev = c;
      }
      counts[prev * A + END]!++;
    }
    this.logp = new Float64Array(A * A);
    for (let a = 0; a < A; a++) {
      let row = 0;
      for (let b = 0; b < A; b++) row += counts[a * A + b]!;
      for (let b = 0; b < A; b++)
        this.logp[a * A + b] = Math.log((counts[a * A + b]! + SMOOTHING) / (row + SMOOTHING * (A - 1)));
    }
    this.trainedLabels = labels.size;
    const ref: number[] = [];
    for (const l of labels) if (l.length >= 7) ref.push(this.meanLogP(l));
    ref.sort((x, y) => x - y);
    this.benignMedian = ref[Math.floor(ref.length / 2)] ?? -2.6;
    this.benignSpread = Math.max(0.1, (ref[Math.floor(ref.length * 0.95)] ?? -1.8) - this.benignMedian);
  }

  /** Mean log-probability per transition of a label (start and end transitions included). */
  meanLogP(label: string): number {
    let prev = START;
    let s = 0;
    let n = 0;
    const len = Math.min(label.length, MAX_LABEL_CHARS);
    for (let i = 0; i < len; i++) {
      const c = charIndex(label.charCodeAt(i));
      if (c < 0) continue;
      s += this.logp[prev * A + c]!;
      n++;
      prev = c;
    }
    s += this.logp[prev * A + END]!;
    return s / (n + 1);
  }

  /** The features of a label. */
  features(label: string): LabelFeatures {
    const len = Math.min(label.length, MAX_LABEL_CHARS);
    const counts = this.counts;
    counts.fill(0);
    let digits = 0;
    let run = 0;
    let maxRun = 0;
    let n = 0;
    for (let i = 0; i < len; i++) {
      const c = charIndex(label.charCodeAt(i));
      if (c < 0) continue;
      n++;
      counts[c]!++;
      if (c >= 26 && c < 36) digits++;
      if (c < 26 && !VOWELS.has(c)) {
        run++;
        if (run > maxRun) maxRun = run;
      } else run = 0;
    }
    let entropy = 0;
    for (let c = 0; c < A; c++) {
      const k = counts[c]!;
      if (k > 0) entropy -= (k / n) * Math.log2(k / n);
    }
    return {
      length: n,
      meanLogP: this.meanLogP(label),
      entropy,
      digitRatio: n > 0 ? digits / n : 0,
      consonantRun: maxRun,
    };
  }

  /**
   * DGA score 0..1 of a registrable label: a logistic combination of how improbable its character
   * transitions are (in units of the benign spread below the benign median), its length, its
   * longest consonant run and its mix of digits and letters. Labels shorter than `minLength`
   * score 0 (too little evidence in a few characters).
   */
  score(label: string, minLength: number): number {
    const f = this.features(label);
    if (f.length < minLength) return 0;
    // 2.2 spreads below the median ≈ the 1st percentile of the training labels.
    const improbability = (this.benignMedian - f.meanLogP) / this.benignSpread - 2.2;
    const lengthTerm = Math.max(-1.5, Math.min(1.5, (f.length - 10) / 4));
    const runTerm = 0.4 * Math.max(0, f.consonantRun - 3);
    const mixTerm = f.digitRatio > 0 && f.digitRatio < 1 ? 2 * Math.min(0.5, f.digitRatio) : 0;
    const x = 1.6 * improbability + lengthTerm + runTerm + mixTerm;
    return 1 / (1 + Math.exp(-x));
  }
}

/** A query name split at its registrable domain (`tldts`, ICANN suffixes only). */
export interface NameParts {
  /** Registrable domain, e.g. `example.co.uk`; for unknown suffixes the last two labels. */
  domain: string;
  /** The label left of the public suffix, e.g. `example`. */
  label: string;
  /** What is left of the registrable domain (`a.b` for `a.b.example.com`), '' for none. */
  sub: string;
}

/** Splits a (lower-case) query name; undefined for a name with fewer than two labels. */
export function splitName(name: string): NameParts | undefined {
  const p = parse(name, { allowPrivateDomains: false, extractHostname: false });
  let domain = p.domain;
  if (!domain) {
    const parts = name.split('.');
    if (parts.length < 2) return undefined;
    domain = `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  }
  const dot = domain.indexOf('.');
  const label = dot > 0 ? domain.slice(0, dot) : domain;
  const sub = name.length > domain.length ? name.slice(0, name.length - domain.length - 1) : '';
  return { domain, label, sub };
}

/**
 * The registrable label of a name: the label left of the public suffix (`tldts`), e.g. `example`
 * for `www.example.co.uk`; for names without a known suffix, the second-to-last label.
 */
export function registrableLabel(name: string): string | undefined {
  const p = parse(name, { allowPrivateDomains: false });
  const w = p.domainWithoutSuffix;
  if (w) {
    const dot = w.lastIndexOf('.');
    return (dot >= 0 ? w.slice(dot + 1) : w).toLowerCase();
  }
  const parts = name.toLowerCase().split('.');
  return parts.length >= 2 ? parts[parts.length - 2] : parts[0];
}

let cached: DgaModel | undefined;

/** The model trained on the `email-providers` list, built once per process. */
export function defaultDgaModel(): DgaModel {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const data: unknown = require('email-providers/all.json');
  const list = Array.isArray(data) ? data.filter((x): x is string => typeof x === 'string') : [];
  cached = new DgaModel(list);
  return cached;
}
