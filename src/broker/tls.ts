// TLS for native Broker peering, set up the way Broker 2.x sets up its OpenSSL context
// (libbroker/broker/internal/connector.cc, `ssl_context_from_cfg`), so that either side
// of a connection can be a Zeek or Broker endpoint:
//   - without certificate options: anonymous ECDH, cipher `AECDH-AES256-SHA@SECLEVEL=0`,
//     curve P-384, no verification. Anonymous ciphers exist only up to TLS 1.2, and an
//     OpenSSL 3 server without a certificate that sees a TLS 1.3 offer fails with "no
//     suitable signature algorithm", so this mode pins TLS 1.2 on both sides.
//   - with any of certificate, key, passphrase, cafile, capath (Broker's
//     `authentication_enabled()`): ciphers `HIGH:!aNULL:!MD5`, TLS 1.2 or later, both
//     sides must present a certificate the other's CAs vouch for. Broker checks the chain
//     only, never host names, so neither do we.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';

/** Certificate options, named as Broker names them (`broker.ssl.*`); paths to PEM files. */
export interface TlsCertificateOptions {
  /** This endpoint's certificate chain (PEM). */
  readonly certificate?: string;
  /** Its private key (PEM); default: the certificate file, which may hold both. */
  readonly key?: string;
  /** Passphrase that decrypts the key. */
  readonly passphrase?: string;
  /** File of concatenated PEM certificates of the CAs that vouch for peers. */
  readonly cafile?: string;
  /** Directory of PEM CA certificates (every regular file in it is read). */
  readonly capath?: string;
}

/**
 * `true` or `{}`: anonymous ECDH TLS, Zeek's default when it has no certificates. An
 * object with certificate options: TLS with mutual certificate verification.
 */
export type TlsOptions = true | TlsCertificateOptions;

export type TlsMode = 'anonymous' | 'certificate';

/** The TLS settings of an endpoint: the same for the connections it accepts and makes. */
export interface TlsSettings {
  readonly mode: TlsMode;
  readonly server: tls.TlsOptions;
  readonly client: tls.ConnectionOptions;
}

const ANONYMOUS: tls.SecureContextOptions = {
  ciphers: 'AECDH-AES256-SHA@SECLEVEL=0',
  ecdhCurve: 'P-384',
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.2',
};

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read the TLS ${what} '${path}': ${(e as Error).message}`);
  }
}

function readCaPath(dir: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new Error(`cannot read the TLS capath '${dir}': ${(e as Error).message}`);
  }
  const out = names.map((n) => join(dir, n)).filter((p) => statSync(p).isFile()).map((p) => readPem(p, 'CA certificate'));
  if (out.length === 0) throw new Error(`the TLS capath '${dir}' holds no certificate files`);
  return out;
}

/**
 * Loads keys and certificates and checks they fit together, so that a wrong path or
 * passphrase fails when the endpoint is made, not at the first connection.
 */
export function tlsSettings(options: TlsOptions): TlsSettings {
  const o: TlsCertificateOptions = options === true ? {} : options;
  const authenticated = [o.certificate, o.key, o.passphrase, o.cafile, o.capath].some((x) => x !== undefined && x !== '');
  if (!authenticated) {
    return {
      mode: 'anonymous',
      server: { ...ANONYMOUS },
      client: { ...ANONYMOUS, rejectUnauthorized: false, checkServerIdentity: () => undefined },
    };
  }
  if (!o.certificate) throw new Error('certificate TLS needs a certificate (and its key): Broker requires one from both sides');
  if (!o.cafile && !o.capath) throw new Error('certificate TLS needs cafile or capath: the CAs that vouch for peers\' certificates');
  const ca = [...(o.cafile ? [readPem(o.cafile, 'cafile')] : []), ...(o.capath ? readCaPath(o.capath) : [])];
  const context: tls.SecureContextOptions = {
    cert: readPem(o.certificate, 'certificate'),
    key: readPem(o.key || o.certificate, 'key'),
    ca,
    ciphers: 'HIGH:!aNULL:!MD5',
    minVersion: 'TLSv1.2',
    ...(o.passphrase ? { passphrase: o.passphrase } : {}),
  };
  try {
    tls.createSecureContext(context);
  } catch (e) {
    const m = (e as Error).message;
    const hint = /bad decrypt|bad password|no start line|unsupported|decoder/i.test(m)
      ? o.passphrase ? ' (wrong passphrase, or not a PEM key?)' : ' (an encrypted key needs a passphrase; or not a PEM key?)'
      : /key values mismatch/i.test(m) ? ' (the key does not belong to the certificate)' : '';
    throw new Error(`cannot load the TLS certificate '${o.certificate}' with key '${o.key || o.certificate}': ${m}${hint}`);
  }
  return {
    mode: 'certificate',
    // The listener checks `authorized` itself (acceptedTlsProblem) rather than letting Node
    // drop the socket: Node closes without an alert, and the peer would never learn why.
    server: { ...context, requestCert: true, rejectUnauthorized: false },
    client: { ...context, rejectUnauthorized: true, checkServerIdentity: () => undefined },
  };
}

/**
 * Why an accepted TLS connection must be refused (its certificate is missing or not vouched
 * for), or undefined when it may proceed.
 */
export function acceptedTlsProblem(socket: tls.TLSSocket, mode: TlsMode): string | undefined {
  if (mode === 'anonymous' || socket.authorized) return undefined;
  const reason = String(socket.authorizationError ?? 'not verified');
  return /NO_PEER_CERTIFICATE|PEER_DID_NOT_RETURN/.test(reason) || !socket.getPeerCertificate()?.subject
    ? `TLS certificate required: the peer presented none`
    : `TLS certificate rejected: ${reason}: the peer's certificate is not vouched for by our cafile/capath`;
}

/** A TLS handshake failure in words: what went wrong and what to check. */
export function describeTlsFailure(e: unknown, mode: TlsMode): string {
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  const m = err.message ?? String(e);
  let hint: string;
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNEXPECTED_EOF|RECORD_LAYER_FAILURE/.test(code)) {
    hint = 'the peer does not speak TLS here (is TLS off on its side? Broker: disable_ssl)';
  } else if (/CERT|VERIFY|SELF_SIGNED|ISSUER|SIGNATURE/.test(code) && !code.startsWith('ERR_SSL_')) {
    hint = "the peer's certificate is not vouched for by our cafile/capath";
  } else if (/UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR/.test(code)) {
    hint = 'the peer rejected our certificate (its CAs do not vouch for it)';
  } else if (/CERTIFICATE_REQUIRED|PEER_DID_NOT_RETURN_A_CERTIFICATE/.test(code)) {
    hint = 'one side presented no certificate, but the other requires one';
  } else if (/HANDSHAKE_FAILURE|NO_SHARED_CIPHER|NO_SUITABLE_SIGNATURE|NO_CIPHERS/.test(code)) {
    hint = mode === 'anonymous'
      ? 'no cipher in common: the peer seems to use certificates, this endpoint anonymous TLS'
      : 'no cipher in common: the peer seems to use anonymous TLS, this endpoint certificates';
  } else if (code === 'ECONNRESET' || code === 'EPIPE') {
    hint = 'the peer closed the connection during the handshake (does it use the same TLS mode?)';
  } else {
    hint = `${mode} TLS`;
  }
  // OpenSSL's text carries its source location ("...:../deps/openssl/...c:1601:SSL alert number 48").
  const what = m.split('\n')[0]!.replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[a-z_0-9]+:/, '').replace(/:[^:\s]*\.c:\d+:.*$/, '');
  return `TLS handshake failed: ${what}${code ? ` [${code}]` : ''}: ${hint}`;
}
