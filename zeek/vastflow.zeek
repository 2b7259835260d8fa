##! Queries a Vastflow node (`flow serve`) over Broker, as the VAST integration of
##! BroCon'18 ("Zeek -> || <- VAST") did: the script peers with the node, publishes
##! VAST::query on /vast/control and receives one VAST::result per matching event on
##! /vast/data, each a record as a positional vector (nested records as inner vectors).
##! A historical query ends with VAST::result(id, nil) and VAST::done(id, node, n).

module VAST;

export {
	## What a query covers: the store (historical), the live import from now on
	## (continuous, until VAST::cancel), or the store and then the live import with
	## no event missed or repeated at the seam (unified).
	type QueryMode: enum { HISTORICAL, CONTINUOUS, UNIFIED };

	## Where the node listens for Broker peers (`flow serve --listen`).
	const node_host = 127.0.0.1 &redef;
	const node_port = 43000/tcp &redef;
	## Peer with the node at start-up.
	const peer_on_init = T &redef;
	## Seconds between attempts while the node cannot be reached.
	const retry_interval = 5sec &redef;

	## The node's topics.
	const control_topic = "/vast/control" &redef;
	const data_topic = "/vast/data" &redef;

	## Sent to the node: run `expression` (VAST's query language) as query `id`.
	global query: event(id: string, expression: string, mode: QueryMode);
	## Sent to the node: stop the continuous or unified query `id`.
	global cancel: event(id: string);
	## From the node: one match of query `id` (a vector of its fields), or nil when a
	## historical query (or the historical part of a unified one) is done.
	global result: event(id: string, data: any);
	## From the node: it has sent every historical match of `id` (`results` of them).
	global done: event(id: string, node: string, results: count);
	## From the node: query `id` was refused or stopped; `message` says why.
	global error: event(id: string, message: string);

	## Called with each match of a lookup; `data` is the record as a vector:
	## `switch ( data ) { case type vector of any as xs: ... }`.
	type Callback: function(id: string, data: any);

	## Asks the node; returns the query's id. The callback sees every match; a
	## historical lookup ends with VAST::done, a live one runs until VAST::stop(id).
	global lookup: function(expression: string, callback: Callback, mode: QueryMode &default=HISTORICAL): string;
	## Ends a lookup (continuous and unified ones run until then).
	global stop: function(id: string);
}

global callbacks: table[string] of Callback;
global modes: table[string] of QueryMode;

event zeek_init() &priority=5
	{
	Broker::subscribe(data_topic);
	if ( peer_on_init )
		Broker::peer(cat(node_host), node_port, retry_interval);
	}

function lookup(expression: string, callback: Callback, mode: QueryMode &default=HISTORICAL): string
	{
	local id = unique_id("vastflow-");
	callbacks[id] = callback;
	modes[id] = mode;
	Broker::publish(control_topic, VAST::query, id, expression, mode);
	return id;
	}

function stop(id: string)
	{
	if ( id !in callbacks )
		return;
	delete callbacks[id];
	delete modes[id];
	Broker::publish(control_topic, VAST::cancel, id);
	}

event VAST::result(id: string, data: any)
	{
	if ( id !in callbacks )
		return;
	switch ( data ) {
	case type vector of any as xs:
		callbacks[id](id, xs);
		break;
	default:
		break; # nil: the history is done; VAST::done follows
	}
	}

event VAST::done(id: string, node: string, results: count)
	{
	if ( id in modes && modes[id] == HISTORICAL )
		{
		delete callbacks[id];
		delete modes[id];
		}
	}

event VAST::error(id: string, message: string)
	{
	Reporter::warning(fmt("VAST query %s: %s", id, message));
	if ( id in callbacks )
		{
		delete callbacks[id];
		delete modes[id];
		}
	}
