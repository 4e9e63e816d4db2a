import { describe, expect, it } from 'vitest';
import { UsageError } from '../../common/errors.ts';
import { formatListenUrl, parseListenUrl } from './listen-url.ts';

describe('listen URLs', () => {
  it('parses udp and tcp URLs with IPv4 hosts', () => {
    expect(parseListenUrl('udp://0.0.0.0:2055')).toEqual({
      kind: 'udp',
      url: 'udp://0.0.0.0:2055',
      host: '0.0.0.0',
      port: 2055,
      family: 4,
    });
    expect(parseListenUrl('tcp://127.0.0.1:4739')).toMatchObject({
      kind: 'tcp',
      host: '127.0.0.1',
      port: 4739,
    });
  });

  it('parses bracketed IPv6 hosts', () => {
    expect(parseListenUrl('udp://[::]:2055')).toMatchObject({
      kind: 'udp',
      host: '::',
      port: 2055,
      family: 6,
    });
    expect(parseListenUrl('tcp://[2001:db8::1]:4739')).toMatchObject({ host: '2001:db8::1', family: 6 });
  });

  it('accepts port 0 (chosen by the system) and a trailing slash', () => {
    expect(parseListenUrl('udp://127.0.0.1:0').port).toBe(0);
    expect(parseListenUrl('UDP://127.0.0.1:9/').port).toBe(9);
  });

  it.each([
    'http://0.0.0.0:80',
    'udp://0.0.0.0',
    'udp://0.0.0.0:65536',
    'udp://0.0.0.0:-1',
    'udp://0.0.0.0:abc',
    'udp://localhost:2055',
    'udp://::1:2055',
    'udp://[::1:2055',
    'udp://[::1]2055',
    'udp://[1.2.3.4]:2055',
    'tcp://300.1.1.1:4739',
    'tcp://1.2.3.4:4739/path',
    '',
  ])('rejects %j with a UsageError', (url) => {
    expect(() => parseListenUrl(url)).toThrow(UsageError);
  });

  it('formats bound addresses back into URLs', () => {
    expect(formatListenUrl('udp', '127.0.0.1', 40000)).toBe('udp://127.0.0.1:40000');
    expect(formatListenUrl('tcp', '::1', 4739)).toBe('tcp://[::1]:4739');
  });
});
