export * from './raw.ts';
export * from './record.ts';
export * from './batch.ts';
export * from './legal.ts';
export * from './selected.ts';
export * from './evidence.ts';
