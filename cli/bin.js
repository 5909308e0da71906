#!/usr/bin/env node
// The `droptune` command. The CLI is TypeScript run through tsx's loader, so there is no
// build step between a fresh clone and `npx droptune`.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
