/**
 * Public surface of the simulated exporter fleet: exporters for IPFIX, NetFlow v9/v5, sFlow v5 and
 * dnstap, the outputs (UDP, TCP, pcap / Frame Streams files) and the pacer.
 */
export {
  createExporterFleet,
  validateExporters,
  type ExporterFleet,
  type FleetOptions,
  type FleetStats,
} from './fleet.ts';
export {
  createOutput,
  createUdpOutput,
  createTcpOutput,
  createFrameStreamTcpOutput,
  createPcapFileOutput,
  createFrameStreamFileOutput,
  parseOutputTarget,
  DEFAULT_PORTS,
  type FleetOutput,
  type OutputStats,
  type OutputTarget,
  type Routes,
} from './outputs.ts';
export {
  runPaced,
  type ExportItem,
  type RecordSource,
  type PacingOptions,
  type PacingProgress,
  type PacingResult,
} from './pacer.ts';
export { binomial, sampleFlow, type SampledCounts } from './sampling.ts';
export { createRng, hashString, type Rng } from './rng.ts';
export { TEMPLATE_ID } from './templates.ts';
export {
  DEFAULT_TEMPLATE_REFRESH_MESSAGES,
  DEFAULT_TEMPLATE_REFRESH_SECONDS,
  DEFAULT_UPTIME_AT_START_MS,
} from './flow-exporter.ts';
export { ExporterConfigError, ExporterOutputError } from './errors.ts';
export {
  EXPORTER_FORMATS,
  type ExporterConfig,
  type ExporterFormat,
  type ExporterStats,
  type ExporterTransport,
  type ExportedMessage,
  type SimulatedExporter,
} from './types.ts';
