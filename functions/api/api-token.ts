import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The local control API's bearer token, `$DROPTUNE_HOME/api-token`: created on first start
 * (256 random bits, file mode 0600, exclusive create so two starting processes agree on one
 * token), read on every later start. The CLI and the local trainer read the same file.
 */
export async function ensureApiToken(home: string): Promise<string> {
  const path = join(home, 'api-token');
  await mkdir(home, { recursive: true });
  try {
    await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const token = (await readFile(path, 'utf8')).trim();
  if (token.length < 16) throw new Error(`${path} holds no usable token; delete it to generate a new one`);
  return token;
}
