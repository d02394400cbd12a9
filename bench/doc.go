// Package bench is the instrument behind `hookd bench`: it measures a real
// hookd process against a real receiver process on the same machine and
// reports the figures of SPEC section 10 next to the ceiling they were
// measured against.
//
// The pieces:
//
//   - [Receiver] is the other side of every delivery: an http.Handler that
//     answers 200 at once (or after a delay on /slow), counts receipts per
//     path prefix, keeps first and last receipt times, tells distinct
//     events from repeats, and records publish→receipt latency for bodies
//     that carry their send time. `hookd bench-receiver` serves it in a
//     process of its own, so that the bench's load generators, hookd and
//     the receiver each have their own Go runtime, as in production.
//   - [Ceiling] is the loopback ceiling: how many signed 1 KiB POSTs per
//     second one Go client can get through to the receiver on this machine.
//     hookd cannot deliver faster than that, so every delivery rate is
//     reported as a fraction of it.
//   - [Pace] is an open-loop load generator: it starts calls at planned
//     times, whatever the previous calls are doing, and counts the starts
//     that were late.
//   - [Run] starts both processes, runs the ceiling and the scenarios
//     (sustained, latency, fanout, backlog, slow; reads on request) and
//     returns a [Report], which prints as a table or as JSON, each stating
//     the machine.
//   - The reads scenario has [Config.Seed] write millions of deliveries
//     straight into the store of the hookd under test ([store.Seed]),
//     then times every read route of the API from one client, idle and
//     while another app is delivered to.
//
// Nothing here asserts a target: a benchmark reports, a reader judges.
package bench
