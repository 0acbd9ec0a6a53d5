import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createCast, createUser, resetData } from '../helpers/factories';
import { PNG } from '../helpers/files';
import { bearer, startTestApp, type TestApp, tokenFor } from '../helpers/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Markup that runs script if a page ever treats it as HTML. */
const hostile = (n: number) => `<img src=x onerror="window.__pwned=${n}">`;

/** Every Content-Security-Policy violation a page meets, recorded from before its first script (page-side code, as text). */
const RECORD_CSP_VIOLATIONS = `window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`;

/** Two users in two browser windows hold a live conversation through the demo page. */
describe('the demo page in two browsers', () => {
  let t: TestApp;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    await resetData(t.chat.sequelize);
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await t.close();
  });

  async function openAs(userId: number): Promise<Page> {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'duet-browser-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
    });
    contexts.push(context);
    await context.addInitScript(RECORD_CSP_VIOLATIONS);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${t.baseUrl}/demo`);
    await page.fill('#token', tokenFor(userId));
    await page.click('#connect');
    await page.waitForSelector(`#me:has-text("You are user ${userId}")`);
    return page;
  }

  test('messages, typing, read receipts and presence flow both ways', async () => {
    const { alice, bob } = await createCast(t.chat.sequelize);
    const alicePage = await openAs(alice);
    const bobPage = await openAs(bob);

    await alicePage.fill('#peer', String(bob));
    await alicePage.click('#open');
    await alicePage.fill('#text', 'Hello Bob, from a browser');
    await alicePage.press('#text', 'Enter');
    await alicePage.waitForSelector('.msg.mine:has-text("Hello Bob, from a browser")');

    // Bob sees the conversation appear live, with Alice online, and opens it.
    await bobPage.waitForSelector('.conv:has-text("Alice (1)")');
    await bobPage.click('.conv:has-text("Alice")');
    await bobPage.waitForSelector('.msg:not(.mine):has-text("Hello Bob, from a browser")');
    expect(await bobPage.locator('.conv:has-text("Alice") .dot.on').count()).toBe(1);

    // Alice's message shows as read once Bob has opened it.
    await alicePage.waitForSelector('.msg.mine:has-text("Hello Bob") .status:has-text("read")');

    // Bob types: Alice sees it; Bob sends: the indicator clears and the reply arrives.
    await bobPage.type('#text', 'Hi Alice');
    await alicePage.waitForSelector('#typing:has-text("typing")');
    await bobPage.press('#text', 'Enter');
    await alicePage.waitForSelector('.msg:not(.mine):has-text("Hi Alice")');
    await alicePage.waitForFunction("document.getElementById('typing').textContent === ''");

    await alicePage.screenshot({ path: path.join(os.tmpdir(), 'duet-demo-alice.png') });
    // The page works within its CSP: nothing it does needs an exception.
    expect(await alicePage.evaluate('window.__cspViolations')).toEqual([]);

    // Bob closes his window: Alice sees him go offline.
    await contexts[1]!.close();
    await alicePage.waitForSelector('.conv:has-text("Bob") .dot:not(.on)', { timeout: 10000 });
  });

  test("a user's name, message and file name that are HTML show as text, and no script runs", async () => {
    const alice = await createUser(t.chat.sequelize, 'Alice');
    const mallory = await createUser(t.chat.sequelize, hostile(1));
    const upload = await t.api().post('/api/chat/attachments').set(bearer(mallory)).attach('file', PNG, `${hostile(3)}.png`);
    expect(upload.status).toBe(201);
    const sent = await t.api().post('/api/chat/send').set(bearer(mallory)).send({ receiverId: alice, content: hostile(2), attachmentId: upload.body.attachment.id });
    expect(sent.status).toBe(201);

    const page = await openAs(alice);
    const conversation = page.locator('.conv').filter({ hasText: hostile(1) });
    await conversation.waitFor();
    await conversation.click();
    const message = page.locator('.msg').filter({ hasText: hostile(2) });
    await message.waitFor();
    expect(await message.locator('.attachment').textContent()).toBe(`file: ${upload.body.attachment.name}`);
    expect(upload.body.attachment.name).toContain('onerror');

    await page.screenshot({ path: path.join(os.tmpdir(), 'demo-hygiene.png') });
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('#conversations img, #log img').count()).toBe(0);
    // Text, not markup the CSP had to stop: not one violation.
    expect(await page.evaluate('window.__cspViolations')).toEqual([]);
  });
});
