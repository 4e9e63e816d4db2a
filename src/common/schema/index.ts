export * from './raw.ts';
export * from './record.ts';
export * from './batch.ts';
