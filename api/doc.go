// Package api holds the HTTP API's JSON bodies: the answers the server
// writes (httpapi fills them from the domain) and the client reads (its
// types are these), so that the two cannot drift apart. It imports only
// the standard library and the root package.
//
// Absent values are null, never left out; a few fields appear only in
// some answers (a secret in create and rotate answers, a delivery's
// attempts in single reads), as their comments say.
package api
