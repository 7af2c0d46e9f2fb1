/**
 * @module tests/fakes/x-api/tls
 * A self-signed certificate for 127.0.0.1, made with openssl at test time (twitter-api-v2 speaks
 * only HTTPS, so the fake X API serves TLS and the adapter trusts this certificate as its CA).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key and a certificate (also usable as the CA that trusts it). */
export interface TestCertificate {
  key: string;
  cert: string;
}

let cached: TestCertificate | undefined;

/** Generates (once per test file) a P-256 certificate valid for IP 127.0.0.1 and localhost. */
export function testCertificate(): TestCertificate {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'fake-x-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2',
        '-subj', '/CN=fake-x-api', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'pipe' },
    );
    cached = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
