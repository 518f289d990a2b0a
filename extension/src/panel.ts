// The viewer panel: wires the Twitch helper, the pushed and fetched state,
// the EBS calls and the views.

import './style.css';
import { personalAlert, type PersonalAlert } from './alerts';
import { type ApiError, type ApiResult, ApiClient } from './api';
import { cycleTimes, giftDelayMs, payoutDelayMs, personalAfter, stateDelayMs, VERSION_CHECK_MS } from './cadence';
import { clockSample, effectiveNextSpinAt, formatMMSS, msUntilNextSecond, remainingSeconds, ServerClock } from './clock';
import { code, fill, h, setText, show } from './dom';
import { CommitmentMemory, verifyDraw, type VerifyOutcome, verifyText } from './drawview';
import { APP_VERSION, BUILD_EBS_URL } from './env';
import { friendlyError } from './errors';
import { gold, GIFT_WHISPER, type Lang, pickLang, strings, WINNER_WHISPER } from './i18n';
import { Poller, type Task, type TaskResult } from './poller';
import { acceptFetched, acceptPush, compareRank, parsePush, type Shown } from './push';
import { type Identity, identityFromToken, type TwitchContext, twitchExt } from './twitch';
import type { GiftRequest, Payout, PoolMe, RouletteState, VersionInfo } from './types';
import { needsUpdate } from './version';
import { canJoinAgain, cooldownLine, giftView, isValidCharacterName, lifetimeView, myGift, payoutView, recentWinners, rouletteView } from './view';
import { Wheel } from './wheel';

// ------------------------------------------------------------------ model

type TaskName = 'state' | 'me' | 'payout' | 'gifts' | 'version';

interface Model {
  token: string | null;
  channelId: string | null;
  identity: Identity;
  /** The EBS said identity_not_shared although the token looked shared. */
  identityRefused: boolean;
  /** The EBS serves another channel (wrong_channel): nothing else to show. */
  channelRefused: boolean;
  helperMissing: boolean;
  shown: Shown;
  /** Pushes are arriving and have not missed a change. */
  pushLive: boolean;
  me: PoolMe | null;
  payout: Payout | null;
  payoutLoaded: boolean;
  gifts: GiftRequest[] | null;
  giftsAvailable: boolean;
  version: VersionInfo | null;
  errors: Map<TaskName, { error: ApiError; retryAt: number }>;
}

const model: Model = {
  token: null,
  channelId: null,
  identity: identityFromToken(null),
  identityRefused: false,
  channelRefused: false,
  helperMissing: false,
  shown: { state: null, receivedAt: 0, seq: null },
  pushLive: false,
  me: null,
  payout: null,
  payoutLoaded: false,
  gifts: null,
  giftsAvailable: true,
  version: null,
  errors: new Map(),
};

let lang: Lang = pickLang(null, location.search);
let t = strings(lang);

const ext = twitchExt();
const clock = new ServerClock();
const api = new ApiClient({
  baseUrl: ext?.mgmDevEbsUrl || BUILD_EBS_URL,
  getToken: () => model.token,
  // Tells the EBS that its pushes reach viewers (its status shows the last seq confirmed).
  headers: (): Record<string, string> => (model.shown.seq != null ? { 'X-Mgm-Push-Seq': String(model.shown.seq) } : {}),
});

// The proof route is public: asked without the token or the push header, the
// GET is a simple CORS request (no preflight), and shows the check needs no login.
const publicApi = new ApiClient({ baseUrl: ext?.mgmDevEbsUrl || BUILD_EBS_URL, getToken: () => null, timeoutMs: 20_000 });

const hasIdentity = () => model.token != null && model.identity.userId != null && !model.identityRefused;
const myCharacter = () => (hasIdentity() && model.me?.isEnrolled ? model.me.characterName : null);
const isActive = (p: Payout | null) => p?.status === 'Pending' || p?.status === 'InProgress';

// ------------------------------------------------------------------ state: pushed and fetched

function applyState(next: RouletteState, receivedAt: number, seq: number | null): void {
  const prev = model.shown.state;
  model.shown = { state: next, receivedAt, seq };
  commitments.see(next);
  const plan = personalAfter(prev, next, myCharacter());
  if (plan.payout != null) poller.poke('payout', plan.payout);
  if (plan.me != null) poller.poke('me', plan.me);
  render();
}

function onPush(_target: string, _contentType: string, message: string): void {
  const p = parsePush(message);
  if (!p || model.channelRefused || !acceptPush(model.shown, p)) return;
  model.pushLive = true;
  applyState(p.state, Date.now(), p.seq);
  // The push is the news: the fetch that would have looked for it moves to the next boundary.
  poller.defer('state', stateDelayMs(p.state, clock.now(), true));
}

// ------------------------------------------------------------------ tasks

function fromResult<T>(
  name: TaskName,
  r: ApiResult<T>,
  onOk: (data: T) => number | null,
  tolerate?: (e: ApiError) => number | null | undefined,
): TaskResult {
  if (r.ok) {
    model.errors.delete(name);
    const next = onOk(r.data);
    render();
    return { ok: true, nextMs: next };
  }
  if (r.error.kind === 'aborted') return { ok: false, error: r.error };
  if (r.error.code === 'wrong_channel') {
    // One EBS serves one channel; asking again changes nothing.
    model.channelRefused = true;
    model.errors.clear();
    poller.pause();
    render();
    return { ok: true, nextMs: null };
  }
  const tolerated = tolerate?.(r.error);
  if (tolerated !== undefined) {
    model.errors.delete(name);
    render();
    return { ok: true, nextMs: tolerated };
  }
  if (r.error.code === 'identity_not_shared') {
    model.identityRefused = true;
    model.errors.delete(name);
    render();
    return { ok: true, nextMs: null };
  }
  return { ok: false, error: r.error };
}

function task(name: TaskName, enabled: () => boolean, run: (signal: AbortSignal) => Promise<TaskResult>): Task {
  return {
    name,
    enabled: () => !model.channelRefused && enabled(),
    run,
    onFailure(error, retryAt) {
      model.errors.set(name, { error, retryAt });
      render();
    },
  };
}

const tasks: Task[] = [
  task('state', () => model.token != null, async (signal) => {
    const r = await api.get<RouletteState>('/api/roulette/state', { signal });
    if (r.ok) clock.add(clockSample(r.data.serverNow, r.sentAt, r.receivedAt));
    return fromResult('state', r, (s) => {
      const shown = model.shown.state;
      if (acceptFetched(model.shown, s, r.sentAt)) {
        // The EBS moved on and no push said so: pushes are not reaching this
        // panel (or not yet); poll slowly until one arrives.
        if (shown && compareRank(s, shown) > 0) model.pushLive = false;
        applyState(s, r.receivedAt, model.shown.seq);
      }
      return stateDelayMs(model.shown.state, clock.now(), model.pushLive);
    });
  }),
  task('me', hasIdentity, async (signal) =>
    fromResult('me', await api.get<PoolMe>('/api/pool/me', { signal }), (me) => {
      model.me = me;
      return null; // asked again when a push or the viewer's own action calls for it
    }),
  ),
  task('payout', hasIdentity, async (signal) =>
    fromResult(
      'payout',
      await api.get<Payout>('/api/payouts/my-last', { signal }),
      (p) => {
        // Sent takes the winner out of the pool.
        if (isActive(model.payout) && !isActive(p)) poller.poke('me', 300);
        model.payout = p;
        model.payoutLoaded = true;
        return payoutDelayMs(p.status);
      },
      (e) => {
        if (e.status !== 404) return undefined;
        model.payout = null; // never had a payout
        model.payoutLoaded = true;
        return null;
      },
    ),
  ),
  task('gifts', () => hasIdentity() && model.channelId != null && model.giftsAvailable, async (signal) =>
    fromResult(
      'gifts',
      await api.get<GiftRequest[]>(`/api/streamers/${encodeURIComponent(model.channelId ?? '')}/gift-queue`, { signal }),
      (q) => {
        model.gifts = Array.isArray(q) ? q : [];
        return giftDelayMs(giftView(myGift(model.gifts, model.identity.userId)).kind === 'active');
      },
      (e) => {
        if (e.status !== 404) return undefined;
        model.giftsAvailable = false; // an EBS without the gift queue
        return null;
      },
    ),
  ),
  {
    name: 'version',
    enabled: () => !model.channelRefused,
    async run(signal) {
      const r = await api.get<VersionInfo>('/api/version', { signal });
      if (!r.ok) return { ok: false, error: r.error }; // silent: an update check must never alarm viewers
      model.version = r.data;
      render();
      return { ok: true, nextMs: VERSION_CHECK_MS };
    },
  },
];

const poller = new Poller(tasks);

// ------------------------------------------------------------------ DOM

const wheel = new Wheel();
wheel.onLanded = () => render();
const app = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));

/** Screen readers hear this region, and only what announce() puts there. */
const announcer = h('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite', 'aria-relevant': 'additions' });
const announced = new Set<string>();

/**
 * Says text once per key: the win once, each round's result once, never the
 * countdown. Messages are added (not replaced), so two in a row are both read.
 */
function announce(key: string, text: string): void {
  if (announced.has(key)) return;
  announced.add(key);
  announcer.append(h('p', null, text));
  while (announcer.childElementCount > 3) announcer.firstElementChild?.remove();
}

const updateBanner = h('div', { class: 'banner', hidden: true });
const personalBox = h('div', { class: 'alert personal', hidden: true });
const alertTitle = h('strong');
const alertBody = h('span');
const alertMeta = h('span', { class: 'meta' });
const retryButton = h('button', { type: 'button', class: 'small', onclick: () => retryNow() });
const alertBox = h('div', { class: 'alert error', hidden: true }, alertTitle, alertBody, h('div', { class: 'row' }, alertMeta, retryButton));
const pinned = h('div', { class: 'pinned' }, updateBanner, personalBox, alertBox);

const payoutCard = h('section', { class: 'card payout', hidden: true });

const phaseLine = h('p', { class: 'phase' });
const outcomeLine = h('p', { class: 'outcome', hidden: true });
const verifyButton = h('button', { type: 'button', class: 'small secondary', onclick: () => void verifyLastDraw() });
const verifyResult = h('div', { class: 'verify-result', hidden: true });
const verifyBox = h('div', { class: 'verify', hidden: true }, verifyButton, verifyResult);
const countdownLabel = h('span', { class: 'label' });
const countdownValue = h('span', { class: 'time' }, '--:--');
const countdownHint = h('p', { class: 'hint' });
const barFill = h('div', { class: 'fill' });
const barMark = h('div', { class: 'mark' });
const winnersTitle = h('h3');
const winnersList = h('ol', { class: 'winners' });
const winnersBox = h('div', { class: 'recent', hidden: true }, winnersTitle, winnersList);
const rouletteCard = h(
  'section',
  { class: 'card roulette' },
  wheel.el,
  phaseLine,
  outcomeLine,
  verifyBox,
  // The countdown is read on demand, never announced (role timer is not live).
  h('div', { class: 'countdown', role: 'timer' }, countdownLabel, countdownValue),
  h('div', { class: 'bar', 'aria-hidden': 'true' }, barFill, barMark),
  countdownHint,
  winnersBox,
);

const identityText = h('p');
const identityButton = h('button', { type: 'button', onclick: () => ext?.actions?.requestIdShare?.() });
const identityCard = h('section', { class: 'card identity', hidden: true }, identityText, identityButton);

const joinTitle = h('h2');
const youLine = h('p', { class: 'you' });
const lifetimeLine = h('p', { class: 'muted lifetime', hidden: true });
const cooldownNote = h('p', { class: 'muted cooldown', hidden: true });
const lifetimeFill = h('div', { class: 'fill' });
const lifetimeBar = h('div', { class: 'bar gold', 'aria-hidden': 'true', hidden: true }, lifetimeFill);
const joinCmd = h('p');
const nameRules = h('p', { class: 'muted' });
const poolLine = h('p', { class: 'muted pool' });
const joinInput = h('input', {
  type: 'text',
  name: 'characterName',
  maxlength: 12,
  autocomplete: 'off',
  spellcheck: 'false',
  oninput: () => clearNote(joinNote, 'error'),
});
const joinButton = h('button', { type: 'submit' });
const joinNote = h('p', { class: 'note', hidden: true });
const joinForm = h('form', { class: 'inline', hidden: true, onsubmit: (e: Event) => void submitJoin(e) }, joinInput, joinButton);
const leaveButton = h('button', { type: 'button', class: 'small secondary', hidden: true, onclick: () => void leavePool() });
const rulesSummary = h('summary');
const rulesList = h('ul');
const joinCard = h(
  'section',
  { class: 'card join' },
  joinTitle,
  youLine,
  cooldownNote,
  leaveButton,
  lifetimeLine,
  lifetimeBar,
  joinCmd,
  nameRules,
  poolLine,
  joinForm,
  joinNote,
  h('details', null, rulesSummary, rulesList),
);

const giftTitle = h('h2');
const giftIntro = h('p');
const giftStatus = h('p', { class: 'gift-status', hidden: true });
const giftWhisper = h('p', { class: 'whisper', lang: 'ru', hidden: true }, GIFT_WHISPER);
const giftInput = h('input', {
  type: 'text',
  name: 'giftCharacterName',
  maxlength: 12,
  autocomplete: 'off',
  spellcheck: 'false',
  oninput: () => clearNote(giftNote, 'error'),
});
const giftButton = h('button', { type: 'submit' });
const giftNote = h('p', { class: 'note', hidden: true });
const giftForm = h('form', { class: 'inline', hidden: true, onsubmit: (e: Event) => void submitGift(e) }, giftInput, giftButton);
const giftCard = h('section', { class: 'card gift' }, giftTitle, giftIntro, giftStatus, giftWhisper, giftForm, giftNote);

const footer = h('footer', null, `v${APP_VERSION}`);
const heading = h('h1');

fill(
  app,
  pinned,
  h('div', { class: 'head' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '⚙'), heading),
  payoutCard,
  rouletteCard,
  identityCard,
  joinCard,
  giftCard,
  footer,
  announcer,
);

/** The words that do not depend on data, in the panel's language. */
function renderStatic(): void {
  document.documentElement.lang = lang;
  setText(heading, t.title);
  setText(retryButton, t.retry);
  payoutCard.setAttribute('aria-label', t.ariaPayout);
  rouletteCard.setAttribute('aria-label', t.ariaRoulette);
  identityCard.setAttribute('aria-label', t.ariaIdentity);
  setText(identityButton, t.shareIdentity);
  setText(joinTitle, t.howToJoin);
  joinCard.setAttribute('aria-label', t.howToJoin);
  fill(joinCmd, t.joinCmdBefore, code('!twgold <CharacterName>'), t.joinCmdAfter);
  setText(nameRules, t.nameRules);
  joinInput.placeholder = t.characterPlaceholder;
  joinInput.setAttribute('aria-label', t.characterLabel);
  setText(joinButton, t.join);
  setText(rulesSummary, t.rules);
  setText(giftTitle, t.gift);
  giftCard.setAttribute('aria-label', t.gift);
  fill(giftIntro, t.giftIntroBefore, code('!twgift <CharacterName>'), t.giftIntroAfter);
  giftInput.placeholder = t.characterPlaceholder;
  giftInput.setAttribute('aria-label', t.giftLabel);
  setText(giftButton, t.ask);
  setText(winnersTitle, t.recentWinners);
  delete verifyResult.dataset.key;
  setText(leaveButton, leaveArmed ? t.leaveConfirm : t.leave);
  // Data-driven parts rebuild with the new words.
  delete payoutCard.dataset.key;
  delete updateBanner.dataset.min;
  rulesList.replaceChildren();
}

// ------------------------------------------------------------------ render

const ORDER: TaskName[] = ['state', 'me', 'payout', 'gifts'];

function renderRules(): void {
  const sec = model.shown.state?.spinIntervalSeconds ?? 300;
  const every = sec % 60 === 0 ? t.everyMinutes(sec / 60) : t.everySeconds(sec);
  const rules = [t.rule1(every), t.rule2, t.rule3, t.rule4, t.rule5];
  if (rulesList.childElementCount !== rules.length || rulesList.firstChild?.textContent !== rules[0]) {
    fill(rulesList, ...rules.map((r) => h('li', null, r)));
  }
}

function renderPersonal(): PersonalAlert | null {
  const s = model.shown.state;
  const a = personalAlert(
    {
      channelRefused: model.channelRefused,
      state: s,
      me: hasIdentity() ? model.me : null,
      payout: hasIdentity() ? model.payout : null,
      landed: s != null && wheel.hasLanded(s.currentSpinCycleId, s.candidateCharacterName),
    },
    t,
  );
  show(personalBox, a != null);
  if (!a) return null;
  personalBox.dataset.kind = a.kind;
  if (personalBox.dataset.key !== a.key + lang) {
    personalBox.dataset.key = a.key + lang;
    fill(personalBox, h('strong', null, a.title), ' ', h('span', null, a.body));
  }
  announce('alert|' + a.key, `${a.title} ${a.body}`);
  return a;
}

function renderAlert(): void {
  const name = model.channelRefused ? undefined : ORDER.find((n) => model.errors.has(n));
  const entry = name ? model.errors.get(name) : undefined;
  show(alertBox, entry != null);
  for (const k of [...announced]) if (k.startsWith('error|') && (!entry || k !== 'error|' + entry.error.code)) announced.delete(k);
  if (!name || !entry) return;
  const { error, retryAt } = entry;
  const f = friendlyError(error, t);
  setText(alertTitle, f.title);
  setText(alertBody, ' ' + f.body);
  announce('error|' + error.code, `${f.title} ${f.body}`);
  const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  const hasData =
    name === 'state' ? model.shown.state != null : name === 'me' ? model.me != null : name === 'payout' ? model.payoutLoaded : model.gifts != null;
  setText(alertMeta, (hasData ? t.showingLast + ' ' : '') + (secs > 0 ? t.retryingIn(secs) : t.retrying));
}

function renderPayout(): void {
  const v = hasIdentity() ? payoutView(model.payout, t, lang, canJoinAgain(model.me, model.payout)) : ({ kind: 'none' } as const);
  show(payoutCard, v.kind !== 'none' && !model.channelRefused);
  payoutCard.dataset.kind = v.kind;
  const key = JSON.stringify(v);
  if (payoutCard.dataset.key === key) return;
  payoutCard.dataset.key = key;
  switch (v.kind) {
    case 'none':
      return fill(payoutCard);
    case 'won':
      return fill(
        payoutCard,
        h('h2', { class: 'won' }, t.youWon),
        h('p', { class: 'sub' }, t.wonFor(v.gold), h('b', null, v.name)),
        h(
          'ol',
          { class: 'steps' },
          h('li', null, t.stepWhisper, h('q', { class: 'whisper', lang: 'ru' }, WINNER_WHISPER)),
          h(
            'li',
            { class: v.accepted ? 'done' : 'now' },
            t.stepReplyBefore,
            code('!twgold'),
            t.stepReplyAfter,
            v.accepted ? h('span', { class: 'ok' }, t.accepted) : null,
          ),
          h('li', { class: v.accepted || v.status === 'InProgress' ? 'now' : null }, t.stepMail(v.name)),
        ),
        h('p', { class: 'chip' }, v.statusLine),
      );
    case 'sent':
      return fill(
        payoutCard,
        h('h2', { class: 'sent' }, t.rewardSent),
        h('p', { class: 'reward', lang: 'ru' }, v.rewardLine),
        h('p', { class: 'muted' }, t.inMailbox(v.gold, v.name)),
        v.again ? h('p', { class: 'muted again' }, v.again) : null,
      );
    case 'last':
      return fill(
        payoutCard,
        h('h2', { class: 'calm' }, t.lastPayout),
        h('p', { class: 'muted' }, v.line),
        v.again ? h('p', { class: 'muted again' }, v.again) : null,
      );
  }
}

function renderRoulette(): void {
  const s = model.shown.state;
  show(rouletteCard, !model.channelRefused);
  if (!s) {
    wheel.update(null, [], 0);
    const failed = model.errors.has('state');
    setText(
      phaseLine,
      model.helperMissing ? t.openOnTwitch : model.token == null ? t.connecting : failed ? t.rouletteFailed : t.rouletteLoading,
    );
    show(outcomeLine, false);
    show(verifyBox, false);
    show(winnersBox, false);
    setText(countdownLabel, t.nextRoundIn);
    setText(countdownHint, '');
    rouletteCard.dataset.phase = 'loading';
    return;
  }
  const landed = wheel.hasLanded(s.currentSpinCycleId, s.candidateCharacterName);
  const v = rouletteView(s, t, landed);
  rouletteCard.dataset.phase = v.phase;
  const times = cycleTimes(s);
  const spinEndsIn = times ? times.verifyAt - clock.now() : 0;
  wheel.update(v, s.poolCharacterNames ?? [], spinEndsIn);
  // The wheel may have come to rest just now (reduced motion: at once).
  const v2 = wheel.hasLanded(s.currentSpinCycleId, s.candidateCharacterName) !== landed ? rouletteView(s, t, !landed) : v;
  setText(phaseLine, v2.phaseLine);
  if (v2.phase === 'spinning' && wheel.hasLanded(s.currentSpinCycleId, s.candidateCharacterName)) {
    announce(`landed|${s.currentSpinCycleId}`, v2.phaseLine);
  }
  show(outcomeLine, v2.outcome != null);
  if (v2.outcome) {
    setText(outcomeLine, v2.outcome.text);
    outcomeLine.className = 'outcome ' + v2.outcome.kind;
    if (s.lastCycle && s.lastCycle.spinCycleId === s.currentSpinCycleId) announce(`outcome|${s.lastCycle.spinCycleId}`, v2.outcome.text);
  }
  renderVerify(v2.outcome != null);
  setText(countdownLabel, v2.countdownLabel);
  countdownValue.setAttribute('aria-label', v2.countdownLabel);
  setText(countdownHint, v2.countdownHint ?? '');
  const winners = recentWinners(s, lang);
  show(winnersBox, winners.length > 0);
  const wkey = winners.map((w) => w.name + w.time).join('|') + lang;
  if (winnersList.dataset.key !== wkey) {
    winnersList.dataset.key = wkey;
    fill(winnersList, ...winners.map((w) => h('li', null, h('b', null, w.name), w.time ? h('span', { class: 'muted' }, ' ' + w.time) : null)));
  }
  tickCountdown();
}

// ------------------------------------------------------------------ verify this draw

const commitments = new CommitmentMemory(sessionStore());
/** The last check, of the cycle it was asked for; null while it runs. */
let verification: { cycleId: string; outcome: VerifyOutcome | null } | null = null;
let verifyClicks = 0;

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // refused in this frame
  }
}

/** The decided cycle the outcome line speaks of, when the EBS publishes draw proofs. */
function decidedCycle(): RouletteState['lastCycle'] {
  const s = model.shown.state;
  return s && 'drawCommitment' in s ? s.lastCycle : null;
}

function renderVerify(outcomeShown: boolean): void {
  const c = outcomeShown ? decidedCycle() : null;
  show(verifyBox, c != null);
  if (!c) return;
  setText(verifyButton, t.verifyButton);
  const v = verification?.cycleId === c.spinCycleId ? verification : null;
  verifyButton.disabled = v != null && v.outcome == null;
  show(verifyResult, v != null);
  const key = v ? JSON.stringify(v) + lang : '';
  if (verifyResult.dataset.key === key) return;
  verifyResult.dataset.key = key;
  if (!v) return fill(verifyResult);
  if (!v.outcome) {
    delete verifyResult.dataset.result;
    return fill(verifyResult, h('p', null, t.verifyChecking));
  }
  const vt = verifyText(v.outcome, t);
  // An attribute, not a class: the panel's .ok class would colour every line.
  verifyResult.dataset.result = vt.ok ? 'ok' : 'bad';
  fill(
    verifyResult,
    h('p', { class: 'head' }, vt.head),
    vt.diffs.length ? h('ul', null, ...vt.diffs.map((d) => h('li', null, d))) : null,
    vt.you ? h('p', { class: 'you-listed' }, vt.you) : null,
  );
}

async function verifyLastDraw(): Promise<void> {
  const c = decidedCycle();
  if (!c || verification?.outcome === null) return;
  const cycleId = c.spinCycleId;
  const click = ++verifyClicks;
  verification = { cycleId, outcome: null };
  render();
  const outcome = await verifyDraw((path) => publicApi.get<unknown>(path), {
    cycleId,
    saved: commitments.saved(cycleId),
    shownCandidate: c.candidateCharacterName,
    won: c.outcome === 'winner',
    userId: hasIdentity() ? model.identity.userId : null,
  }).catch((e: unknown): VerifyOutcome => ({ kind: 'error', code: 'internal', status: 0, message: String(e) }));
  if (verification?.cycleId !== cycleId) return; // the roulette moved on meanwhile
  verification = { cycleId, outcome };
  render();
  const vt = verifyText(outcome, t);
  // Each click's result is read once, whatever it says.
  announce(`verify|${cycleId}|${click}`, [vt.head, ...vt.diffs, vt.you ?? ''].join(' ').trim());
}

function renderIdentity(): void {
  const opaque = model.token != null && !hasIdentity() && !model.channelRefused;
  show(identityCard, opaque);
  if (!opaque) return;
  const loggedOut = (model.identity.opaqueUserId ?? '').startsWith('A');
  setText(identityText, loggedOut ? t.identityLoggedOut : t.identityShare);
  identityButton.disabled = typeof ext?.actions?.requestIdShare !== 'function';
}

function clearNote(el: HTMLElement, kind?: 'ok' | 'error'): void {
  if (el.hidden || (kind && el.dataset.kind !== kind)) return;
  show(el, false);
  delete el.dataset.kind;
}

function renderJoin(): void {
  show(joinCard, !model.channelRefused);
  renderRules();
  const s = model.shown.state;
  setText(poolLine, s ? t.pool(s.poolParticipantCount) : t.poolUnknown);
  const me = hasIdentity() ? model.me : null;
  show(youLine, me != null);
  if (me?.isEnrolled && me.characterName) {
    fill(youLine, t.youreIn, h('b', null, me.characterName));
    youLine.className = 'you in';
    // A refusal from before (a taken name, say) is no longer true.
    clearNote(joinNote, 'error');
  } else if (me) {
    fill(youLine, t.notIn);
    youLine.className = 'you out';
    if (joinNote.dataset.kind === 'ok' && joinNote.dataset.what === 'joined') clearNote(joinNote);
  }
  show(leaveButton, me?.isEnrolled === true);
  const cooldown = cooldownLine(me, clock.now(), t, lang);
  show(cooldownNote, cooldown != null);
  setText(cooldownNote, cooldown ?? '');
  const life = hasIdentity() ? lifetimeView(model.me) : null;
  show(lifetimeLine, life != null);
  show(lifetimeBar, life != null);
  if (life) {
    setText(lifetimeLine, life.roomForWin ? t.lifetime(gold(life.committed, lang), gold(life.cap, lang)) : t.lifetimeFull);
    lifetimeFill.style.width = `${(life.fraction * 100).toFixed(1)}%`;
  }
  show(joinForm, me != null && !me.isEnrolled && !isActive(model.payout) && (life == null || life.roomForWin));
}

function renderGift(): void {
  const g = hasIdentity() ? giftView(myGift(model.gifts, model.identity.userId), t) : ({ kind: 'none' } as const);
  show(giftCard, !model.channelRefused);
  show(giftStatus, g.kind !== 'none');
  show(giftWhisper, g.kind !== 'none' && g.whisper === true);
  if (g.kind !== 'none') {
    setText(giftStatus, g.line);
    giftStatus.className = 'gift-status ' + g.kind;
    // The request exists now: an earlier refusal no longer applies.
    clearNote(giftNote, 'error');
  }
  show(giftForm, hasIdentity() && model.gifts != null && model.giftsAvailable && g.kind !== 'active' && g.kind !== 'done');
}

function renderBanner(): void {
  const min = model.version?.minimumExtensionVersion ?? null;
  const need = needsUpdate(min, APP_VERSION);
  show(updateBanner, need);
  if (!need || updateBanner.dataset.min === min) return;
  updateBanner.dataset.min = min ?? '';
  const notes = model.version?.releaseNotesUrl;
  fill(
    updateBanner,
    h('span', null, t.outOfDate(APP_VERSION, min ?? '')),
    h('button', { type: 'button', class: 'small', onclick: () => location.reload() }, t.reload),
    notes ? h('a', { href: notes, target: '_blank', rel: 'noopener noreferrer' }, t.whatsNew) : null,
  );
}

function render(): void {
  renderBanner();
  renderPersonal();
  renderAlert();
  renderPayout();
  renderRoulette();
  renderIdentity();
  renderJoin();
  renderGift();
}

// ------------------------------------------------------------------ countdown

let countdownTimer: ReturnType<typeof setTimeout> | null = null;

function tickCountdown(): void {
  if (countdownTimer) clearTimeout(countdownTimer);
  countdownTimer = null;
  const s = model.shown.state;
  if (!s) return;
  const next = Date.parse(s.nextSpinAt);
  if (Number.isNaN(next)) return;
  const now = clock.now();
  const target = effectiveNextSpinAt(next, s.spinIntervalSeconds, now);
  setText(countdownValue, formatMMSS(remainingSeconds(target, now)));
  const interval = s.spinIntervalSeconds * 1000;
  if (interval > 0) {
    const elapsed = 1 - Math.min(1, Math.max(0, (target - now) / interval));
    barFill.style.width = `${(elapsed * 100).toFixed(1)}%`;
    barMark.style.left = '80%';
  }
  if (model.errors.size > 0) renderAlert(); // keeps "Retrying in N s" current (not a live region)
  countdownTimer = setTimeout(tickCountdown, msUntilNextSecond(target, now));
}

// ------------------------------------------------------------------ actions

function retryNow(): void {
  for (const [name, e] of model.errors) model.errors.set(name, { ...e, retryAt: Date.now() });
  poller.retryFailed();
  render();
}

function note(el: HTMLElement, kind: 'ok' | 'error', title: string, body = '', what = ''): void {
  el.className = 'note ' + kind;
  el.dataset.kind = kind;
  el.dataset.what = what;
  fill(el, h('strong', null, title), body ? ' ' + body : '');
  show(el, true);
}

let joinRequestId: { name: string; id: string } | null = null;

function newId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `panel-${Date.now()}-${Math.random()}`;
}

async function submitJoin(e: Event): Promise<void> {
  e.preventDefault();
  const name = joinInput.value.trim();
  if (!isValidCharacterName(name)) {
    const f = friendlyError({ code: 'invalid_character_name' }, t);
    return note(joinNote, 'error', f.title, f.body);
  }
  // The same name retried after a failure reuses its id, so the EBS can tell a repeat from a new request.
  if (!joinRequestId || joinRequestId.name !== name) joinRequestId = { name, id: newId() };
  joinButton.disabled = true;
  const r = await api.post<{ characterName: string }>('/api/payouts/claim', { characterName: name, enrollmentRequestId: joinRequestId.id });
  joinButton.disabled = false;
  if (r.ok) {
    joinRequestId = null;
    joinInput.value = '';
    const joined = r.data?.characterName ?? name;
    model.me = { ...(model.me ?? { isEnrolled: true, characterName: joined }), isEnrolled: true, characterName: joined };
    note(joinNote, 'ok', t.joinedOk(joined), '', 'joined');
    // The pool count comes with the next push; without pushes, look now.
    if (!model.pushLive) poller.poke('state', 300);
    render();
    return;
  }
  if (r.error.code !== 'network' && r.error.code !== 'timeout') joinRequestId = null;
  const f = friendlyError(r.error, t);
  note(joinNote, 'error', f.title, f.body);
}

let leaveArmed = false;
let leaveTimer: ReturnType<typeof setTimeout> | null = null;

/** Leaving takes two clicks (a dialog may be blocked in Twitch's frame). */
async function leavePool(): Promise<void> {
  if (!leaveArmed) {
    leaveArmed = true;
    setText(leaveButton, t.leaveConfirm);
    leaveTimer = setTimeout(() => {
      leaveArmed = false;
      setText(leaveButton, t.leave);
    }, 5000);
    return;
  }
  if (leaveTimer) clearTimeout(leaveTimer);
  leaveArmed = false;
  setText(leaveButton, t.leave);
  leaveButton.disabled = true;
  const r = await api.delete<unknown>('/api/pool/me');
  leaveButton.disabled = false;
  // 404: not in the pool (any more) — the same outcome for the viewer.
  if (r.ok || (!r.ok && r.error.status === 404)) {
    model.me = { ...(model.me ?? { isEnrolled: false, characterName: null }), isEnrolled: false, characterName: null };
    note(joinNote, 'ok', t.leftOk, '', 'left');
    if (!r.ok) poller.poke('me', 0);
    if (!model.pushLive) poller.poke('state', 300);
    render();
    return;
  }
  const f = friendlyError(r.error, t);
  note(joinNote, 'error', f.title, f.body);
}

async function submitGift(e: Event): Promise<void> {
  e.preventDefault();
  const name = giftInput.value.trim();
  if (!isValidCharacterName(name)) {
    const f = friendlyError({ code: 'invalid_character_name' }, t);
    return note(giftNote, 'error', f.title, f.body);
  }
  giftButton.disabled = true;
  const r = await api.post<GiftRequest>('/api/gift-requests', { streamerId: model.channelId, characterName: name });
  giftButton.disabled = false;
  if (r.ok) {
    giftInput.value = '';
    show(giftNote, false);
    if (r.data) model.gifts = [...(model.gifts ?? []).filter((g) => g.id !== r.data.id), r.data];
    poller.poke('gifts', 500);
    render();
    return;
  }
  const f = friendlyError(r.error, t);
  note(giftNote, 'error', f.title, f.body);
}

// ------------------------------------------------------------------ lifecycle

let extHidden = false;
let started = false;

function syncVisibility(): void {
  const hidden = document.visibilityState === 'hidden' || extHidden;
  if (hidden) {
    poller.pause();
  } else if (model.token != null && !poller.running && !model.channelRefused) {
    if (!started) {
      started = true;
      poller.start();
      return;
    }
    // Back in view: one look at the roulette, and at what may have changed for the viewer meanwhile.
    const again: TaskName[] = ['state', 'me'];
    if (!model.payoutLoaded || isActive(model.payout)) again.push('payout');
    if (model.gifts == null || giftView(myGift(model.gifts, model.identity.userId)).kind === 'active') again.push('gifts');
    poller.start(again);
  }
}

function applyContext(ctx: TwitchContext): void {
  if (ctx.theme === 'light' || ctx.theme === 'dark') document.documentElement.dataset.theme = ctx.theme;
  const next = pickLang(ctx.language, location.search);
  if (next !== lang) {
    lang = next;
    t = strings(lang);
    renderStatic();
    render();
  }
}

renderStatic();
if (ext) {
  ext.onAuthorized((auth) => {
    const hadIdentity = hasIdentity();
    const first = model.token == null;
    model.token = auth.token;
    model.channelId = auth.channelId || null;
    model.identity = identityFromToken(auth.token);
    if (model.identity.userId) model.identityRefused = false;
    if (!model.channelId) model.channelId = model.identity.channelId;
    if (first) {
      syncVisibility();
    } else {
      // A refreshed token: calls that failed for lack of it, and personal calls
      // that just became possible, run now.
      if (!hadIdentity && hasIdentity()) for (const n of ['me', 'payout', 'gifts']) poller.poke(n);
      for (const [n, e] of model.errors) if (e.error.code === 'unauthorized') poller.poke(n);
    }
    render();
  });
  ext.onVisibilityChanged?.((visible) => {
    extHidden = !visible;
    syncVisibility();
  });
  ext.onContext?.((ctx) => applyContext(ctx ?? {}));
  ext.onError?.((err) => console.warn('Twitch extension helper error', err));
  ext.listen?.('broadcast', onPush);
} else {
  model.helperMissing = true;
}
document.addEventListener('visibilitychange', syncVisibility);
render();
