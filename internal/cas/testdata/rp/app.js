// A small relying-party application protected by connect-cas2, an independent CAS
// client, for Préau's CAS tests. The Go tests start it on loopback:
//   PORT=<port> CAS_URL=<Préau's address> node app.js
// It prints "listening" once ready. Its home page shows the CAS user and attributes
// (as JSON at /moi.json); /logout logs out through Préau; Préau's single logout
// messages arrive at /cas/validate (connect-cas2's slo option).
'use strict';
const express = require('express');
const session = require('express-session');
const ConnectCas = require('connect-cas2');

const port = Number(process.env.PORT);
const base = 'http://127.0.0.1:' + port;
const quiet = function () { return function () {}; };

const app = express();
app.use(session({ name: 'rp_session', secret: 'rp-test-secret-not-a-real-one', resave: false, saveUninitialized: true }));
const cas = new ConnectCas({
  servicePrefix: base,
  serverPath: process.env.CAS_URL,
  paths: {
    validate: '/cas/validate',
    serviceValidate: '/cas/p3/serviceValidate',
    login: '/cas/login',
    logout: '/cas/logout',
    proxy: '/cas/proxy',
    // No proxy mode: Préau sends proxy-granting tickets to HTTPS callbacks only.
    proxyCallback: ''
  },
  ignore: [/^\/sante$/],
  slo: true,
  logger: process.env.RP_DEBUG ? undefined : quiet
});

app.get('/sante', function (req, res) { res.send('ok'); });
app.use(cas.core());

function esc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}

app.get('/', function (req, res) {
  const info = req.session.cas || {};
  const attrs = info.attributes || {};
  let rows = '';
  Object.keys(attrs).sort().forEach(function (k) {
    rows += '<dt>' + esc(k) + '</dt><dd>' + esc([].concat(attrs[k]).join(', ')) + '</dd>';
  });
  res.type('html').send('<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Service de test</title></head><body><main>' +
    '<h1>Service de test</h1><p>Connecté en tant que <strong id="user">' + esc(info.user || '') + '</strong></p>' +
    '<h2>Informations reçues</h2><dl id="attributes">' + rows + '</dl>' +
    '<p><a id="logout" href="/logout">Se déconnecter</a></p></main></body></html>');
});

app.get('/moi.json', function (req, res) {
  const info = req.session.cas || {};
  res.json({ user: info.user || '', attributes: info.attributes || {} });
});

app.get('/logout', cas.logout());

app.listen(port, '127.0.0.1', function () { console.log('listening'); });
