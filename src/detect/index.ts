/**
 * Public surface of detection (issue 6, first part): the engine, its batch view and adapters,
 * the detectors so far, and their configuration. See README.md.
 */
export {
  resolveDetectConfig,
  DetectConfigSchema,
  type DetectConfig,
  type DetectConfigInput,
  type EngineConfig,
  type ScanConfig,
  type DdosConfig,
  type BruteForceConfig,
} from './config.ts';
export { DetectionEngine, type EngineStats, type DetectionEngineDeps } from './engine/engine.ts';
export { DetectBatch, SKIP, channelCode } from './engine/batch.ts';
export {
  appendFlowBatch,
  appendFlowRecord,
  appendSelectedRecord,
  toDnsRow,
  type DnsRow,
} from './engine/adapt.ts';
export type { Detector, DetectorStats, EvidenceSink, PartitionKey } from './engine/types.ts';
export { partitionHash, formatHostKey } from './engine/keys.ts';
export { KeyedTable } from './engine/table.ts';
export { CountMinSketch, HllPool } from './engine/sketch.ts';
export { WindowTimer, slidingWindowEnds, type WindowSpec } from './engine/windows.ts';
export { createDetectors, createDetectionEngine, IMPLEMENTED_DETECTORS } from './registry.ts';
export { createScanDetector, SCAN_VERSION } from './scan/detector.ts';
export { RESEARCH_SCANNERS, RESEARCH_SCANNERS_VERSION, type ResearchScanner } from './scan/research.ts';
export { createDdosDetector, DDOS_VERSION } from './ddos/detector.ts';
export { REFLECTION_PORTS } from './ddos/vectors.ts';
export { createBruteForceDetector, BRUTE_FORCE_VERSION } from './brute-force/detector.ts';
export { createBeaconDetector, BEACON_VERSION } from './beacon/detector.ts';
export { createLongConnectionDetector, LONG_CONNECTION_VERSION } from './long-connection/detector.ts';
export { createExfiltrationDetector, EXFILTRATION_VERSION } from './exfiltration/detector.ts';
export { createDgaDetector, DGA_VERSION } from './dga/detector.ts';
export { createDnsTunnelDetector, DNS_TUNNEL_VERSION } from './dns-tunnel/detector.ts';
export { createIndicatorDetector, INDICATOR_VERSION } from './indicator/detector.ts';
