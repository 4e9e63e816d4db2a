/**
 * The detectors that exist so far, built from the configuration (CONVENTIONS habit 2: a typed
 * registry). Detectors of the later parts of issue 6 slot in here by name.
 */
import type { Clock } from '../common/clock.ts';
import { createBruteForceDetector } from './brute-force/detector.ts';
import type { DetectConfig } from './config.ts';
import { createDdosDetector } from './ddos/detector.ts';
import { DetectionEngine } from './engine/engine.ts';
import type { Detector, EvidenceSink } from './engine/types.ts';
import { createScanDetector } from './scan/detector.ts';

/** Detectors implemented so far. */
export const IMPLEMENTED_DETECTORS = ['scan', 'ddos', 'brute-force'] as const;

/** The enabled detectors of a configuration, emitting into `emit`. */
export function createDetectors(config: DetectConfig, emit: EvidenceSink): Detector[] {
  const out: Detector[] = [];
  if (config.scan.enabled) out.push(createScanDetector(config.scan, emit));
  if (config.ddos.enabled) out.push(createDdosDetector(config.ddos, emit));
  if (config.bruteForce.enabled) out.push(createBruteForceDetector(config.bruteForce, emit));
  return out;
}

/** An engine with the configuration's detectors. */
export function createDetectionEngine(
  config: DetectConfig,
  deps: { clock: Clock; emit: EvidenceSink },
): DetectionEngine {
  return new DetectionEngine(config.engine, createDetectors(config, deps.emit), { clock: deps.clock });
}
