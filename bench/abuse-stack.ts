/**
 * The stack process bench:abuse attacks: `droptune up` minus its Python-environment check (the
 * bench must not install packages), i.e. the same `startForConsole` — uncaught-error guard,
 * component logs in `<home>/logs/` — held until SIGTERM. Usage: tsx bench/abuse-stack.ts <home>
 */
import { startForConsole } from '../cli/commands/stack.ts';

const home = process.argv[2];
if (!home) throw new Error('usage: tsx bench/abuse-stack.ts <home>');
const stack = await startForConsole({ home }, '0');
process.once('SIGTERM', () => void stack.stop().then(() => process.exit(0)));
