/**
 * Public surface of the sFlow v5 decoder.
 */
export { decodeSflowDatagram, decodeSflowDatagramToBatch, looksLikeSflow5 } from './decode.ts';
export type { SflowContext } from './decode.ts';
export { createSflowState } from './state.ts';
export type { SflowState, SflowAgentState, SflowStats } from './state.ts';
export { CounterFormat } from './counters.ts';
export * from './limits.ts';
