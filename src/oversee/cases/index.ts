/** Approval cases, emergency measures and commission communications (R-OVS-5, R-OVS-6). */
export { CaseSigningError, CaseTransitionError } from './errors.ts';
export {
  createCaseService,
  startCaseExpiry,
  DEFAULT_EXPIRY_INTERVAL_MS,
  controlEnvelope,
  targetsOf,
  approvalIdOf,
  decisionIdOf,
  revocationIdOf,
  SYSTEM_ACTOR,
  APPROVAL_CONTENT_TYPE,
  REVOCATION_CONTENT_TYPE,
  type ApprovalCase,
  type CaseActor,
  type CaseInput,
  type CaseListQuery,
  type CasePatch,
  type CaseService,
  type CaseServiceDeps,
  type CommissionKeySource,
  type Communication,
  type CommunicationInput,
  type CommunicationListQuery,
  type CommunicationState,
  type OverdueItem,
} from './service.ts';
export { casesPlugin, registerCaseRoutes } from './routes.ts';
export { caseJson, communicationJson, overdueJson } from './json.ts';
export {
  parseCaseFile,
  parseRequestText,
  checkCaseCreateBody,
  checkCommunicationBody,
  MAX_CASE_FILE_BYTES,
} from './input.ts';
export {
  CaseCreateBodySchema,
  CaseJsonSchema,
  CommunicationJsonSchema,
  CaseDecisionPayloadSchema,
  type CaseCreateBody,
  type CaseJson,
  type CommunicationJson,
} from './schema.ts';
