// The broadcaster configuration page: nothing to set, only what this build
// targets and a checklist, plus a live check that the EBS answers. Laid out
// for the configuration view of the extension manager (fluid up to 720 px,
// no fixed height: the page scrolls with the dashboard).

import './style.css';
import { ApiClient } from './api';
import { code, fill, h, setText } from './dom';
import { APP_VERSION, BUILD_EBS_URL } from './env';
import { friendlyError } from './errors';
import { type Lang, pickLang, type Strings, strings } from './i18n';
import { twitchExt } from './twitch';
import type { VersionInfo } from './types';
import { needsUpdate } from './version';

const ext = twitchExt();
const ebsUrl = ext?.mgmDevEbsUrl || BUILD_EBS_URL;
const app = document.getElementById('app') ?? document.body;
let lang: Lang = pickLang(null, location.search);
let checked: string | null = null;

function page(t: Strings): void {
  document.documentElement.lang = lang;
  const status = h('p', { class: 'muted', role: 'status' }, checked ?? t.cfgChecking);
  status.id = 'ebs-status';
  fill(
    app,
    h('div', { class: 'head' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '⚙'), h('h1', null, t.title)),
    h(
      'section',
      { class: 'card', 'aria-label': t.cfgNoSettings },
      h('h2', null, t.cfgNoSettings),
      h('p', null, t.cfgIntro),
      h('p', null, code(ebsUrl)),
      status,
      h('p', { class: 'muted' }, t.cfgVersion(APP_VERSION)),
    ),
    h(
      'section',
      { class: 'card', 'aria-label': t.cfgChecklist },
      h('h2', null, t.cfgChecklist),
      h(
        'ol',
        null,
        h('li', null, t.cfgOneChannel),
        h('li', null, 'Production: ', code('Twitch__ExtensionSecret'), ', ', code('Twitch__EventSubSecret'), ', ', code('Twitch__BroadcasterUserId'), '.'),
        h('li', null, 'Allowlist for URL Fetching Domains: ', code(ebsUrl), '.'),
        h('li', null, code('Twitch__ExtensionClientId'), ' (CORS, Extension PubSub).'),
        h('li', null, 'EventSub ', code('channel.chat.message'), ' → ', code(ebsUrl + '/api/twitch/eventsub'), '.'),
        h('li', null, 'Identity linking: on.'),
        h('li', null, 'Desktop companion + WoW addon.'),
      ),
    ),
  );
}

async function check(): Promise<void> {
  const api = new ApiClient({ baseUrl: ebsUrl, getToken: () => null });
  const r = await api.get<VersionInfo>('/api/version');
  const t = strings(lang);
  if (!r.ok) {
    checked = t.cfgUnreachable(friendlyError(r.error, t).title);
  } else {
    const v = r.data;
    checked = t.cfgReachable(v.version) + (needsUpdate(v.minimumExtensionVersion, APP_VERSION) ? t.cfgNeedsNewer(v.minimumExtensionVersion ?? '') : '');
  }
  const el = document.getElementById('ebs-status');
  if (el) setText(el, checked);
}

page(strings(lang));
ext?.onContext?.((ctx) => {
  if (ctx?.theme === 'light' || ctx?.theme === 'dark') document.documentElement.dataset.theme = ctx.theme;
  const next = pickLang(ctx?.language, location.search);
  if (next !== lang) {
    lang = next;
    page(strings(lang));
  }
});
void check();
