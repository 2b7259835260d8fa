// Field types of Zeek's standard logs, for reading Zeek JSON (which carries no types):
// per log (`_path`), each field with its type as Zeek spells it in TSV `#types`.
// Fields of older Zeek versions (the M57 logs: http `filename`/`md5`, ssl `subject`, ...)
// are listed beside today's, since a JSON line only ever holds the fields it has.

import { parseZeekType, type Type } from '../../data/types.js';

const ID = 'uid:string id.orig_h:addr id.orig_p:port id.resp_h:addr id.resp_p:port';
const GEO = 'remote_location.country_code:string remote_location.region:string remote_location.city:string ' +
  'remote_location.latitude:double remote_location.longitude:double';

const LOGS: Readonly<Record<string, string>> = {
  conn: `ts:time ${ID} proto:enum service:string duration:interval orig_bytes:count resp_bytes:count conn_state:string ` +
    'local_orig:bool local_resp:bool missed_bytes:count history:string orig_pkts:count orig_ip_bytes:count resp_pkts:count ' +
    'resp_ip_bytes:count tunnel_parents:set[string] ip_proto:count orig_l2_addr:string resp_l2_addr:string vlan:int ' +
    'inner_vlan:int community_id:string orig_cc:string resp_cc:string',
  dns: `ts:time ${ID} proto:enum trans_id:count rtt:interval query:string qclass:count qclass_name:string qtype:count ` +
    'qtype_name:string rcode:count rcode_name:string AA:bool TC:bool RD:bool RA:bool Z:count answers:vector[string] ' +
    'TTLs:vector[interval] rejected:bool auth:set[string] addl:set[string] original_query:string',
  http: `ts:time ${ID} trans_depth:count method:string host:string uri:string referrer:string version:string ` +
    'user_agent:string origin:string request_body_len:count response_body_len:count status_code:count status_msg:string ' +
    'info_code:count info_msg:string filename:string tags:set[enum] username:string password:string proxied:set[string] ' +
    'orig_fuids:vector[string] orig_filenames:vector[string] orig_mime_types:vector[string] resp_fuids:vector[string] ' +
    'resp_filenames:vector[string] resp_mime_types:vector[string] client_header_names:vector[string] ' +
    'server_header_names:vector[string] cookie_vars:vector[string] uri_vars:vector[string] mime_type:string md5:string ' +
    'extraction_file:file',
  files: `ts:time fuid:string ${ID} tx_hosts:set[addr] rx_hosts:set[addr] conn_uids:set[string] source:string depth:count ` +
    'analyzers:set[string] mime_type:string filename:string duration:interval local_orig:bool is_orig:bool ' +
    'seen_bytes:count total_bytes:count missing_bytes:count overflow_bytes:count timedout:bool parent_fuid:string ' +
    'md5:string sha1:string sha256:string extracted:string extracted_cutoff:bool extracted_size:count',
  ftp: `ts:time ${ID} user:string password:string command:string arg:string mime_type:string mime_desc:string ` +
    'file_size:count reply_code:count reply_msg:string tags:set[string] extraction_file:file data_channel.passive:bool ' +
    'data_channel.orig_h:addr data_channel.resp_h:addr data_channel.resp_p:port fuid:string',
  smtp: `ts:time ${ID} trans_depth:count helo:string mailfrom:string rcptto:set[string] date:string from:string ` +
    'to:set[string] cc:set[string] reply_to:string msg_id:string in_reply_to:string subject:string x_originating_ip:addr ' +
    'first_received:string second_received:string last_reply:string path:vector[addr] user_agent:string tls:bool ' +
    'fuids:vector[string] is_webmail:bool',
  ssl: `ts:time ${ID} version:string cipher:string curve:string server_name:string resumed:bool last_alert:string ` +
    'next_protocol:string established:bool ssl_history:string cert_chain_fps:vector[string] ' +
    'client_cert_chain_fps:vector[string] cert_chain_fuids:vector[string] client_cert_chain_fuids:vector[string] ' +
    'subject:string issuer:string issuer_subject:string client_subject:string client_issuer:string ' +
    'client_issuer_subject:string sni_matches_cert:bool validation_status:string session_id:string ' +
    'not_valid_before:time not_valid_after:time',
  x509: 'ts:time id:string fingerprint:string certificate.version:count certificate.serial:string ' +
    'certificate.subject:string certificate.issuer:string certificate.not_valid_before:time ' +
    'certificate.not_valid_after:time certificate.key_alg:string certificate.sig_alg:string certificate.key_type:string ' +
    'certificate.key_length:count certificate.exponent:string certificate.curve:string san.dns:vector[string] ' +
    'san.uri:vector[string] san.email:vector[string] san.ip:vector[addr] basic_constraints.ca:bool ' +
    'basic_constraints.path_len:count host_cert:bool client_cert:bool',
  ssh: `ts:time ${ID} version:count auth_success:bool auth_attempts:count direction:enum client:string server:string ` +
    'cipher_alg:string mac_alg:string compression_alg:string kex_alg:string host_key_alg:string host_key:string ' +
    `status:string ${GEO} hasshVersion:string hassh:string hasshServer:string hasshAlgorithms:string ` +
    'hasshServerAlgorithms:string cshka:string sshka:string',
  irc: `ts:time ${ID} nick:string user:string command:string value:string addl:string dcc_file_name:string ` +
    'dcc_file_size:count dcc_mime_type:string fuid:string',
  rdp: `ts:time ${ID} cookie:string result:string security_protocol:string client_channels:vector[string] ` +
    'keyboard_layout:string client_build:string client_name:string client_dig_product_id:string desktop_width:count ' +
    'desktop_height:count requested_color_depth:string cert_type:string cert_count:count cert_permanent:bool ' +
    'encryption_level:string encryption_method:string',
  sip: `ts:time ${ID} trans_depth:count method:string uri:string date:string request_from:string request_to:string ` +
    'response_from:string response_to:string reply_to:string call_id:string seq:string subject:string ' +
    'request_path:vector[string] response_path:vector[string] user_agent:string status_code:count status_msg:string ' +
    'warning:string request_body_len:count response_body_len:count content_type:string',
  snmp: `ts:time ${ID} duration:interval version:string community:string get_requests:count get_bulk_requests:count ` +
    'get_responses:count set_requests:count display_string:string up_since:time',
  weird: `ts:time ${ID} name:string addl:string notice:bool peer:string source:string`,
  notice: `ts:time ${ID} fuid:string file_mime_type:string file_desc:string proto:enum note:enum msg:string sub:string ` +
    `src:addr dst:addr p:port n:count peer_descr:string actions:set[enum] email_dest:set[string] suppress_for:interval ${GEO} dropped:bool`,
  packet_filter: 'ts:time node:string filter:string init:bool success:bool failure_reason:string',
  dhcp: 'ts:time uids:set[string] client_addr:addr server_addr:addr client_port:port server_port:port mac:string ' +
    'host_name:string client_fqdn:string domain:string requested_addr:addr assigned_addr:addr lease_time:interval ' +
    'client_message:string server_message:string msg_types:vector[string] duration:interval',
  dpd: `ts:time ${ID} proto:enum analyzer:string failure_reason:string`,
  ntp: `ts:time ${ID} version:count mode:count stratum:count poll:interval precision:interval root_delay:interval ` +
    'root_disp:interval ref_id:string ref_time:time org_time:time rec_time:time xmt_time:time num_exts:count',
  tunnel: `ts:time ${ID} tunnel_type:enum action:enum`,
  kerberos: `ts:time ${ID} request_type:string client:string service:string success:bool error_msg:string from:time ` +
    'till:time cipher:string forwardable:bool renewable:bool client_cert_subject:string client_cert_fuid:string ' +
    'server_cert_subject:string server_cert_fuid:string',
  software: 'ts:time host:addr host_p:port software_type:enum name:string version.major:count version.minor:count ' +
    'version.minor2:count version.minor3:count version.addl:string unparsed_version:string url:string',
  known_hosts: 'ts:time host:addr',
  known_services: 'ts:time host:addr port_num:port port_proto:enum service:set[string]',
  capture_loss: 'ts:time ts_delta:interval peer:string gaps:count acks:count percent_lost:double',
  reporter: 'ts:time level:enum message:string location:string',
};

/** Fields every Zeek log shares (and `_write_ts` of JSON streaming). */
const COMMON = `ts:time ${ID} _write_ts:time`;

export interface ZeekField {
  readonly name: string;
  readonly type: Type;
  /** The Zeek spelling (`set[string]`, `file`), kept as the `zeek.type` attribute. */
  readonly zeekType: string;
}

function parseList(text: string): ZeekField[] {
  return text.split(' ').map((entry) => {
    const colon = entry.indexOf(':');
    const zeekType = entry.slice(colon + 1);
    return { name: entry.slice(0, colon), type: parseZeekType(zeekType), zeekType };
  });
}

const cache = new Map<string, readonly ZeekField[]>();

/** The known fields of log `path` in Zeek's order; the common fields for unknown logs. */
export function zeekLogFields(path: string): readonly ZeekField[] {
  let fields = cache.get(path);
  if (!fields) {
    fields = parseList(LOGS[path] ?? COMMON);
    cache.set(path, fields);
  }
  return fields;
}

/** Whether the built-in table knows log `path`. */
export function isKnownZeekLog(path: string): boolean {
  return Object.hasOwn(LOGS, path);
}

const common = parseList(COMMON);

/** The type of `name` in log `path`: from the log's table, else from the common fields. */
export function zeekFieldType(path: string, name: string): ZeekField | undefined {
  return zeekLogFields(path).find((f) => f.name === name) ?? common.find((f) => f.name === name);
}
