/**
 * Alerts and incidents as syslog messages (RFC 5424) over UDP (RFC 5426: one message per
 * datagram) or TCP (RFC 6587 octet counting: `LEN SP MSG`), for SIEMs that take syslog.
 *
 * Message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [acd@PEN k="v" …] BOM summary`.
 * - PRI = facility · 8 + severity code: critical → 2 (crit), high → 3 (err), medium → 4
 *   (warning), low → 5 (notice).
 * - MSGID `alert` or `incident`; TIMESTAMP is when the message was made (UTC, ms).
 * - The SD-ID `acd@32473` uses the IANA documentation private enterprise number (RFC 5612) as a
 *   placeholder until the operator has its own; configure `enterpriseNumber`.
 * - MSG is the one-sentence summary in UTF-8 with the BOM RFC 5424 section 6.4 asks for; when the
 *   message exceeds `maxMessageBytes`, MSG is cut at a character boundary (counted), and if the
 *   structured data alone is too long, its list parameters are left out.
 *
 * Sending never blocks detection: UDP datagrams are fire-and-forget; TCP messages wait in a bounded
 * queue while (re)connecting, and beyond it are dropped and counted. Delivery is at most once.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIPv6, type Socket as TcpSocket } from 'node:net';
import { lookup } from 'node:dns/promises';
import { hostname as osHostname } from 'node:os';
import type { Alert, Incident } from '../../common/schema/alert.ts';
import type { Severity } from '../../common/schema/evidence.ts';
import { systemClock, isoTime, type Clock } from '../../common/clock.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import type { SyslogConfig } from '../config.ts';
import { ExportClosedError } from '../errors.ts';
import { exportMetrics, type ExportMetrics } from '../metrics.ts';

/** Syslog severity code per alert severity (RFC 5424 table 2). */
export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = {
  critical: 2,
  high: 3,
  medium: 4,
  low: 5,
};

/** RFC 5424 header field limits (section 6). */
const MAX_HOSTNAME = 255;
const MAX_APP_NAME = 48;
const MAX_PROCID = 128;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Most list entries (counterparts, alerts …) written into one SD parameter. */
const MAX_LIST = 32;
/** TCP bytes buffered in the socket before further messages wait in the queue. */
const SOCKET_HIGH_WATER = 1 << 20;

/** Header fields common to every message of one sender. */
export interface SyslogHeader {
  facility: number;
  hostname: string;
  appName: string;
  procId: string;
  enterpriseNumber: number;
  maxMessageBytes: number;
}

/** A formatted message and whether its text had to be cut. */
export interface SyslogMessage {
  bytes: Buffer;
  truncated: boolean;
}

/** Header field text: printable US-ASCII only, bounded, `-` (NILVALUE) when empty. */
function headerField(v: string, max: number): string {
  let out = '';
  for (let k = 0; k < v.length && out.length < max; k++) {
    const c = v.charCodeAt(k);
    out += c >= 33 && c <= 126 ? v[k] : '_';
  }
  return out.length === 0 ? '-' : out;
}

/** SD-PARAM value escaping (RFC 5424 section 6.3.3): `"`, `\` and `]` get a backslash. */
function sdValue(v: string): string {
  return v.replace(/["\\\]]/g, (c) => '\\' + c);
}

function sd(id: string, params: readonly [string, string][]): string {
  return `[${id}${params.map(([k, v]) => ` ${k}="${sdValue(v)}"`).join('')}]`;
}

function list(values: readonly string[]): string {
  return values.slice(0, MAX_LIST).join(',');
}

/** Cuts UTF-8 bytes to at most `max` without splitting a character. */
function cutUtf8(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let end = Math.max(0, max);
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

function build(
  h: SyslogHeader,
  severity: Severity,
  msgId: string,
  at: number,
  core: [string, string][],
  lists: [string, string][],
  text: string,
): SyslogMessage {
  const pri = h.facility * 8 + SYSLOG_SEVERITY[severity];
  const head =
    `<${pri}>1 ${isoTime(at)} ${headerField(h.hostname, MAX_HOSTNAME)} ` +
    `${headerField(h.appName, MAX_APP_NAME)} ${headerField(h.procId, MAX_PROCID)} ${msgId} `;
  const sdId = `acd@${h.enterpriseNumber}`;
  let prefix = Buffer.from(head + sd(sdId, [...core, ...lists]) + ' ', 'utf8');
  let truncated = false;
  if (prefix.length + BOM.length > h.maxMessageBytes) {
    prefix = Buffer.from(head + sd(sdId, core) + ' ', 'utf8');
    truncated = true;
  }
  const msg = Buffer.from(text, 'utf8');
  const room = h.maxMessageBytes - prefix.length - BOM.length;
  const body = cutUtf8(msg, room);
  if (body.length < msg.length) truncated = true;
  return { bytes: Buffer.concat([prefix, BOM, body]), truncated };
}

/** Formats an alert as an RFC 5424 message (MSGID `alert`). */
export function alertToSyslog(a: Alert, at: number, h: SyslogHeader): SyslogMessage {
  const core: [string, string][] = [
    ['id', a.id],
    ['detector', a.detector],
    ['subject', a.subject],
    ['severity', a.severity],
    ['score', String(a.score)],
    ['firstSeen', isoTime(a.firstSeen)],
    ['lastSeen', isoTime(a.lastSeen)],
    ['evidenceCount', String(a.evidenceCount)],
  ];
  if (a.incidentId !== undefined) core.push(['incidentId', a.incidentId]);
  if (a.suppressedBy !== undefined) core.push(['suppressedBy', a.suppressedBy]);
  const lists: [string, string][] = [];
  if (a.counterparts.length > 0) lists.push(['counterparts', list(a.counterparts)]);
  if (a.operators.length > 0) lists.push(['operators', list(a.operators)]);
  if (a.sectors.length > 0) lists.push(['sectors', list(a.sectors)]);
  return build(h, a.severity, 'alert', at, core, lists, a.summary);
}

/** Formats an incident as an RFC 5424 message (MSGID `incident`). */
export function incidentToSyslog(i: Incident, at: number, h: SyslogHeader): SyslogMessage {
  const core: [string, string][] = [
    ['id', i.id],
    ['state', i.state],
    ['severity', i.severity],
    ['score', String(i.score)],
    ['campaign', String(i.campaign)],
    ['firstSeen', isoTime(i.firstSeen)],
    ['lastSeen', isoTime(i.lastSeen)],
    ['alertCount', String(i.alerts.length)],
  ];
  const lists: [string, string][] = [['detectors', list(i.detectors)]];
  if (i.subjects.length > 0) lists.push(['subjects', list(i.subjects)]);
  if (i.operators.length > 0) lists.push(['operators', list(i.operators)]);
  if (i.sectors.length > 0) lists.push(['sectors', list(i.sectors)]);
  lists.push(['alerts', list(i.alerts)]);
  return build(h, i.severity, 'incident', at, core, lists, i.summary);
}

/** Octet-counting frame of RFC 6587 section 3.4.1: `MSG-LEN SP SYSLOG-MSG`. */
export function octetFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/** Collaborators of a sender. */
export interface SyslogSenderDeps {
  clock?: Clock;
  metrics?: MetricsRegistry;
  logger?: Logger;
  /** Name of this sink in metrics (`export_sent{kind="syslog",sink=NAME}`). */
  name?: string;
}

/** Sends alerts and incidents to one syslog receiver. */
export interface SyslogSender {
  /** Resolves the receiver and, for TCP, starts connecting (messages queue until connected). */
  start(): Promise<void>;
  /** Queues an alert message; never blocks or throws for transport problems. */
  sendAlert(a: Alert): void;
  /** Queues an incident message. */
  sendIncident(i: Incident): void;
  /** TCP: waits up to `drainMs` for queued messages to be written, then closes. */
  stop(drainMs?: number): Promise<void>;
  /** Messages waiting (TCP). */
  readonly queued: number;
}

class SyslogSenderImpl implements SyslogSender {
  private readonly cfg: SyslogConfig;
  private readonly clock: Clock;
  private readonly m: ExportMetrics;
  private readonly log: Logger;
  private readonly header: SyslogHeader;
  private address = '';
  private udp: UdpSocket | undefined;
  private tcp: TcpSocket | undefined;
  private connected = false;
  private started = false;
  private stopped = false;
  private queue: Buffer[] = [];
  private delay: number;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(cfg: SyslogConfig, deps: SyslogSenderDeps) {
    this.cfg = cfg;
    this.clock = deps.clock ?? systemClock;
    this.m = exportMetrics(deps.metrics ?? new MetricsRegistry(), 'syslog', deps.name ?? 'syslog');
    this.log = deps.logger ?? silentLogger;
    this.delay = cfg.reconnectMs;
    this.header = {
      facility: cfg.facility,
      hostname: cfg.hostname || osHostname(),
      appName: cfg.appName,
      procId: String(process.pid),
      enterpriseNumber: cfg.enterpriseNumber,
      maxMessageBytes: cfg.maxMessageBytes,
    };
  }

  get queued(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { address } = await lookup(this.cfg.host);
    this.address = address;
    if (this.cfg.transport === 'udp') {
      this.udp = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
      this.udp.on('error', (err) => {
        this.m.errors.inc();
        this.log.warn({ err: err.message }, 'syslog: udp socket error');
      });
    } else this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const s = connect({ host: this.address, port: this.cfg.port });
    this.tcp = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      this.connected = true;
      this.delay = this.cfg.reconnectMs;
      this.pump();
    });
    s.on('drain', () => this.pump());
    s.on('error', (err) => {
      this.m.errors.inc();
      this.log.debug({ err: err.message }, 'syslog: tcp error');
    });
    s.on('close', () => {
      this.connected = false;
      this.tcp = undefined;
      if (this.stopped) return;
      this.m.retries.inc();
      this.reconnectTimer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, this.cfg.reconnectMs * 32);
    });
  }

  private pump(): void {
    const s = this.tcp;
    while (this.connected && s && this.queue.length > 0 && s.writableLength < SOCKET_HIGH_WATER) {
      const frame = this.queue.shift();
      if (!frame) break;
      s.write(frame);
      this.m.sent.inc();
    }
  }

  private send(msg: SyslogMessage): void {
    if (this.stopped) throw new ExportClosedError('syslog sender');
    if (msg.truncated) this.m.truncated.inc();
    if (this.cfg.transport === 'udp') {
      const u = this.udp;
      if (!u) {
        this.m.dropped.inc();
        return;
      }
      u.send(msg.bytes, this.cfg.port, this.address, (err) => {
        if (err) {
          this.m.errors.inc();
          this.m.dropped.inc();
        } else this.m.sent.inc();
      });
      return;
    }
    if (this.queue.length >= this.cfg.queueSize) {
      this.m.dropped.inc();
      return;
    }
    this.queue.push(octetFrame(msg.bytes));
    this.pump();
  }

  sendAlert(a: Alert): void {
    this.send(alertToSyslog(a, this.clock.now(), this.header));
  }

  sendIncident(i: Incident): void {
    this.send(incidentToSyslog(i, this.clock.now(), this.header));
  }

  async stop(drainMs = 2000): Promise<void> {
    if (this.stopped) return;
    const deadline = Date.now() + drainMs;
    while (this.cfg.transport === 'tcp' && this.queue.length > 0 && this.connected && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.m.dropped.inc(this.queue.length);
    this.queue = [];
    const u = this.udp;
    if (u) await new Promise<void>((r) => u.close(() => r()));
    const t = this.tcp;
    if (t) {
      await new Promise<void>((r) => {
        t.once('close', () => r());
        t.end();
        // A receiver that never closes its side must not hold the shutdown.
        setTimeout(() => t.destroy(), Math.max(0, deadline - Date.now()) + 100).unref();
      });
    }
  }
}

/** Creates a syslog sender (no I/O until `start`). */
export function createSyslogSender(cfg: SyslogConfig, deps: SyslogSenderDeps = {}): SyslogSender {
  return new SyslogSenderImpl(cfg, deps);
}
