// Package hookd holds the domain of the hookd webhook platform: apps, event
// types, webhooks, events, deliveries and attempts, the signing profile that
// shapes what goes on the wire, and the error codes every layer speaks.
//
// It imports only the standard library. Storage lives behind the store
// package, delivery in deliver, the HTTP API in httpapi; each of them is
// written against the types declared here.
package hookd
