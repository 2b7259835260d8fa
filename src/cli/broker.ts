// `flow broker subscribe|publish`: Broker at a terminal, like the examples of Broker's
// Python bindings: print what arrives on topics as JSON lines (or Zeek-like text), or
// publish values and Zeek events given as arguments or as stdin lines.

import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { broker, type BrokerData } from '../broker/data.js';
import { Endpoint, type StatusEvent } from '../broker/endpoint.js';
import { OVERFLOW_POLICIES, type OverflowPolicy } from '../broker/flow.js';
import { formatPort, formatReal, formatTimespan, formatTimestamp, parseData, parseJson, parseTimespan, quoteJson } from '../broker/json.js';
import type { DataMessage } from '../broker/message.js';
import { checkTopic } from '../broker/topics.js';
import { dataMessage } from '../broker/websocket-codec.js';
import { ZeekEvent } from '../broker/zeek.js';
import { describeError } from '../data/errors.js';
import { StopSignals } from './stop.js';

interface ConnectOptions { peer?: string; listen?: string; websocket?: string; websocketListen?: string; retry?: string; overflow?: string }

function hostPort(text: string, what: string): [string, number] {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${what} expects HOST:PORT (like 127.0.0.1:9999), got '${text}'`);
  return [m[1] ?? m[2]!, port];
}

/** Opens an endpoint with the command line's connections; says where it listens on stderr. */
async function connect(o: ConnectOptions, ep: Endpoint, what: string): Promise<void> {
  if (!o.peer && !o.listen && !o.websocket && !o.websocketListen) throw new Error(`give --peer HOST:PORT, --listen HOST:PORT, --websocket URL or --websocket-listen HOST:PORT`);
  const overflow = o.overflow ?? 'block';
  if (!(OVERFLOW_POLICIES as readonly string[]).includes(overflow)) throw new Error(`--overflow expects one of ${OVERFLOW_POLICIES.join(', ')}, got '${overflow}'`);
  const retry = o.retry === undefined ? 0 : Number(o.retry);
  if (!(retry >= 0)) throw new Error(`--retry expects seconds, got '${o.retry}'`);
  const policy = { overflow: overflow as OverflowPolicy };
  if (o.listen) {
    const [h, p] = hostPort(o.listen, '--listen');
    process.stderr.write(`${what}: listening for Broker peers on ${h}:${await ep.listen(h, p, policy)}\n`);
  }
  if (o.websocketListen) {
    const [h, p] = hostPort(o.websocketListen, '--websocket-listen');
    process.stderr.write(`${what}: listening for WebSocket clients on ws://${h}:${await ep.listenWebSocket(h, p, policy)}/v1/messages/json\n`);
  }
  if (o.peer) await ep.peer(...hostPort(o.peer, '--peer'), { retry, ...policy });
  if (o.websocket) {
    if (!/^wss?:\/\//.test(o.websocket)) throw new Error(`--websocket expects ws://HOST:PORT or wss://..., got '${o.websocket}'`);
    await ep.peerWebSocket(o.websocket, { retry, ...policy });
  }
}

function addConnectOptions(c: Command): Command {
  return c
    .option('-p, --peer <host:port>', 'peer with the Broker endpoint (Zeek, Broker, Vastflow) listening there')
    .option('-l, --listen <host:port>', 'accept Broker peers there (port 0 picks one)')
    .option('-w, --websocket <url>', "connect to a WebSocket server (Zeek's WebSocket API v1, ws://HOST:PORT)")
    .option('-W, --websocket-listen <host:port>', 'accept WebSocket clients there')
    .option('--retry <seconds>', 'retry a peer or WebSocket server that cannot be reached, and reconnect when lost')
    .option('--overflow <policy>', `when a peer cannot keep up: ${OVERFLOW_POLICIES.join(', ')}`, 'block');
}

// ---- printing -------------------------------------------------------------------------

/** A Broker value as plain JSON: numbers exact, addresses, ports and times as strings. */
export function plainJson(d: BrokerData): string {
  switch (d.type) {
    case 'none': return 'null';
    case 'boolean': return d.value ? 'true' : 'false';
    case 'count': case 'integer': return String(d.value);
    case 'real': return Number.isFinite(d.value) ? formatReal(d.value) : `"${d.value}"`;
    case 'string': case 'enum': return quoteJson(d.value);
    case 'address': case 'subnet': return `"${d.value}"`;
    case 'port': return `"${formatPort(d.value)}"`;
    case 'timestamp': return `"${formatTimestamp(d.value)}"`;
    case 'timespan': return `"${formatTimespan(d.value)}"`;
    case 'set': case 'vector': return `[${d.value.map(plainJson).join(',')}]`;
    case 'table': return `[${d.value.map(([k, v]) => `[${plainJson(k)},${plainJson(v)}]`).join(',')}]`;
  }
}

/** A Broker value as Zeek prints one: `T`, `10.0.0.1`, `80/tcp`, `[1, 2]`, `{a, b}`, `{[k] = v}`. */
export function zeekText(d: BrokerData): string {
  switch (d.type) {
    case 'none': return '<none>';
    case 'boolean': return d.value ? 'T' : 'F';
    case 'string': return quoteJson(d.value);
    case 'enum': return String(d.value);
    case 'set': return `{${d.value.map(zeekText).join(', ')}}`;
    case 'vector': return `[${d.value.map(zeekText).join(', ')}]`;
    case 'table': return `{${d.value.map(([k, v]) => `[${zeekText(k)}] = ${zeekText(v)}`).join(', ')}}`;
    default: return JSON.parse(plainJson(d)) as string;
  }
}

const FORMATS = ['json', 'broker-json', 'text'] as const;
type Format = (typeof FORMATS)[number];

function printMessage(m: DataMessage, format: Format): string {
  if (format === 'broker-json') return dataMessage(m.topic, m);
  const ev = m.event;
  if (format === 'text') return ev ? `${m.topic} ${ev.name}(${ev.args.map(zeekText).join(', ')})` : `${m.topic} ${zeekText(m.data)}`;
  return ev
    ? `{"topic":${quoteJson(m.topic)},"event":${quoteJson(ev.name)},"args":[${ev.args.map(plainJson).join(',')}]}`
    : `{"topic":${quoteJson(m.topic)},"value":${plainJson(m.data)}}`;
}

// ---- reading values -------------------------------------------------------------------

/**
 * One value written as at a Zeek prompt: `42` a count, `-1` an integer, `2.5` a real, `T`
 * or `true` a boolean, `10.0.0.1`, `10.0.0.0/8`, `80/tcp`, `1.5s` (ns us ms s min h d),
 * `"text"` a JSON string, `{"@data-type":...,"data":...}` any value in the WebSocket
 * API's JSON; anything else is a string.
 */
export function parseLiteral(text: string): BrokerData {
  if (text.startsWith('{')) return parseData(text);
  if (text.startsWith('"')) {
    const s = parseJson(text);
    if (typeof s !== 'string') throw new Error(`${text} is not a JSON string`);
    return broker.string(s);
  }
  if (/^\d+$/.test(text)) return broker.count(BigInt(text));
  if (/^-\d+$/.test(text)) return broker.integer(BigInt(text));
  if (/^-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)$/.test(text)) return broker.real(Number(text));
  if (text === 'T' || text === 'true') return broker.boolean(true);
  if (text === 'F' || text === 'false') return broker.boolean(false);
  if (/^\d+\/(tcp|udp|icmp|unknown)$/.test(text)) return broker.port(text);
  if (/^-?\d+(\.\d+)?(ns|us|ms|s|min|h|d)$/.test(text)) return broker.timespan(parseTimespan(text));
  if (/^[0-9a-fA-F:.]+(\/\d+)?$/.test(text) && /[.:]/.test(text)) {
    try {
      return text.includes('/') ? broker.subnet(text) : broker.address(text);
    } catch {
      // Not an address after all (a version number, a time of day): a string.
    }
  }
  return broker.string(text);
}

/** Splits a line into literals at whitespace, keeping "quoted strings" and {JSON objects} whole. */
export function splitLiterals(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i]!)) { i++; continue; }
    const start = i;
    if (line[i] === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) if (line[i] === '\\') i++;
      if (i >= line.length) throw new Error(`unterminated string at column ${start + 1}`);
      i++;
    } else if (line[i] === '{') {
      let depth = 0;
      for (; i < line.length; i++) {
        if (line[i] === '"') { for (i++; i < line.length && line[i] !== '"'; i++) if (line[i] === '\\') i++; continue; }
        if (line[i] === '{') depth++;
        else if (line[i] === '}' && --depth === 0) { i++; break; }
      }
      if (depth !== 0) throw new Error(`unbalanced { at column ${start + 1}`);
    } else {
      while (i < line.length && !/\s/.test(line[i]!)) i++;
    }
    out.push(line.slice(start, i));
  }
  return out;
}

// ---- commands -------------------------------------------------------------------------

interface SubscribeOptions extends ConnectOptions { count?: string; format: string; status?: boolean }
interface PublishOptions extends ConnectOptions { event?: string; waitPeers: string }

function failWith(what: string, e: unknown): void {
  // Our errors are sentences already (peer 127.0.0.1:1: connect ECONNREFUSED ...).
  process.stderr.write(`${what}: ${e instanceof Error ? e.message : describeError(e)}\n`);
  process.exitCode = 1;
}

function statusLine(e: StatusEvent): string {
  return `${e.type === 'error' ? 'error' : 'status'} ${e.code}: ${e.message}\n`;
}

export function registerBrokerCommands(program: Command): void {
  const cmd = program.command('broker').description('publish to or subscribe to Broker topics at a terminal (Zeek, Broker and Vastflow peers)');
  addConnectOptions(cmd
    .command('subscribe')
    .description('print every message on the topics (prefixes) as a JSON line, until Ctrl-C or --count')
    .argument('<topics...>', 'topic prefixes, like /zeek/events'))
    .option('-n, --count <n>', 'exit after this many messages')
    .option('-F, --format <format>', 'output: json (plain), broker-json (the WebSocket API\'s typed JSON), text (Zeek-like)', 'json')
    .option('--status', 'also print peer statuses and errors to stderr')
    .addHelpText('after', '\nExamples:\n  flow broker subscribe /zeek/ --peer 127.0.0.1:9999\n  flow broker subscribe /demo --listen 127.0.0.1:9999 -n 1 -F text\n\nJSON lines: {"topic":T,"event":NAME,"args":[...]} for Zeek events, {"topic":T,"value":V} otherwise.')
    .action(async (topics: string[], o: SubscribeOptions) => {
      const stop = new StopSignals();
      const ep = new Endpoint();
      try {
        if (!(FORMATS as readonly string[]).includes(o.format)) throw new Error(`--format expects one of ${FORMATS.join(', ')}, got '${o.format}'`);
        const count = o.count === undefined ? Infinity : Number(o.count);
        if (!(count > 0) || (count !== Infinity && !Number.isInteger(count))) throw new Error(`--count expects a positive integer, got '${o.count}'`);
        for (const t of topics) checkTopic(t, 'subscribe');
        if (o.status) ep.makeStatusSubscriber().subscribe((e) => process.stderr.write(statusLine(e)));
        // Subscribe first, so that the subscription travels with the handshake.
        const sub = ep.makeSubscriber(topics);
        await connect(o, ep, 'flow broker subscribe');
        stop.signal.addEventListener('abort', () => sub.close(), { once: true });
        let n = 0;
        for await (const m of sub) {
          const line = `${printMessage(m, o.format as Format)}\n`;
          if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once('drain', r));
          if (++n >= count) break;
        }
        process.exitCode = stop.exitCode ?? 0;
      } catch (e) {
        failWith('flow broker subscribe', e);
      } finally {
        stop.dispose();
        await ep.shutdown();
      }
    });
  addConnectOptions(cmd
    .command('publish')
    .description('publish values (or a Zeek event with --event) given as arguments, or one per stdin line')
    .argument('<topic>', 'topic to publish on')
    .argument('[values...]', 'values: 42 -1 2.5 T 10.0.0.1 10.0.0.0/8 80/tcp 1.5s "text" or {"@data-type":...,"data":...}'))
    .option('-e, --event <name>', 'publish a Zeek event with the values as its arguments (from stdin: one event per line)')
    .option('--wait-peers <n>', 'with --listen or --websocket-listen: wait for this many peers before publishing', '1')
    .addHelpText('after', '\nExamples:\n  flow broker publish /demo --peer 127.0.0.1:9999 1 2 3\n  flow broker publish /demo --peer 127.0.0.1:9999 -e ping 1 "hi"\n  tail -f notes.txt | flow broker publish /notes --websocket ws://127.0.0.1:9998\n\nWithout values, each stdin line is one value (or, with --event, one event\'s arguments).\nPut -- before values that start with a dash: flow broker publish /t -p HOST:PORT -- -1')
    .action(async (topic: string, values: string[], o: PublishOptions) => {
      const stop = new StopSignals();
      const ep = new Endpoint();
      try {
        checkTopic(topic, 'publish');
        const wait = Number(o.waitPeers);
        if (!Number.isInteger(wait) || wait < 0) throw new Error(`--wait-peers expects a number of peers, got '${o.waitPeers}'`);
        const status = ep.makeStatusSubscriber();
        await connect(o, ep, 'flow broker publish');
        if (o.listen || o.websocketListen) {
          while (ep.peers().length < wait && !stop.signal.aborted) await Promise.race([status.get(), new Promise((r) => stop.signal.addEventListener('abort', r, { once: true }))]);
        }
        status.close();
        let published = 0;
        const send = async (value: BrokerData | ZeekEvent) => {
          if (!ep.publish(topic, value)) await ep.ready();
          published++;
        };
        if (values.length > 0) {
          const args = values.map(parseLiteral);
          if (o.event) await send(new ZeekEvent(o.event, args));
          else for (const v of args) await send(v);
        } else {
          let lineNo = 0;
          const lines = createInterface({ input: process.stdin });
          stop.signal.addEventListener('abort', () => lines.close(), { once: true });
          for await (const line of lines) {
            lineNo++;
            if (line.trim() === '') continue;
            try {
              if (o.event) await send(new ZeekEvent(o.event, splitLiterals(line).map(parseLiteral)));
              else await send(parseLiteral(line.trim()));
            } catch (e) {
              throw new Error(`stdin:${lineNo}: ${(e as Error).message}`);
            }
          }
        }
        process.stderr.write(`flow broker publish: ${published} message${published === 1 ? '' : 's'} to ${ep.peers().length} peer${ep.peers().length === 1 ? '' : 's'}\n`);
        process.exitCode = stop.exitCode ?? 0;
      } catch (e) {
        failWith('flow broker publish', e);
      } finally {
        stop.dispose();
        // Unpeering sends what is queued before the BYE, so nothing published is lost.
        await ep.shutdown();
      }
    });
}
