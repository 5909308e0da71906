import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../../shared/errors.ts';

/** What a running `droptune up` publishes in `$DROPTUNE_HOME/stack.json` for the other commands. */
export interface StackFile {
  pid: number;
  home: string;
  apiUrl: string;
  webUrl: string;
  functionsUrl: string;
  startedAt: string;
}

export function stackFilePath(home: string): string {
  return join(resolve(home), 'stack.json');
}

export function writeStackFile(info: StackFile): void {
  writeFileSync(stackFilePath(info.home), `${JSON.stringify(info, null, 2)}\n`);
}

export function removeStackFile(home: string): void {
  rmSync(stackFilePath(home), { force: true });
}

/** The running stack of `home`, or an error that says how to start one. */
export function readRunningStack(home: string): StackFile {
  let info: StackFile;
  try {
    info = JSON.parse(readFileSync(stackFilePath(home), 'utf8')) as StackFile;
  } catch {
    throw new AppError(
      'unavailable',
      `no local stack is running for ${resolve(home)}: start one with "npx droptune up"`,
    );
  }
  if (!isAlive(info.pid)) {
    throw new AppError(
      'unavailable',
      `the local stack for ${resolve(home)} (pid ${info.pid}) is not running: start it with "npx droptune up"`,
    );
  }
  return info;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
