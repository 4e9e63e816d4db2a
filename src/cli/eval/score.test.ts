import { describe, expect, it } from 'vitest';
import type { Alert } from '../../common/schema/alert.ts';
import type { DetectorName } from '../../common/schema/legal.ts';
import { matchAlert, scoreRun, subjectMatches, totals, type ScoredTruth } from './score.ts';

const T0 = Date.UTC(2026, 4, 11, 9);
const MIN = 60_000;

function line(o: Partial<ScoredTruth> = {}): ScoredTruth {
  return {
    scenario: 'scan-horizontal',
    kind: 'scan',
    attackers: ['203.0.113.7'],
    victims: ['198.51.100.1', '198.51.100.2'],
    start: T0,
    end: T0 + 10 * MIN,
    expectedDetectors: ['scan'],
    ...o,
  };
}

function alert(o: {
  detector?: DetectorName;
  subject?: string;
  from?: number;
  to?: number;
  known?: number;
}): Alert {
  const firstSeen = o.from ?? T0 + MIN;
  const lastSeen = o.to ?? T0 + 2 * MIN;
  const detector = o.detector ?? 'scan';
  const subject = o.subject ?? '203.0.113.7';
  return {
    id: `a-${detector}-${subject}-${firstSeen}`,
    detector,
    subject,
    counterparts: [],
    severity: 'medium',
    score: 0.5,
    firstSeen,
    lastSeen,
    summary: '',
    operators: [],
    sectors: [],
    evidence: [
      {
        detector,
        version: '1.0.0',
        subject,
        window: { start: firstSeen, end: o.known ?? lastSeen },
        confidence: 0.6,
        severity: 'medium',
        facts: {},
        recordIds: [],
      },
    ],
    evidenceCount: 1,
  };
}

describe('subjects', () => {
  it('matches an address exactly and an IPv6 /64 subject against any address in it', () => {
    expect(subjectMatches('203.0.113.7', '203.0.113.7')).toBe(true);
    expect(subjectMatches('203.0.113.7', '203.0.113.8')).toBe(false);
    expect(subjectMatches('2001:db8:1:2::/64', '2001:db8:1:2:abcd::9')).toBe(true);
    expect(subjectMatches('2001:db8:1:2::/64', '2001:0db8:0001:0002:0:0:0:1')).toBe(true);
    expect(subjectMatches('2001:db8:1:2::/64', '2001:db8:1:3::1')).toBe(false);
    // A /64 subject never matches an IPv4 address.
    expect(subjectMatches('2001:db8:1:2::/64', '203.0.113.7')).toBe(false);
  });
});

describe('matching an alert', () => {
  it('needs the detector expected, the subject among attackers or victims, and overlapping time', () => {
    const truth = [line()];
    expect(matchAlert(alert({}), truth, 0)).toHaveLength(1);
    expect(matchAlert(alert({ subject: '198.51.100.2' }), truth, 0)).toHaveLength(1);
    expect(matchAlert(alert({ detector: 'beacon' }), truth, 0)).toHaveLength(0);
    expect(matchAlert(alert({ subject: '192.0.2.1' }), truth, 0)).toHaveLength(0);
    const late = alert({ from: T0 + 11 * MIN, to: T0 + 12 * MIN });
    expect(matchAlert(late, truth, 0)).toHaveLength(0);
    // Slack widens the truth's span (exporters report up to an active timeout late).
    expect(matchAlert(late, truth, 2 * MIN)).toHaveLength(1);
  });

  it('confirms every line it matches: one attack seen through two channels', () => {
    const truth = [line(), line({ victims: ['198.51.100.9'] })];
    expect(matchAlert(alert({}), truth, 0)).toHaveLength(2);
  });

  it('matches a /64 subject against an IPv6 victim', () => {
    const truth = [line({ attackers: ['2001:db8:5:6::20'], victims: [] })];
    expect(matchAlert(alert({ subject: '2001:db8:5:6::/64' }), truth, 0)).toHaveLength(1);
  });
});

describe('scoring a run', () => {
  it('counts every alert for precision, expected lines for recall, and the first hit for time to detect', () => {
    const truth = [
      line(),
      line({ kind: 'scan-responses', expectedDetectors: [] }),
      line({ kind: 'brute-force', attackers: ['203.0.113.50'], expectedDetectors: ['brute-force'] }),
    ];
    const alerts = [
      alert({ known: T0 + 3 * MIN }),
      alert({ from: T0 + 5 * MIN, to: T0 + 6 * MIN }),
      alert({ subject: '192.0.2.99' }), // a look-alike: a false positive
      alert({ detector: 'ddos', subject: '198.51.100.1' }), // no line expects ddos
    ];
    const rows = scoreRun('scan-horizontal', truth, alerts, 0);
    expect(rows.map((r) => r.detector)).toEqual(['brute-force', 'ddos', 'scan']);
    const scan = rows.find((r) => r.detector === 'scan');
    expect(scan).toMatchObject({ alerts: 3, truePositives: 2, expected: 1, found: 1, recall: 1 });
    expect(scan?.precision).toBeCloseTo(2 / 3);
    // From the line's start to the end of the first evidence window of its earliest alert.
    expect(scan?.timeToDetectMs).toBe(3 * MIN);
    expect(rows.find((r) => r.detector === 'ddos')).toMatchObject({
      alerts: 1,
      truePositives: 0,
      precision: 0,
      recall: null,
      timeToDetectMs: null,
    });
    expect(rows.find((r) => r.detector === 'brute-force')).toMatchObject({
      alerts: 0,
      precision: 1,
      expected: 1,
      found: 0,
      recall: 0,
    });
    const t = totals(rows);
    expect(t.precision).toBeCloseTo(2 / 4);
    expect(t.recall).toBeCloseTo(1 / 2);
  });

  it('reports precision 1 and recall null for a quiet run without expectations', () => {
    expect(scoreRun('none', [], [], 0)).toEqual([]);
    expect(totals([])).toEqual({ precision: 1, recall: null });
  });

  it('never reports a negative time to detect (evidence that began before the line)', () => {
    const rows = scoreRun('s', [line()], [alert({ from: T0 - MIN, to: T0 + MIN, known: T0 - 1 })], MIN);
    expect(rows[0]?.timeToDetectMs).toBe(0);
  });
});
