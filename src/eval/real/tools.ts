/**
 * The Debian tools of the real evaluation set: where they are and which package version is
 * installed (the version goes into the labels, so a capture says what produced it).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ToolMissingError } from './errors.ts';

/** Executable → Debian package, for every tool some scenario uses. */
export const TOOL_PACKAGES = {
  ip: 'iproute2',
  tcpdump: 'tcpdump',
  nmap: 'nmap',
  hydra: 'hydra',
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  hping3: 'hping3',
  iodine: 'iodine',
  iodined: 'iodine',
  curl: 'curl',
  openssl: 'openssl',
} as const;

/** An executable of {@link TOOL_PACKAGES}. */
export type ToolName = keyof typeof TOOL_PACKAGES;

/** Directories searched besides `PATH`: Debian puts daemons (sshd, iodined, hping3) in sbin. */
const SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of `tool`, or undefined when it is not installed. */
export function findTool(tool: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...SBIN_DIRS];
  for (const dir of dirs) {
    const p = join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Absolute path of `tool`; throws {@link ToolMissingError} naming the package to install. */
export function requireTool(tool: ToolName): string {
  const p = findTool(tool);
  if (p === undefined)
    throw new ToolMissingError(tool, `not installed (apt-get install ${TOOL_PACKAGES[tool]})`);
  return p;
}

/** Installed version of a Debian package (`dpkg-query`), or `unknown` when dpkg cannot tell. */
export function packageVersion(pkg: string): string {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
    return v === '' ? 'unknown' : v;
  } catch {
    return 'unknown';
  }
}

/** Tools of `tools` that are not installed. */
export function missingTools(tools: readonly ToolName[]): ToolName[] {
  return tools.filter((t) => findTool(t) === undefined);
}

/** Debian packages that provide `tools`, without duplicates (for an `apt-get install` line). */
export function packagesFor(tools: readonly ToolName[]): string[] {
  return [...new Set(tools.map((t) => TOOL_PACKAGES[t]))];
}

/** True when the process runs as root, which namespaces, raw sockets and tcpdump need. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
