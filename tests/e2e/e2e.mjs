// End-to-end test of the facetrail web application, as a person would use it: the real
// `facetrail serve` (a subprocess on 127.0.0.1, ephemeral port) over a database whose gallery was
// enrolled from LFW photos with `facetrail enroll`, driven in headless Debian Chromium through
// playwright-core. Screenshots of every page go to $FACETRAIL_SCREENSHOTS (build/e2e-screenshots).
//
// Flow: admin creates a certified searcher, two certified examiners, an auditor and an
// uncertified searcher (web forms); the searcher drops a probe, picks the face, runs the search
// and sees the candidates beside the probe with the notice; an outside-agency request and the
// uncertified searcher are refused on screen; the examiners examine and concur (lead released);
// the searcher records the outcome; the auditor's dashboard shows the chain intact and the
// refusals; `facetrail audit verify` passes and the audit log holds every step.
// Exit 0 pass, 1 fail, 77 skipped (playwright-core not installed: run `npm ci` here).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
let chromium;
try { ({ chromium } = await import('playwright-core')); } catch (e) {
  console.error('playwright-core is not installed: run `npm ci` in tests/e2e (scripts/test does)');
  process.exit(77);
}
const bin = process.env.FACETRAIL_BIN || path.join(repo, 'build/facetrail');
const shared = process.env.FACETRAIL_SHARED_DIR || path.join(repo, '../shared');
const models = process.env.FACETRAIL_MODELS_DIR || path.join(repo, 'models');
const shots = process.env.FACETRAIL_SCREENSHOTS || path.join(repo, 'build/e2e-screenshots');
const lfw = path.join(shared, 'data/lfw-deepfunneled-dev/images');
const agency = 'Metro PD';
const adminPw = 'admin-e2e-password-' + Math.random().toString(36).slice(2, 10);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-e2e-'));
const db = path.join(tmp, 'facetrail.db');
fs.mkdirSync(shots, { recursive: true });

function check(cond, what) { if (!cond) throw new Error('check failed: ' + what); console.log('ok - ' + what); }
function run(args, env = {}) { return execFileSync(bin, args, { env: { ...process.env, ...env }, encoding: 'utf8' }); }
async function freePort() {
  return new Promise(resolve => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

// ---- database, gallery, server ----
run(['admin', 'init', '--db', db, '--name', 'admin', '--full-name', 'Ada Admin', '--agency', agency], { FACETRAIL_PASSWORD: adminPw });
fs.writeFileSync(path.join(tmp, 'manifest.csv'), 'booking_number,photo,name\n' +
  'LFW-0001,Abdullah_Gul/Abdullah_Gul_0001.jpg,Abdullah Gul\n' +
  'LFW-0002,Abdoulaye_Wade/Abdoulaye_Wade_0001.jpg,Abdoulaye Wade\n' +
  'LFW-0003,Abel_Pacheco/Abel_Pacheco_0001.jpg,Abel Pacheco\n' +
  'LFW-0004,Aaron_Sorkin/Aaron_Sorkin_0001.jpg,Aaron Sorkin\n');
run(['enroll', '--db', db, '--manifest', path.join(tmp, 'manifest.csv'), '--images', lfw, '--models', models, '--threads', '1']);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--models', models, '--pipelines', '1'], { stdio: ['ignore', 'inherit', 'inherit'] });
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(base + '/healthz')).ok) break; } catch (e) { /* not up yet */ }
  await new Promise(r => setTimeout(r, 100));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
const external = [];
let n = 0;
async function shot(page, name) { n += 1; await page.screenshot({ path: path.join(shots, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true }); }

async function signIn(name, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('request', r => { if (!r.url().startsWith(base) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) external.push(r.url()); });
  page.on('console', m => { if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) console.log('browser console:', m.text()); });
  await page.goto(base + '/');
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  if (name === 'admin') await shot(page, 'sign-in');
  await page.press('#login-password', 'Enter');
  await page.waitForSelector('#who button');
  return { context, page };
}

async function searchAs(page, probe, fields) {
  await page.goto(base + '/#/search');
  await page.setInputFiles('#probe-file', probe);
  await page.waitForSelector('#faces input[name=face], #faces .refused, #faces .error');
  await page.fill('#case', fields.case || 'MPD-2026-0042');
  await page.fill('#offense', 'robbery');
  await page.fill('#agency', fields.agency || agency);
  await page.fill('#justification', 'CCTV still from the bank robbery of 2026-11-02');
  await page.click('#run-search');
}

try {
  // Admin: users and certificates through the web forms.
  const admin = await signIn('admin', adminPw);
  await admin.page.goto(base + '/#/admin');
  await admin.page.waitForSelector('#add-user');
  const people = [['sam', ['searcher'], true], ['eve', ['examiner'], true], ['ed', ['examiner'], true], ['al', ['auditor'], false], ['nick', ['searcher'], false]];
  for (const [name, roles, certified] of people) {
    await admin.page.fill('#new-name', name);
    await admin.page.fill('#new-full_name', name[0].toUpperCase() + name.slice(1) + ' Example');
    await admin.page.fill('#new-password', name + '-password-1');
    for (const r of roles) await admin.page.check('#role-' + r);
    await admin.page.click('#add-user button[type=submit]');
    await admin.page.waitForSelector(`#users td:text-is("${name}")`);
    if (certified) {
      await admin.page.selectOption('#cert-user', name);
      await admin.page.fill('#cert-number', 'FC-' + name);
      await admin.page.fill('#cert-issued', '2026-01-01');
      await admin.page.fill('#cert-expires', '2030-12-31');
      await admin.page.click('#add-cert button[type=submit]');
      await admin.page.waitForSelector(`#users :text("FC-${name}")`);
    }
  }
  await shot(admin.page, 'admin-users');
  check((await admin.page.locator('#users tbody tr').count()) === 6, 'admin created five users');

  // Searcher: probe, face choice, search, candidates beside the probe.
  const sam = await signIn('sam', 'sam-password-1');
  const probe = path.join(lfw, 'Abdullah_Gul/Abdullah_Gul_0010.jpg');
  await sam.page.goto(base + '/#/search');
  await sam.page.setInputFiles('#probe-file', probe);
  await sam.page.waitForSelector('#faces input[name=face]');
  await sam.page.fill('#case', 'MPD-2026-0042');
  await sam.page.fill('#offense', 'robbery');
  await sam.page.fill('#justification', 'CCTV still from the bank robbery of 2026-11-02');
  await shot(sam.page, 'new-search');
  await sam.page.click('#run-search');
  await sam.page.waitForSelector('#candidates');
  const notice = await sam.page.textContent('#lead-notice');
  check(notice.includes('Investigative lead only') && notice.includes('Human review required'), 'candidate list carries the notice');
  check((await sam.page.textContent('#candidates tbody tr:first-child')).includes('LFW-0001'), 'the mate is rank 1');
  const requestUrl = sam.page.url();
  const requestId = requestUrl.split('/').pop();
  await shot(sam.page, 'candidates');

  // Outside agency: refused on screen.
  await searchAs(sam.page, probe, { agency: 'County Sheriff' });
  await sam.page.waitForSelector('#search-result .refused');
  check((await sam.page.getAttribute('#search-result .refused', 'data-code')) === 'outside_agency', 'outside-agency request refused on screen');
  await shot(sam.page, 'refused-outside-agency');

  // Uncertified searcher: refused on screen.
  const nick = await signIn('nick', 'nick-password-1');
  await searchAs(nick.page, probe, {});
  await nick.page.waitForSelector('#search-result .refused, #faces .refused');
  const nickCode = await nick.page.getAttribute('.refused', 'data-code');
  check(nickCode === 'no_valid_certificate', 'uncertified searcher refused on screen (' + nickCode + ')');
  await shot(nick.page, 'refused-uncertified');

  // Examiner 1: examination.
  const eve = await signIn('eve', 'eve-password-1');
  await eve.page.goto(base + '/#/reviews');
  await eve.page.waitForSelector('#reviews a');
  await shot(eve.page, 'reviews');
  await eve.page.click(`#reviews a[href="#/request/${requestId}"]`);
  await eve.page.waitForSelector('#examine-form');
  await eve.page.selectOption('#mark-1', 'possible_match');
  await eve.page.fill('#notes-1', 'ears and hairline agree');
  await shot(eve.page, 'examination');
  await eve.page.click('#examine-form button[type=submit]');
  await eve.page.waitForSelector('#lead-status:text-is("examined")');
  check(true, 'examined');

  // Examiner 2: concurrence releases the lead.
  const ed = await signIn('ed', 'ed-password-1');
  await ed.page.goto(base + '/#/request/' + requestId);
  await ed.page.waitForSelector('#concur-form');
  await shot(ed.page, 'concurrence');
  await ed.page.click('#concur-agree');
  await ed.page.waitForSelector('#lead-status:text-is("released")');
  check(true, 'lead released after concurrence');

  // Searcher: my requests, outcome.
  await sam.page.goto(base + '/#/requests');
  await sam.page.waitForSelector('#my-requests a');
  check((await sam.page.textContent('#my-requests')).includes('released'), 'my requests shows the released lead');
  await shot(sam.page, 'my-requests');
  await sam.page.goto(base + '/#/request/' + requestId);
  await sam.page.waitForSelector('#outcome-form');
  await sam.page.selectOption('#outcome', 'confirmed_by_other_evidence');
  await sam.page.fill('#outcome-note', 'fingerprints');
  await sam.page.click('#outcome-form button[type=submit]');
  await sam.page.waitForSelector('#review-actions :text("confirmed_by_other_evidence")');
  await shot(sam.page, 'outcome');

  // Auditor: dashboard.
  const al = await signIn('al', 'al-password-1');
  await al.page.goto(base + '/#/dashboard');
  await al.page.waitForSelector('#chain-status');
  check((await al.page.textContent('#chain-status')).includes('intact'), 'dashboard shows the audit chain intact');
  const refusals = await al.page.textContent('#refusal-list');
  check(refusals.includes('outside_agency') && refusals.includes('no_valid_certificate'), 'dashboard lists both refusals');
  check((await al.page.locator('#chart-month svg rect').count()) >= 1, 'searches-over-time chart drawn');
  await shot(al.page, 'dashboard');

  // API tokens and revocation (sessions and tokens live in the database and can be revoked).
  await sam.page.click('nav a[href="#/tokens"]');
  await sam.page.waitForSelector('#add-token');
  await sam.page.fill('#token-label', 'e2e script');
  await sam.page.click('#add-token button[type=submit]');
  await sam.page.waitForSelector('#token-secret');
  const secret = await sam.page.inputValue('#token-secret');
  check(/^[0-9a-f]{64}$/.test(secret), 'API token shown once after creation');
  await shot(sam.page, 'api-tokens');
  const bearer = { headers: { Authorization: 'Bearer ' + secret } };
  check((await fetch(base + '/api/v1/me', bearer)).status === 200, 'the API token works for a script');
  sam.page.once('dialog', d => d.accept());
  await sam.page.click('#tokens button[aria-label="Revoke token e2e script"]');
  await sam.page.waitForSelector('#tokens td:text("revoked")');
  check((await fetch(base + '/api/v1/me', bearer)).status === 401, 'a revoked API token is refused');
  await admin.page.goto(base + '/#/admin');
  await admin.page.waitForSelector('#revoke-sessions');
  await admin.page.selectOption('#revoke-user', 'nick');
  await admin.page.fill('#revoke-reason', 'e2e sign-out test');
  await admin.page.click('#revoke-sessions button[type=submit]');
  await admin.page.waitForSelector('#revoke-msg .okmsg');
  await shot(admin.page, 'admin-revoke-sessions');
  await nick.page.reload();
  await nick.page.waitForSelector('#login-form');
  check(true, 'an admin signed nick out everywhere');
  const tokenLog = run(['audit', 'export', '--db', db, '--user', 'al'], { FACETRAIL_PASSWORD: 'al-password-1' });
  for (const action of ['session.create', 'token.create', 'token.revoke', 'session.revoke']) {
    check(tokenLog.includes(`"action":"${action}"`), 'audit log holds ' + action);
  }

  check(external.length === 0, 'no request left the server (' + external.join(', ') + ')');
  const verify = run(['audit', 'verify', '--db', db]);
  check(verify.includes('intact'), 'facetrail audit verify passes');
  const exported = run(['audit', 'export', '--db', db, '--user', 'al'], { FACETRAIL_PASSWORD: 'al-password-1' });
  for (const action of ['user.add', 'certificate.add', 'search.request', 'search.refused', 'review.examine', 'review.concur', 'lead.release', 'lead.outcome']) {
    check(exported.includes(`"action":"${action}"`), 'audit log holds ' + action);
  }
} catch (e) {
  failed = true;
  console.error('FAIL:', e.message);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(failed ? 'e2e: FAILED' : `e2e: passed; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
