/**
 * What selection runs with, for `acd edge` offline and live: the resolved `select` section, the
 * signed documents and other files it names, the trusted keys, and whether it is the
 * demonstration feed set (DESIGN section 5). Only the CLI reads files (CONVENTIONS: cli wires).
 */
import { ConfigError } from '../../common/errors.ts';
import { shippedLegalParameters, type LegalParameterTable } from '../../common/legal/index.ts';
import type { TrustedKeySet } from '../../common/signing/index.ts';
import {
  demoSelectionConfig,
  loadSelectionInputs,
  type OperatorRegistry,
  type SelectionConfig,
} from '../../select/index.ts';
import type { AcdConfig } from '../config.ts';

/** Provider id of the demonstration feed set when no configuration names one. */
export const DEMO_PROVIDER_ID = 'demo-provider';

/** Everything the selection engine needs besides the prefix table, keys and clock. */
export interface SelectionSetup {
  config: SelectionConfig;
  /** Signed approvals, agreements and revocations from the configuration (parsed JSON). */
  documents: unknown[];
  indicatorLists: Record<string, string[]>;
  operators: OperatorRegistry | undefined;
  legal: LegalParameterTable;
  trustedKeys: TrustedKeySet;
  /** True when the demonstration feed set is used (say so on stderr). */
  demo: boolean;
}

/** The demonstration feed set for `domesticCountry` (offline without --config, or a demo edge without feeds). */
export function demoSetup(
  domesticCountry: string,
  providerId = DEMO_PROVIDER_ID,
  mode: 'demo' | 'eval' = 'demo',
): SelectionSetup {
  const d = demoSelectionConfig(domesticCountry, { providerId, mode });
  return {
    config: d.config,
    documents: d.documents,
    indicatorLists: {},
    operators: undefined,
    legal: shippedLegalParameters(),
    trustedKeys: d.trustedKeys,
    demo: true,
  };
}

/**
 * The selection of a configuration file. A `demo`/`eval` edge without feeds gets the
 * demonstration feed set (with the configuration's provider id, country and operators file); a
 * production edge must list its feeds. Feeds must belong to `edge.providerId` when it is set.
 */
export async function setupFromConfig(config: AcdConfig): Promise<SelectionSetup> {
  const sel = config.select;
  const providerId = config.edge.providerId;
  if (sel.feeds.length === 0 && sel.mode !== 'production') {
    const demo = demoSetup(sel.domesticCountry, providerId || DEMO_PROVIDER_ID, sel.mode);
    const inputs = await loadSelectionInputs({ ...sel, documents: [], feeds: [] });
    return {
      ...demo,
      operators: inputs.operators,
      legal: inputs.legal,
      indicatorLists: inputs.indicatorLists,
    };
  }
  if (providerId !== '')
    sel.feeds.forEach((f, i) => {
      if (f.providerId !== providerId)
        throw new ConfigError(
          `select.feeds.${i}.providerId`,
          `feed ${f.id} belongs to ${f.providerId}, but this edge is edge.providerId ${providerId}`,
        );
    });
  const inputs = await loadSelectionInputs(sel);
  return { config: sel, ...inputs, demo: false };
}
