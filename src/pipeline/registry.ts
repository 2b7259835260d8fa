// The component registry: `type` name -> spec. The loader knows components only
// through this table; adding a format means adding one line here.

import type { ComponentSpec } from '../data/component.js';
import { dropSpec } from '../operators/drop.js';
import { headSpec } from '../operators/head.js';
import { selectSpec } from '../operators/select.js';
import { zeekTsvSpec } from '../sources/zeek-tsv.js';

const all: readonly ComponentSpec[] = [
  zeekTsvSpec,
  headSpec,
  selectSpec,
  dropSpec,
] as readonly ComponentSpec[];

export const components: ReadonlyMap<string, ComponentSpec> = new Map(all.map((c) => [c.type, c]));
