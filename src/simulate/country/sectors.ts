/**
 * Japan's 15 critical-infrastructure sectors (the Cybersecurity Policy for Critical
 * Infrastructure Protection lists them), with what the synthetic operators of each look like.
 */

import { SECTORS, type Sector } from '../../common/operators/sectors.ts';

export { SECTORS, type Sector };

/** How synthetic operators of a sector are named. */
export interface SectorStyle {
  /** English label. */
  label: string;
  /** Name suffixes ("{Place} Bank"). */
  suffixes: readonly string[];
  /** Second-level domain under .jp (co.jp for companies, go.jp for ministries, or.jp for bodies). */
  sld: string;
  /** Slug words for domain names. */
  slugs: readonly string[];
  /** Designated important systems of an operator. */
  systems: readonly string[];
}

/** Naming and systems per sector. */
export const SECTOR_STYLE: Record<Sector, SectorStyle> = {
  'information-communications': {
    label: 'Information and communications',
    suffixes: ['Telecom', 'Broadcasting', 'Data Centre', 'Net'],
    sld: 'co.jp',
    slugs: ['telecom', 'tv', 'dc', 'net'],
    systems: ['core router', 'authoritative DNS', 'subscriber authentication'],
  },
  finance: {
    label: 'Finance',
    suffixes: ['Bank', 'Shinkin Bank', 'Securities', 'Insurance'],
    sld: 'co.jp',
    slugs: ['bank', 'shinkin', 'sec', 'ins'],
    systems: ['core banking', 'internet banking', 'interbank gateway'],
  },
  aviation: {
    label: 'Aviation',
    suffixes: ['Airlines', 'Air', 'Air Cargo'],
    sld: 'co.jp',
    slugs: ['air', 'airlines', 'aircargo'],
    systems: ['reservation system', 'flight operations', 'crew scheduling'],
  },
  airports: {
    label: 'Airports',
    suffixes: ['Airport Corporation', 'Airport Terminal'],
    sld: 'co.jp',
    slugs: ['airport', 'terminal'],
    systems: ['baggage handling', 'flight information display', 'access control'],
  },
  railways: {
    label: 'Railways',
    suffixes: ['Railway', 'Electric Railway', 'Rapid Transit'],
    sld: 'co.jp',
    slugs: ['railway', 'dentetsu', 'transit'],
    systems: ['train control', 'seat reservation', 'ticket gates'],
  },
  'electric-power': {
    label: 'Electric power',
    suffixes: ['Electric Power', 'Power Grid', 'Energy'],
    sld: 'co.jp',
    slugs: ['denryoku', 'grid', 'energy'],
    systems: ['SCADA gateway', 'demand response', 'smart meter head-end'],
  },
  gas: {
    label: 'Gas',
    suffixes: ['Gas', 'City Gas'],
    sld: 'co.jp',
    slugs: ['gas', 'citygas'],
    systems: ['pipeline SCADA', 'customer portal', 'meter reading'],
  },
  'government-administrative-services': {
    label: 'Government and administrative services',
    suffixes: ['Prefectural Office', 'City Office', 'Administrative Agency'],
    sld: 'lg.jp',
    slugs: ['pref', 'city', 'agency'],
    systems: ['resident registry', 'e-application portal', 'tax system'],
  },
  medical: {
    label: 'Medical',
    suffixes: ['General Hospital', 'Medical Centre', 'University Hospital'],
    sld: 'or.jp',
    slugs: ['hospital', 'medical', 'uhosp'],
    systems: ['electronic medical records', 'PACS imaging', 'pharmacy system'],
  },
  water: {
    label: 'Water',
    suffixes: ['Waterworks Bureau', 'Water Supply Authority'],
    sld: 'or.jp',
    slugs: ['suido', 'water'],
    systems: ['purification plant SCADA', 'pumping station telemetry'],
  },
  logistics: {
    label: 'Logistics',
    suffixes: ['Logistics', 'Transport', 'Express'],
    sld: 'co.jp',
    slugs: ['logi', 'transport', 'express'],
    systems: ['warehouse management', 'parcel tracking', 'fleet dispatch'],
  },
  chemicals: {
    label: 'Chemicals',
    suffixes: ['Chemical', 'Chemical Industries'],
    sld: 'co.jp',
    slugs: ['chem', 'kagaku'],
    systems: ['plant DCS gateway', 'safety instrumented system', 'ERP'],
  },
  'credit-cards': {
    label: 'Credit cards',
    suffixes: ['Card', 'Credit Service'],
    sld: 'co.jp',
    slugs: ['card', 'credit'],
    systems: ['authorisation switch', 'cardholder portal', 'fraud scoring'],
  },
  petroleum: {
    label: 'Petroleum',
    suffixes: ['Oil', 'Petroleum Refining', 'Energy Resources'],
    sld: 'co.jp',
    slugs: ['oil', 'sekiyu', 'resources'],
    systems: ['refinery DCS gateway', 'tank farm monitoring', 'shipping terminal'],
  },
  ports: {
    label: 'Ports',
    suffixes: ['Port Authority', 'Container Terminal'],
    sld: 'or.jp',
    slugs: ['port', 'container'],
    systems: ['terminal operating system', 'gate automation', 'port community system'],
  },
};

/**
 * Syllables for invented place names ("Kasunori", "Hitamine"): plausible Japanese-sounding but
 * made up, so that synthetic operators are not mistaken for real ones.
 */
export const SYLLABLES = [
  'ka',
  'su',
  'no',
  'ri',
  'hi',
  'ta',
  'mi',
  'ne',
  'sa',
  'ko',
  'to',
  'ya',
  'ma',
  'ha',
  'shi',
  'ki',
  'mo',
  'se',
  'na',
  'wa',
  'ra',
  'yu',
  'te',
  'ku',
  'ho',
  'fu',
  'chi',
  'me',
  'ro',
  'zu',
] as const;

/** Synthetic given and family names for contacts. */
export const GIVEN_NAMES = [
  'Haruto',
  'Yui',
  'Sota',
  'Aoi',
  'Ren',
  'Mei',
  'Daiki',
  'Sakura',
  'Kaito',
  'Hina',
] as const;
/** Synthetic family names for contacts. */
export const FAMILY_NAMES = [
  'Sato',
  'Suzuki',
  'Takahashi',
  'Tanaka',
  'Ito',
  'Watanabe',
  'Yamamoto',
  'Nakamura',
  'Kobayashi',
  'Kato',
] as const;
