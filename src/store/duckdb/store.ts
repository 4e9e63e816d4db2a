/**
 * `DuckDbStore`: the embedded store (default; files under ./data). Records and evidence go into
 * one table per retention day (`records_YYYYMMDD`, `evidence_YYYYMMDD`) listed in the
 * `partitions` catalogue, so retention is `DROP TABLE` and the drop can be verified; 1-minute and
 * 1-hour rollups are maintained in the same transaction as each append; alerts, incidents, cases
 * and audit entries are rows with a JSON document column and the columns their listings filter
 * and sort on. DuckDB has one writer: every write goes through a promise queue on one
 * connection, in a transaction; reads use a small pool of other connections and see committed
 * data only.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  INTEGER,
  LIST,
  VARCHAR,
  DuckDBDataChunk,
  DuckDBInstance,
  listValue,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { Logger } from '../../common/logging.ts';
import { silentLogger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { OperatorsFile } from '../../common/operators/index.ts';
import type { Alert, Incident, SuppressionRule } from '../../common/schema/alert.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import { resolveStoreConfig, type StoreConfig } from '../config.ts';
import { StoreError } from '../errors.ts';
import { storeMetrics, type StoreMetrics } from '../metrics.ts';
import {
  checkRange,
  checkRetention,
  clampLimit,
  dayExpired,
  daySuffix,
  decodeCursor,
  type CursorPos,
  encodeCursor,
  recordKeys,
  retentionDay,
  severityRank,
  STEP_MS,
  type RecordKeys,
  uniqueIds,
  zeroRetentionCounts,
} from '../shape.ts';
import {
  ALERTS_PROVIDER,
  MAX_LIMIT,
  MAX_SERIES_POINTS,
  type AlertQuery,
  type AuditQuery,
  type AuditRecord,
  type CaseRecord,
  type EvidenceQuery,
  type IncidentDetail,
  type IncidentQuery,
  type Page,
  type PageQuery,
  type Partition,
  type RecordQuery,
  type RetentionOptions,
  type RetentionResult,
  type RollupPoint,
  type SeriesQuery,
  type Store,
  type StoreStats,
  type TopEntry,
  type TopQuery,
} from '../types.ts';
import {
  EVIDENCE_COLUMNS,
  evidenceTableSql,
  MIGRATIONS,
  RECORD_COLUMNS,
  recordsTableSql,
  SCHEMA_VERSION,
} from './migrations.ts';

/** Options of the DuckDB store. */
export interface DuckDbStoreOptions {
  /** Store configuration (`path`, batch sizes, connections); defaults filled when partial. */
  config?: Partial<StoreConfig>;
  metrics?: MetricsRegistry;
  logger?: Logger;
}

type Row = Record<string, unknown>;

interface PartInfo {
  kind: 'records' | 'evidence';
  day: string;
  tbl: string;
  rows: number;
  minT: number;
  maxT: number;
}

const TYPES: Record<string, DuckDBType> = { VARCHAR, BIGINT, INTEGER, BOOLEAN, DOUBLE };
const RECORD_TYPES = RECORD_COLUMNS.map(([, t]) => TYPES[t] ?? VARCHAR);
const EVIDENCE_TYPES = EVIDENCE_COLUMNS.map(([, t]) => TYPES[t] ?? VARCHAR);
/** Rows per appended data chunk (DuckDB's vector size). */
const CHUNK_ROWS = 2048;
const STR_LIST = LIST(VARCHAR);
const DAY_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

function n(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  return 0;
}
function s(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function big(v: number): bigint {
  return BigInt(Math.trunc(v));
}
function parse<T>(v: unknown): T {
  return JSON.parse(s(v)) as T;
}

function tableName(kind: 'records' | 'evidence', day: string): string {
  if (!DAY_RE.test(day)) throw new StoreError('ERR_STORE_BAD_VALUE', `bad retention day ${day}`);
  return `${kind}_${daySuffix(day)}`;
}

/** Builds `WHERE` clauses with named parameters. */
class Where {
  readonly parts: string[] = [];
  readonly params: Record<string, DuckDBValue> = {};
  private i = 0;
  add(sql: (p: (v: DuckDBValue) => string) => string): void {
    this.parts.push(
      sql((v) => {
        const name = `p${this.i++}`;
        this.params[name] = v;
        return `$${name}`;
      }),
    );
  }
  sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

function toRecord(r: Row): SelectedRecord {
  return {
    recordId: s(r.record_id),
    recordType: s(r.record_type) as SelectedRecord['recordType'],
    protocol: s(r.protocol) as SelectedRecord['protocol'],
    fields: parse<SelectedRecord['fields']>(r.fields),
    source: { country: s(r.src_country), asn: n(r.src_asn), pseudonymised: r.src_pseudonymised === true },
    destination: {
      country: s(r.dst_country),
      asn: n(r.dst_asn),
      pseudonymised: r.dst_pseudonymised === true,
    },
    provenance: {
      providerId: s(r.provider_id),
      feedId: s(r.feed_id),
      channel: s(r.channel) as SelectedRecord['provenance']['channel'],
      approvalId: s(r.approval_id),
      selectorIds: parse<string[]>(r.selector_ids),
      tableVersion: s(r.table_version),
      parameterVersion: s(r.parameter_version),
      keyEpoch: n(r.key_epoch),
      selectedAt: n(r.selected_at),
      retainUntil: n(r.retain_until),
    },
  };
}

function toAudit(r: Row): AuditRecord {
  return {
    seq: n(r.seq),
    at: n(r.at_ms),
    actor: s(r.actor),
    role: s(r.role),
    purpose: s(r.purpose),
    action: s(r.action),
    objectIds: parse<string[]>(r.object_ids),
    detail: parse<Record<string, unknown>>(r.detail),
    prev: s(r.prev),
    hash: s(r.hash),
  };
}

/** The DuckDB store. */
export class DuckDbStore implements Store {
  readonly kind = 'duckdb' as const;
  private readonly cfg: StoreConfig;
  private readonly m: StoreMetrics;
  private readonly log: Logger;
  private instance: DuckDBInstance | undefined;
  private writer: DuckDBConnection | undefined;
  private idle: DuckDBConnection[] = [];
  private readers: DuckDBConnection[] = [];
  private waiting: ((c: DuckDBConnection) => void)[] = [];
  private busyReads = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private parts = new Map<string, PartInfo>();
  private evidenceSeq = 0;
  private auditLast = 0;

  constructor(opts: DuckDbStoreOptions = {}) {
    this.cfg = resolveStoreConfig({ ...opts.config, type: 'duckdb' });
    this.m = storeMetrics(opts.metrics ?? new MetricsRegistry(), 'duckdb');
    this.log = opts.logger ?? silentLogger;
  }

  /** The database file (`:memory:` for an in-memory database). */
  get path(): string {
    return this.cfg.path;
  }

  async open(): Promise<void> {
    if (this.instance) throw new StoreError('ERR_STORE_OPEN', 'store already open');
    const path = this.cfg.path;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      const instance = await DuckDBInstance.create(path, {
        threads: String(this.cfg.threads),
        memory_limit: `${this.cfg.memoryLimitMiB}MiB`,
      });
      this.instance = instance;
      this.writer = await instance.connect();
      await this.migrate(this.writer);
      for (let i = 0; i < this.cfg.readConnections; i++) this.readers.push(await instance.connect());
      this.idle = [...this.readers];
      await this.loadState(this.writer);
    } catch (err) {
      this.shutdown();
      if (err instanceof StoreError) throw err;
      throw new StoreError('ERR_STORE_OPEN', `cannot open ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.log.info({ path, schema: SCHEMA_VERSION, partitions: this.parts.size }, 'store opened');
  }

  private async migrate(c: DuckDBConnection): Promise<void> {
    await c.run(
      `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL, description VARCHAR NOT NULL)`,
    );
    const cur = n(
      (
        await c.runAndReadAll(`SELECT coalesce(max(version), 0) AS v FROM schema_version`)
      ).getRowObjectsJS()[0]?.v,
    );
    if (cur > SCHEMA_VERSION)
      throw new StoreError(
        'ERR_STORE_OPEN',
        `database schema version ${cur} is newer than this program's (${SCHEMA_VERSION})`,
      );
    for (const mig of MIGRATIONS) {
      if (mig.version <= cur) continue;
      await c.run('BEGIN TRANSACTION');
      try {
        for (const st of mig.statements) await c.run(st);
        await c.run(`INSERT INTO schema_version VALUES ($v, $at, $d)`, {
          v: mig.version,
          at: Date.now(),
          d: mig.description,
        });
        await c.run('COMMIT');
      } catch (err) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      this.log.info({ version: mig.version }, 'store schema migrated');
    }
  }

  private async loadState(c: DuckDBConnection): Promise<void> {
    this.parts.clear();
    const rows = (await c.runAndReadAll(`SELECT * FROM partitions`)).getRowObjectsJS() as Row[];
    for (const r of rows) {
      const p: PartInfo = {
        kind: s(r.kind) === 'evidence' ? 'evidence' : 'records',
        day: s(r.day),
        tbl: s(r.tbl),
        rows: n(r.row_count),
        minT: n(r.min_t),
        maxT: n(r.max_t),
      };
      this.parts.set(`${p.kind}|${p.day}`, p);
    }
    this.evidenceSeq = 0;
    for (const p of this.parts.values()) {
      if (p.kind !== 'evidence') continue;
      const r = (await c.runAndReadAll(`SELECT coalesce(max(id), 0) AS m FROM ${p.tbl}`)).getRowObjectsJS();
      this.evidenceSeq = Math.max(this.evidenceSeq, n(r[0]?.m));
    }
    this.auditLast = n(
      (await c.runAndReadAll(`SELECT coalesce(max(seq), 0) AS m FROM audit`)).getRowObjectsJS()[0]?.m,
    );
  }

  private shutdown(): void {
    for (const c of this.readers) c.closeSync();
    this.writer?.closeSync();
    this.instance?.closeSync();
    this.readers = [];
    this.idle = [];
    this.writer = undefined;
    this.instance = undefined;
  }

  /** Waits for queued writes, checkpoints (the WAL goes into the file) and closes. */
  async close(): Promise<void> {
    if (!this.instance) return;
    await this.queue.catch(() => undefined);
    while (this.busyReads > 0) await new Promise((r) => setTimeout(r, 5));
    try {
      await this.writer?.run('CHECKPOINT');
    } finally {
      this.shutdown();
    }
    this.log.info({ path: this.cfg.path }, 'store closed');
  }

  // ---------------------------------------------------------------- plumbing

  private conn(): DuckDBConnection {
    if (!this.writer) throw new StoreError('ERR_STORE_CLOSED', 'store is not open');
    return this.writer;
  }

  /** Runs `f` on a read connection from the pool. */
  private async read<T>(f: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (!this.instance) {
      this.m.errors.inc();
      throw new StoreError('ERR_STORE_CLOSED', 'store is not open');
    }
    const c = this.idle.pop() ?? (await new Promise<DuckDBConnection>((res) => this.waiting.push(res)));
    this.busyReads++;
    try {
      const v = await f(c);
      this.m.queries.inc();
      return v;
    } catch (err) {
      this.m.errors.inc();
      if (err instanceof StoreError) throw err;
      throw new StoreError('ERR_STORE_QUERY', `query failed: ${(err as Error).message}`, { cause: err });
    } finally {
      this.busyReads--;
      const w = this.waiting.shift();
      if (w) w(c);
      else this.idle.push(c);
    }
  }

  /**
   * One page of a document table (`id`, a time column, `doc` JSON) newest first: adds the keyset
   * condition of the cursor to `w`, reads one row more than `limit` to know whether a next page
   * exists, and encodes the next cursor from the last row returned.
   */
  private async pageDocs<T>(
    c: DuckDBConnection,
    table: 'alerts' | 'incidents' | 'cases',
    timeCol: 'last_seen' | 'updated_at',
    w: Where,
    cur: CursorPos | undefined,
    limit: number,
  ): Promise<Page<T>> {
    if (cur)
      w.add((p) => {
        const t = p(big(cur.t));
        return `(${timeCol} < ${t} OR (${timeCol} = ${t} AND id < ${p(cur.id)}))`;
      });
    const rows = await this.rows(
      c,
      `SELECT id, ${timeCol} AS t, doc FROM ${table} ${w.sql()} ORDER BY ${timeCol} DESC, id DESC LIMIT ${limit + 1}`,
      w.params,
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((r) => parse<T>(r.doc)),
      next: rows.length > limit && last ? encodeCursor(table, { t: n(last.t), id: s(last.id) }) : null,
    };
  }

  private async rows(c: DuckDBConnection, sql: string, params?: Record<string, DuckDBValue>): Promise<Row[]> {
    const r = params ? await c.runAndReadAll(sql, params) : await c.runAndReadAll(sql);
    return r.getRowObjectsJS();
  }

  /**
   * Runs `f` in a transaction on the writer, after every earlier write (the promise queue that
   * makes DuckDB's single writer safe to call concurrently). Callers update their in-process
   * mirrors of committed state only after this resolves.
   */
  private write<T>(f: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const c = this.conn();
      await c.run('BEGIN TRANSACTION');
      try {
        const v = await f(c);
        await c.run('COMMIT');
        this.m.writes.inc();
        return v;
      } catch (err) {
        this.m.errors.inc();
        await c.run('ROLLBACK').catch(() => undefined);
        if (err instanceof StoreError) throw err;
        throw new StoreError('ERR_STORE_WRITE', `write failed: ${(err as Error).message}`, { cause: err });
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async ensurePartition(
    c: DuckDBConnection,
    kind: 'records' | 'evidence',
    day: string,
    pending: Map<string, PartInfo>,
  ): Promise<PartInfo> {
    const key = `${kind}|${day}`;
    const have = pending.get(key) ?? this.parts.get(key);
    if (have) {
      const copy = { ...have };
      pending.set(key, copy);
      return copy;
    }
    const tbl = tableName(kind, day);
    await c.run(kind === 'records' ? recordsTableSql(tbl) : evidenceTableSql(tbl));
    await c.run(`INSERT INTO partitions VALUES ($k, $d, $t, 0, 0, 0)`, { k: kind, d: day, t: tbl });
    const p: PartInfo = {
      kind,
      day,
      tbl,
      rows: 0,
      minT: Number.MAX_SAFE_INTEGER,
      maxT: Number.MIN_SAFE_INTEGER,
    };
    pending.set(key, p);
    return p;
  }

  private async appendColumns(
    c: DuckDBConnection,
    tbl: string,
    types: DuckDBType[],
    cols: DuckDBValue[][],
  ): Promise<void> {
    const rows = cols[0]?.length ?? 0;
    const ap = await c.createAppender(tbl);
    try {
      for (let off = 0; off < rows; off += CHUNK_ROWS) {
        const len = Math.min(CHUNK_ROWS, rows - off);
        const chunk = DuckDBDataChunk.create(types, len);
        chunk.setColumns(cols.map((col) => (off === 0 && len === rows ? col : col.slice(off, off + len))));
        ap.appendDataChunk(chunk);
      }
      ap.flushSync();
    } finally {
      ap.closeSync();
    }
  }

  private async savePartitions(c: DuckDBConnection, pending: Map<string, PartInfo>): Promise<void> {
    for (const p of pending.values())
      await c.run(
        `UPDATE partitions SET row_count = $r, min_t = $lo, max_t = $hi WHERE kind = $k AND day = $d`,
        {
          r: p.rows,
          lo: p.minT,
          hi: p.maxT,
          k: p.kind,
          d: p.day,
        },
      );
  }

  // ---------------------------------------------------------------- records

  async appendRecords(records: readonly SelectedRecord[]): Promise<void> {
    if (!this.instance) throw new StoreError('ERR_STORE_CLOSED', 'store is not open');
    if (records.length === 0) return;
    // compute everything that can fail on bad input before queueing
    const keyed = records.map((r) => ({ r, k: recordKeys(r), day: retentionDay(r.provenance.retainUntil) }));
    for (let off = 0; off < keyed.length; off += this.cfg.appendBatchRows)
      await this.appendBatch(keyed.slice(off, off + this.cfg.appendBatchRows));
  }

  private async appendBatch(keyed: { r: SelectedRecord; k: RecordKeys; day: string }[]): Promise<void> {
    const byDay = new Map<string, typeof keyed>();
    for (const e of keyed) {
      const l = byDay.get(e.day);
      if (l) l.push(e);
      else byDay.set(e.day, [e]);
    }
    const pending = new Map<string, PartInfo>();
    await this.write(async (c) => {
      for (const [day, list] of byDay) {
        const p = await this.ensurePartition(c, 'records', day, pending);
        const cols: DuckDBValue[][] = RECORD_COLUMNS.map(() => new Array<DuckDBValue>(list.length));
        list.forEach(({ r, k }, i) => {
          const v = r.provenance;
          const row: DuckDBValue[] = [
            r.recordId,
            big(k.t),
            r.recordType,
            r.protocol,
            v.providerId,
            v.feedId,
            v.channel,
            v.approvalId,
            JSON.stringify(v.selectorIds),
            v.tableVersion,
            v.parameterVersion,
            big(v.keyEpoch),
            big(v.selectedAt),
            big(v.retainUntil),
            k.srcAddr,
            k.dstAddr,
            k.srcPort,
            k.dstPort,
            k.proto,
            k.qname,
            r.source.country,
            big(r.source.asn),
            r.source.pseudonymised,
            r.destination.country,
            big(r.destination.asn),
            r.destination.pseudonymised,
            k.packets,
            k.bytes,
            JSON.stringify(r.fields),
          ];
          for (let j = 0; j < row.length; j++) (cols[j] as DuckDBValue[])[i] = row[j] ?? null;
          p.rows++;
          if (k.t < p.minT) p.minT = k.t;
          if (k.t > p.maxT) p.maxT = k.t;
        });
        await this.appendColumns(c, p.tbl, RECORD_TYPES, cols);
      }
      await this.savePartitions(c, pending);
      for (const step of ['1m', '1h'] as const) await this.rollup(c, step, keyed);
    });
    for (const [k, p] of pending) this.parts.set(k, p);
    this.m.recordsAppended.inc(keyed.length);
  }

  private async rollup(
    c: DuckDBConnection,
    step: '1m' | '1h',
    keyed: { r: SelectedRecord; k: RecordKeys }[],
  ): Promise<void> {
    const ms = STEP_MS[step];
    const acc = new Map<string, { t: number; p: string; records: number; packets: number; bytes: number }>();
    for (const { r, k } of keyed) {
      const t = Math.floor(k.t / ms) * ms;
      const key = `${t}|${r.provenance.providerId}`;
      const b = acc.get(key);
      if (b) {
        b.records++;
        b.packets += k.packets;
        b.bytes += k.bytes;
      } else acc.set(key, { t, p: r.provenance.providerId, records: 1, packets: k.packets, bytes: k.bytes });
    }
    const tbl = `rollup_${step}`;
    const all = [...acc.values()];
    for (let off = 0; off < all.length; off += 500) {
      const part = all.slice(off, off + 500);
      const params: DuckDBValue[] = [];
      const values = part.map((b, i) => {
        params.push(big(b.t), b.p, big(b.records), b.packets, b.bytes);
        const o = i * 5;
        return `($${o + 1}, $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5})`;
      });
      await c.run(
        `INSERT INTO ${tbl} VALUES ${values.join(', ')} ON CONFLICT (t, provider_id) DO UPDATE SET
           records = ${tbl}.records + excluded.records,
           packets = ${tbl}.packets + excluded.packets,
           bytes = ${tbl}.bytes + excluded.bytes`,
        params,
      );
    }
  }

  private overlapping(kind: 'records' | 'evidence', from: number, to: number): PartInfo[] {
    return [...this.parts.values()].filter(
      (p) => p.kind === kind && p.rows > 0 && p.maxT >= from && p.minT < to,
    );
  }

  queryRecords(q: RecordQuery): Promise<Page<SelectedRecord>> {
    return this.read(async (c) => {
      checkRange(q.from, q.to);
      const limit = clampLimit(q.limit);
      const cur = decodeCursor('records', q.cursor);
      const w = new Where();
      w.add((p) => `t >= ${p(big(q.from))} AND t < ${p(big(Math.ceil(q.to)))}`);
      if (q.recordType !== undefined) w.add((p) => `record_type = ${p(q.recordType ?? '')}`);
      if (q.providerId !== undefined) w.add((p) => `provider_id = ${p(q.providerId ?? '')}`);
      if (q.channel !== undefined) w.add((p) => `channel = ${p(q.channel ?? '')}`);
      if (q.address !== undefined)
        w.add((p) => {
          const a = p(q.address ?? '');
          return `(src_addr = ${a} OR dst_addr = ${a})`;
        });
      if (q.port !== undefined)
        w.add((p) => {
          const a = p(q.port ?? 0);
          return `(src_port = ${a} OR dst_port = ${a})`;
        });
      if (q.protocolIdentifier !== undefined) w.add((p) => `proto = ${p(q.protocolIdentifier ?? 0)}`);
      if (q.qname !== undefined) {
        const sfx = q.qname.toLowerCase().replace(/\.$/, '').replace(/^\./, '');
        w.add((p) => {
          const x = p(sfx);
          const dx = p('.' + sfx);
          return `(lower(rtrim(qname, '.')) = ${x} OR ends_with(lower(rtrim(qname, '.')), ${dx}))`;
        });
      }
      if (cur)
        w.add((p) => {
          const t = p(big(cur.t));
          return `(t < ${t} OR (t = ${t} AND record_id < ${p(cur.id)}))`;
        });
      const tables = this.overlapping('records', q.from, q.to);
      if (tables.length === 0) return { items: [], next: null };
      const order = `ORDER BY t DESC, record_id DESC LIMIT ${limit + 1}`;
      const sql = tables.map((p) => `(SELECT * FROM ${p.tbl} ${w.sql()} ${order})`).join(' UNION ALL ');
      const rows = await this.rows(c, `SELECT * FROM (${sql}) ${order}`, w.params);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map(toRecord),
        next:
          rows.length > limit && last
            ? encodeCursor('records', { t: n(last.t), id: s(last.record_id) })
            : null,
      };
    });
  }

  getRecords(ids: readonly string[]): Promise<SelectedRecord[]> {
    return this.read(async (c) => {
      const wanted = uniqueIds(ids);
      const tables = [...this.parts.values()].filter((p) => p.kind === 'records' && p.rows > 0);
      if (wanted.size === 0 || tables.length === 0) return [];
      // A look-up by id scans every day table once: rare (named records), bounded by MAX_LIMIT ids.
      const sql = tables
        .map((p) => `(SELECT * FROM ${p.tbl} WHERE list_contains($1, record_id))`)
        .join(' UNION ALL ');
      const rows = (
        await c.runAndReadAll(`SELECT * FROM (${sql})`, [listValue([...wanted])], [STR_LIST])
      ).getRowObjectsJS() as Row[];
      const found = new Map<string, SelectedRecord>();
      for (const r of rows) {
        const id = s(r.record_id);
        if (!found.has(id)) found.set(id, toRecord(r));
      }
      return [...wanted].flatMap((id) => {
        const r = found.get(id);
        return r ? [r] : [];
      });
    });
  }

  // ---------------------------------------------------------------- evidence

  async appendEvidence(evidence: readonly Evidence[], retainUntil: number): Promise<void> {
    if (!this.instance) throw new StoreError('ERR_STORE_CLOSED', 'store is not open');
    if (evidence.length === 0) return;
    const day = retentionDay(retainUntil);
    const docs = evidence.map((e) => JSON.stringify(e));
    const pending = new Map<string, PartInfo>();
    let seq = 0;
    await this.write(async (c) => {
      seq = this.evidenceSeq;
      const p = await this.ensurePartition(c, 'evidence', day, pending);
      const cols: DuckDBValue[][] = EVIDENCE_COLUMNS.map(() => []);
      evidence.forEach((e, i) => {
        const row: DuckDBValue[] = [
          big(++seq),
          big(e.window.start),
          e.detector,
          e.subject,
          e.counterpart ?? null,
          docs[i] ?? '{}',
        ];
        row.forEach((v, j) => (cols[j] as DuckDBValue[]).push(v));
        p.rows++;
        p.minT = Math.min(p.minT, e.window.start);
        p.maxT = Math.max(p.maxT, e.window.start);
      });
      await this.appendColumns(c, p.tbl, EVIDENCE_TYPES, cols);
      await this.savePartitions(c, pending);
    });
    this.evidenceSeq = seq;
    for (const [k, p] of pending) this.parts.set(k, p);
    this.m.evidenceAppended.inc(evidence.length);
  }

  queryEvidence(q: EvidenceQuery): Promise<Page<Evidence>> {
    return this.read(async (c) => {
      checkRange(q.from, q.to);
      const limit = clampLimit(q.limit);
      const cur = decodeCursor('evidence', q.cursor);
      const w = new Where();
      w.add((p) => `start_ms >= ${p(big(q.from))} AND start_ms < ${p(big(Math.ceil(q.to)))}`);
      if (q.detector !== undefined) w.add((p) => `detector = ${p(q.detector ?? '')}`);
      if (q.address !== undefined)
        w.add((p) => {
          const a = p(q.address ?? '');
          return `(subject = ${a} OR counterpart = ${a})`;
        });
      if (cur) {
        const id = Number(cur.id);
        if (!Number.isSafeInteger(id))
          throw new StoreError('ERR_STORE_BAD_CURSOR', 'bad cursor: not an evidence cursor');
        w.add((p) => {
          const t = p(big(cur.t));
          return `(start_ms < ${t} OR (start_ms = ${t} AND id < ${p(big(id))}))`;
        });
      }
      const tables = this.overlapping('evidence', q.from, q.to);
      if (tables.length === 0) return { items: [], next: null };
      const order = `ORDER BY start_ms DESC, id DESC LIMIT ${limit + 1}`;
      const sql = tables
        .map((p) => `(SELECT id, start_ms, doc FROM ${p.tbl} ${w.sql()} ${order})`)
        .join(' UNION ALL ');
      const rows = await this.rows(c, `SELECT * FROM (${sql}) ${order}`, w.params);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map((r) => parse<Evidence>(r.doc)),
        next:
          rows.length > limit && last
            ? encodeCursor('evidence', { t: n(last.start_ms), id: String(n(last.id)) })
            : null,
      };
    });
  }

  // ---------------------------------------------------------------- alerts and incidents

  /** Replaces rows by id in one statement pair: delete the ids, then append (last of an id wins). */
  private async replaceRows(
    c: DuckDBConnection,
    table: string,
    ids: string[],
    types: DuckDBType[],
    rows: DuckDBValue[][],
  ): Promise<void> {
    await c.run(`DELETE FROM ${table} WHERE list_contains($1, id)`, [listValue(ids)], [STR_LIST]);
    const cols: DuckDBValue[][] = types.map(() => []);
    for (const r of rows) r.forEach((v, j) => (cols[j] as DuckDBValue[]).push(v));
    await this.appendColumns(c, table, types, cols);
  }

  async upsertAlerts(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const last = new Map<string, Alert>();
    for (const a of alerts) last.set(a.id, a);
    const rows = [...last.values()].map((a): DuckDBValue[] => [
      a.id,
      a.detector,
      a.subject,
      severityRank(a.severity),
      big(a.firstSeen),
      big(a.lastSeen),
      a.incidentId ?? null,
      JSON.stringify(a),
    ]);
    const types = [VARCHAR, VARCHAR, VARCHAR, INTEGER, BIGINT, BIGINT, VARCHAR, VARCHAR];
    await this.write((c) => this.replaceRows(c, 'alerts', [...last.keys()], types, rows));
    this.m.alertsUpserted.inc(alerts.length);
  }

  getAlert(id: string): Promise<Alert | undefined> {
    return this.read(async (c) => {
      const r = await this.rows(c, `SELECT doc FROM alerts WHERE id = $id`, { id });
      return r[0] ? parse<Alert>(r[0].doc) : undefined;
    });
  }

  listAlerts(q: AlertQuery): Promise<Page<Alert>> {
    return this.read(async (c) => {
      const limit = clampLimit(q.limit);
      const cur = decodeCursor('alerts', q.cursor);
      const w = new Where();
      if (q.detector !== undefined) w.add((p) => `detector = ${p(q.detector ?? '')}`);
      if (q.subject !== undefined) w.add((p) => `subject = ${p(q.subject ?? '')}`);
      if (q.severityAtLeast !== undefined)
        w.add((p) => `severity >= ${p(severityRank(q.severityAtLeast ?? 'low'))}`);
      if (q.incidentId !== undefined) w.add((p) => `incident_id = ${p(q.incidentId ?? '')}`);
      if (q.since !== undefined) w.add((p) => `last_seen >= ${p(big(q.since ?? 0))}`);
      if (q.until !== undefined) w.add((p) => `first_seen < ${p(big(q.until ?? 0))}`);
      return this.pageDocs<Alert>(c, 'alerts', 'last_seen', w, cur, limit);
    });
  }

  async upsertIncidents(incidents: readonly Incident[]): Promise<void> {
    if (incidents.length === 0) return;
    const last = new Map<string, Incident>();
    for (const i of incidents) last.set(i.id, i);
    const rows = [...last.values()].map((i): DuckDBValue[] => [
      i.id,
      i.state,
      severityRank(i.severity),
      big(i.firstSeen),
      big(i.lastSeen),
      big(i.updatedAt),
      listValue([...i.detectors]),
      listValue([...i.operators]),
      listValue([...new Set([...i.subjects, ...i.counterparts])]),
      JSON.stringify(i),
    ]);
    const types = [VARCHAR, VARCHAR, INTEGER, BIGINT, BIGINT, BIGINT, STR_LIST, STR_LIST, STR_LIST, VARCHAR];
    await this.write((c) => this.replaceRows(c, 'incidents', [...last.keys()], types, rows));
    this.m.incidentsUpserted.inc(incidents.length);
  }

  async deleteIncidents(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.write((c) =>
      c.run(`DELETE FROM incidents WHERE list_contains($1, id)`, [listValue([...ids])], [STR_LIST]),
    );
  }

  getIncident(id: string): Promise<IncidentDetail | undefined> {
    return this.read(async (c) => {
      const r = await this.rows(c, `SELECT doc FROM incidents WHERE id = $id`, { id });
      if (!r[0]) return undefined;
      const incident = parse<Incident>(r[0].doc);
      const ids = incident.alerts.slice(0, MAX_LIMIT);
      const found = new Map<string, Alert>();
      if (ids.length > 0) {
        const rows = (
          await c.runAndReadAll(
            `SELECT id, doc FROM alerts WHERE list_contains($1, id)`,
            [listValue(ids)],
            [STR_LIST],
          )
        ).getRowObjectsJS() as Row[];
        for (const a of rows) found.set(s(a.id), parse<Alert>(a.doc));
      }
      const alerts = ids.map((x) => found.get(x)).filter((a): a is Alert => a !== undefined);
      return { incident, alerts };
    });
  }

  listIncidents(q: IncidentQuery): Promise<Page<Incident>> {
    return this.read(async (c) => {
      const limit = clampLimit(q.limit);
      const cur = decodeCursor('incidents', q.cursor);
      const w = new Where();
      if (q.state !== undefined) w.add((p) => `state = ${p(q.state ?? '')}`);
      if (q.severityAtLeast !== undefined)
        w.add((p) => `severity >= ${p(severityRank(q.severityAtLeast ?? 'low'))}`);
      if (q.detector !== undefined) w.add((p) => `list_contains(detectors, ${p(q.detector ?? '')})`);
      if (q.operatorId !== undefined) w.add((p) => `list_contains(operators, ${p(q.operatorId ?? '')})`);
      if (q.address !== undefined) w.add((p) => `list_contains(addresses, ${p(q.address ?? '')})`);
      if (q.since !== undefined) w.add((p) => `last_seen >= ${p(big(q.since ?? 0))}`);
      if (q.until !== undefined) w.add((p) => `first_seen < ${p(big(q.until ?? 0))}`);
      return this.pageDocs<Incident>(c, 'incidents', 'last_seen', w, cur, limit);
    });
  }

  // ---------------------------------------------------------------- suppressions, operators, cases

  async putSuppression(rule: SuppressionRule): Promise<void> {
    await this.write((c) =>
      c.run(`INSERT OR REPLACE INTO suppressions VALUES ($1, $2, $3)`, [
        rule.id,
        big(rule.createdAt),
        JSON.stringify(rule),
      ]),
    );
  }

  deleteSuppression(id: string): Promise<boolean> {
    return this.write(async (c) => {
      const r = await c.runAndReadAll(`DELETE FROM suppressions WHERE id = $1 RETURNING id`, [id]);
      return r.currentRowCount > 0;
    });
  }

  listSuppressions(): Promise<SuppressionRule[]> {
    return this.read(async (c) =>
      (await this.rows(c, `SELECT doc FROM suppressions ORDER BY created_at, id LIMIT 100000`)).map((r) =>
        parse<SuppressionRule>(r.doc),
      ),
    );
  }

  async putOperators(file: OperatorsFile): Promise<void> {
    await this.write((c) => c.run(`INSERT OR REPLACE INTO operators VALUES (1, $1)`, [JSON.stringify(file)]));
  }

  getOperators(): Promise<OperatorsFile | undefined> {
    return this.read(async (c) => {
      const r = await this.rows(c, `SELECT doc FROM operators WHERE id = 1`);
      return r[0] ? parse<OperatorsFile>(r[0].doc) : undefined;
    });
  }

  async putCase(x: CaseRecord): Promise<void> {
    await this.write((c) =>
      c.run(`INSERT OR REPLACE INTO cases VALUES ($1, $2, $3, $4, $5, $6)`, [
        x.id,
        x.kind,
        x.state,
        big(x.createdAt),
        big(x.updatedAt),
        JSON.stringify(x),
      ]),
    );
  }

  getCase(id: string): Promise<CaseRecord | undefined> {
    return this.read(async (c) => {
      const r = await this.rows(c, `SELECT doc FROM cases WHERE id = $id`, { id });
      return r[0] ? parse<CaseRecord>(r[0].doc) : undefined;
    });
  }

  listCases(q: PageQuery & { kind?: string; state?: string }): Promise<Page<CaseRecord>> {
    return this.read(async (c) => {
      const limit = clampLimit(q.limit);
      const cur = decodeCursor('cases', q.cursor);
      const w = new Where();
      if (q.kind !== undefined) w.add((p) => `kind = ${p(q.kind ?? '')}`);
      if (q.state !== undefined) w.add((p) => `state = ${p(q.state ?? '')}`);
      return this.pageDocs<CaseRecord>(c, 'cases', 'updated_at', w, cur, limit);
    });
  }

  // ---------------------------------------------------------------- audit

  async appendAudit(entries: readonly AuditRecord[]): Promise<void> {
    if (!this.instance) throw new StoreError('ERR_STORE_CLOSED', 'store is not open');
    if (entries.length === 0) return;
    let last = 0;
    await this.write(async (c) => {
      let expect = this.auditLast + 1;
      for (const e of entries) {
        if (e.seq !== expect)
          throw new StoreError(
            'ERR_STORE_AUDIT_SEQ',
            `audit entry seq ${e.seq} does not continue the chain (expected ${expect})`,
          );
        expect++;
      }
      const cols: DuckDBValue[][] = [[], [], [], [], [], [], [], [], [], []];
      for (const e of entries) {
        const row: DuckDBValue[] = [
          big(e.seq),
          big(e.at),
          e.actor,
          e.role,
          e.purpose,
          e.action,
          JSON.stringify(e.objectIds),
          JSON.stringify(e.detail),
          e.prev,
          e.hash,
        ];
        row.forEach((v, j) => (cols[j] as DuckDBValue[]).push(v));
      }
      await this.appendColumns(
        c,
        'audit',
        [BIGINT, BIGINT, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR],
        cols,
      );
      last = expect - 1;
    });
    this.auditLast = last;
    this.m.auditAppended.inc(entries.length);
  }

  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]> {
    return this.read(async (c) => {
      if (!Number.isInteger(fromSeq))
        throw new StoreError('ERR_STORE_BAD_QUERY', 'fromSeq must be an integer');
      const nLim = clampLimit(limit);
      const rows = await this.rows(c, `SELECT * FROM audit WHERE seq >= $a AND seq < $b ORDER BY seq`, {
        a: big(fromSeq),
        b: big(fromSeq + nLim),
      });
      return rows.map(toAudit);
    });
  }

  searchAudit(q: AuditQuery): Promise<AuditRecord[]> {
    return this.read(async (c) => {
      if (q.beforeSeq !== undefined && !Number.isInteger(q.beforeSeq))
        throw new StoreError('ERR_STORE_BAD_QUERY', 'beforeSeq must be an integer');
      const w = new Where();
      if (q.beforeSeq !== undefined) w.add((p) => `seq < ${p(big(q.beforeSeq ?? 0))}`);
      if (q.from !== undefined) w.add((p) => `at_ms >= ${p(big(Math.ceil(q.from ?? 0)))}`);
      if (q.to !== undefined) w.add((p) => `at_ms < ${p(big(Math.ceil(q.to ?? 0)))}`);
      if (q.actor !== undefined) w.add((p) => `actor = ${p(q.actor ?? '')}`);
      if (q.actionPrefix !== undefined) w.add((p) => `starts_with(action, ${p(q.actionPrefix ?? '')})`);
      const rows = await this.rows(
        c,
        `SELECT * FROM audit ${w.sql()} ORDER BY seq DESC LIMIT ${clampLimit(q.limit)}`,
        w.params,
      );
      return rows.map(toAudit);
    });
  }

  lastAudit(): Promise<AuditRecord | undefined> {
    return this.read(async (c) => {
      if (this.auditLast === 0) return undefined;
      const rows = await this.rows(c, `SELECT * FROM audit WHERE seq = $s`, { s: big(this.auditLast) });
      return rows[0] ? toAudit(rows[0]) : undefined;
    });
  }

  // ---------------------------------------------------------------- rollups, top-N

  series(q: SeriesQuery): Promise<RollupPoint[]> {
    return this.read(async (c) => {
      checkRange(q.from, q.to);
      const ms = STEP_MS[q.step];
      if (ms === undefined) throw new StoreError('ERR_STORE_BAD_QUERY', `unknown step ${String(q.step)}`);
      const out: RollupPoint[] = [];
      if (q.providerId !== ALERTS_PROVIDER) {
        const w = new Where();
        w.add((p) => `t >= ${p(big(Math.ceil(q.from)))} AND t < ${p(big(Math.ceil(q.to)))}`);
        if (q.providerId !== undefined) w.add((p) => `provider_id = ${p(q.providerId ?? '')}`);
        const rows = await this.rows(
          c,
          `SELECT * FROM rollup_${q.step} ${w.sql()} ORDER BY t, provider_id LIMIT ${MAX_SERIES_POINTS}`,
          w.params,
        );
        for (const r of rows)
          out.push({
            t: n(r.t),
            providerId: s(r.provider_id),
            records: n(r.records),
            packets: n(r.packets),
            bytes: n(r.bytes),
            alerts: 0,
          });
      }
      if (q.providerId === undefined || q.providerId === ALERTS_PROVIDER) {
        const rows = await this.rows(
          c,
          `SELECT (first_seen // ${ms}) * ${ms} AS t, count(*) AS n FROM alerts
           WHERE first_seen >= $lo AND first_seen < $hi GROUP BY 1 ORDER BY 1 LIMIT ${MAX_SERIES_POINTS}`,
          { lo: big(Math.ceil(q.from / ms) * ms), hi: big(Math.ceil(q.to / ms) * ms) },
        );
        for (const r of rows)
          out.push({
            t: n(r.t),
            providerId: ALERTS_PROVIDER,
            records: 0,
            packets: 0,
            bytes: 0,
            alerts: n(r.n),
          });
      }
      out.sort(
        (a, b) => a.t - b.t || (a.providerId < b.providerId ? -1 : a.providerId > b.providerId ? 1 : 0),
      );
      return out.slice(0, MAX_SERIES_POINTS);
    });
  }

  top(q: TopQuery): Promise<TopEntry[]> {
    return this.read(async (c) => {
      checkRange(q.from, q.to);
      const limit = clampLimit(q.limit);
      const range = { a: big(q.from), b: big(Math.ceil(q.to)) };
      let rows: Row[];
      if (q.dimension === 'detector') {
        rows = await this.rows(
          c,
          `SELECT detector AS key, count(*) AS c, 0 AS b FROM alerts WHERE last_seen >= $a AND last_seen < $b
           GROUP BY 1 ORDER BY c DESC, key ASC LIMIT ${limit}`,
          range,
        );
      } else {
        const col = {
          sourceCountry: 'src_country',
          destinationCountry: 'dst_country',
          sourceAsn: 'CAST(src_asn AS VARCHAR)',
          destinationAsn: 'CAST(dst_asn AS VARCHAR)',
          destinationPort: 'CAST(dst_port AS VARCHAR)',
        }[q.dimension];
        if (col === undefined)
          throw new StoreError('ERR_STORE_BAD_QUERY', `unknown dimension ${String(q.dimension)}`);
        const tables = this.overlapping('records', q.from, q.to);
        if (tables.length === 0) return [];
        const inner = tables
          .map((p) => `SELECT ${col} AS key, bytes FROM ${p.tbl} WHERE t >= $a AND t < $b`)
          .join(' UNION ALL ');
        rows = await this.rows(
          c,
          `SELECT key, count(*) AS c, sum(bytes) AS b FROM (${inner}) WHERE key IS NOT NULL
           GROUP BY key ORDER BY c DESC, key ASC LIMIT ${limit}`,
          range,
        );
      }
      return rows.map((r) => ({ key: s(r.key), count: n(r.c), bytes: n(r.b) }));
    });
  }

  // ---------------------------------------------------------------- partitions and retention

  partitions(): Promise<Partition[]> {
    return this.read(async (c) =>
      (await this.rows(c, `SELECT kind, day, row_count FROM partitions ORDER BY day, kind DESC`)).map(
        (r) => ({
          kind: s(r.kind) === 'evidence' ? ('evidence' as const) : ('records' as const),
          day: s(r.day),
          rows: n(r.row_count),
        }),
      ),
    );
  }

  async enforceRetention(now: number, options?: RetentionOptions): Promise<RetentionResult> {
    if (!this.instance) throw new StoreError('ERR_STORE_CLOSED', 'store is not open');
    const o = checkRetention(now, options);
    const dropped: (Partition & { tbl: string })[] = [];
    const held: Partition[] = [];
    const counts = zeroRetentionCounts();
    const heldIds = listValue([...o.heldIncidents]);
    let keptAlerts = listValue([]);
    // The deletion rules of derived rows, used to delete and, after the commit, to re-count.
    const alertRule = `last_seen < $cut AND NOT list_contains($held, coalesce(incident_id, '')) AND NOT list_contains($kept, id)`;
    const incidentRule = `last_seen < $cut AND NOT list_contains($held, id)`;
    const rollupRule = (step: '1m' | '1h'): string => `t + ${STEP_MS[step]} <= $cut`;
    await this.write(async (c) => {
      const cat = await this.rows(
        c,
        `SELECT kind, day, tbl, row_count FROM partitions ORDER BY day, kind DESC`,
      );
      for (const r of cat) {
        const day = s(r.day);
        if (!dayExpired(day, o.now)) continue;
        const kind = s(r.kind) === 'evidence' ? 'evidence' : 'records';
        if (o.heldDays.has(day)) {
          held.push({ kind, day, rows: n(r.row_count) });
          continue;
        }
        const tbl = tableName(kind, day);
        const exists = await this.rows(c, `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = $t`, {
          t: tbl,
        });
        const rows =
          n(exists[0]?.n) > 0 ? n((await this.rows(c, `SELECT count(*) AS n FROM ${tbl}`))[0]?.n) : 0;
        await c.run(`DROP TABLE IF EXISTS ${tbl}`);
        await c.run(`DELETE FROM partitions WHERE kind = $k AND day = $d`, { k: kind, d: day });
        dropped.push({ kind, day, rows, tbl });
        counts[kind] += rows;
      }
      if (o.derivedBefore === undefined) return;
      const cut = big(o.derivedBefore);
      if (o.heldIncidents.size > 0) {
        const ids = new Set<string>();
        const docs = (
          await c.runAndReadAll(
            `SELECT doc FROM incidents WHERE list_contains($1, id)`,
            [heldIds],
            [STR_LIST],
          )
        ).getRowObjectsJS() as Row[];
        for (const d of docs) for (const a of parse<Incident>(d.doc).alerts) ids.add(a);
        keptAlerts = listValue([...ids]);
      }
      const p = { cut, held: heldIds, kept: keptAlerts };
      const t = { cut: BIGINT, held: STR_LIST, kept: STR_LIST };
      counts.alerts = (await c.run(`DELETE FROM alerts WHERE ${alertRule}`, p, t)).rowsChanged;
      counts.incidents = (
        await c.run(
          `DELETE FROM incidents WHERE ${incidentRule}`,
          { cut, held: heldIds },
          { cut: BIGINT, held: STR_LIST },
        )
      ).rowsChanged;
      for (const step of ['1m', '1h'] as const)
        counts[step === '1m' ? 'rollup_1m' : 'rollup_1h'] = (
          await c.run(`DELETE FROM rollup_${step} WHERE ${rollupRule(step)}`, { cut }, { cut: BIGINT })
        ).rowsChanged;
    });
    for (const p of dropped) this.parts.delete(`${p.kind}|${p.day}`);
    // the proof: after the commit, none of the dropped tables exists or holds a row, and no derived
    // row matches its deletion rule any more
    let remainingRows = 0;
    await this.read(async (c) => {
      for (const p of dropped) {
        const exists = await this.rows(c, `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = $t`, {
          t: p.tbl,
        });
        if (n(exists[0]?.n) > 0)
          remainingRows += n((await this.rows(c, `SELECT count(*) AS n FROM ${p.tbl}`))[0]?.n);
        const cat = await this.rows(c, `SELECT row_count FROM partitions WHERE kind = $k AND day = $d`, {
          k: p.kind,
          d: p.day,
        });
        remainingRows += cat.reduce((x, r) => x + n(r.row_count) + 1, 0);
      }
      if (o.derivedBefore === undefined) return;
      const cut = big(o.derivedBefore);
      const count = async (
        sql: string,
        params: Record<string, DuckDBValue>,
        types: Record<string, DuckDBType>,
      ) => n((await c.runAndReadAll(sql, params, types)).getRowObjectsJS()[0]?.n);
      remainingRows += await count(
        `SELECT count(*) AS n FROM alerts WHERE ${alertRule}`,
        { cut, held: heldIds, kept: keptAlerts },
        { cut: BIGINT, held: STR_LIST, kept: STR_LIST },
      );
      remainingRows += await count(
        `SELECT count(*) AS n FROM incidents WHERE ${incidentRule}`,
        { cut, held: heldIds },
        { cut: BIGINT, held: STR_LIST },
      );
      for (const step of ['1m', '1h'] as const)
        remainingRows += await count(
          `SELECT count(*) AS n FROM rollup_${step} WHERE ${rollupRule(step)}`,
          { cut },
          { cut: BIGINT },
        );
    });
    const deleted = Object.values(counts).reduce((x, v) => x + v, 0);
    this.m.partitionsDropped.inc(dropped.length);
    this.m.rowsDropped.inc(deleted);
    if (deleted > 0 || dropped.length > 0) {
      await this.checkpoint();
      this.log.info(
        { partitions: dropped.length, rows: deleted, remainingRows },
        'retention deleted expired data',
      );
    }
    return {
      dropped: dropped.map(({ kind, day, rows }) => ({ kind, day, rows })),
      held,
      counts,
      remainingRows,
    };
  }

  /**
   * Moves committed changes from the WAL into the database file after a deletion, so that the
   * deleted rows do not linger in the WAL (file-backed stores; queued behind the writes).
   */
  private checkpoint(): Promise<void> {
    if (this.cfg.path === ':memory:') return Promise.resolve();
    const run = async (): Promise<void> => {
      try {
        await this.conn().run('CHECKPOINT');
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'retention checkpoint deferred');
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  stats(): Promise<StoreStats> {
    return this.read(async (c) => {
      const counts =
        (
          await this.rows(
            c,
            `SELECT (SELECT count(*) FROM alerts) AS a, (SELECT count(*) FROM incidents) AS i`,
          )
        )[0] ?? {};
      let records = 0;
      let evidence = 0;
      for (const p of this.parts.values()) {
        if (p.kind === 'records') records += p.rows;
        else evidence += p.rows;
      }
      let bytesOnDisk = 0;
      if (this.cfg.path !== ':memory:')
        for (const f of [this.cfg.path, `${this.cfg.path}.wal`]) {
          try {
            bytesOnDisk += statSync(f).size;
          } catch {
            // no WAL right after a checkpoint
          }
        }
      return {
        records,
        evidence,
        alerts: n(counts.a),
        incidents: n(counts.i),
        partitions: this.parts.size,
        audit: this.auditLast,
        bytesOnDisk,
      };
    });
  }
}
