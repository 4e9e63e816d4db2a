/**
 * Small file helpers shared by the components that keep secrets or state on disk (key stores, the
 * edge's revocations and re-identification state, the centre's seal secret).
 */
import { constants } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `text` to `path` atomically with mode 0600: a temporary file beside it, written, synced
 * and renamed over `path`, so a reader sees the old or the new content, never a part. The parent
 * directory is created with mode 0700 when absent.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
