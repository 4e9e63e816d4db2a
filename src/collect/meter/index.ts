/**
 * Public surface of the flow meter for traffic captures: packets in, bidirectional flow records
 * and DNS events out (see meter.ts for the rules, README.md for the overview).
 */
export { createFlowMeter, newFlowMeterStats } from './meter.ts';
export type { CreateFlowMeterOptions, FlowMeter, FlowMeterStats } from './meter.ts';
export { resolveFlowMeterOptions } from './config.ts';
export type { FlowMeterOptions, ResolvedFlowMeterOptions } from './config.ts';
export { FLOW_END_REASON_CODE } from './flow.ts';
export type { FlowEndReason } from './flow.ts';
export { readTrafficFile, newTrafficFileStats } from './file.ts';
export type { ReadTrafficFileOptions, TrafficFileStats } from './file.ts';
export * from './limits.ts';
export { FlowMeterMetrics } from './metrics.ts';
