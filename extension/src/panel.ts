// The viewer panel: wires the Twitch helper, the EBS calls and the views.

import './style.css';
import { type ApiError, type ApiResult, ApiClient } from './api';
import { giftDelayMs, payoutDelayMs, poolMeDelayMs, stateDelayMs, cycleTimes, VERSION_CHECK_MS } from './cadence';
import { clockSample, effectiveNextSpinAt, formatMMSS, msUntilNextSecond, remainingSeconds, ServerClock } from './clock';
import { code, fill, h, setText, show } from './dom';
import { APP_VERSION, BUILD_EBS_URL } from './env';
import { friendlyError } from './errors';
import { Poller, type Task, type TaskResult } from './poller';
import { type Identity, identityFromToken, twitchExt } from './twitch';
import type { GiftRequest, Payout, PoolMe, RouletteState, VersionInfo } from './types';
import { needsUpdate } from './version';
import { giftView, isValidCharacterName, myGift, payoutView, rouletteView } from './view';
import { Wheel } from './wheel';

// ------------------------------------------------------------------ model

type TaskName = 'state' | 'me' | 'payout' | 'gifts' | 'version';

interface Model {
  token: string | null;
  channelId: string | null;
  identity: Identity;
  /** The EBS said identity_not_shared although the token looked shared. */
  identityRefused: boolean;
  helperMissing: boolean;
  state: RouletteState | null;
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
  helperMissing: false,
  state: null,
  me: null,
  payout: null,
  payoutLoaded: false,
  gifts: null,
  giftsAvailable: true,
  version: null,
  errors: new Map(),
};

const ext = twitchExt();
const clock = new ServerClock();
const api = new ApiClient({ baseUrl: ext?.mgmDevEbsUrl || BUILD_EBS_URL, getToken: () => model.token });

const hasIdentity = () => model.token != null && model.identity.userId != null && !model.identityRefused;

// ------------------------------------------------------------------ tasks

function fromResult<T>(
  name: TaskName,
  r: ApiResult<T>,
  onOk: (data: T) => number,
  tolerate?: (e: ApiError) => number | null,
): TaskResult {
  if (r.ok) {
    model.errors.delete(name);
    const next = onOk(r.data);
    render();
    return { ok: true, nextMs: next };
  }
  if (r.error.kind === 'aborted') return { ok: false, error: r.error };
  const tolerated = tolerate?.(r.error);
  if (tolerated != null) {
    model.errors.delete(name);
    render();
    return { ok: true, nextMs: tolerated };
  }
  if (r.error.code === 'identity_not_shared') {
    model.identityRefused = true;
    model.errors.delete(name);
    render();
    return { ok: true, nextMs: 60_000 };
  }
  return { ok: false, error: r.error };
}

function task(name: TaskName, enabled: () => boolean, run: (signal: AbortSignal) => Promise<TaskResult>): Task {
  return {
    name,
    enabled,
    run,
    onFailure(error, retryAt) {
      model.errors.set(name, { error, retryAt });
      render();
    },
  };
}

let lastPool = -1;
let lastOutcomeKey: string | null = null;

const tasks: Task[] = [
  task('state', () => model.token != null, async (signal) => {
    const r = await api.get<RouletteState>('/api/roulette/state', { signal });
    if (r.ok) clock.add(clockSample(r.data.serverNow, r.sentAt, r.receivedAt));
    return fromResult('state', r, (s) => {
      model.state = s;
      // Changes that concern the viewer's own calls: ask them now, not at their slow cadence.
      if (lastPool !== -1 && s.poolParticipantCount !== lastPool) poller.poke('me', 300);
      lastPool = s.poolParticipantCount;
      const lc = s.lastCycle;
      const outcomeKey = lc ? `${lc.spinCycleId}|${lc.outcome}` : '';
      if (lastOutcomeKey !== null && outcomeKey !== lastOutcomeKey) {
        // A round was decided: the viewer may have won (payout) or left the pool (me).
        poller.poke('payout', 200 + Math.random() * 800);
        poller.poke('me', 500 + Math.random() * 1000);
      }
      lastOutcomeKey = outcomeKey;
      return stateDelayMs(s, clock.now());
    });
  }),
  task('me', hasIdentity, async (signal) =>
    fromResult('me', await api.get<PoolMe>('/api/pool/me', { signal }), (me) => {
      model.me = me;
      return poolMeDelayMs();
    }),
  ),
  task('payout', hasIdentity, async (signal) =>
    fromResult(
      'payout',
      await api.get<Payout>('/api/payouts/my-last', { signal }),
      (p) => {
        model.payout = p;
        model.payoutLoaded = true;
        return payoutDelayMs(p.status);
      },
      (e) => {
        if (e.status !== 404) return null;
        model.payout = null; // never had a payout
        model.payoutLoaded = true;
        return payoutDelayMs(null);
      },
    ),
  ),
  task('gifts', () => hasIdentity() && model.channelId != null && model.giftsAvailable, async (signal) =>
    fromResult(
      'gifts',
      await api.get<GiftRequest[]>(`/api/streamers/${encodeURIComponent(model.channelId ?? '')}/gift-queue`, { signal }),
      (q) => {
        model.gifts = Array.isArray(q) ? q : [];
        const g = giftView(myGift(model.gifts, model.identity.userId));
        return giftDelayMs(g.kind === 'active');
      },
      (e) => {
        if (e.status !== 404) return null;
        model.giftsAvailable = false; // an EBS without the gift queue
        return 10 * 60_000;
      },
    ),
  ),
  {
    name: 'version',
    enabled: () => true,
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
const app = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app' }));

const updateBanner = h('div', { class: 'banner', role: 'status', hidden: true });
const alertTitle = h('strong');
const alertBody = h('span');
const alertMeta = h('span', { class: 'meta' });
const retryButton = h('button', { type: 'button', class: 'small', onclick: () => retryNow() }, 'Retry');
const alertBox = h('div', { class: 'alert', role: 'alert', hidden: true }, alertTitle, alertBody, h('div', { class: 'row' }, alertMeta, retryButton));

const payoutCard = h('section', { class: 'card payout', 'aria-label': 'Your payout', hidden: true });

const phaseLine = h('p', { class: 'phase', 'aria-live': 'polite' });
const outcomeLine = h('p', { class: 'outcome', hidden: true });
const countdownLabel = h('span', { class: 'label' });
const countdownValue = h('span', { class: 'time', 'aria-live': 'off' }, '--:--');
const countdownHint = h('p', { class: 'hint' });
const barFill = h('div', { class: 'fill' });
const barMark = h('div', { class: 'mark' });
const rouletteCard = h(
  'section',
  { class: 'card roulette', 'aria-label': 'Roulette' },
  wheel.el,
  phaseLine,
  outcomeLine,
  h('div', { class: 'countdown' }, countdownLabel, countdownValue),
  h('div', { class: 'bar' }, barFill, barMark),
  countdownHint,
);

const identityText = h('p');
const identityButton = h(
  'button',
  { type: 'button', onclick: () => ext?.actions?.requestIdShare?.() },
  'Share your identity to see your status',
);
const identityCard = h('section', { class: 'card identity', 'aria-label': 'Identity', hidden: true }, identityText, identityButton);

const youLine = h('p', { class: 'you' });
const poolLine = h('p', { class: 'muted pool' });
const joinInput = h('input', {
  type: 'text',
  name: 'characterName',
  placeholder: 'CharacterName',
  maxlength: 12,
  autocomplete: 'off',
  spellcheck: 'false',
  'aria-label': 'Character name',
});
const joinButton = h('button', { type: 'submit' }, 'Join');
const joinNote = h('p', { class: 'note', hidden: true });
const joinForm = h('form', { class: 'inline', hidden: true, onsubmit: (e: Event) => void submitJoin(e) }, joinInput, joinButton);
const rulesList = h('ul');
const joinCard = h(
  'section',
  { class: 'card join', 'aria-label': 'How to join' },
  h('h2', null, 'How to join'),
  youLine,
  h('p', null, 'Subscribers type ', code('!twgold <CharacterName>'), ' in stream chat.'),
  h('p', { class: 'muted' }, 'Names are 2–12 Latin or Cyrillic letters, and each name can be in the pool only once.'),
  poolLine,
  joinForm,
  joinNote,
  h('details', null, h('summary', null, 'Rules'), rulesList),
);

const giftStatus = h('p', { class: 'gift-status', hidden: true });
const giftInput = h('input', {
  type: 'text',
  name: 'giftCharacterName',
  placeholder: 'CharacterName',
  maxlength: 12,
  autocomplete: 'off',
  spellcheck: 'false',
  'aria-label': 'Character name for the gift',
});
const giftButton = h('button', { type: 'submit' }, 'Ask');
const giftNote = h('p', { class: 'note', hidden: true });
const giftForm = h('form', { class: 'inline', hidden: true, onsubmit: (e: Event) => void submitGift(e) }, giftInput, giftButton);
const giftCard = h(
  'section',
  { class: 'card gift', 'aria-label': 'Gift' },
  h('h2', null, 'Gift'),
  h('p', null, 'Subscribers can ask once for a random item from the streamer’s bags: type ', code('!twgift <CharacterName>'), ' in chat.'),
  giftStatus,
  giftForm,
  giftNote,
);

const footer = h('footer', null, `v${APP_VERSION}`);

fill(
  app,
  h('header', null, h('span', { class: 'logo', 'aria-hidden': 'true' }, '⚙'), h('h1', null, "Mimiron's Gold-o-Matic")),
  updateBanner,
  alertBox,
  payoutCard,
  rouletteCard,
  identityCard,
  joinCard,
  giftCard,
  footer,
);

// ------------------------------------------------------------------ render

const ORDER: TaskName[] = ['state', 'me', 'payout', 'gifts'];

function everyText(sec: number): string {
  if (sec % 60 === 0) return sec === 60 ? 'every minute' : `every ${sec / 60} minutes`;
  return `every ${sec} seconds`;
}

function renderRules(): void {
  const sec = model.state?.spinIntervalSeconds ?? 300;
  const rules = [
    `The wheel spins ${everyText(sec)} and draws one viewer from the pool at random.`,
    'The drawn viewer wins only if their character is online in WoW; otherwise nobody wins that round.',
    'Not drawn? You stay in the pool for the next spins.',
    'Winners leave the pool once the gold is delivered, and may join again.',
    '1,000 g per win, at most 10,000 g per viewer in total.',
  ];
  if (rulesList.childElementCount !== rules.length || rulesList.firstChild?.textContent !== rules[0]) {
    fill(rulesList, ...rules.map((r) => h('li', null, r)));
  }
}

function renderAlert(): void {
  const name = ORDER.find((n) => model.errors.has(n));
  const entry = name ? model.errors.get(name) : undefined;
  show(alertBox, entry != null);
  if (!name || !entry) return;
  const { error, retryAt } = entry;
  const f = friendlyError(error);
  setText(alertTitle, f.title);
  setText(alertBody, ' ' + f.body);
  const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  const hasData = name === 'state' ? model.state != null : name === 'me' ? model.me != null : name === 'payout' ? model.payoutLoaded : model.gifts != null;
  setText(alertMeta, (hasData ? 'Showing the last data received. ' : '') + (secs > 0 ? `Retrying in ${secs} s.` : 'Retrying…'));
}

function renderPayout(): void {
  const v = hasIdentity() ? payoutView(model.payout) : ({ kind: 'none' } as const);
  show(payoutCard, v.kind !== 'none');
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
        h('h2', { class: 'won' }, 'You won!'),
        h('p', { class: 'sub' }, `${v.gold.toLocaleString('en-US')} g for `, h('b', null, v.name)),
        h(
          'ol',
          { class: 'steps' },
          h('li', null, 'You’ll get an in-game whisper (in Russian) from the streamer’s character.'),
          h(
            'li',
            { class: v.accepted ? 'done' : 'now' },
            'Reply to it with ',
            code('!twgold'),
            ' to accept.',
            v.accepted ? h('span', { class: 'ok' }, ' Accepted ✓') : null,
          ),
          h('li', { class: v.accepted || v.status === 'InProgress' ? 'now' : null }, `The streamer then mails the gold to ${v.name}.`),
        ),
        h('p', { class: 'chip' }, v.statusLine),
      );
    case 'sent':
      return fill(
        payoutCard,
        h('h2', { class: 'sent' }, 'Reward sent'),
        h('p', { class: 'reward', lang: 'ru' }, v.rewardLine),
        h('p', { class: 'muted' }, `${v.gold.toLocaleString('en-US')} g are in ${v.name}’s mailbox.`),
      );
    case 'last':
      return fill(payoutCard, h('h2', { class: 'calm' }, 'Last payout'), h('p', { class: 'muted' }, v.line));
  }
}

function renderRoulette(): void {
  const s = model.state;
  if (!s) {
    wheel.update(null, [], 0);
    const failed = model.errors.has('state');
    setText(
      phaseLine,
      model.helperMissing
        ? 'Open this panel on Twitch to see the roulette.'
        : model.token == null
          ? 'Connecting to Twitch…'
          : failed
            ? 'The roulette could not be loaded yet.'
            : 'Loading the roulette…',
    );
    show(outcomeLine, false);
    setText(countdownLabel, 'Next round in');
    setText(countdownHint, '');
    rouletteCard.dataset.phase = 'loading';
    return;
  }
  const v = rouletteView(s);
  rouletteCard.dataset.phase = v.phase;
  const t = cycleTimes(s);
  const spinEndsIn = t ? t.verifyAt - clock.now() : 0;
  wheel.update(v, s.poolCharacterNames ?? [], spinEndsIn);
  setText(phaseLine, v.phaseLine);
  show(outcomeLine, v.outcome != null);
  if (v.outcome) {
    setText(outcomeLine, v.outcome.text);
    outcomeLine.className = 'outcome ' + v.outcome.kind;
  }
  setText(countdownLabel, v.countdownLabel);
  setText(countdownHint, v.countdownHint ?? '');
  tickCountdown();
}

function renderIdentity(): void {
  const opaque = model.token != null && !hasIdentity();
  show(identityCard, opaque);
  if (!opaque) return;
  const loggedOut = (model.identity.opaqueUserId ?? '').startsWith('A');
  setText(
    identityText,
    loggedOut
      ? 'Log in to Twitch and share your identity with this extension to see whether you’re in the pool and what you won.'
      : 'Share your Twitch identity with this extension to see whether you’re in the pool and what you won.',
  );
  identityButton.disabled = typeof ext?.actions?.requestIdShare !== 'function';
}

function renderJoin(): void {
  renderRules();
  const s = model.state;
  setText(poolLine, s ? `Pool: ${s.poolParticipantCount} ${s.poolParticipantCount === 1 ? 'viewer' : 'viewers'}` : 'Pool: …');
  const me = hasIdentity() ? model.me : null;
  show(youLine, me != null);
  if (me?.isEnrolled && me.characterName) {
    fill(youLine, 'You’re in as ', h('b', null, me.characterName));
    youLine.className = 'you in';
  } else if (me) {
    fill(youLine, 'You’re not in the pool yet.');
    youLine.className = 'you out';
  }
  const active = model.payout?.status === 'Pending' || model.payout?.status === 'InProgress';
  show(joinForm, me != null && !me.isEnrolled && !active);
}

function renderGift(): void {
  const g = hasIdentity() ? giftView(myGift(model.gifts, model.identity.userId)) : ({ kind: 'none' } as const);
  show(giftStatus, g.kind !== 'none');
  if (g.kind !== 'none') {
    setText(giftStatus, g.line);
    giftStatus.className = 'gift-status ' + g.kind;
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
    h('span', null, `This panel is out of date (v${APP_VERSION}; v${min} needed). `),
    h('button', { type: 'button', class: 'small', onclick: () => location.reload() }, 'Reload'),
    notes ? h('a', { href: notes, target: '_blank', rel: 'noopener noreferrer' }, ' What’s new') : null,
  );
}

function render(): void {
  renderBanner();
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
  const s = model.state;
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
  if (model.errors.size > 0) renderAlert(); // keeps "Retrying in N s" current
  countdownTimer = setTimeout(tickCountdown, msUntilNextSecond(target, now));
}

// ------------------------------------------------------------------ actions

function retryNow(): void {
  for (const [name, e] of model.errors) model.errors.set(name, { ...e, retryAt: Date.now() });
  poller.retryFailed();
  render();
}

function note(el: HTMLElement, kind: 'ok' | 'error', title: string, body = ''): void {
  el.className = 'note ' + kind;
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
    const f = friendlyError({ code: 'invalid_character_name' });
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
    note(joinNote, 'ok', `You’re in as ${r.data?.characterName ?? name}!`);
    model.me = { isEnrolled: true, characterName: r.data?.characterName ?? name };
    poller.poke('me', 500);
    poller.poke('state', 300);
    render();
    return;
  }
  if (r.error.code !== 'network' && r.error.code !== 'timeout') joinRequestId = null;
  const f = friendlyError(r.error);
  note(joinNote, 'error', f.title, f.body);
}

async function submitGift(e: Event): Promise<void> {
  e.preventDefault();
  const name = giftInput.value.trim();
  if (!isValidCharacterName(name)) {
    const f = friendlyError({ code: 'invalid_character_name' });
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
  const f = friendlyError(r.error);
  note(giftNote, 'error', f.title, f.body);
}

// ------------------------------------------------------------------ lifecycle

let extHidden = false;

function syncVisibility(): void {
  const hidden = document.visibilityState === 'hidden' || extHidden;
  if (hidden) {
    poller.pause();
  } else if (model.token != null && !poller.running) {
    poller.start();
  }
}

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
} else {
  model.helperMissing = true;
}
document.addEventListener('visibilitychange', syncVisibility);
render();
