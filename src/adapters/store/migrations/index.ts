// Every schema migration of the store, in order. To add tables (audits,
// findings, alerts...), write `migrations/NNNN-name.ts` exporting a Migration
// and add it to the list below. Ids are unique and only ever grow; the runner
// refuses duplicates and applies each pending id once, in a transaction.
//
// Id blocks, so engineers working in parallel do not collide:
//   1-99     inventory (discover)      100-199  audits and findings
//   200-299  alerts and monitor        300-399  policy (MUD)      400+ anything else
import type { Migration } from '../migrate.js';
import { inventory0001 } from './0001-inventory.js';
import { audits0100 } from './0100-audits.js';
import { monitor0200 } from './0200-monitor.js';

export const MIGRATIONS: Migration[] = [inventory0001, audits0100, monitor0200];
