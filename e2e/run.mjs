// Browser tests for ePošta: Debian's Chromium driven by playwright-core, every page checked
// with axe-core. Run by .ci/run against `eposta serve --demo`; by hand:
//
//   cd e2e && npm ci && E2E_BASE_URL=http://127.0.0.1:8080 node run.mjs
//
// Adding a page: put its path in PUBLIC_PAGES (anyone) or in its role's `pages` below. Every
// page listed is opened, must answer below 400 in the language the visitor chose, and must
// have no `serious` or `critical` axe violation.

import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// ---------------------------------------------------------------------------------------
// Pages to visit. Add yours here.
// ---------------------------------------------------------------------------------------

/** Pages anyone may open without logging in. */
const PUBLIC_PAGES = ['/', '/login', '/register', '/password-reset', '/offices', '/offices?q=Beograd', '/api', '/track', '/track?id=RA123456785RS', '/receive', '/receive?id=RA123456785RS', '/receipts/verify'];

/**
 * One entry per demo account (see the README). `landing` is where the role arrives after
 * logging in; `h1` (optional) is the landing page's heading in each language; `pages` are
 * the other pages of that role (visited after switching to English, to check the language
 * is remembered); `keyboard: true` logs in with the keyboard only.
 */
const ROLES = [
  {
    role: 'clerk',
    email: 'clerk@demo.eposta.rs',
    password: 'demo-clerk-password',
    landing: '/counter',
    h1: { 'sr-Cyrl': 'Шалтер', 'sr-Latn': 'Šalter', en: 'Counter' },
    pages: ['/', '/counter/office', '/counter/tracking/flagged', '/counter/accept', '/counter/items/new', '/counter/pickups', '/counter/payments/new', '/counter/payments/balance'],
    keyboard: true,
  },
  {
    role: 'citizen',
    email: 'citizen@demo.eposta.rs',
    password: 'demo-citizen-password',
    landing: '/me',
    h1: { 'sr-Cyrl': 'Моја еПошта', 'sr-Latn': 'Moja ePošta', en: 'My ePošta' },
    pages: ['/', '/items', '/items/new', '/console', '/receive/mine', '/payments', '/payments/new', '/payments/payees'],
    booking: true,
  },
  {
    role: 'manager',
    email: 'manager@demo.eposta.rs',
    password: 'demo-manager-password',
    landing: '/counter',
    h1: { 'sr-Cyrl': 'Шалтер', 'sr-Latn': 'Šalter', en: 'Counter' },
    pages: ['/', '/counter/office', '/offices/11101/staff', '/counter/payments/balance'],
  },
  {
    role: 'admin',
    email: 'admin@demo.eposta.rs',
    password: 'demo-admin-password',
    landing: '/admin',
    h1: { 'sr-Cyrl': 'Администрација', 'sr-Latn': 'Administracija', en: 'Administration' },
    pages: ['/', '/admin/users', '/admin/keys', '/admin/outbox', '/admin/audit', '/admin/offices', '/admin/offices/11101', '/offices/21101/staff', '/admin/tracking/facilities', '/counter/tracking/flagged'],
  },
];

// ---------------------------------------------------------------------------------------

const BASE_URL = (process.env.E2E_BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
/** axe impacts that fail the run; the others are printed as warnings. */
const FAILING_IMPACTS = new Set(['serious', 'critical']);
/** The language a fresh visitor gets: the browser asks for Serbian. */
const FIRST_LANG = 'sr-Cyrl';
const SWITCH_TO = ['sr-Latn', 'en'];
/** How long any one wait may take: the server is local. */
const TIMEOUT_MS = 10_000;

const require = createRequire(import.meta.url);
const AXE_SOURCE = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

const failures = [];
let axeRuns = 0;

function fail(where, message) {
  failures.push(`${where}: ${message}`);
  console.log(`  FAIL ${where}: ${message}`);
}

function check(where, ok, message) {
  if (!ok) fail(where, message);
  return ok;
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** Runs axe on the page as it is now; records serious/critical violations. */
async function audit(page, label) {
  // Evaluated through the DevTools protocol rather than added as a <script>: our pages send
  // `script-src 'self'`, which (rightly) blocks an inline script tag, and bypassing the CSP
  // would hide the CSP errors this suite reports.
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  axeRuns += 1;
  for (const v of results.violations) {
    const targets = v.nodes.map((n) => n.target.join(' ')).join(' | ');
    const line = `axe ${v.impact} ${v.id} (${v.help}) on ${pathOf(page)}, nodes: ${targets}`;
    if (FAILING_IMPACTS.has(v.impact)) {
      fail(label, line);
      for (const n of v.nodes) console.log(`       ${n.target.join(' ')}: ${n.failureSummary}`);
    } else {
      console.log(`  warn ${label}: ${line}`);
    }
  }
}

/** What every page must satisfy: the document's language and, if given, its h1; no axe
 * violation and no error in the browser. */
async function checkPage(page, label, lang, h1) {
  const before = failures.length;
  const htmlLang = await page.locator('html').getAttribute('lang');
  check(label, htmlLang === lang, `<html lang> is ${JSON.stringify(htmlLang)}, expected ${lang}`);
  const current = await page.locator(`nav.langs a[hreflang="${lang}"]`).getAttribute('aria-current');
  check(label, current === 'true', `the language switcher does not mark ${lang} as current`);
  const h1s = page.locator('h1');
  const heading = (await h1s.count()) > 0 ? (await h1s.first().textContent()).trim() : '';
  if (h1 !== undefined) {
    check(label, heading === h1, `h1 is ${JSON.stringify(heading)}, expected ${JSON.stringify(h1)}`);
  } else {
    check(label, heading.length > 0, 'the page has no h1 text');
  }
  await audit(page, label);
  const problems = browserProblems.get(page) ?? [];
  for (const p of problems.splice(0)) fail(label, p);
  if (failures.length === before) console.log(`  ok   ${label}`);
}

/** Opens a path; fails on a status of 400 or more. */
async function visit(page, path, label) {
  const res = await page.goto(BASE_URL + path);
  const status = res ? res.status() : 0;
  return check(label, status > 0 && status < 400, `GET ${path} answered ${status}`);
}

/** Follows the language switcher's link and checks that the page stays where it was. */
async function switchLanguage(page, lang, label) {
  const before = pathOf(page);
  // The link goes through /lang/{code} and is redirected back: wait for the new document.
  await Promise.all([page.waitForEvent('load'), page.locator(`nav.langs a[hreflang="${lang}"]`).click()]);
  check(label, pathOf(page) === before, `the switch to ${lang} went to ${pathOf(page)}, not back to ${before}`);
}

/** Submits the login form with `action` and checks that the server let the user in. */
async function submitLogin(page, r, label, action) {
  await Promise.all([page.waitForEvent('load'), action()]);
  if (pathOf(page) === '/login') {
    const error = page.locator('main .error');
    const why = (await error.count()) > 0 ? (await error.first().textContent()).trim() : 'no message';
    fail(label, `the login of ${r.email} was refused: ${why}`);
    return false;
  }
  return true;
}

async function loginWithMouse(page, r, label) {
  await page.locator('#email').fill(r.email);
  await page.locator('#password').fill(r.password);
  return submitLogin(page, r, label, () =>
    page.locator('main form[action="/login"] button[type="submit"]').click(),
  );
}

/** Logs in with the keyboard only: reach the e-mail field, type, Tab, type, Enter. */
async function loginWithKeyboard(page, r, label) {
  const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
  // The e-mail field has autofocus; if it does not, Tab must reach it.
  for (let i = 0; i < 40 && (await focused()) !== 'email'; i += 1) {
    await page.keyboard.press('Tab');
  }
  if (!check(label, (await focused()) === 'email', 'Tab never reaches the e-mail field')) return false;
  await page.keyboard.type(r.email);
  await page.keyboard.press('Tab');
  if (!check(label, (await focused()) === 'password', 'Tab from the e-mail field does not reach the password field')) {
    return false;
  }
  await page.keyboard.type(r.password);
  return submitLogin(page, r, label, () => page.keyboard.press('Enter'));
}

/** Problems the browser reported on a page since the last checkPage: script errors, CSP
 * violations, sub-resources answering 400 or more. */
const browserProblems = new WeakMap();

/** A fresh browser profile whose user asks for Serbian, with short waits. */
async function newContext(browser) {
  const context = await browser.newContext({ locale: 'sr-RS' });
  context.setDefaultTimeout(TIMEOUT_MS);
  context.setDefaultNavigationTimeout(TIMEOUT_MS);
  context.on('page', (page) => {
    const problems = [];
    browserProblems.set(page, problems);
    page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
    page.on('console', (m) => {
      // A failed load is reported below with its URL (the browser's own /favicon.ico
      // request is not a page resource and is left out there).
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        problems.push(`console error: ${m.text()}`);
      }
    });
    page.on('response', (res) => {
      if (res.status() >= 400 && res.request().resourceType() !== 'document') {
        problems.push(`${res.request().resourceType()} ${res.url()} answered ${res.status()}`);
      }
    });
  });
  return context;
}

async function testPublic(browser) {
  console.log('anonymous visitor');
  const context = await newContext(browser);
  const page = await context.newPage();
  try {
    for (const path of PUBLIC_PAGES) {
      const label = `anonymous ${path}`;
      if (await visit(page, path, label)) await checkPage(page, label, FIRST_LANG);
    }
    await page.screenshot({ path: `${SCREENSHOTS}anonymous.png`, fullPage: true });
  } catch (e) {
    fail('anonymous', e.message);
  } finally {
    await context.close();
  }
}

/** A citizen books a parcel: a wrong postal code first (the error state), then the price,
 * then the confirmation; every state is audited. */
async function bookAnItem(page, label, lang) {
  if (!(await visit(page, '/items/new', label('booking')))) return;
  const fields = {
    sender_name: 'Petar Petrović', sender_street: 'Bulevar kralja Aleksandra', sender_number: '73',
    sender_postal_code: '11000', sender_place: 'Beograd',
    recipient_name: 'Jelena Jovanović', recipient_street: 'Zmaj Jovina', recipient_number: '12a',
    recipient_postal_code: '2100', recipient_place: 'Novi Sad', recipient_phone: '064 123 4567',
    // Addressed to the demo citizen's own e-mail, so that the receiving pages show it too.
    recipient_email: 'citizen@demo.eposta.rs',
    weight_g: '1200', options_cash_on_delivery: '1500',
  };
  for (const [id, value] of Object.entries(fields)) await page.locator(`#${id}`).fill(value);
  await page.locator('#product').selectOption('parcel');
  const calculate = () => Promise.all([
    page.waitForEvent('load'),
    page.locator('button[name="action"][value="quote"]').click(),
  ]);
  await calculate();
  check(label('booking'), (await page.locator('#recipient_postal_code-error').count()) === 1,
    'a four-digit postal code is not named next to its field');
  await checkPage(page, label(`/items/new with an error [${lang}]`), lang);
  await page.locator('#recipient_postal_code').fill('21000');
  await calculate();
  const confirm = page.locator('button[name="action"][value="confirm"]');
  if (!check(label('booking'), (await confirm.count()) === 1, 'no price and confirm button after calculating')) return;
  await checkPage(page, label(`/items/new with the price [${lang}]`), lang);
  await page.screenshot({ path: `${SCREENSHOTS}citizen-price.png`, fullPage: true });
  await Promise.all([page.waitForEvent('load'), confirm.click()]);
  check(label('booking'), /^\/items\/[0-9a-f-]{36}$/.test(pathOf(page)), `confirming went to ${pathOf(page)}`);
  const tracking = (await page.locator('#tracking-number').textContent()).trim();
  check(label('booking'), /^CA \d{3} \d{3} \d{3} RS$/.test(tracking), `tracking number ${tracking}`);
  booked = { tracking, code: (await page.locator('#booking-code').textContent()).trim() };
  await checkPage(page, label(`${pathOf(page)} [${lang}]`), lang);
  await page.screenshot({ path: `${SCREENSHOTS}citizen-booked.png`, fullPage: true });
  if (await visit(page, '/items', label('/items'))) await checkPage(page, label(`/items with an item [${lang}]`), lang);
}

/** The citizen, as the recipient of the item they booked (addressed to their own e-mail),
 * finds it among the items addressed to them, chooses pickup at a post office, makes a
 * mistake in a redirect (the error state), and a stranger is asked for a code. */
async function receiveAnItem(browser, page, label, lang) {
  if (!check(label('receiving'), booked !== null, 'no booked item to receive')) return;
  const number = booked.tracking.replace(/ /g, '');
  if (!(await visit(page, '/receive/mine', label('/receive/mine')))) return;
  const link = page.locator(`a[href="/receive/${number}"]`);
  if (!check(label('receiving'), (await link.count()) === 1, `/receive/mine does not list ${number}`)) return;
  await checkPage(page, label(`/receive/mine with an item [${lang}]`), lang);
  await Promise.all([page.waitForEvent('load'), link.click()]);
  check(label('receiving'), pathOf(page) === `/receive/${number}`, `the item link went to ${pathOf(page)}`);
  await checkPage(page, label(`/receive/{number} [${lang}]`), lang);
  await page.locator('#delivery-pickup').check();
  await page.locator('#office').fill('11101');
  await Promise.all([page.waitForEvent('load'), page.locator('form[action$="/delivery"] button').click()]);
  check(label('receiving'), (await page.locator('#saved').count()) === 1, 'choosing pickup was not saved');
  await checkPage(page, label(`/receive/{number} saved [${lang}]`), lang);
  await page.locator('#address_name').fill('Jelena Jovanović');
  await page.locator('#address_street').fill('Bulevar oslobođenja');
  await page.locator('#address_number').fill('30');
  await page.locator('#address_postal_code').fill('2100');
  await page.locator('#address_place').fill('Novi Sad');
  await Promise.all([page.waitForEvent('load'), page.locator('form[action$="/redirect"] button').click()]);
  check(label('receiving'), (await page.locator('#address_postal_code-error').count()) === 1,
    'a four-digit postal code in a redirect is not named next to its field');
  await checkPage(page, label(`/receive/{number} with an error [${lang}]`), lang);
  await page.screenshot({ path: `${SCREENSHOTS}citizen-receive.png`, fullPage: true });

  const context = await newContext(browser);
  try {
    const stranger = await context.newPage();
    if (!(await visit(stranger, `/receive?id=${number}`, label('/receive as a stranger')))) return;
    await Promise.all([stranger.waitForEvent('load'), stranger.locator('form[action="/receive"] button').click()]);
    check(label('receiving'), (await stranger.locator('#code').count()) === 1, 'a stranger is not asked for a code');
    await checkPage(stranger, label(`/receive code [${FIRST_LANG}]`), FIRST_LANG);
  } finally {
    await context.close();
  }
}

/** The item the citizen booked, for the counter to accept: { tracking, code }. */
let booked = null;

/** The clerk accepts the citizen's item with the keyboard only (code, Enter; the weight
 * field then has the focus, Enter), gets the receipt, and anyone can then track the item as
 * accepted at the clerk's office. */
async function testCounterAcceptance(browser) {
  const clerk = ROLES.find((r) => r.role === 'clerk');
  const label = (what) => `counter ${what}`;
  if (!check(label('booking'), booked !== null, 'the citizen booked no item to accept')) return;
  console.log(`counter: accept ${booked.tracking} (hand-in code ${booked.code})`);
  const context = await newContext(browser);
  const page = await context.newPage();
  const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
  try {
    if (!(await visit(page, '/login', label('/login')))) return;
    if (!(await loginWithKeyboard(page, clerk, label('keyboard login')))) return;
    if (!(await visit(page, '/counter/accept', label('/counter/accept')))) return;
    if (!check(label('focus'), (await focused()) === 'code', 'the hand-in code field does not have the focus')) return;
    await page.keyboard.type(booked.code);
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    const found = (await page.locator('#tracking-number').textContent())?.trim();
    if (!check(label('find'), found === booked.tracking, `the code found ${found}, not ${booked.tracking}`)) return;
    await checkPage(page, label(`/counter/accept with the item [${FIRST_LANG}]`), FIRST_LANG);
    if (!check(label('focus'), (await focused()) === 'weight_g', 'the weight field does not have the focus')) return;
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    check(label('accept'), /^\/counter\/receipts\/[0-9a-f-]{36}$/.test(pathOf(page)), `accepting went to ${pathOf(page)}`);
    await checkPage(page, label(`receipt [${FIRST_LANG}]`), FIRST_LANG);
    await page.screenshot({ path: `${SCREENSHOTS}counter-receipt.png`, fullPage: true });

    const anyone = await (await newContext(browser)).newPage();
    await anyone.goto(`${BASE_URL}/track?id=${encodeURIComponent(booked.tracking)}`);
    const text = await anyone.locator('main').textContent();
    check(label('track'), text.includes('Примљена') && text.includes('Београд 1'),
      `tracking does not show the item accepted at Београд 1: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
    await checkPage(anyone, label(`/track after acceptance [${FIRST_LANG}]`), FIRST_LANG);
    await anyone.context().close();
  } catch (e) {
    fail('counter', e.message.split('\n')[0]);
  } finally {
    await context.close();
  }
}

/** The item accepted at the counter travels on and is delivered: the admin issues a scanner's
 * key (`tracking:write`) in the console, the scanner posts "out for delivery" and "delivered"
 * at Нови Сад 1 through the events API, and anyone's tracking page shows it delivered. */
async function testDelivery(browser) {
  const admin = ROLES.find((r) => r.role === 'admin');
  const label = (what) => `delivery ${what}`;
  if (!check(label('booking'), booked !== null, 'the citizen booked no item to deliver')) return;
  const context = await newContext(browser);
  const page = await context.newPage();
  try {
    if (!(await visit(page, '/login', label('/login')))) return;
    if (!(await loginWithMouse(page, admin, label('login')))) return;
    if (!(await visit(page, '/admin/keys', label('/admin/keys')))) return;
    const organisation = `Сортирни центар ${Date.now()}`;
    await page.locator('#org-name').fill(organisation);
    await Promise.all([page.waitForEvent('load'), page.locator('form[action="/admin/organisations"] button[type="submit"]').click()]);
    await page.locator('#key-organisation').selectOption({ label: organisation });
    await page.locator('#key-name').fill('Скенер Нови Сад');
    await page.locator('input[name="scopes"][value="tracking:write"]').check();
    await Promise.all([page.waitForEvent('load'), page.locator('form[action="/admin/keys"] button[type="submit"]').click()]);
    const token = await page.locator('#token').inputValue();
    if (!check(label('key'), token.startsWith('ep_'), `no key was issued: ${pathOf(page)}`)) return;

    const at = Date.now();
    const events = [
      { tracking_number: booked.tracking, code: 'EDG', location: '21101', event_time: new Date(at - 1000).toISOString() },
      { tracking_number: booked.tracking, code: 'EMI', location: '21101', event_time: new Date(at).toISOString() },
    ];
    const res = await fetch(`${BASE_URL}/api/v1/tracking/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    const answer = await res.json();
    if (!check(label('scan'), res.status === 200 && answer.stored === 2 && answer.flagged === 0,
      `the events API answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`)) return;

    const anyone = await (await newContext(browser)).newPage();
    await anyone.goto(`${BASE_URL}/track?id=${encodeURIComponent(booked.tracking)}`);
    const text = (await anyone.locator('main').textContent()).replace(/\s+/g, ' ');
    check(label('track'), text.includes('Уручена') && text.includes('Нови Сад 1') && text.includes('Београд 1'),
      `tracking does not show the item delivered at Нови Сад 1 after its acceptance: ${text.slice(0, 400)}`);
    await checkPage(anyone, label(`/track after delivery [${FIRST_LANG}]`), FIRST_LANG);
    await anyone.screenshot({ path: `${SCREENSHOTS}tracking-delivered.png`, fullPage: true });
    await anyone.context().close();
  } catch (e) {
    fail('delivery', e.message.split('\n')[0]);
  } finally {
    await context.close();
  }
}

/** The bill the payment tests pay: the IPS QR code of e2e/fixtures/bill-ips-qr.png, made by
 *   eposta ips make --account 845-404849-87 --payee 'JP EPS Beograd\nBalkanska 13\nBeograd' \
 *     --amount 2450,80 --code 189 --purpose 'Racun za struju 02/2026' \
 *     --reference '97 163220000111111111000' --png e2e/fixtures/bill-ips-qr.png --module-px 4
 */
const BILL_QR = 'K:PR|V:01|C:1|R:845000000040484987|N:JP EPS Beograd\nBalkanska 13\nBeograd|I:RSD2450,80|SF:189|S:Racun za struju 02/2026|RO:97163220000111111111000';

/** A phone-like photo of a paper bill: the fixture's QR code printed on a page with text,
 * turned a few degrees on a desk, taken as a JPEG (Chromium draws and shoots it). */
async function billPhoto(browser) {
  const png = await readFile(new URL('./fixtures/bill-ips-qr.png', import.meta.url));
  const context = await browser.newContext({ viewport: { width: 900, height: 1100 } });
  try {
    const page = await context.newPage();
    await page.setContent(`<!doctype html><html lang="sr"><body style="margin:0;background:#b9ad96">
      <div style="margin:70px 90px;padding:36px;background:#fbfaf6;transform:rotate(-3.5deg);font:17px Georgia,serif;color:#222;box-shadow:4px 6px 18px rgba(0,0,0,.35)">
        <h1 style="font-size:26px">JP EPS Beograd</h1>
        <p>Račun za električnu energiju, februar 2026.</p>
        <p>Kupac: Ana Građanin, Bulevar kralja Aleksandra 73, Beograd</p>
        <table style="width:100%;border-collapse:collapse;margin:20px 0"><tr><td>Utrošak</td><td style="text-align:right">412 kWh</td></tr>
        <tr><td>Za uplatu</td><td style="text-align:right"><b>2.450,80 RSD</b></td></tr></table>
        <p style="display:flex;gap:30px;align-items:center"><img alt="" src="data:image/png;base64,${png.toString('base64')}" style="width:250px;height:250px">
        <span>Platite skeniranjem NBS IPS QR koda.<br>Rok plaćanja: 15.03.2026.</span></p>
      </div></body></html>`);
    return await page.screenshot({ type: 'jpeg', quality: 82 });
  } finally {
    await context.close();
  }
}

/** A citizen pays a bill from a photo of its IPS QR code by the test card, sees it
 * succeeded, downloads the receipt and has it checked on /receipts/verify. */
async function testPayBillFromPhoto(browser) {
  const citizen = ROLES.find((r) => r.role === 'citizen');
  const label = (what) => `pay ${what}`;
  console.log('citizen pays a bill from a photo of its QR code');
  const photo = await billPhoto(browser);
  const context = await newContext(browser);
  const page = await context.newPage();
  try {
    if (!(await visit(page, '/login', label('/login')))) return;
    if (!(await loginWithMouse(page, citizen, label('login')))) return;
    if (!(await visit(page, '/payments/new', label('/payments/new')))) return;
    await page.locator('#photo').setInputFiles({ name: 'racun.jpg', mimeType: 'image/jpeg', buffer: photo });
    await Promise.all([page.waitForEvent('load'), page.locator('#read-photo').click()]);
    const payee = await page.locator('#payee_name').inputValue();
    if (!check(label('photo'), payee === 'JP EPS Beograd' && (await page.locator('#notice').count()) === 1,
      `the photo did not fill the form (payee ${JSON.stringify(payee)}): ${(await page.locator('main').textContent()).replace(/\s+/g, ' ').slice(0, 300)}`)) return;
    check(label('photo'), (await page.locator('#amount').inputValue()) === '2450,80', 'the amount is not filled in from the photo');
    check(label('photo'), (await page.locator('#reference_number').inputValue()) === '163220000111111111000', 'the reference is not filled in');
    await checkPage(page, label(`/payments/new filled from a photo [${FIRST_LANG}]`), FIRST_LANG);
    if ((await page.locator('#payer_name').inputValue()) === '') await page.locator('#payer_name').fill('Ана Грађанин');
    await Promise.all([page.waitForEvent('load'), page.locator('button[name="action"][value="quote"]').click()]);
    if (!check(label('fee'), (await page.locator('#pay-card').count()) === 1, 'no card payment button after the fee')) return;
    check(label('fee'), /RSD/.test(await page.locator('#fee-card').textContent()), 'no card fee shown');
    await checkPage(page, label(`/payments/new with the fee [${FIRST_LANG}]`), FIRST_LANG);
    await Promise.all([page.waitForEvent('load'), page.locator('#pay-card').click()]);
    if (!check(label('acquirer'), pathOf(page).startsWith('/test-acquirer/'), `paying by card went to ${pathOf(page)}`)) return;
    await checkPage(page, label(`test acquirer [${FIRST_LANG}]`), FIRST_LANG);
    await page.locator('#number').fill('4242 4242 4242 4242');
    await page.locator('#expiry').fill('12/30');
    await page.locator('#cvc').fill('123');
    await Promise.all([page.waitForURL(/\/payments\/[0-9a-f-]{36}$/), page.locator('button[name="action"][value="pay"]').click()]);
    const state = await page.locator('#state').getAttribute('data-state');
    if (!check(label('paid'), state === 'succeeded', `the payment is ${state} after paying with the good test card`)) return;
    await checkPage(page, label(`${pathOf(page).replace(/[0-9a-f-]{36}/, '{id}')} succeeded [${FIRST_LANG}]`), FIRST_LANG);
    await page.screenshot({ path: `${SCREENSHOTS}citizen-paid.png`, fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#receipt-link').click()]);
    const pdf = await readFile(await download.path());
    if (!check(label('receipt'), pdf.subarray(0, 5).toString() === '%PDF-', 'the receipt is not a PDF')) return;

    if (!(await visit(page, '/receipts/verify', label('/receipts/verify')))) return;
    await page.locator('#file').setInputFiles({ name: 'receipt.pdf', mimeType: 'application/pdf', buffer: pdf });
    await Promise.all([page.waitForEvent('load'), page.locator('form[action^="/receipts/verify/file"] button[type="submit"]').click()]);
    const verdict = page.locator('#verdict');
    check(label('verify'), (await verdict.count()) === 1 && (await verdict.getAttribute('class')) === 'ok',
      `the downloaded receipt does not verify: ${(await page.locator('main').textContent()).replace(/\s+/g, ' ').slice(0, 300)}`);
    check(label('verify'), (await page.locator('main').textContent()).includes('2.450,80'), 'the check page does not show the amount paid');
    await checkPage(page, label(`/receipts/verify genuine [${FIRST_LANG}]`), FIRST_LANG);
    await page.screenshot({ path: `${SCREENSHOTS}receipt-verified.png`, fullPage: true });
  } catch (e) {
    fail('pay', e.message.split('\n')[0]);
  } finally {
    await context.close();
  }
}

/** A clerk takes the same bill in cash at the counter from the keyboard (the scanner types
 * the code into the focused field), prints the receipt, finds the payment in the day's
 * balance and closes the day with the cash counted. */
async function testCounterCash(browser) {
  const clerk = ROLES.find((r) => r.role === 'clerk');
  const label = (what) => `cash ${what}`;
  console.log('clerk takes a bill in cash');
  const context = await newContext(browser);
  const page = await context.newPage();
  const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
  try {
    if (!(await visit(page, '/login', label('/login')))) return;
    if (!(await loginWithKeyboard(page, clerk, label('keyboard login')))) return;
    if (!(await visit(page, '/counter/payments/new', label('/counter/payments/new')))) return;
    if (!check(label('focus'), (await focused()) === 'ips_qr', 'the scan field does not have the focus')) return;
    await page.keyboard.type(BILL_QR);
    await Promise.all([page.waitForEvent('load'), page.locator('#fill').click()]);
    check(label('scan'), (await page.locator('#payee_name').inputValue()) === 'JP EPS Beograd', 'the scanned code did not fill the order');
    await page.locator('#payer_name').fill('Петар Петровић');
    await Promise.all([page.waitForEvent('load'), page.locator('#quote').click()]);
    const total = (await page.locator('#total').textContent())?.trim();
    if (!check(label('fee'), /^2\.5\d\d,\d\d RSD$/.test(total ?? ''), `the total to take is ${total}`)) return;
    if (!check(label('focus'), (await focused()) === 'confirm', 'the confirm button does not have the focus')) return;
    await checkPage(page, label(`/counter/payments/new with the fee [${FIRST_LANG}]`), FIRST_LANG);
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    if (!check(label('confirm'), /^\/counter\/payments\/[0-9a-f-]{36}$/.test(pathOf(page)), `confirming went to ${pathOf(page)}`)) return;
    const confirmation = (await page.locator('#confirmation').textContent()).trim();
    await checkPage(page, label(`/counter/payments/{id} [${FIRST_LANG}]`), FIRST_LANG);
    const href = await page.locator('#receipt-link').getAttribute('href');
    const receipt = await page.request.get(BASE_URL + href);
    check(label('receipt'), receipt.status() === 200 && receipt.headers()['content-type'] === 'application/pdf',
      `the receipt answered ${receipt.status()} ${receipt.headers()['content-type']}`);
    await page.screenshot({ path: `${SCREENSHOTS}counter-cash.png`, fullPage: true });

    if (!(await visit(page, '/counter/payments/balance', label('/counter/payments/balance')))) return;
    const count = Number((await page.locator('#count').textContent()).trim());
    check(label('balance'), count >= 1, `the day's balance counts ${count} payments`);
    check(label('balance'), (await page.locator('#payments').textContent()).includes(confirmation),
      `the day's balance does not list ${confirmation}`);
    const expected = (await page.locator('#expected').textContent()).trim();
    await page.locator('#counted-cash').fill(expected.replace(/ RSD$/, '').replace(/\./g, ''));
    await Promise.all([page.waitForEvent('load'), page.locator('#close-day').click()]);
    check(label('close'), (await page.locator('#day-state').getAttribute('data-state')) === 'closed', 'the day did not close');
    check(label('close'), (await page.locator('#difference').getAttribute('data-sign')) === '0',
      `the difference is ${(await page.locator('#difference').textContent()).trim()}, not zero`);
    await checkPage(page, label(`/counter/payments/balance closed [${FIRST_LANG}]`), FIRST_LANG);
    await page.screenshot({ path: `${SCREENSHOTS}counter-balance.png`, fullPage: true });
  } catch (e) {
    fail('cash', e.message.split('\n')[0]);
  } finally {
    await context.close();
  }
}

async function testRole(browser, r) {
  console.log(`${r.role} (${r.email})`);
  const context = await newContext(browser);
  const page = await context.newPage();
  const label = (what) => `${r.role} ${what}`;
  try {
    if (!(await visit(page, '/login', label('/login')))) return;
    const loggedIn = r.keyboard
      ? await loginWithKeyboard(page, r, label('keyboard login'))
      : await loginWithMouse(page, r, label('login'));
    if (!loggedIn) return;
    if (!check(label('login'), pathOf(page) === r.landing, `landed on ${pathOf(page)}, expected ${r.landing}`)) {
      return;
    }

    // The landing page in the first language, then in each other one via the switcher.
    await checkPage(page, label(`${r.landing} [${FIRST_LANG}]`), FIRST_LANG, r.h1?.[FIRST_LANG]);
    await page.screenshot({ path: `${SCREENSHOTS}${r.role}.png`, fullPage: true });
    for (const lang of SWITCH_TO) {
      await switchLanguage(page, lang, label(`switch to ${lang}`));
      await checkPage(page, label(`${r.landing} [${lang}]`), lang, r.h1?.[lang]);
    }

    // The last language chosen stays on every other page.
    const lang = SWITCH_TO[SWITCH_TO.length - 1];
    for (const path of r.pages) {
      if (await visit(page, path, label(path))) await checkPage(page, label(`${path} [${lang}]`), lang);
    }

    if (r.booking) {
      await bookAnItem(page, label, lang);
      await receiveAnItem(browser, page, label, lang);
    }

    // Back to the first language, so the account (which remembers it) starts there next time.
    await visit(page, r.landing, label(r.landing));
    await switchLanguage(page, FIRST_LANG, label(`switch to ${FIRST_LANG}`));
    await checkPage(page, label(`${r.landing} [${FIRST_LANG} again]`), FIRST_LANG, r.h1?.[FIRST_LANG]);

    // Log out with the header's button; the landing page then asks for a login.
    await Promise.all([page.waitForEvent('load'), page.locator('header form[action="/logout"] button').click()]);
    check(label('logout'), pathOf(page) === '/', `logging out went to ${pathOf(page)}, not /`);
    check(label('logout'), (await page.locator('header form[action="/logout"]').count()) === 0,
      'the logout button is still shown after logging out');
    await page.goto(BASE_URL + r.landing);
    check(label('logout'), pathOf(page) === '/login', `after logout ${r.landing} shows ${pathOf(page)}, not /login`);
  } catch (e) {
    fail(r.role, e.message.split('\n')[0]);
  } finally {
    await context.close();
  }
}

async function main() {
  const started = Date.now();
  await mkdir(SCREENSHOTS, { recursive: true });
  console.log(`e2e against ${BASE_URL} with ${CHROMIUM}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    await testPublic(browser);
    for (const r of ROLES) await testRole(browser, r);
    await testCounterAcceptance(browser);
    await testDelivery(browser);
    await testPayBillFromPhoto(browser);
    await testCounterCash(browser);
  } finally {
    await browser.close();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    console.error(`\ne2e FAILED: ${failures.length} problem(s) (${axeRuns} pages audited, ${secs}s):`);
    for (const f of failures) console.error(`  - ${f}`);
    process.exit(1);
  }
  console.log(`e2e passed: ${axeRuns} pages audited with axe, no serious or critical violation (${secs}s)`);
  console.log(`screenshots in ${SCREENSHOTS}`);
}

main().catch((e) => {
  console.error(`e2e FAILED: ${e.stack || e}`);
  process.exit(1);
});
