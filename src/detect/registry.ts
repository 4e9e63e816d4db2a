/**
 * The detectors that exist so far, built from the configuration (CONVENTIONS habit 2: a typed
 * registry). Detectors of the later parts of issue 6 slot in here by name.
 */
import type { Clock } from '../common/clock.ts';
import type { IndicatorEntry } from '../common/indicators/index.ts';
import { createBeaconDetector } from './beacon/detector.ts';
import { createBruteForceDetector } from './brute-force/detector.ts';
import type { DetectConfig } from './config.ts';
import { createDdosDetector } from './ddos/detector.ts';
import { createDgaDetector } from './dga/detector.ts';
import { createDnsTunnelDetector } from './dns-tunnel/detector.ts';
import { createExfiltrationDetector } from './exfiltration/detector.ts';
import { DetectionEngine } from './engine/engine.ts';
import type { Detector, EvidenceSink } from './engine/types.ts';
import { createIndicatorDetector } from './indicator/detector.ts';
import { createLongConnectionDetector } from './long-connection/detector.ts';
import { createScanDetector } from './scan/detector.ts';

/** Detectors implemented so far. */
export const IMPLEMENTED_DETECTORS = [
  'scan',
  'ddos',
  'brute-force',
  'beacon',
  'long-connection',
  'exfiltration',
  'dga',
  'dns-tunnel',
  'indicator',
] as const;

/** Inputs some detectors need besides their configuration. */
export interface DetectorInputs {
  /** The parsed indicator set (`--indicators FILE`); without it `indicator` is not created. */
  indicators?: readonly IndicatorEntry[];
}

/** The enabled detectors of a configuration, emitting into `emit`. */
export function createDetectors(
  config: DetectConfig,
  emit: EvidenceSink,
  inputs: DetectorInputs = {},
): Detector[] {
  const out: Detector[] = [];
  if (config.scan.enabled) out.push(createScanDetector(config.scan, emit));
  if (config.ddos.enabled) out.push(createDdosDetector(config.ddos, emit));
  if (config.bruteForce.enabled) out.push(createBruteForceDetector(config.bruteForce, emit));
  if (config.beacon.enabled) out.push(createBeaconDetector(config.beacon, emit));
  if (config.longConnection.enabled) out.push(createLongConnectionDetector(config.longConnection, emit));
  if (config.exfiltration.enabled) out.push(createExfiltrationDetector(config.exfiltration, emit));
  if (config.dga.enabled) out.push(createDgaDetector(config.dga, emit));
  if (config.dnsTunnel.enabled) out.push(createDnsTunnelDetector(config.dnsTunnel, emit));
  if (config.indicator.enabled && inputs.indicators !== undefined && inputs.indicators.length > 0)
    out.push(createIndicatorDetector(config.indicator, emit, inputs.indicators));
  return out;
}

/** An engine with the configuration's detectors. */
export function createDetectionEngine(
  config: DetectConfig,
  deps: { clock: Clock; emit: EvidenceSink } & DetectorInputs,
): DetectionEngine {
  return new DetectionEngine(config.engine, createDetectors(config, deps.emit, deps), {
    clock: deps.clock,
  });
}
