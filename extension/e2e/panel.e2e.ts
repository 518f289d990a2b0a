// End-to-end: the built panel in headless Chromium against a running EBS with
// short cycles and the Twitch stand-ins, served from an origin of its own as
// Twitch serves it (every EBS call is cross-origin, through a proxy that
// counts them, preflights included), with the roulette state pushed over a
// stand-in for Extension PubSub. A viewer enrolls by chat, the wheel lands on
// them, the pinned alert says they were drawn, the Desktop API reports them
// online, the panel says "You won!" (also in Russian and in the light theme),
// the payout walks to Sent and the panel shows the reward line. A lurker's
// requests are counted per round; axe-core checks each state.
// Screenshots of each main state are taken every run; they replace
// docs/screenshots/panel-*.png only with MGM_SCREENSHOT=1 (otherwise they go to
// the run's temporary folder, so running the tests leaves the tree clean).

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BrowserContext, chromium, type Frame, type FrameLocator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CountingProxy,
  countingProxy,
  freePort,
  type Hosted,
  hostPanel,
  http,
  log,
  run,
  type Service,
  sleep,
  startService,
  step,
  waitFor,
} from './harness';

const EXT_DIR = resolve(import.meta.dirname, '..');
const ROOT = resolve(EXT_DIR, '..');
const DIST = join(EXT_DIR, 'dist');
const SHOTS = process.env.MGM_SCREENSHOT === '1'
  ? join(ROOT, 'docs', 'screenshots')
  : mkdtempSync(join(tmpdir(), 'mgm-panel-shots-'));
const CHROMIUM = process.env.MGM_CHROMIUM || '/usr/bin/chromium';
// 20-second cycles: spinning and verification last 2 s each, long enough for
// the panel (polling ~2 s, just after each phase boundary) to show both.
const SPIN = Number(process.env.MGM_E2E_SPIN_SECONDS || 20);
const API_KEY = 'e2e-desktop-api-key-0123456789abcdef';
const EVENTSUB_SECRET = 'e2e-eventsub-secret-0123456789';
const BROADCASTER = 'e2e-broadcaster';
const REWARD_LINE = 'Награда отправлена персонажу Norinn на почту, проверяй ящик!';

const VIEWER = { userId: 'e2e-viewer-1', login: 'norinnfan', displayName: 'NorinnFan', character: 'Norinn' };
const SHY = { userId: 'e2e-shy-viewer' };
const LURKER = { userId: 'e2e-lurker' };
const AXE = readFileSync(join(EXT_DIR, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const DECOYS = [
  { userId: 'e2e-decoy-1', login: 'kaelfan', displayName: 'KaelFan', character: 'Kaelthas' },
  { userId: 'e2e-decoy-2', login: 'mimira', displayName: 'Mimira', character: 'Мимира' },
];

let work = '';
let ebs: Service | null = null;
let eventsub: Service | null = null;
let helix: Service | null = null;
let context: BrowserContext | null = null;
let ebsURL = '';
let eventsubURL = '';
let helixURL = '';
let host: Hosted | null = null;
let proxy: CountingProxy | null = null;
const pageErrors: string[] = [];
/** When the verify step cleared the browser's cache (CORS preflights are counted per cache). */
let cacheClearedAt = 0;

const desktop = { 'X-MGM-ApiKey': API_KEY };

/** A child environment without the caller's MGM/Twitch settings. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(Mgm__|MGM__|Twitch__|TWITCH__|ConnectionStrings__|Version__|Backend__|MockHelix__|ASPNETCORE_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

let ebsEnv: Record<string, string> = {};

async function startEbs(extra: Record<string, string>): Promise<void> {
  ebs = startService('ebs', join(work, 'mgm-ebs'), [], cleanEnv({ ...ebsEnv, ...extra }), work);
  await waitHealthy(ebs, `${ebsURL}/readyz`);
}

async function waitHealthy(svc: Service, url: string): Promise<void> {
  await waitFor(`${svc.name} at ${url}`, 60_000, async () => {
    if (svc.proc.exitCode != null) throw new Error(`${svc.name} exited (${svc.proc.exitCode}):\n${svc.output()}`);
    const r = await http('GET', url).catch(() => null);
    return r != null && r.status === 200;
  });
}

async function sendChat(v: { userId: string; login: string; displayName: string }, text: string): Promise<void> {
  const r = await http<{ backendStatus: number }>('POST', `${eventsubURL}/send-chat`, {
    userId: v.userId,
    login: v.login,
    displayName: v.displayName,
    text,
    subscriber: true,
    broadcasterUserId: BROADCASTER,
  });
  if (r.status !== 200 || r.body?.backendStatus !== 200) throw new Error(`send-chat ${text}: ${r.status} ${r.text}`);
}

interface Candidate {
  spinCycleId: string;
  characterName: string;
}

async function candidate(): Promise<Candidate | null> {
  const r = await http<Candidate>('GET', `${ebsURL}/api/roulette/candidate`, undefined, desktop);
  return r.status === 200 ? r.body : null;
}

async function reportWho(c: Candidate, online: boolean): Promise<{ outcome: string; payoutId: string | null }> {
  const r = await http<{ outcome: string; payoutId: string | null }>(
    'POST',
    `${ebsURL}/api/roulette/verify-candidate`,
    { schemaVersion: 1, spinCycleId: c.spinCycleId, characterName: c.characterName, online, capturedAt: new Date().toISOString() },
    desktop,
  );
  if (r.status !== 200) throw new Error(`verify-candidate: ${r.status} ${r.text}`);
  return r.body;
}

/**
 * Gives a decoy a Pending payout (so the draw can only pick our viewer later):
 * the e2e harness forces them as a cycle's winner, or, if the cycle already
 * drew them, the Desktop API reports them online.
 */
async function makeWinner(userId: string, character: string): Promise<void> {
  await waitFor(`a payout for ${character}`, (SPIN * 3 + 10) * 1000, async () => {
    const r = await http('POST', `${ebsURL}/api/e2e/prepare-pending-payout`, { twitchUserId: userId }, desktop);
    if (r.status === 200) return true;
    const c = await candidate();
    if (c && c.characterName === character) {
      return (await reportWho(c, true)).outcome === 'winner';
    }
    return false;
  }, 500);
}

async function shot(page: Page, name: string): Promise<void> {
  const path = join(SHOTS, `panel-${name}.png`);
  await page.locator('#panel').screenshot({ path, timeout: 10_000, animations: 'allow' });
  log(`  screenshot ${path}`);
}

/**
 * Opens the panel as Twitch would: from its own origin, with Twitch's query
 * parameters, talking to the EBS (through the counting proxy) and listening to
 * the pushed state. lang and theme are what Twitch says about the viewer.
 */
async function openPanel(query: string, o: { lang?: 'en' | 'ru'; theme?: 'dark' | 'light' } = {}): Promise<{ page: Page; panel: FrameLocator }> {
  const page = await context!.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const lang = o.lang ?? 'en';
  const twitch = new URLSearchParams({
    anchor: 'panel',
    language: lang,
    locale: lang === 'ru' ? 'ru-RU' : 'en-US',
    mode: 'viewer',
    platform: 'web',
    state: 'released',
    theme: o.theme ?? 'dark',
    ebs: proxy!.origin,
    pubsub: `${helixURL}/_sim/extension-pubsub/${BROADCASTER}/stream`,
  });
  await page.goto(`${host!.origin}/?${query}&${twitch}`, { waitUntil: 'load', timeout: 30_000 });
  const panel = page.frameLocator('#panel');
  // The roulette is on screen: the countdown shows MM:SS.
  await waitFor('the countdown', 20_000, async () => /^\d\d:\d\d$/.test((await panel.locator('.countdown .time').textContent()) ?? ''));
  return { page, panel };
}

const visible = (panel: FrameLocator, selector: string, timeoutMs: number) =>
  panel.locator(selector).first().waitFor({ state: 'visible', timeout: timeoutMs });

const text = async (panel: FrameLocator, selector: string) => ((await panel.locator(selector).first().textContent()) ?? '').trim();

function panelFrame(page: Page): Frame {
  const f = page.frame({ name: 'panel' });
  if (!f) throw new Error('no panel frame');
  return f;
}

/** axe-core in the panel's frame: no serious or critical violation. */
async function axeCheck(page: Page, state: string): Promise<void> {
  const f = panelFrame(page);
  if (!(await f.evaluate(() => 'axe' in window))) await f.addScriptTag({ content: AXE });
  const bad = await f.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] }> } };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
  });
  log(`  axe (${state}): ${bad.length === 0 ? 'no serious or critical violations' : bad.join('\n')}`);
  expect(bad, `axe on ${state}`).toEqual([]);
}

/** The panel frame's top edge is at 0: an element is visible without scrolling when it is inside 0–500. */
async function inFirstScreen(panel: FrameLocator, selector: string): Promise<boolean> {
  const box = await panel.locator(selector).first().boundingBox();
  return box != null && box.y >= 0 && box.y + box.height <= 500;
}

describe('extension panel end to end', () => {
  beforeAll(async () => {
    if (!existsSync(join(DIST, 'panel.html'))) throw new Error(`no built panel in ${DIST}: run npm run build first (npm run e2e does)`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-chromium`);
    mkdirSync(SHOTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'mgm-panel-e2e-'));

    await step('build mgm-ebs and mgm-sim', 300_000, async () => {
      await run('go', ['build', '-o', join(work, 'mgm-ebs'), './cmd/mgm-ebs'], { cwd: ROOT, timeoutMs: 290_000 });
      await run('go', ['build', '-o', join(work, 'mgm-sim'), './cmd/mgm-sim'], { cwd: ROOT, timeoutMs: 290_000 });
    });

    await step('start the EBS and the Twitch stand-ins', 90_000, async () => {
      const [ebsPort, esPort, hxPort] = [await freePort(), await freePort(), await freePort()];
      ebsURL = `http://127.0.0.1:${ebsPort}`;
      eventsubURL = `http://127.0.0.1:${esPort}`;
      helixURL = `http://127.0.0.1:${hxPort}`;
      // Extension PubSub is not instant on Twitch either: every push reaches
      // the panels a second late, so nothing here relies on a push arriving
      // before the phase it announces has begun.
      helix = startService('helix', join(work, 'mgm-sim'), ['helix', '--listen', `127.0.0.1:${hxPort}`], cleanEnv({ MockTwitch__PubSubDelayMs: '1000' }), work);
      await waitHealthy(helix, `${helixURL}/health`);
      ebsEnv = {
        Mgm__Environment: 'Development',
        Mgm__Listen: `127.0.0.1:${ebsPort}`,
        Mgm__DataDir: join(work, 'data'),
        Mgm__SpinIntervalSeconds: String(SPIN),
        Mgm__DevSkipSubscriberCheck: 'true',
        Mgm__EnableE2eHarness: 'true',
        Mgm__ApiKey: API_KEY,
        Mgm__DevPanelDir: DIST,
        Twitch__BroadcasterUserId: BROADCASTER,
        Twitch__EventSubSecret: EVENTSUB_SECRET,
        Twitch__HelixApiBaseUrl: helixURL,
        Twitch__HelixClientId: 'e2e-client-id',
        Twitch__BroadcasterAccessToken: 'e2e-broadcaster-token',
        // The roulette is pushed to the panels through the Helix stand-in's
        // Extension PubSub, whose event stream the stand-in helper listens to.
        Twitch__ExtensionClientId: 'e2eextensionclient',
        Twitch__ExtensionOwnerId: '424242',
      };
      proxy = await countingProxy(() => ebsURL);
      host = await hostPanel(DIST, join(ROOT, 'internal', 'devpage', 'twitch-ext-dev.js'));
      // Only the panel's origin may call the EBS from a browser, as in production.
      ebsEnv.Mgm__CorsOrigins = host.origin;
      await startEbs({});
      eventsub = startService(
        'eventsub',
        join(work, 'mgm-sim'),
        ['eventsub', '--listen', `127.0.0.1:${esPort}`],
        cleanEnv({ Backend__BaseUrl: ebsURL, Twitch__EventSubSecret: EVENTSUB_SECRET, Twitch__BroadcasterUserId: BROADCASTER }),
        work,
      );
      await waitHealthy(eventsub, `${eventsubURL}/health`);
    });

    await step('launch headless Chromium', 60_000, async () => {
      context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
        ],
        viewport: { width: 1000, height: 640 },
        deviceScaleFactor: 1,
        timeout: 50_000,
      });
      // Nothing leaves the machine: the panel's only remote script (Twitch's
      // helper) is replaced by the stand-in, and no other name resolves (the
      // flag above; a Playwright route would intercept the CORS preflights
      // this test counts).
    });
  }, 480_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await proxy?.close();
    await host?.close();
    for (const s of [eventsub, ebs, helix]) await s?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (process.env.MGM_SCREENSHOT !== '1') rmSync(SHOTS, { recursive: true, force: true });
  });

  it('ships a small bundle with no remote script but Twitch’s helper', () => {
    const files = readdirSync(join(DIST, 'assets')).map((f) => join(DIST, 'assets', f));
    files.push(join(DIST, 'panel.html'), join(DIST, 'config.html'));
    const gz = files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    log(`bundle: ${files.length} files, ${(gz / 1024).toFixed(1)} KB gzipped`);
    expect(gz).toBeLessThan(50 * 1024);
    // Readable for Twitch's review: not minified (long lines and one-letter names would say otherwise).
    const js = files.filter((f) => f.endsWith('.js')).map((f) => readFileSync(f, 'utf8'));
    for (const src of js) {
      expect(Math.max(...src.split('\n').map((l) => l.length)), 'longest line').toBeLessThan(1000);
    }
    expect(js.join('\n')).toContain('function personalAlert(');
    for (const page of ['panel.html', 'config.html']) {
      const html = readFileSync(join(DIST, page), 'utf8');
      const remote = [...html.matchAll(/<script[^>]*src="(https?:[^"]+)"/g)].map((m) => m[1]);
      expect(remote).toEqual(['https://extension-files.twitch.tv/helper/v1/twitch-ext.min.js']);
      expect(html).toContain('src="./assets/'); // relative: works from the zip
    }
  });

  it('walks a viewer from chat enrollment to the reward line', async () => {
    try {
      await scenario();
    } catch (e) {
      for (const s of [ebs, eventsub, helix]) if (s) log(`--- last output of ${s.name} ---\n${s.output()}`);
      throw e;
    }
  }, 420_000);
});

async function scenario(): Promise<void> {
  await step('two other viewers join by chat and win earlier rounds (so the wheel has names)', (SPIN * 7 + 30) * 1000, async () => {
    for (const d of DECOYS) await sendChat(d, `!twgold ${d.character}`);
    for (const d of DECOYS) await makeWinner(d.userId, d.character);
  });

  await step('an opaque viewer sees the roulette and the identity prompt', 60_000, async () => {
    const { page, panel } = await openPanel(`userId=${SHY.userId}&opaque=1`);
    await visible(panel, '.identity', 10_000);
    expect(await text(panel, '.identity button')).toBe('Share your identity to see your status');
    await waitFor('the pool on the wheel', 10_000, async () => (await panel.locator('.wheel .strip li').allTextContents()).includes('Kaelthas'));
    await shot(page, 'opaque');
    await axeCheck(page, 'opaque viewer');
    // Sharing identity (the stand-in helper re-issues the token with user_id) reveals the viewer's own status.
    await panel.locator('.identity button').click();
    await panel.locator('.identity').waitFor({ state: 'hidden', timeout: 10_000 });
    await waitFor('"not in the pool" for the shy viewer', 15_000, async () => (await text(panel, '.you')) === 'You’re not in the pool yet.');
    // Friendly errors: a bad name is refused in the panel, a taken one by the EBS.
    await panel.locator('form.inline input[name=characterName]').fill('N0rinn');
    await panel.locator('form.inline button').first().click();
    await waitFor('the invalid-name message', 5000, async () => (await text(panel, '.join .note')).startsWith('Check the character name'));
    await panel.locator('form.inline input[name=characterName]').fill('Kaelthas');
    await panel.locator('form.inline button').first().click();
    await waitFor('the name-taken message', 10_000, async () => (await text(panel, '.join .note')).startsWith('Name already taken'));
    await page.close();
  });

  // A lurker (identity shared, not in the pool) watches from here on: their
  // requests are counted per round once the panel has loaded.
  const lurker = await step('a lurker opens the panel', 30_000, async () => {
    const l = await openPanel(`userId=${LURKER.userId}`);
    await waitFor('"not in the pool" for the lurker', 15_000, async () => (await text(l.panel, '.you')) === 'You’re not in the pool yet.');
    // Record the phases the lurker's panel shows (pushed, not polled).
    await panelFrame(l.page).evaluate(() => {
      const w = window as unknown as { __phases: string[] };
      w.__phases = [];
      const card = document.querySelector('.roulette') as HTMLElement;
      new MutationObserver(() => {
        const p = card.dataset.phase ?? '';
        if (w.__phases[w.__phases.length - 1] !== p) w.__phases.push(p);
      }).observe(card, { attributes: true, attributeFilter: ['data-phase'] });
    });
    await sleep(2000);
    return { ...l, from: Date.now() };
  });

  const { page, panel } = await step('the viewer opens the panel', 30_000, () =>
    openPanel(`userId=${VIEWER.userId}&displayName=${VIEWER.displayName}`),
  );

  await step('the viewer enrolls by chat and the panel shows it', 30_000, async () => {
    await waitFor('"not in the pool"', 15_000, async () => (await text(panel, '.you')) === 'You’re not in the pool yet.');
    await sendChat(VIEWER, `!twgold ${VIEWER.character}`);
    await waitFor('"You’re in as Norinn"', 20_000, async () => (await text(panel, '.you')) === 'You’re in as Norinn');
  });

  await step('collecting: pool, countdown and the spin hint', (SPIN * 2 + 10) * 1000, async () => {
    await panel.locator('.roulette[data-phase="collecting"]').waitFor({ timeout: (SPIN * 2 + 5) * 1000 });
    expect(await text(panel, '.join .pool')).toBe('Pool: 3 viewers');
    expect(await text(panel, '.roulette .hint')).toMatch(/^The wheel spins at 00:0\d$/);
    await sleep(1200); // let a countdown tick land
    await shot(page, 'collecting');
    await axeCheck(page, 'collecting');
  });

  const drawn = await step('the wheel spins and lands on Norinn', (SPIN * 2 + 10) * 1000, async () => {
    await panel.locator('.wheel[data-state="spinning"]').waitFor({ timeout: (SPIN * 2 + 5) * 1000 });
    await sleep(350); // mid-spin
    await shot(page, 'spinning');
    const c = await waitFor('the candidate on the Desktop route', 5000, candidate, 100);
    expect(c.characterName).toBe(VIEWER.character);
    await panel.locator('.wheel[data-state="landed"][data-name="Norinn"]').waitFor({ timeout: 8000 });
    expect(await text(panel, '.wheel .strip li.hit')).toBe('Norinn');
    return c;
  });

  await step('the wheel says where it stopped, and the drawn viewer gets a pinned alert', SPIN * 1000, async () => {
    // Never "spinning…" once the wheel has landed.
    expect(await text(panel, '.roulette .phase')).not.toBe('The wheel is spinning…');
    await visible(panel, '.alert.personal[data-kind="drawn"]', SPIN * 1000);
    expect(await text(panel, '.alert.personal strong')).toBe('You’ve been drawn — be online in WoW now!');
    expect(await inFirstScreen(panel, '.alert.personal'), 'the alert is visible without scrolling').toBe(true);
    // Announced to screen readers once, through the one live region.
    expect(await text(panel, '[role="status"][aria-live="polite"]')).toContain('You’ve been drawn');
    expect(await panel.locator('.countdown [aria-live]').count()).toBe(0);
  });

  await step('verification: "Checking whether Norinn is online…"', SPIN * 1000, async () => {
    await waitFor('the verification line', SPIN * 1000, async () => (await text(panel, '.roulette .phase')) === 'Checking whether Norinn is online…', 100);
    await shot(page, 'verification');
    await axeCheck(page, 'verification with the drawn alert');
  });

  const payoutId = await step('the Desktop reports Norinn online and the panel says "You won!"', 30_000, async () => {
    const res = await reportWho(drawn, true);
    expect(res.outcome).toBe('winner');
    await waitFor('"Norinn won!"', 15_000, async () => (await text(panel, '.roulette .outcome')).endsWith('Norinn won!'));
    await visible(panel, '.payout h2.won', 15_000);
    expect(await text(panel, '.payout h2')).toBe('You won!');
    expect(await text(panel, '.payout .steps')).toContain('in Russian');
    expect(await text(panel, '.alert.personal strong')).toBe('You won!');
    await sleep(300);
    await shot(page, 'won');
    await axeCheck(page, 'won');
    return res.payoutId!;
  });

  await step('"Verify this draw": the proof checks out in the panel, and a tampered one does not', 30_000, async () => {
    // Until the next round is decided (a full cycle away) the outcome is this draw's.
    await panel.locator('.verify button').click();
    await visible(panel, '.verify-result[data-result="ok"]', 15_000);
    expect(await text(panel, '.verify-result .head')).toMatch(
      /^✓ Draw verified: \d+ (entry|entries), winner #\d+ Norinn; commitment published before the draw matched$/,
    );
    expect(await text(panel, '.verify-result .you-listed')).toMatch(/^You are in the list \(#\d+\)\.$/);
    log(`  ${await text(panel, '.verify-result .head')} ${await text(panel, '.verify-result .you-listed')}`);
    expect(await text(panel, '[role="status"][aria-live="polite"]')).toContain('✓ Draw verified');
    // Asked without a token: the route is public, and the GET needs no preflight.
    const asked = proxy!.seen.filter((r) => r.path === `/api/roulette/cycles/${drawn.spinCycleId}/proof`);
    expect(asked.map((r) => `${r.method} ${r.viewer}`)).toEqual(['GET ']);
    await shot(page, 'verified');
    await axeCheck(page, 'draw verified');
    // The same proof with another seed, as an EBS choosing the seed after the draw would serve it.
    proxy!.tamperNext(/\/proof$/, (p) => ({ ...p, seed: 'ab'.repeat(32) }));
    // The proof is immutable once revealed (Cache-Control: immutable, ETag),
    // so the browser answers a second check from its cache; a viewer meeting
    // a lying EBS for the first time has no cached copy.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.clearBrowserCache');
    cacheClearedAt = Date.now();
    await cdp.detach();
    await panel.locator('.verify button').click();
    await visible(panel, '.verify-result[data-result="bad"]', 15_000);
    expect(await text(panel, '.verify-result .head')).toBe('✗ This draw does not verify:');
    const diffs = await panel.locator('.verify-result li').allTextContents();
    log(`  tampered: ${diffs.join(' | ')}`);
    expect(diffs[0]).toMatch(/^SHA-256 of the seed is [0-9a-f]{16}…, not the published commitment [0-9a-f]{16}…$/);
    expect(diffs[1]).toMatch(/^SHA-256 of the seed is [0-9a-f]{16}…, not the commitment [0-9a-f]{16}… published before the draw$/);
    await shot(page, 'verify-mismatch');
    await axeCheck(page, 'draw not verified');
  });

  await step('the same moment in the light theme and in Russian (screenshots light/dark × en/ru)', 90_000, async () => {
    await shot(page, 'dark-en');
    for (const [lang, theme] of [['en', 'light'], ['ru', 'dark'], ['ru', 'light']] as const) {
      const o = await openPanel(`userId=${VIEWER.userId}&displayName=${VIEWER.displayName}`, { lang, theme });
      await visible(o.panel, '.payout h2.won', 15_000);
      const f = panelFrame(o.page);
      expect(await f.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
      expect(await f.evaluate(() => document.documentElement.lang)).toBe(lang);
      const bg = await f.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
      expect((r + g + b) / 3 > 128, `background ${bg} in the ${theme} theme`).toBe(theme === 'light');
      if (lang === 'ru') {
        expect(await text(o.panel, '.payout h2')).toBe('Ты победил!');
        expect(await text(o.panel, '.alert.personal strong')).toBe('Ты победил!');
        expect(await text(o.panel, '.join h2')).toBe('Как участвовать');
        expect(await text(o.panel, '.payout .whisper')).toBe(
          'Поздравляю, ты победил в розыгрыше! Дай мне своё согласие на получение награды - ответь на это сообщение одной фразой: !twgold',
        );
      }
      await sleep(300);
      await shot(o.page, `${theme}-${lang}`);
      await axeCheck(o.page, `won, ${theme}, ${lang}`);
      await o.page.close();
    }
  });

  await step('the payout walks to Sent and the panel shows the reward line', 60_000, async () => {
    const accepted = await http('POST', `${ebsURL}/api/payouts/${payoutId}/confirm-acceptance`, { characterName: 'Norinn' }, desktop);
    expect(accepted.status).toBe(200);
    await waitFor('"Accepted ✓"', 15_000, async () => (await text(panel, '.payout .steps')).includes('Accepted ✓'));
    for (const status of ['InProgress', 'Sent']) {
      const r = await http('PATCH', `${ebsURL}/api/payouts/${payoutId}/status`, { status }, desktop);
      expect(r.status, r.text).toBe(200);
    }
    await visible(panel, '.payout .reward', 15_000);
    expect(await text(panel, '.payout .reward')).toBe(REWARD_LINE);
    // The same line went to Twitch chat (the Helix stand-in).
    const sent = await waitFor('the Helix chat message', 10_000, async () => {
      const r = await http<{ path: string; body: { message?: string } | null }[]>('GET', `${helixURL}/requests`);
      return r.body?.find((q) => q.path === '/helix/chat/messages' && q.body?.message === REWARD_LINE);
    });
    expect(sent.body?.message).toBe(REWARD_LINE);
    await sleep(400);
    await shot(page, 'sent');
    await axeCheck(page, 'sent');
  });

  await step('requests: pushed phases, ≤ 3 requests per lurker per round, one preflight per route', (SPIN * 2 + 10) * 1000, async () => {
    // Two complete rounds inside the lurker's watch, however fast the steps before went.
    const enough = (Math.floor(lurker.from / (SPIN * 1000)) + 3) * SPIN * 1000;
    if (Date.now() < enough) await sleep(enough - Date.now() + 200);
    const until = Date.now();
    const phases = await panelFrame(lurker.page).evaluate(() => (window as unknown as { __phases: string[] }).__phases);
    log(`  lurker saw phases: ${phases.join(' → ')}`);
    const pushed = await http<{ message: string; dropped: boolean }[]>('GET', `${helixURL}/_sim/extension-pubsub/${BROADCASTER}`);
    const seqs = (pushed.body ?? []).map((m) => (JSON.parse(m.message) as { seq: number }).seq);
    log(`  pushes Twitch accepted: ${seqs.length} (seq ${seqs[0]}…${seqs[seqs.length - 1]})`);
    expect(seqs.length).toBeGreaterThan(3);
    expect(phases).toContain('spinning');
    expect(phases).toContain('verification');
    const api = proxy!.seen.filter((r) => r.path.startsWith('/api/'));
    const mine = api.filter((r) => r.viewer === LURKER.userId && r.method !== 'OPTIONS' && r.at >= lurker.from && r.at <= until);
    // Rounds start at UTC multiples of the interval; count the complete ones.
    const round = (at: number) => Math.floor(at / (SPIN * 1000));
    const first = round(lurker.from) + 1;
    const last = round(until) - 1;
    const perRound: number[] = [];
    for (let k = first; k <= last; k++) perRound.push(mine.filter((r) => round(r.at) === k).length);
    const stateGets = mine.filter((r) => r.path === '/api/roulette/state').length;
    log(`  lurker: ${mine.length} requests over ${((until - lurker.from) / 1000).toFixed(0)} s; per complete ${SPIN}-s round: [${perRound.join(', ')}]; roulette fetches: ${stateGets}`);
    log(`  lurker requests: ${mine.map((r) => r.method + ' ' + r.path).join(', ')}`);
    expect(perRound.length).toBeGreaterThanOrEqual(2);
    for (const n of perRound) expect(n).toBeLessThanOrEqual(3);
    // Once a push arrived, requests say which seq the viewer has.
    expect(mine.filter((r) => r.pushSeq != null).length).toBeGreaterThan(0);
    // Preflights: Chromium caches them per route (Access-Control-Max-Age), for every viewer of this browser.
    // Per browser cache: the verify step cleared it once (its preflight cache with it).
    const preflights = new Map<string, number>();
    for (const r of api) {
      if (r.method !== 'OPTIONS' || r.at > until) continue;
      const key = `${r.path}${cacheClearedAt && r.at >= cacheClearedAt ? ' (after the cache was cleared)' : ''}`;
      preflights.set(key, (preflights.get(key) ?? 0) + 1);
    }
    log(`  preflights per route: ${JSON.stringify(Object.fromEntries(preflights))}`);
    expect(proxy!.corsProblems, 'preflight answers').toEqual([]);
    for (const [path, n] of preflights) expect(n, `preflights for ${path}`).toBe(1);
    await lurker.page.close();
  });

  await step('a viewer leaves the pool from the panel', 60_000, async () => {
    const leaver = { userId: 'e2e-leaver', login: 'leaver', displayName: 'Leaver', character: 'Leavy' };
    const l = await openPanel(`userId=${leaver.userId}&displayName=${leaver.displayName}`);
    await sendChat(leaver, `!twgold ${leaver.character}`);
    await waitFor('"You’re in as Leavy"', 45_000, async () => (await text(l.panel, '.you')) === 'You’re in as Leavy');
    // Two clicks: a confirm() may be blocked in Twitch's frame.
    const leave = l.panel.getByRole('button', { name: 'Leave the pool' });
    await leave.click();
    await l.panel.getByRole('button', { name: 'Click again to leave' }).click();
    await waitFor('"not in the pool" after leaving', 15_000, async () => (await text(l.panel, '.you')) === 'You’re not in the pool yet.');
    expect(proxy!.seen.some((r) => r.method === 'DELETE' && r.path === '/api/pool/me' && r.viewer === leaver.userId)).toBe(true);
    // The EBS agrees: the viewer is out of the pool.
    const token = (await http<{ token: string }>('GET', `${ebsURL}/dev/token?userId=${leaver.userId}`)).body.token;
    const me = await http<{ isEnrolled: boolean }>('GET', `${ebsURL}/api/pool/me`, undefined, { Authorization: `Bearer ${token}` });
    expect(me.body?.isEnrolled).toBe(false);
    await l.page.close();
  });

  await step('the EBS goes away: a friendly error with Retry, last data kept', 45_000, async () => {
    await ebs!.stop();
    await visible(panel, '.alert.error', 40_000);
    expect(await text(panel, '.alert.error strong')).toBe("Can't reach the Gold-o-Matic");
    expect(await text(panel, '.alert.error button')).toBe('Retry');
    expect(await inFirstScreen(panel, '.alert.error'), 'the error is visible without scrolling').toBe(true);
    expect(await text(panel, '.payout .reward')).toBe(REWARD_LINE);
    await shot(page, 'error');
    await axeCheck(page, 'error');
  });

  await step('the EBS is back, requiring a newer panel: Retry recovers, the update banner shows', 60_000, async () => {
    await startEbs({ Version__MinimumExtensionVersion: '99.0.0', Version__ReleaseNotesUrl: 'https://example.com/mgm/releases' });
    await panel.locator('.alert.error button').click();
    await panel.locator('.alert.error').waitFor({ state: 'hidden', timeout: 15_000 });
    expect(await text(panel, '.payout .reward')).toBe(REWARD_LINE);
    // The version is checked when the panel loads (and hourly).
    await page.reload({ waitUntil: 'load', timeout: 30_000 });
    const fresh = page.frameLocator('#panel');
    await visible(fresh, '.banner', 15_000);
    expect(await text(fresh, '.banner')).toMatch(/^This panel is out of date \(v\d+\.\d+\.\d+\S*; v99\.0\.0 needed\)\. Reload/);
    await visible(fresh, '.payout .reward', 15_000);
    await shot(page, 'update');
  });

  expect(pageErrors, pageErrors.join('\n')).toEqual([]);
}
