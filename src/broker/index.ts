// What the rest of Vastflow (and the package entry) uses of Broker: values, their two
// encodings, conversion to Vastflow values, Zeek events and endpoints.

export { broker, compareData, equalData } from './data.js';
export type { BrokerData, BrokerType } from './data.js';
export { encodeData, decodeData, BrokerFormatError } from './bin.js';
export { dataToJson, parseData, BrokerJsonError } from './json.js';
export { toBroker, fromBroker, inferType, BrokerConversionError } from './convert.js';
export { ZeekEvent } from './zeek.js';
export { DataMessage } from './message.js';
export { Endpoint } from './endpoint.js';
export type { EndpointOptions, EndpointStats, OverflowOptions, PeerInfo, PeerOptions, PeerStats, StatusCode, StatusEvent } from './endpoint.js';
export type { OverflowPolicy } from './flow.js';
export type { TlsOptions, TlsCertificateOptions, TlsMode } from './tls.js';
export { Subscriber } from './subscriber.js';
export { MasterStore, CloneStore, StaleDataError } from './store/store.js';
export type { Store, StoreEvent, StoreInput, MasterOptions, CloneOptions, StoreTiming } from './store/store.js';
export type { SqliteOptions } from './store/sqlite.js';
