import { describe, expect, it } from 'vitest';
import { UsageError } from '../../common/errors.ts';
import { formatListenUrl, MAX_UNIX_SOCKET_PATH_BYTES, parseListenUrl } from './listen-url.ts';

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
    expect(parseListenUrl('udp://127.0.0.1:0')).toMatchObject({ port: 0 });
    expect(parseListenUrl('UDP://127.0.0.1:9/')).toMatchObject({ port: 9 });
  });

  it('parses sflow:// like udp:// but keeps its own kind', () => {
    expect(parseListenUrl('sflow://0.0.0.0:6343')).toEqual({
      kind: 'sflow',
      url: 'sflow://0.0.0.0:6343',
      host: '0.0.0.0',
      port: 6343,
      family: 4,
    });
    expect(parseListenUrl('SFLOW://[::]:0/')).toMatchObject({
      kind: 'sflow',
      host: '::',
      port: 0,
      family: 6,
    });
  });

  it('parses dnstap+unix:PATH (also with an empty authority) and keeps the path as written', () => {
    expect(parseListenUrl('dnstap+unix:/run/acd/DnsTap.sock')).toEqual({
      kind: 'dnstap+unix',
      url: 'dnstap+unix:/run/acd/DnsTap.sock',
      path: '/run/acd/DnsTap.sock',
    });
    expect(parseListenUrl('DNSTAP+UNIX:///tmp/x.sock')).toMatchObject({ path: '/tmp/x.sock' });
    expect(parseListenUrl('dnstap+unix:dnstap.sock')).toMatchObject({ path: 'dnstap.sock' });
  });

  it('parses dnstap+tcp://HOST:PORT', () => {
    expect(parseListenUrl('dnstap+tcp://127.0.0.1:6000')).toEqual({
      kind: 'dnstap+tcp',
      url: 'dnstap+tcp://127.0.0.1:6000',
      host: '127.0.0.1',
      port: 6000,
      family: 4,
    });
    expect(parseListenUrl('dnstap+tcp://[::1]:0')).toMatchObject({
      kind: 'dnstap+tcp',
      host: '::1',
      port: 0,
    });
  });

  it.each([
    'http://0.0.0.0:80',
    'sflow://0.0.0.0',
    'sflow://host.example:6343',
    'dnstap+unix:',
    'dnstap+unix://',
    'dnstap+unix:/run/acd/',
    'dnstap+unix:/tmp/a\0b',
    `dnstap+unix:/${'x'.repeat(MAX_UNIX_SOCKET_PATH_BYTES)}`,
    'dnstap+tcp://localhost:6000',
    'dnstap+tcp://127.0.0.1:6000/path',
    'dnstap://127.0.0.1:6000',
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
    expect(formatListenUrl('sflow', '0.0.0.0', 6343)).toBe('sflow://0.0.0.0:6343');
    expect(formatListenUrl('dnstap+tcp', '127.0.0.1', 6000)).toBe('dnstap+tcp://127.0.0.1:6000');
    expect(formatListenUrl('dnstap+unix', '/run/x.sock', 0)).toBe('dnstap+unix:/run/x.sock');
  });
});
