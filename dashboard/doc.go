// Package dashboard is hookd's browser UI, served at /ui: the operator's
// view of every app, an app key holder's view of one app, and the
// customer portal a portal link opens, which an operator may embed in an
// iframe on their own site.
//
// Pages are server-rendered with html/template from files embedded in the
// binary; nothing loads from another server. A small embedded script
// shows times in the viewer's zone, copies secrets and refreshes the
// delivery list while it is open; every page works without it. Charts are
// SVG drawn on the server.
//
// The dashboard reads and acts only through the service, as the API does,
// with the principal of the browser's session: the admin for the
// operator, one app for an app key or a portal link. Sessions are kept by
// the store as hashes (see service.SignIn and service.OpenPortalLink);
// the browser holds the secret in an HttpOnly cookie. Every form that
// changes something carries a token derived from that secret, and the
// request must come from the dashboard's own origin.
package dashboard
