/**
 * One-sentence summaries for people (dashboard, NDJSON, syslog MSG). Built from the alert's
 * fields and the latest evidence's facts; never from anything but what the alert already holds.
 */
import type { Alert, Incident } from '../common/schema/alert.ts';
import type { Evidence } from '../common/schema/evidence.ts';

function fact(e: Evidence | undefined, name: string): string | undefined {
  const v = e?.facts[name];
  if (v === undefined) return undefined;
  return typeof v === 'number' ? v.toLocaleString('en-US') : v;
}

function span(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

function what(a: Alert, e: Evidence | undefined): string {
  const cp = a.counterparts[0];
  const to = cp ? ` ${cp}` : '';
  switch (a.detector) {
    case 'scan': {
      const type = fact(e, 'type');
      if (type === 'vertical' && cp)
        return `${a.subject} scanned ${fact(e, 'portsOnTarget') ?? 'many'} ports of ${cp}`;
      const port = fact(e, 'port');
      return `${a.subject} scanned ${fact(e, 'distinctDestinations') ?? 'many'} destinations${port ? ` on port ${port}` : ''}`;
    }
    case 'ddos': {
      const type = fact(e, 'type');
      const pps = fact(e, 'packetsPerSecond');
      const src = fact(e, 'distinctSources');
      return `${a.subject} is under a${type ? ` ${type}` : ''} DDoS${pps ? ` of ${pps} packets/s` : ''}${src ? ` from about ${src} sources` : ''}`;
    }
    case 'brute-force':
      return `${a.subject} tried ${fact(e, 'attempts') ?? 'many'} ${fact(e, 'service') ?? 'authentication'} logins${cp ? ` against ${cp}` : ''}`;
    case 'beacon':
      return `${a.subject} beacons to${to || ' a remote server'}`;
    case 'dga':
      return `${a.subject} queried algorithmically generated domain names`;
    case 'dns-tunnel': {
      const d = fact(e, 'registrableDomain') ?? fact(e, 'domain');
      return `${a.subject} tunnels data through DNS${d ? ` under ${d}` : ''}`;
    }
    case 'exfiltration':
      return `${a.subject} sent unusually much data${cp ? ` to ${cp}` : ''}`;
    case 'long-connection':
      return `${a.subject} holds an unusually long connection${cp ? ` with ${cp}` : ''}`;
    case 'indicator':
      return `${a.subject} contacted indicator${to || ' infrastructure'}`;
  }
}

/** One sentence describing an alert. */
export function alertSummary(a: Alert): string {
  const latest = a.evidence[a.evidence.length - 1];
  const parts = [what(a, latest)];
  parts.push(`${a.evidenceCount} evidence over ${span(a.lastSeen - a.firstSeen)}`);
  if (a.operators.length > 0)
    parts.push(
      `critical-infrastructure operators involved: ${a.operators.join(', ')} (${a.sectors.join(', ')})`,
    );
  if (a.suppressedBy !== undefined) parts.push(`suppressed by rule ${a.suppressedBy}`);
  return `${a.severity[0]?.toUpperCase() ?? ''}${a.severity.slice(1)} ${a.detector} alert: ${parts.join('; ')}.`;
}

/** One sentence describing an incident. */
export function incidentSummary(i: Incident): string {
  const kind = i.campaign ? 'Campaign' : 'Incident';
  const subjects = i.subjects.length === 1 ? `subject ${i.subjects[0]}` : `${i.subjects.length} subjects`;
  const ops = i.operators.length > 0 ? `, operators ${i.operators.join(', ')} (${i.sectors.join(', ')})` : '';
  const when = `${new Date(i.firstSeen).toISOString()} to ${new Date(i.lastSeen).toISOString()}`;
  return `${kind} (${i.severity}): ${i.alerts.length} alert${i.alerts.length === 1 ? '' : 's'} from ${i.detectors.join(', ')} involving ${subjects} and ${i.counterparts.length} counterparts${ops}, ${when}.`;
}
