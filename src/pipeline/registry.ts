// The component registry: `type` name -> spec. The loader knows components only
// through this table; adding a format means adding one line here.

import type { ComponentSpec, EndpointSpec } from '../data/component.js';
import { brokerEndpointSpec } from '../endpoints/broker.js';
import { channelEndpointSpec } from '../endpoints/channel.js';
import { dropSpec } from '../operators/drop.js';
import { headSpec } from '../operators/head.js';
import { rebatchSpec } from '../operators/rebatch.js';
import { selectSpec } from '../operators/select.js';
import { whereSpec } from '../operators/where.js';
import { archiveSinkSpec } from '../sinks/archive.js';
import { arrowSinkSpec } from '../sinks/arrow.js';
import { asciiSinkSpec } from '../sinks/ascii.js';
import { brokerSinkSpec } from '../sinks/broker.js';
import { brokerStoreSinkSpec } from '../sinks/broker-store.js';
import { channelSinkSpec } from '../sinks/channel.js';
import { csvSinkSpec } from '../sinks/csv.js';
import { jsonSinkSpec } from '../sinks/json.js';
import { kafkaSinkSpec } from '../sinks/kafka.js';
import { pcapSinkSpec } from '../sinks/pcap.js';
import { zeekJsonSinkSpec } from '../sinks/zeek-json.js';
import { zeekTsvSinkSpec } from '../sinks/zeek-tsv.js';
import { arrowSourceSpec } from '../sources/arrow.js';
import { bgpdumpSpec } from '../sources/bgpdump.js';
import { brokerSourceSpec } from '../sources/broker.js';
import { storeChangesSourceSpec } from '../sources/store-changes.js';
import { channelSourceSpec } from '../sources/channel.js';
import { jsonSourceSpec } from '../sources/json.js';
import { kafkaSourceSpec } from '../sources/kafka.js';
import { pcapSourceSpec } from '../sources/pcap.js';
import { storeSourceSpec } from '../sources/store.js';
import { zeekJsonSourceSpec } from '../sources/zeek-json.js';
import { zeekTsvSpec } from '../sources/zeek-tsv.js';

const all = [
  // sources
  zeekTsvSpec, zeekJsonSourceSpec, jsonSourceSpec, arrowSourceSpec, pcapSourceSpec, bgpdumpSpec, channelSourceSpec, storeSourceSpec, brokerSourceSpec, storeChangesSourceSpec, kafkaSourceSpec,
  // operators
  whereSpec, headSpec, selectSpec, dropSpec, rebatchSpec,
  // sinks
  zeekTsvSinkSpec, zeekJsonSinkSpec, jsonSinkSpec, csvSinkSpec, asciiSinkSpec, arrowSinkSpec, pcapSinkSpec, channelSinkSpec, archiveSinkSpec, brokerSinkSpec, brokerStoreSinkSpec, kafkaSinkSpec,
] as readonly ComponentSpec[];

/** Every component; a type name may exist once per kind (`zeek-tsv` is a source and a sink). */
export const components: readonly ComponentSpec[] = all;

export function findComponent(kind: ComponentSpec['kind'], type: string): ComponentSpec | undefined {
  return all.find((c) => c.kind === kind && c.type === type);
}

export function componentsOf(kind: ComponentSpec['kind']): ComponentSpec[] {
  return all.filter((c) => c.kind === kind);
}

/** Kinds of shared endpoints for the `endpoints:` section. */
export const endpointKinds: readonly EndpointSpec[] = [channelEndpointSpec, brokerEndpointSpec] as readonly EndpointSpec[];

export function findEndpoint(type: string): EndpointSpec | undefined {
  return endpointKinds.find((e) => e.type === type);
}
