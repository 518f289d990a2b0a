// A stand-in for Twitch's extension helper (window.Twitch.ext), served by the
// EBS in Development only and by the extension's end-to-end test. It mints a
// development JWT for the viewer named in the page's query
// (?userId=&displayName=&opaque=1) from GET /dev/token and hands it to the
// panel through onAuthorized, like Twitch does. More query parameters:
//   ebs=<origin>      the EBS (default: the page's own origin; set it when the
//                     panel is served from another origin, as Twitch does)
//   theme=light|dark  what onContext reports (default dark)
//   language=ru|en…   what onContext reports (default en); Twitch also puts
//                     language= and locale= on the panel's URL
//   pubsub=<url>      a text/event-stream of Extension PubSub messages for the
//                     channel: each event's data is the message, or a JSON
//                     envelope with a "message" string (and an optional
//                     "target"); listen('broadcast', cb) receives them
(function () {
  'use strict';
  var q = new URLSearchParams(location.search);
  var userId = q.get('userId') || 'dev-viewer-1';
  var displayName = q.get('displayName') || '';
  var opaque = q.get('opaque') === '1' || q.get('opaque') === 'true' || q.get('opaque') === 'on';
  var anonymous = q.get('anonymous') === '1' || q.get('anonymous') === 'true';
  var ebs = (q.get('ebs') || location.origin).replace(/\/+$/, '');
  var tokenUrl = q.get('ebs') ? ebs + '/dev/token' : location.pathname.replace(/\/panel\/[^/]*$/, '') + '/token';
  var theme = q.get('theme') === 'light' ? 'light' : 'dark';
  var language = q.get('language') || 'en';
  var pubsub = q.get('pubsub') || '';
  var authorized = [];
  var visibility = [];
  var listeners = [];
  var source = null;
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

  // Extension PubSub: one stream for the page, handed to every listener of its target.
  function deliver(data) {
    var target = 'broadcast';
    var message = data;
    try {
      var env = JSON.parse(data);
      if (env && typeof env === 'object' && typeof env.message === 'string') {
        message = env.message;
        if (typeof env.target === 'string') target = env.target;
        else if (Array.isArray(env.target) && env.target.length > 0) target = env.target[0];
      }
    } catch (e) {
      // Not JSON: the data is the message itself.
    }
    listeners.forEach(function (l) {
      if (l.target === target) l.cb(target, 'application/json', message);
    });
  }

  function subscribe() {
    if (source || !pubsub || typeof EventSource !== 'function') return;
    source = new EventSource(pubsub);
    // The Helix stand-in names its events "broadcast" (the PubSub target);
    // unnamed events are accepted too.
    source.addEventListener('broadcast', function (ev) {
      deliver(ev.data);
    });
    source.onmessage = function (ev) {
      deliver(ev.data);
    };
  }

  var ext = {
    version: 'mgm-dev',
    environment: 'development',
    // The panel talks to this EBS (by default the one that serves this page, whatever port it listens on).
    mgmDevEbsUrl: ebs,
    onAuthorized: function (cb) {
      authorized.push(cb);
      if (current) cb(current);
    },
    onContext: function (cb) {
      cb({ theme: theme, mode: 'viewer', language: language, isFullScreen: false }, ['theme', 'mode', 'language']);
    },
    onVisibilityChanged: function (cb) {
      visibility.push(cb);
    },
    onError: function () {},
    onHighlightChanged: function () {},
    onPositionChanged: function () {},
    listen: function (target, cb) {
      listeners.push({ target: target, cb: cb });
      subscribe();
    },
    unlisten: function (target, cb) {
      listeners = listeners.filter(function (l) {
        return l.target !== target || l.cb !== cb;
      });
    },
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
