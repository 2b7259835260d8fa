// Vastflow's library entry point (`import { ... } from 'vastflow'`): what an application
// needs to load and run pipelines, compile queries, and use components directly. Only
// what is listed here is public; every other module is internal and may change.

// Pipelines: load (validated, located errors), run, or start and tap a long-running one.
export { loadPipelineFile as loadPipeline, parsePipeline, formatProblem, PipelineError } from './pipeline/load.js';
export type { Pipeline, PipelineNode, PipelineEndpoint, Problem, SourceLocation, OperatorOnError } from './pipeline/load.js';
export { runPipeline, startPipeline, FanOut, NodeError } from './pipeline/run.js';
export type { RunOptions, RunResult, RunningPipeline, NodeReport, FanOutOptions } from './pipeline/run.js';
export { components, componentsOf, findComponent, endpointKinds, findEndpoint } from './pipeline/registry.js';
export { readSource, collectBatches } from './pipeline/embed.js';
export type { ReadSourceOptions } from './pipeline/embed.js';

// Queries: the VAST expression language, compiled once and resolved per schema.
export { compileQuery, QueryError } from './query/index.js';
export type { Query, SchemaFilter } from './query/index.js';

// Operators as RxJS operator functions over batches.
export { where } from './operators/where.js';
export { head } from './operators/head.js';
export { select } from './operators/select.js';
export { drop } from './operators/drop.js';
export { rebatch } from './operators/rebatch.js';

// The data model: batches with acks, credit windows, schemas and types.
export { Ack, CreditWindow, makeBatch } from './data/batch.js';
export type { Batch } from './data/batch.js';
export { t, formatType, parseType } from './data/types.js';
export type { Field, Schema, Type } from './data/types.js';

// Writing components of one's own.
export { simpleContext, newStats } from './data/context.js';
export type { NodeContext, NodeStats } from './data/context.js';
export type { ComponentSpec, SourceSpec, OperatorSpec, SinkSpec, Sink, EndpointSpec, Endpoint } from './data/component.js';

// Broker: endpoints that speak Zeek's WebSocket API v1, Broker's values and Zeek events.
// (`BrokerEndpoint` is Broker's `Endpoint`; `Endpoint` above is a pipeline's shared resource.)
export { Endpoint as BrokerEndpoint } from './broker/index.js';
export type { EndpointOptions as BrokerEndpointOptions, PeerInfo, PeerOptions as BrokerPeerOptions, PeerWebSocketOptions, OverflowOptions, PeerStats, EndpointStats as BrokerEndpointStats, StatusCode, StatusEvent } from './broker/endpoint.js';
export type { OverflowPolicy } from './broker/flow.js';
export type { Subscriber as BrokerSubscriber } from './broker/subscriber.js';
export type { DataMessage } from './broker/message.js';
export { broker, ZeekEvent } from './broker/index.js';
export type { BrokerData } from './broker/data.js';
export type { TlsOptions as BrokerTlsOptions, TlsCertificateOptions as BrokerTlsCertificateOptions, TlsMode as BrokerTlsMode } from './broker/tls.js';
export { encodeData, decodeData, dataToJson, parseData, toBroker, fromBroker, BrokerFormatError, BrokerJsonError, BrokerConversionError } from './broker/index.js';

// The store: historical queries over a store directory (flow import writes one).
export { StoreReader, StoreWriter, DEFAULT_DB } from './store/store.js';
export { emptyStats, type LookupOptions, type LookupResult, type LookupStats } from './store/lookup.js';
// The node (`flow serve`): a store, its import pipelines and the VAST query service over
// Broker; and the client side of that service (`flow subscribe`).
export { VastNode } from './node/node.js';
export { loadNodeConfig, defaultNodeConfig } from './node/config.js';
export type { NodeConfig } from './node/config.js';
export { subscribe as subscribeQuery, QueryRefused } from './node/client.js';
export type { ClientOptions, ClientEvent } from './node/client.js';
export { CONTROL_TOPIC, DATA_TOPIC } from './node/protocol.js';
export type { QueryMode } from './node/protocol.js';

// Broker data stores: masters (memory or SQLite) and caching clones attached to an endpoint.
export { MasterStore, CloneStore, StaleDataError } from './broker/index.js';
export type { Store as BrokerStore, StoreEvent, StoreInput, MasterOptions, CloneOptions, StoreTiming, SqliteOptions } from './broker/index.js';
