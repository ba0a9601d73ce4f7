#!/usr/bin/env node
// Independent verifier for lti-badges' OB 3.0 credentials, built only from
// other people's code: Digital Bazaar's @digitalbazaar/vc (VCDM 2.0) with the
// eddsa-rdfc-2022 cryptosuite for Data Integrity proofs, and `jose` for
// VC-JWT. Nothing here imports or mirrors the Python implementation.
//
// The documentLoader serves ONLY the local JSON-LD contexts (a directory with
// index.json: URL -> file) and the documents handed in (issuer profile /
// controller document, did:web document, status list credentials). Any other
// URL is refused, so nothing is fetched from the network.
//
// Single use:
//   node verify.mjs --contexts DIR [--keys KEYS.json] [--jwt] [--now ISO] FILE|-
//     FILE: a credential (JSON) or, with --jwt, a compact JWS
//     KEYS.json: {"documents": {url: doc, ...}, "jwks": {"keys": [...]}}
//   prints {"verified": bool, "errors": [...]}
// Batch use (one node start-up for many checks):
//   node verify.mjs --batch < request.json
//     request: {"contextsDir", "documents", "jwks", "now", "jobs": [job...]}
//     job: {"id", "kind": "data-integrity", "credential"}
//        | {"id", "kind": "vc-jwt", "jwt"}
//        | {"id", "kind": "sign-data-integrity", "credential", "verificationMethod",
//           "publicKeyMultibase", "secretKeyMultibase", "created"}
//   prints {"results": [{"id", "verified", "errors", ...}]}
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {gunzipSync} from 'node:zlib';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as jose from 'jose';

const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';
const MIN_STATUS_BITS = 131072;

function loadContexts(dir) {
  if(!dir) {
    throw new Error('no contexts directory (--contexts DIR or LTI_BADGES_CONTEXTS_DIR)');
  }
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const contexts = new Map();
  for(const [url, file] of Object.entries(index)) {
    contexts.set(url, JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  }
  return contexts;
}

function makeDocumentLoader({contexts, documents}) {
  const docs = new Map(Object.entries(documents || {}));
  return async function documentLoader(url) {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
    }
    if(docs.has(url)) {
      return {contextUrl: null, documentUrl: url, document: docs.get(url)};
    }
    // A verification method id is "<controller>#<fragment>": dereference the
    // controller document handed in and pick the method out of it, as an
    // HTTP/DID resolver would.
    const hash = url.indexOf('#');
    if(hash > 0 && docs.has(url.slice(0, hash))) {
      const base = docs.get(url.slice(0, hash));
      const methods = [].concat(base.verificationMethod || []);
      const fragment = url.slice(hash);
      const vm = methods.find(m => typeof m === 'object' &&
        (m.id === url || m.id === fragment));
      if(vm) {
        const document = {'@context': MULTIKEY_V1, ...vm, id: url};
        if(!document.controller) {
          document.controller = base.id;
        }
        return {contextUrl: null, documentUrl: url, document};
      }
    }
    throw new Error(`documentLoader refused ${url} (not a local context or given document)`);
  };
}

function errorMessages(err) {
  if(!err) {
    return [];
  }
  const list = Array.isArray(err) ? err : [err];
  const out = [];
  for(const e of list) {
    if(e && Array.isArray(e.errors) && e.errors.length) {
      out.push(...errorMessages(e.errors));
    } else if(e && e.message) {
      out.push(e.message);
    } else {
      out.push(String(e));
    }
  }
  return out;
}

function resultErrors(result) {
  const errors = [...errorMessages(result.error)];
  for(const r of result.results || []) {
    if(!r.verified) {
      errors.push(...errorMessages(r.error));
    }
  }
  if(result.statusResult && !result.statusResult.verified) {
    errors.push(...errorMessages(result.statusResult.error));
  }
  return [...new Set(errors)];
}

function bitAt(bytes, index) {
  return (bytes[index >> 3] >> (7 - (index & 7))) & 1;
}

// Bitstring Status List v1.0 "Validate Algorithm", done here from scratch.
function makeCheckStatus({documentLoader, suite, now}) {
  return async function checkStatus({credential}) {
    const entries = [].concat(credential.credentialStatus || []);
    for(const entry of entries) {
      if(entry.type !== 'BitstringStatusListEntry') {
        return {verified: false, error: new Error(`unsupported status type ${entry.type}`)};
      }
      const {document: slc} = await documentLoader(entry.statusListCredential);
      const slcResult = await vc.verifyCredential({
        credential: slc, suite, documentLoader, now
      });
      if(!slcResult.verified) {
        return {verified: false, error: new Error('status list credential does not verify: ' +
          resultErrors(slcResult).join('; '))};
      }
      if(![].concat(slc.type).includes('BitstringStatusListCredential')) {
        return {verified: false, error: new Error('status list credential has the wrong type')};
      }
      const slcIssuer = typeof slc.issuer === 'string' ? slc.issuer : slc.issuer.id;
      const credIssuer = typeof credential.issuer === 'string' ?
        credential.issuer : credential.issuer.id;
      if(slcIssuer !== credIssuer) {
        return {verified: false, error: new Error('status list issuer differs from credential issuer')};
      }
      const subject = slc.credentialSubject;
      if(subject.statusPurpose !== entry.statusPurpose) {
        return {verified: false, error: new Error('statusPurpose mismatch')};
      }
      let encoded = subject.encodedList;
      if(!encoded.startsWith('u')) {
        return {verified: false, error: new Error('encodedList is not multibase base64url (u...)')};
      }
      encoded = encoded.slice(1);
      const bytes = gunzipSync(Buffer.from(encoded, 'base64url'));
      if(bytes.length * 8 < MIN_STATUS_BITS) {
        return {verified: false, error: new Error('status list shorter than 131072 bits')};
      }
      const index = Number.parseInt(entry.statusListIndex, 10);
      if(!Number.isInteger(index) || index < 0 || index >= bytes.length * 8) {
        return {verified: false, error: new Error('statusListIndex out of range')};
      }
      if(bitAt(bytes, index)) {
        return {verified: false, error: new Error(`credential status: ${entry.statusPurpose} bit set`)};
      }
    }
    return {verified: true};
  };
}

async function verifyDataIntegrity({credential, documentLoader, now}) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  const checkStatus = makeCheckStatus({documentLoader, suite, now});
  const result = await vc.verifyCredential({
    credential, suite, documentLoader, checkStatus, now
  });
  return {verified: !!result.verified, errors: result.verified ? [] : resultErrors(result)};
}

async function publicKeyForKid({kid, jwks, documentLoader}) {
  const fromSet = (jwks?.keys || []).find(k => k.kid === kid);
  if(fromSet) {
    return {key: await jose.importJWK(fromSet, fromSet.alg), alg: fromSet.alg};
  }
  const {document: vm} = await documentLoader(kid);
  if(vm.publicKeyJwk) {
    const alg = vm.publicKeyJwk.alg || (vm.publicKeyJwk.kty === 'OKP' ? 'EdDSA' : 'RS256');
    return {key: await jose.importJWK(vm.publicKeyJwk, alg), alg};
  }
  if(vm.publicKeyMultibase) {
    const keyPair = await Ed25519Multikey.from(vm);
    const jwk = await Ed25519Multikey.toJwk({keyPair});
    return {key: await jose.importJWK(jwk, 'EdDSA'), alg: 'EdDSA'};
  }
  throw new Error(`no public key at ${kid}`);
}

function toNumericDate(iso) {
  return Math.floor(Date.parse(iso) / 1000);
}

// OB 3.0 §8.2.6 "Verify a Credential" and §8.2.6.1 (claims vs credential).
async function verifyJwt({token, jwks, documentLoader, now}) {
  const errors = [];
  try {
    const header = jose.decodeProtectedHeader(token);
    for(const name of Object.keys(header)) {
      if(!['alg', 'kid', 'jwk', 'typ'].includes(name)) {
        errors.push(`JOSE header ${name} is not allowed`);
      }
    }
    if(header.typ !== undefined && header.typ !== 'JWT') {
      errors.push(`typ must be JWT, not ${header.typ}`);
    }
    if(!header.kid) {
      throw new Error('no kid in the JOSE header');
    }
    const {key, alg} = await publicKeyForKid({kid: header.kid, jwks, documentLoader});
    const {payload} = await jose.jwtVerify(token, key, {
      algorithms: [alg], currentDate: now || new Date()
    });
    const issuerId = typeof payload.issuer === 'string' ? payload.issuer : payload.issuer?.id;
    if(payload.iss !== issuerId) {
      errors.push('iss does not match issuer.id');
    }
    if(payload.jti !== payload.id) {
      errors.push('jti does not match id');
    }
    if(payload.nbf !== toNumericDate(payload.validFrom)) {
      errors.push('nbf does not match validFrom');
    }
    const subject = [].concat(payload.credentialSubject || [])[0] || {};
    if(payload.sub !== subject.id) {
      errors.push('sub does not match credentialSubject.id');
    }
    if(payload.validUntil !== undefined && payload.exp !== toNumericDate(payload.validUntil)) {
      errors.push('exp does not match validUntil');
    }
  } catch(e) {
    errors.push(`${e.code ? e.code + ': ' : ''}${e.message}`);
  }
  return {verified: errors.length === 0, errors};
}

async function signDataIntegrity({job, documentLoader}) {
  const controller = job.verificationMethod.split('#')[0];
  const keyPair = await Ed25519Multikey.from({
    '@context': MULTIKEY_V1,
    type: 'Multikey',
    id: job.verificationMethod,
    controller,
    publicKeyMultibase: job.publicKeyMultibase,
    secretKeyMultibase: job.secretKeyMultibase
  });
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(), date: job.created, cryptosuite: eddsaRdfc2022CryptoSuite
  });
  const credential = structuredClone(job.credential);
  delete credential.proof;
  const signed = await vc.issue({credential, suite, documentLoader});
  return {verified: true, errors: [], signed};
}

async function runJob({job, documentLoader, jwks, now}) {
  try {
    if(job.kind === 'data-integrity') {
      return await verifyDataIntegrity({credential: job.credential, documentLoader, now});
    }
    if(job.kind === 'vc-jwt') {
      return await verifyJwt({token: job.jwt, jwks, documentLoader, now});
    }
    if(job.kind === 'sign-data-integrity') {
      return await signDataIntegrity({job, documentLoader});
    }
    return {verified: false, errors: [`unknown job kind ${job.kind}`]};
  } catch(e) {
    return {verified: false, errors: errorMessages(e)};
  }
}

function parseArgs(argv) {
  const args = {flags: new Set(), positional: []};
  for(let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if(a === '--contexts' || a === '--keys' || a === '--now') {
      args[a.slice(2)] = argv[++i];
    } else if(a.startsWith('--')) {
      args.flags.add(a.slice(2));
    } else {
      args.positional.push(a);
    }
  }
  return args;
}

function readInput(file) {
  return readFileSync(!file || file === '-' ? 0 : file, 'utf8');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if(args.flags.has('batch')) {
    const request = JSON.parse(readInput('-'));
    const contexts = loadContexts(request.contextsDir || args.contexts ||
      process.env.LTI_BADGES_CONTEXTS_DIR);
    const documentLoader = makeDocumentLoader({contexts, documents: request.documents});
    const now = request.now ? new Date(request.now) : undefined;
    const results = [];
    for(const job of request.jobs || []) {
      const r = await runJob({job, documentLoader, jwks: request.jwks, now});
      results.push({id: job.id, ...r});
    }
    process.stdout.write(JSON.stringify({results}) + '\n');
    return;
  }
  const contexts = loadContexts(args.contexts || process.env.LTI_BADGES_CONTEXTS_DIR);
  const keys = args.keys ? JSON.parse(readFileSync(args.keys, 'utf8')) : {};
  const documents = keys.documents || {};
  const documentLoader = makeDocumentLoader({contexts, documents});
  const now = args.now ? new Date(args.now) : undefined;
  const input = readInput(args.positional[0]).trim();
  const job = args.flags.has('jwt') ?
    {kind: 'vc-jwt', jwt: input} : {kind: 'data-integrity', credential: JSON.parse(input)};
  const r = await runJob({job, documentLoader, jwks: keys.jwks, now});
  process.stdout.write(JSON.stringify({verified: r.verified, errors: r.errors}) + '\n');
  process.exitCode = r.verified ? 0 : 1;
}

main().catch(e => {
  process.stdout.write(JSON.stringify({verified: false, errors: errorMessages(e)}) + '\n');
  process.exitCode = 2;
});
