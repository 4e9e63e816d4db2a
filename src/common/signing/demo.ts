/**
 * The demonstration keys and feed set (DESIGN section 5): public key pairs (see demo/README.md)
 * and signed approvals for every channel plus operator telemetry, valid for event times
 * 2000-01-01 to 2100-01-01, with selectors that keep all traffic each channel allows. The edge
 * and centre refuse them outside demo/eval mode (`isDemoKey`, `allowDemo`).
 */
import { readFileSync } from 'node:fs';
import type { AgreementPayload, ApprovalPayload } from '../schema/approval.ts';
import { LEGAL_CHANNELS } from '../schema/legal.ts';
import { signDocument, type SignedDocument } from './document.ts';
import { TrustedKeyError } from './errors.ts';
import { SigningKey } from './keys.ts';
import { resolveTrustedKey, TrustedKeySet, type KeyScope } from './trust.ts';

/** Key ids of the demonstration keys (commission, re-identification authorisers a and b). */
export const DEMO_KEY_IDS: readonly string[] = [
  'Mpj3j6NZvZ8AwsufWLPcdA',
  'NZBKxa4fbcHcoOaaZITaPw',
  '7yTBXgCnwRwdx978gfvFkQ',
];

const DEMO_IDS = new Set(DEMO_KEY_IDS);

/** True when `keyId` is one of the public demonstration keys. */
export function isDemoKey(keyId: string): boolean {
  return DEMO_IDS.has(keyId);
}

/** Roles of the demonstration keys. */
export type DemoKeyRole = 'commission' | 'reid-authoriser-a' | 'reid-authoriser-b';

interface DemoKeyEntry {
  role: DemoKeyRole;
  signer: string;
  keyId: string;
  publicKey: string;
  privateKey: string;
  scopes: KeyScope[];
  validFrom: string;
  validUntil: string;
}

let loaded: DemoKeyEntry[] | undefined;

function entries(): DemoKeyEntry[] {
  if (loaded) return loaded;
  const path = new URL('./demo/demo-keys.json', import.meta.url);
  let parsed: { keys?: DemoKeyEntry[] };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as { keys?: DemoKeyEntry[] };
  } catch (err) {
    throw new TrustedKeyError('demo-keys.json', 'cannot read the demonstration keys', { cause: err });
  }
  const keys = parsed.keys ?? [];
  if (keys.length !== DEMO_KEY_IDS.length || keys.some((k) => !isDemoKey(k.keyId)))
    throw new TrustedKeyError('demo-keys.json', 'does not match DEMO_KEY_IDS');
  loaded = keys;
  return keys;
}

/** The demonstration signing key of a role. */
export function demoSigningKey(role: DemoKeyRole): SigningKey {
  const e = entries().find((k) => k.role === role);
  if (!e) throw new TrustedKeyError('demo-keys.json', `no ${role} key`);
  const key = SigningKey.fromJwk(e.privateKey, e.publicKey);
  if (key.keyId !== e.keyId) throw new TrustedKeyError('demo-keys.json', `${role}: key id mismatch`);
  return key;
}

/** A trusted key set holding exactly the demonstration public keys (demo/eval mode only). */
export function demoTrustedKeys(): TrustedKeySet {
  return new TrustedKeySet(
    entries().map((e) =>
      resolveTrustedKey(
        {
          publicKey: e.publicKey,
          keyId: e.keyId,
          signer: e.signer,
          validFrom: e.validFrom,
          validUntil: e.validUntil,
          scopes: e.scopes,
        },
        `demo:${e.role}`,
      ),
    ),
  );
}

/** Event-time window of the demonstration documents. */
export const DEMO_VALID_FROM = '2000-01-01T00:00:00.000Z';
/** End of the demonstration window (exclusive). */
export const DEMO_VALID_UNTIL = '2100-01-01T00:00:00.000Z';

/** The demonstration feed set: one approval per channel, and agreements for the consent channels. */
export interface DemoFeedSet {
  approvals: SignedDocument<ApprovalPayload>[];
  agreements: SignedDocument<AgreementPayload>[];
  trustedKeys: TrustedKeySet;
}

/**
 * Builds and signs the demonstration feed set. Ed25519 signatures are deterministic, so every
 * call returns byte-identical documents. The agreements cover all address space (no operator
 * registry is assumed) and waive no pseudonymisation; an edge with an operators file may narrow
 * them to the operators' ranges.
 */
export function demoFeedSet(): DemoFeedSet {
  const key = demoSigningKey('commission');
  const approvals = LEGAL_CHANNELS.map((channel) =>
    signDocument<ApprovalPayload>(
      {
        type: 'approval',
        id: `demo-approval-${channel}`,
        kind: 'acquisition',
        channel,
        providers: ['*'],
        targetActs: ['demonstration'],
        selectors: [
          {
            id: `demo-all-${channel}`,
            kind: 'all-channel-traffic',
            description: 'Demonstration: keep all traffic this channel allows.',
          },
        ],
        validFrom: DEMO_VALID_FROM,
        validUntil: DEMO_VALID_UNTIL,
        issuedAt: DEMO_VALID_FROM,
        justification: 'Demonstration feed set (DESIGN section 5); refused outside demo/eval mode.',
        caseId: 'demo-case',
        demo: true,
      },
      [key],
    ),
  );
  const agreements = (['agreement-foreign-to-domestic', 'operator-telemetry'] as const).map((channel) =>
    signDocument<AgreementPayload>(
      {
        type: 'agreement',
        id: `demo-agreement-${channel}`,
        channel,
        operatorId: 'demo-operators',
        providers: ['*'],
        ranges: ['0.0.0.0/0', '::/0'],
        pseudonymisationWaived: [],
        validFrom: DEMO_VALID_FROM,
        validUntil: DEMO_VALID_UNTIL,
        issuedAt: DEMO_VALID_FROM,
        caseId: 'demo-case',
        demo: true,
      },
      [key],
    ),
  );
  return { approvals, agreements, trustedKeys: demoTrustedKeys() };
}
