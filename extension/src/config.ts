// The broadcaster configuration page: nothing to set, only what this build
// targets and a checklist, plus a live check that the EBS answers.

import './style.css';
import { ApiClient } from './api';
import { code, fill, h, setText } from './dom';
import { APP_VERSION, BUILD_EBS_URL } from './env';
import { friendlyError } from './errors';
import { twitchExt } from './twitch';
import type { VersionInfo } from './types';
import { needsUpdate } from './version';

const ext = twitchExt();
const ebsUrl = ext?.mgmDevEbsUrl || BUILD_EBS_URL;
const status = h('p', { class: 'muted' }, 'Checking the EBS…');
const app = document.getElementById('app') ?? document.body;

fill(
  app,
  h('header', null, h('span', { class: 'logo', 'aria-hidden': 'true' }, '⚙'), h('h1', null, "Mimiron's Gold-o-Matic")),
  h(
    'section',
    { class: 'card' },
    h('h2', null, 'No settings needed'),
    h('p', null, 'This panel shows your viewers the gold roulette. It talks to the EBS this build targets:'),
    h('p', null, code(ebsUrl)),
    status,
    h('p', { class: 'muted' }, `Panel version v${APP_VERSION}.`),
  ),
  h(
    'section',
    { class: 'card' },
    h('h2', null, 'Checklist'),
    h(
      'ol',
      null,
      h('li', null, 'The EBS runs in Production with ', code('Twitch__ExtensionSecret'), ', ', code('Twitch__EventSubSecret'), ' and ', code('Twitch__BroadcasterUserId'), ' set.'),
      h('li', null, 'Its HTTPS origin is in the extension’s “Allowlist for URL Fetching Domains”.'),
      h('li', null, code('Twitch__ExtensionClientId'), ' is set so the EBS allows this extension’s origin (CORS).'),
      h('li', null, 'The EventSub subscription ', code('channel.chat.message'), ' points at ', code(ebsUrl + '/api/twitch/eventsub'), '.'),
      h('li', null, 'Identity linking is enabled, so viewers can share their identity and see their status.'),
      h('li', null, 'The Desktop companion runs while you stream, with the WoW addon installed.'),
    ),
  ),
);

async function check(): Promise<void> {
  const api = new ApiClient({ baseUrl: ebsUrl, getToken: () => null });
  const r = await api.get<VersionInfo>('/api/version');
  if (!r.ok) {
    const f = friendlyError(r.error);
    setText(status, `EBS not reachable from here: ${f.title}.`);
    return;
  }
  const v = r.data;
  setText(
    status,
    `EBS reachable (v${v.version}).` +
      (needsUpdate(v.minimumExtensionVersion, APP_VERSION) ? ` It needs panel v${v.minimumExtensionVersion} or newer — upload a newer release.` : ''),
  );
}

void check();
