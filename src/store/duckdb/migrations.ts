/**
 * Versioned schema of the DuckDB store. `open()` applies, in order and each in its own
 * transaction, every migration newer than the version recorded in `schema_version`. Never edit a
 * released migration: add the next one. Per-day tables (`records_YYYYMMDD`, `evidence_YYYYMMDD`)
 * are created on demand from `recordsTableSql`/`evidenceTableSql` of the current version; a
 * migration that changes their columns must alter every existing day table too.
 */

/** One schema step. */
export interface Migration {
  version: number;
  description: string;
  statements: readonly string[];
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'partitions catalogue, rollups, alerts, incidents, suppressions, operators, cases, audit',
    statements: [
      // one row per retention-day table: what retention drops and what `partitions()` lists
      `CREATE TABLE partitions (
        kind VARCHAR NOT NULL, day VARCHAR NOT NULL, tbl VARCHAR NOT NULL,
        row_count BIGINT NOT NULL, min_t BIGINT NOT NULL, max_t BIGINT NOT NULL,
        PRIMARY KEY (kind, day))`,
      `CREATE TABLE rollup_1m (
        t BIGINT NOT NULL, provider_id VARCHAR NOT NULL,
        records BIGINT NOT NULL, packets DOUBLE NOT NULL, bytes DOUBLE NOT NULL,
        PRIMARY KEY (t, provider_id))`,
      `CREATE TABLE rollup_1h (
        t BIGINT NOT NULL, provider_id VARCHAR NOT NULL,
        records BIGINT NOT NULL, packets DOUBLE NOT NULL, bytes DOUBLE NOT NULL,
        PRIMARY KEY (t, provider_id))`,
      `CREATE TABLE alerts (
        id VARCHAR PRIMARY KEY, detector VARCHAR NOT NULL, subject VARCHAR NOT NULL,
        severity INTEGER NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,
        incident_id VARCHAR, doc VARCHAR NOT NULL)`,
      `CREATE TABLE incidents (
        id VARCHAR PRIMARY KEY, state VARCHAR NOT NULL, severity INTEGER NOT NULL,
        first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        detectors VARCHAR[] NOT NULL, operators VARCHAR[] NOT NULL, addresses VARCHAR[] NOT NULL,
        doc VARCHAR NOT NULL)`,
      // listings are newest first by (last_seen, id)
      `CREATE INDEX alerts_last_seen ON alerts (last_seen, id)`,
      `CREATE INDEX alerts_incident ON alerts (incident_id)`,
      `CREATE INDEX incidents_last_seen ON incidents (last_seen, id)`,
      `CREATE TABLE suppressions (id VARCHAR PRIMARY KEY, created_at BIGINT NOT NULL, doc VARCHAR NOT NULL)`,
      `CREATE TABLE operators (id INTEGER PRIMARY KEY, doc VARCHAR NOT NULL)`,
      `CREATE TABLE cases (
        id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, state VARCHAR NOT NULL,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, doc VARCHAR NOT NULL)`,
      `CREATE TABLE audit (
        seq BIGINT PRIMARY KEY, at_ms BIGINT NOT NULL, actor VARCHAR NOT NULL, role VARCHAR NOT NULL,
        purpose VARCHAR NOT NULL, action VARCHAR NOT NULL, object_ids VARCHAR NOT NULL,
        detail VARCHAR NOT NULL, prev VARCHAR NOT NULL, hash VARCHAR NOT NULL)`,
    ],
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Columns of a records day table, in appender order. */
export const RECORD_COLUMNS = [
  ['record_id', 'VARCHAR'],
  ['t', 'BIGINT'],
  ['record_type', 'VARCHAR'],
  ['protocol', 'VARCHAR'],
  ['provider_id', 'VARCHAR'],
  ['feed_id', 'VARCHAR'],
  ['channel', 'VARCHAR'],
  ['approval_id', 'VARCHAR'],
  ['selector_ids', 'VARCHAR'],
  ['table_version', 'VARCHAR'],
  ['parameter_version', 'VARCHAR'],
  ['key_epoch', 'BIGINT'],
  ['selected_at', 'BIGINT'],
  ['retain_until', 'BIGINT'],
  ['src_addr', 'VARCHAR'],
  ['dst_addr', 'VARCHAR'],
  ['src_port', 'INTEGER'],
  ['dst_port', 'INTEGER'],
  ['proto', 'INTEGER'],
  ['qname', 'VARCHAR'],
  ['src_country', 'VARCHAR'],
  ['src_asn', 'BIGINT'],
  ['src_pseudonymised', 'BOOLEAN'],
  ['dst_country', 'VARCHAR'],
  ['dst_asn', 'BIGINT'],
  ['dst_pseudonymised', 'BOOLEAN'],
  ['packets', 'DOUBLE'],
  ['bytes', 'DOUBLE'],
  ['fields', 'VARCHAR'],
] as const;

/** Columns of an evidence day table, in appender order. */
export const EVIDENCE_COLUMNS = [
  ['id', 'BIGINT'],
  ['start_ms', 'BIGINT'],
  ['detector', 'VARCHAR'],
  ['subject', 'VARCHAR'],
  ['counterpart', 'VARCHAR'],
  ['doc', 'VARCHAR'],
] as const;

/** DDL of one records day table (`name` is `records_YYYYMMDD`, checked by the caller). */
export function recordsTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (${RECORD_COLUMNS.map(([c, t]) => `${c} ${t}`).join(', ')})`;
}

/** DDL of one evidence day table. */
export function evidenceTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (${EVIDENCE_COLUMNS.map(([c, t]) => `${c} ${t}`).join(', ')})`;
}
