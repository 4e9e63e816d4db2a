/**
 * Public surface of dual-authorised re-identification from the centre (issue 8, R-OVS-2): the
 * service, its API plugin, the wiring entry point, the sealing of answers and the answer parser.
 */
export { ReidentifyError, type ReidentifyErrorCode } from './errors.ts';
export {
  ReidentifyConfigSchema,
  resolveReidentifyConfig,
  type ReidentifyConfig,
  type ReidentifyConfigInput,
} from './config.ts';
export {
  createReidentificationService,
  pseudonymisedEndpoints,
  DEMO_REID_SIGNERS,
  MAX_REID_RECORD_ID,
  REID_BODY_FORMAT,
  REID_KIND,
  REID_REQUEST_CONTENT_TYPE,
  type NamedRecord,
  type ReidActor,
  type ReidentificationBody,
  type ReidentificationDeps,
  type ReidentificationInput,
  type ReidentificationService,
  type ReidentificationView,
  type ReidHistoryEntry,
  type RevealedAddress,
} from './service.ts';
export { reidentificationPlugin } from './plugin.ts';
export { createCentreReidentification, sealKeyFileOf, type CentreReidentificationOptions } from './wiring.ts';
export {
  loadOrCreateSealKey,
  seal,
  unseal,
  sealedReference,
  SEAL_KEY_FORMAT,
  SEALED_FORMAT,
  type SealedAnswer,
  type SealKey,
  type WrappedKey,
} from './seal.ts';
export {
  parseAnswer,
  canonicalAddress,
  AnswerBodySchema,
  MAX_ANSWER_BYTES,
  type AnswerBody,
  type ParsedAnswer,
} from './answer.ts';
