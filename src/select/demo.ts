/**
 * The demonstration feed set as a selection configuration (DESIGN section 5): every channel plus
 * operator telemetry, each with the signed demonstration approval of `demoFeedSet()` (selectors
 * that keep all traffic the channel allows) and, for the consent channels, the demonstration
 * agreement. Used by `acd edge --input` without `--config`, `acd analyze`, `acd demo` and
 * `acd eval`; an edge in production mode refuses every one of these documents.
 *
 * Feed order decides which channel a record is attributed to when several could take it:
 * transit, agreement, specified foreign→domestic, specified domestic→foreign, telemetry. The
 * demonstration agreements cover all address space, so without an operators file every
 * foreign→domestic record is attributed to the agreement channel; with one, only traffic to the
 * active operators' ranges is. Operator telemetry takes DNS events only here, so that no
 * domestic↔domestic flow is selected even in a demonstration.
 */
import { demoFeedSet } from '../common/signing/index.ts';
import type { TrustedKeySet } from '../common/signing/index.ts';
import { resolveSelectionConfig, type SelectionConfig } from './config.ts';

/** Options of {@link demoSelectionConfig}. */
export interface DemoSelectionOptions {
  /** Provider id stamped on records (default `demo-provider`). */
  providerId?: string;
  /** `demo` (default) or `eval`. */
  mode?: 'demo' | 'eval';
}

/** The demonstration selection: configuration, signed documents and the trusted demonstration keys. */
export interface DemoSelection {
  config: SelectionConfig;
  documents: unknown[];
  trustedKeys: TrustedKeySet;
}

/** Builds the demonstration selection for `domesticCountry` (ISO alpha-2, default Japan). */
export function demoSelectionConfig(
  domesticCountry = 'JP',
  options: DemoSelectionOptions = {},
): DemoSelection {
  const set = demoFeedSet();
  const providerId = options.providerId ?? 'demo-provider';
  const config = resolveSelectionConfig(
    {
      mode: options.mode ?? 'demo',
      domesticCountry,
      feeds: [
        {
          id: 'demo-transit',
          providerId,
          channel: 'transit-foreign-to-foreign',
          approvalIds: ['demo-approval-transit-foreign-to-foreign'],
          exporters: 'all',
        },
        {
          id: 'demo-agreement',
          providerId,
          channel: 'agreement-foreign-to-domestic',
          agreementId: 'demo-agreement-agreement-foreign-to-domestic',
          approvalIds: ['demo-approval-agreement-foreign-to-domestic'],
          exporters: 'all',
        },
        {
          id: 'demo-specified-inbound',
          providerId,
          channel: 'specified-foreign-to-domestic',
          approvalIds: ['demo-approval-specified-foreign-to-domestic'],
          exporters: 'all',
        },
        {
          id: 'demo-specified-outbound',
          providerId,
          channel: 'specified-domestic-to-foreign',
          approvalIds: ['demo-approval-specified-domestic-to-foreign'],
          exporters: 'all',
        },
        {
          id: 'demo-telemetry',
          providerId,
          channel: 'operator-telemetry',
          agreementId: 'demo-agreement-operator-telemetry',
          approvalIds: ['demo-approval-operator-telemetry'],
          exporters: 'all',
          recordTypes: ['dns'],
        },
      ],
    },
    'select',
  );
  return { config, documents: [...set.approvals, ...set.agreements], trustedKeys: set.trustedKeys };
}
