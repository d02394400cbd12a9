// Package wire renders what hookd puts on the wire for each event: the
// JSON body shaped by an app's envelope, and the headers that sign it.
//
// Event data is kept and sent in canonical form ([CanonicalObject]): the
// bytes JavaScript's JSON.stringify(JSON.parse(x)) would produce. A
// receiver that parses a body and stringifies it again, as many Node.js
// frameworks do before the signature is checked, therefore gets back the
// very bytes that were signed. [Body] keeps that promise for the envelope
// around the data, and [SignatureHeaders] signs an attempt with package
// webhook under the app's profile.
//
// The canonical form differs from encoding/json's output: no HTML
// escaping, U+2028 and U+2029 left literal, numbers as JavaScript prints
// them (1e3 is 1000, 1e21 is 1e+21), and keys that are array indexes
// ("0", "17") moved first in ascending order, as JavaScript objects
// enumerate them. Duplicate keys are refused rather than resolved.
package wire
