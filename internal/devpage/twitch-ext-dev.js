// A stand-in for Twitch's extension helper (window.Twitch.ext), served by the
// EBS in Development only. It mints a development JWT for the viewer named in
// the page's query (?userId=&displayName=&opaque=1) from GET /dev/token and
// hands it to the panel through onAuthorized, like Twitch does.
(function () {
  'use strict';
  var q = new URLSearchParams(location.search);
  var userId = q.get('userId') || 'dev-viewer-1';
  var displayName = q.get('displayName') || '';
  var opaque = q.get('opaque') === '1' || q.get('opaque') === 'true' || q.get('opaque') === 'on';
  var anonymous = q.get('anonymous') === '1' || q.get('anonymous') === 'true';
  var tokenUrl = location.pathname.replace(/\/panel\/[^/]*$/, '') + '/token';
  var authorized = [];
  var visibility = [];
  var current = null;
  var refresh = null;
  var shared = !opaque && !anonymous;

  function mint() {
    var u = tokenUrl + '?userId=' + encodeURIComponent(userId);
    if (displayName) u += '&displayName=' + encodeURIComponent(displayName);
    if (!shared) u += anonymous ? '&anonymous=true' : '&opaque=true';
    return fetch(u, { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('GET ' + u + ' answered ' + r.status);
        return r.json();
      })
      .then(function (t) {
        current = { channelId: t.channelId, clientId: 'mgm-dev', token: t.token, userId: t.opaqueUserId, helixToken: '' };
        ext.viewer.opaqueId = t.opaqueUserId;
        ext.viewer.id = t.userId || null;
        ext.viewer.isLinked = !!t.userId;
        ext.viewer.sessionToken = t.token;
        authorized.forEach(function (cb) {
          cb(current);
        });
        // Twitch refreshes the token before it expires; so do we.
        clearTimeout(refresh);
        refresh = setTimeout(mint, Math.max(60, t.expiresInSeconds - 300) * 1000);
      })
      .catch(function (e) {
        console.error('dev Twitch.ext: could not mint a token', e);
      });
  }

  var ext = {
    version: 'mgm-dev',
    environment: 'development',
    // The panel talks to the EBS that serves this page (whatever port it listens on).
    mgmDevEbsUrl: location.origin,
    onAuthorized: function (cb) {
      authorized.push(cb);
      if (current) cb(current);
    },
    onContext: function (cb) {
      cb({ theme: 'dark', mode: 'viewer', language: 'en', isFullScreen: false }, ['theme', 'mode', 'language']);
    },
    onVisibilityChanged: function (cb) {
      visibility.push(cb);
    },
    onError: function () {},
    onHighlightChanged: function () {},
    onPositionChanged: function () {},
    listen: function () {},
    unlisten: function () {},
    send: function () {},
    actions: {
      requestIdShare: function () {
        if (shared || anonymous) return;
        shared = true;
        mint();
      },
      followChannel: function () {},
      minimize: function () {},
      onFollow: function () {},
    },
    viewer: { opaqueId: null, id: null, role: 'viewer', isLinked: false, sessionToken: null, subscriptionStatus: null, onChanged: function () {} },
    configuration: { broadcaster: null, developer: null, global: null, onChanged: function (cb) { cb(); }, set: function () {} },
    features: { isChatEnabled: true, isBitsEnabled: false, isSubscriptionStatusAvailable: false, onChanged: function () {} },
    rig: { log: function () { console.log.apply(console, arguments); } },
  };
  window.Twitch = window.Twitch || {};
  window.Twitch.ext = ext;
  mint();
})();
