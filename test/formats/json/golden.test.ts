// JSON writer golden fixtures: the shared fixture batch in the json dialect (nested and
// flat) and as Zeek's JSON logs, byte for byte.

import { test } from 'node:test';
import { jsonFormat, zeekJsonFormat } from '../../../src/formats/json/writer.js';
import { fixtureBatch } from '../../sinks/helpers.js';
import { assertGolden, printed } from '../golden.js';

const here = (name: string) => new URL(name, import.meta.url);

test('json: nested objects, nulls, ISO nanosecond times, seconds durations', () => {
  assertGolden(here('every-type.json'), printed(jsonFormat({ flatten: false, omit_nulls: false, times: 'iso', durations: 'seconds' }), [fixtureBatch()]));
});

test('json: flat keys, unset fields left out, epoch times, nanosecond durations', () => {
  assertGolden(here('every-type.flat.json'), printed(jsonFormat({ flatten: true, omit_nulls: true, times: 'epoch', durations: 'ns' }), [fixtureBatch()]));
});

test('zeek-json: epoch seconds (JSON::TS_EPOCH)', () => {
  assertGolden(here('every-type.zeek.json'), printed(zeekJsonFormat({ timestamps: 'epoch', path_field: false }), [fixtureBatch()]));
});

test('zeek-json: ISO 8601 (JSON::TS_ISO8601) with the _path key', () => {
  assertGolden(here('every-type.zeek-iso.json'), printed(zeekJsonFormat({ timestamps: 'iso8601', path_field: true }), [fixtureBatch()]));
});

test('zeek-json: integer milliseconds (JSON::TS_MILLIS)', () => {
  assertGolden(here('every-type.zeek-millis.json'), printed(zeekJsonFormat({ timestamps: 'millis', path_field: false }), [fixtureBatch()]));
});
