package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// resource is a noun of the command line and its verbs.
type resource struct {
	order    int
	summary  string
	commands []*command
}

func (r *resource) command(verb string) *command {
	for _, c := range r.commands {
		if c.verb == verb {
			return c
		}
	}
	return nil
}

func (r *resource) help(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hookd %s — %s\n\nCommands:\n", name, r.summary)
	for _, c := range r.commands {
		fmt.Fprintf(&b, "  hookd %s %-8s %s\n", name, c.verb, c.summary)
	}
	fmt.Fprintf(&b, "\nRun \"hookd %s <command> -h\" for a command's flags and an example.\n", name)
	return b.String()
}

// command is one verb of a resource: what it sends and how its answer
// reads as a table.
type command struct {
	verb, summary, example string
	args                   []string // positional arguments, by name
	needsApp               bool
	fields                 []field  // flags that set body fields
	options                []field  // flags that set query parameters or other request parts
	required               []string // JSON names of fields that must be given
	list                   string   // for a list: the answer's key of the items
	columns                []column // for a list: the table's columns
	build                  func(inv *invocation) (*request, error)
}

func (c *command) request(inv *invocation) (*request, error) { return c.build(inv) }

func (c *command) usage(resource string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: hookd %s %s", resource, c.verb)
	for _, a := range c.args {
		fmt.Fprintf(&b, " %s", strings.ToUpper(a))
	}
	b.WriteString(" [flags]\n\n" + strings.ToUpper(c.summary[:1]) + c.summary[1:] + ".\n\nFlags:\n")
	line := func(flag, usage string) { fmt.Fprintf(&b, "  %-20s %s\n", flag, usage) }
	for _, f := range append(append([]field(nil), c.fields...), c.options...) {
		line("--"+f.flag+valueHint(f.kind), f.usage)
	}
	if c.list != "" {
		line("--all", "every page, following the cursors")
		line("--limit N", "one page of N items (1-250; default 50)")
	}
	if c.needsApp {
		line("--app APP", "the app's id or uid (env HOOKD_APP); required")
	}
	line("--server URL", "hookd's address (env HOOKD_URL; default http://127.0.0.1:8080)")
	line("--token TOKEN", "the admin token or an app key (env HOOKD_TOKEN)")
	line("-o table|json", "a table, or the API's JSON exactly")
	fmt.Fprintf(&b, "\nExample:\n  %s\n", c.example)
	return b.String()
}

func valueHint(k kind) string {
	switch k {
	case kBool:
		return ""
	case kInt, kNumber:
		return " N"
	case kList:
		return " A,B"
	case kJSON:
		return " JSON"
	case kHeaders:
		return " 'K: V'"
	case kPairs:
		return " K=V"
	case kTime:
		return " TIME"
	default:
		return " TEXT"
	}
}

// appPath is the path of the invocation's app, plus more.
func appPath(inv *invocation, more ...string) string {
	p := "/v1/apps/" + url.PathEscape(inv.app)
	for _, m := range more {
		p += "/" + m
	}
	return p
}

// arg is positional argument i, escaped for a path.
func arg(inv *invocation, i int) string { return url.PathEscape(inv.args[i]) }

func get(path func(*invocation) string) func(*invocation) (*request, error) {
	return func(inv *invocation) (*request, error) { return &request{method: http.MethodGet, path: path(inv)}, nil }
}

func send(method string, path func(*invocation) string) func(*invocation) (*request, error) {
	return func(inv *invocation) (*request, error) {
		r := &request{method: method, path: path(inv)}
		if b := inv.fields.body(); b != nil {
			r.body = b
		}
		return r, nil
	}
}

func del(path func(*invocation) string) func(*invocation) (*request, error) {
	return func(inv *invocation) (*request, error) {
		return &request{method: http.MethodDelete, path: path(inv)}, nil
	}
}

// Fields shared by several commands.
var (
	fName        = field{"name", "name", kString, "a name people read (1-120 characters)"}
	fDescription = field{"description", "description", kString, "what it is for (at most 2,000 characters)"}
	fEvents      = field{"events", "events", kList, "event types, comma-separated; * for all, job.* for a prefix"}
	fSecret      = field{"secret", "secret", kString, "the signing secret (generated when left out)"}
	fStatus      = field{"status", "status", kString, "active, paused or disabled"}
	fGrace       = field{"grace-seconds", "grace_seconds", kNumber, "how long the old secret still works (default 0: it stops at once)"}
)

var webhookFields = []field{
	{"url", "url", kString, "the endpoint's URL (https)"},
	fEvents, fName, fDescription, fSecret,
	{"header", "headers", kHeaders, "a header sent with every delivery, 'Name: value' (repeatable)"},
	{"rate-limit", "rate_limit", kInt, "deliveries a second at most (0: no limit)"},
	{"ordered", "ordered", kBool, "deliver one at a time in publish order"},
	{"metadata", "metadata", kPairs, "key=value kept with the webhook (repeatable)"},
}

var sourceFields = []field{
	fName,
	{"provider", "provider", kString, "standard, stripe, github, linear, shopify, slack, hmac-hex or timestamped-hex"},
	fSecret,
	{"forward-url", "forward_url", kString, "where verified requests are forwarded"},
	{"events", "events", kList, "an allow-list of event types, comma-separated"},
	fDescription,
	{"header-prefix", "header_prefix", kString, "the header prefix of hmac-hex and timestamped-hex"},
	{"tolerance-seconds", "tolerance_seconds", kInt, "largest accepted timestamp age (default 300)"},
}

var appFields = []field{
	fName,
	{"uid", "uid", kString, "your own id for the app, usable in paths"},
	{"contact-email", "contact_email", kString, "where notices about its webhooks are emailed"},
	{"profile", "profile", kJSON, "the signing profile: JSON, @file.json or - (standard input)"},
}

var eventTypeFields = []field{
	{"name", "name", kString, "dot-separated words, e.g. invoice.paid"},
	fDescription,
	{"status", "status", kString, "active, reserved or deprecated"},
	{"schema", "schema", kJSON, "a JSON Schema of the data: JSON, @file.json or -"},
}

var resources = map[string]*resource{
	"app": {order: 0, summary: "your customers: each app holds webhooks, sources and events", commands: []*command{
		{verb: "list", summary: "list apps, newest first", example: "hookd app list", list: "apps",
			columns: cols("ID:id", "UID:uid", "NAME:name", "CREATED:created_at"),
			build:   get(func(*invocation) string { return "/v1/apps" })},
		{verb: "get", summary: "show one app", example: "hookd app get acme", args: []string{"app"},
			build: get(func(inv *invocation) string { return "/v1/apps/" + arg(inv, 0) })},
		{verb: "create", summary: "create an app; the answer holds its default_secret, shown once", example: "hookd app create --name 'Acme Inc' --uid acme",
			fields: appFields, required: []string{"name"}, build: send(http.MethodPost, func(*invocation) string { return "/v1/apps" })},
		{verb: "update", summary: "change an app's fields", example: "hookd app update acme --contact-email ops@acme.example", args: []string{"app"},
			fields: appFields, build: send(http.MethodPatch, func(inv *invocation) string { return "/v1/apps/" + arg(inv, 0) })},
		{verb: "delete", summary: "delete an app and everything in it", example: "hookd app delete acme", args: []string{"app"},
			build: del(func(inv *invocation) string { return "/v1/apps/" + arg(inv, 0) })},
		{verb: "rotate", summary: "make a new default_secret, shown once", example: "hookd app rotate acme", args: []string{"app"},
			build: send(http.MethodPost, func(inv *invocation) string { return "/v1/apps/" + arg(inv, 0) + "/rotate" })},
		{verb: "portal", summary: "make a link that opens the dashboard on this app alone, for its customer; prints its url", example: "hookd app portal acme --expires-in 86400",
			args:   []string{"app"},
			fields: []field{{"expires-in", "expires_in", kInt, "seconds the link works, 60 to 604800 (default 3600)"}},
			build:  send(http.MethodPost, func(inv *invocation) string { return "/v1/apps/" + arg(inv, 0) + "/portal" })},
	}},
	"key": {order: 1, summary: "app keys: an app's own access to its webhooks, sources and events", commands: []*command{
		{verb: "list", summary: "list an app's keys", example: "hookd key list --app acme", needsApp: true, list: "keys",
			columns: cols("ID:id", "NAME:name", "CREATED:created_at"), build: get(func(inv *invocation) string { return appPath(inv, "keys") })},
		{verb: "create", summary: "create a key; the answer holds it, shown once", example: "hookd key create --app acme --name 'acme backend'", needsApp: true,
			fields: []field{fName}, required: []string{"name"}, build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "keys") })},
		{verb: "delete", summary: "revoke a key", example: "hookd key delete --app acme key_01...", needsApp: true, args: []string{"id"},
			build: del(func(inv *invocation) string { return appPath(inv, "keys", arg(inv, 0)) })},
	}},
	"event-type": {order: 2, summary: "the catalog of event types", commands: []*command{
		{verb: "list", summary: "list the catalog", example: "hookd event-type list", list: "event_types",
			columns: cols("NAME:name", "STATUS:status", "DESCRIPTION:description"), build: get(func(*invocation) string { return "/v1/event-types" })},
		{verb: "get", summary: "show one event type", example: "hookd event-type get invoice.paid", args: []string{"name"},
			build: get(func(inv *invocation) string { return "/v1/event-types/" + arg(inv, 0) })},
		{verb: "create", summary: "add an event type", example: "hookd event-type create --name invoice.paid --description 'An invoice was paid' --schema @invoice.json",
			fields: eventTypeFields, required: []string{"name"}, build: send(http.MethodPost, func(*invocation) string { return "/v1/event-types" })},
		{verb: "update", summary: "change an event type", example: "hookd event-type update invoice.paid --status deprecated", args: []string{"name"},
			fields: eventTypeFields[1:], build: send(http.MethodPatch, func(inv *invocation) string { return "/v1/event-types/" + arg(inv, 0) })},
	}},
	"webhook": {order: 3, summary: "an app's endpoints", commands: []*command{
		{verb: "list", summary: "list an app's webhooks", example: "hookd webhook list --app acme", needsApp: true, list: "webhooks",
			columns: cols("ID:id", "STATUS:status", "URL:url", "EVENTS:events", "NAME:name"), build: get(func(inv *invocation) string { return appPath(inv, "webhooks") })},
		{verb: "get", summary: "show one webhook with its health", example: "hookd webhook get --app acme wh_01...", needsApp: true, args: []string{"id"},
			build: get(func(inv *invocation) string { return appPath(inv, "webhooks", arg(inv, 0)) })},
		{verb: "create", summary: "create a webhook; the answer holds its secret, shown once", needsApp: true,
			example: "hookd webhook create --app acme --url https://acme.example/hooks --events invoice.paid,invoice.voided --header 'X-Team: billing'",
			fields:  webhookFields, required: []string{"url"}, build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "webhooks") })},
		{verb: "update", summary: "change a webhook: any create flag, or --status", example: "hookd webhook update --app acme wh_01... --status paused", needsApp: true, args: []string{"id"},
			fields: append(append([]field(nil), webhookFields...), fStatus), build: send(http.MethodPatch, func(inv *invocation) string { return appPath(inv, "webhooks", arg(inv, 0)) })},
		{verb: "delete", summary: "delete a webhook", example: "hookd webhook delete --app acme wh_01...", needsApp: true, args: []string{"id"},
			build: del(func(inv *invocation) string { return appPath(inv, "webhooks", arg(inv, 0)) })},
		{verb: "rotate", summary: "make a new secret, shown once", example: "hookd webhook rotate --app acme wh_01... --grace-seconds 86400", needsApp: true, args: []string{"id"},
			fields: []field{fGrace}, build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "webhooks", arg(inv, 0), "rotate") })},
		{verb: "test", summary: "send a test event to this webhook only", example: "hookd webhook test --app acme wh_01... --type invoice.paid --data '{\"invoice\":\"in_1\"}'", needsApp: true, args: []string{"id"},
			fields: []field{{"type", "type", kString, "a catalog type (default webhook.test)"}, {"data", "data", kJSON, "the event's data: JSON, @file.json or -"}},
			build:  send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "webhooks", arg(inv, 0), "test") })},
		{verb: "recover", summary: "queue again the webhook's failed deliveries of a time range", example: "hookd webhook recover --app acme wh_01... --since 2026-12-07T00:00:00Z", needsApp: true, args: []string{"id"},
			fields:   []field{{"since", "since", kTime, "deliveries created at or after this time (RFC 3339)"}, {"until", "until", kTime, "and before this time (RFC 3339; default now)"}},
			required: []string{"since"}, build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "webhooks", arg(inv, 0), "recover") })},
	}},
	"event": {order: 4, summary: "what you publish", commands: []*command{
		{verb: "list", summary: "list an app's events (or one webhook's), newest first", example: "hookd event list --app acme --webhook wh_01...", needsApp: true, list: "events",
			options: []field{{"webhook", "webhook", kString, "only the events sent to this webhook"}},
			columns: cols("ID:id", "TYPE:type", "CREATED:created_at", "DELIVERIES:deliveries"),
			build: func(inv *invocation) (*request, error) {
				if w, ok := inv.fields.values["webhook"].(string); ok {
					return &request{method: http.MethodGet, path: appPath(inv, "webhooks", url.PathEscape(w), "events")}, nil
				}
				return &request{method: http.MethodGet, path: appPath(inv, "events")}, nil
			}},
		{verb: "get", summary: "show one event with its deliveries", example: "hookd event get --app acme evt_01...", needsApp: true, args: []string{"id"},
			build: get(func(inv *invocation) string { return appPath(inv, "events", arg(inv, 0)) })},
		{verb: "publish", summary: "publish an event", needsApp: true,
			example: "hookd event publish --app acme --type invoice.paid --data '{\"invoice\":\"in_123\",\"amount\":4200}'",
			fields: []field{
				{"type", "type", kString, "the event's type"},
				{"data", "data", kJSON, "the event's data: JSON, @file.json or - (standard input)"},
				{"idempotency-key", "idempotency_key", kString, "publish once per key within 24 hours"},
				{"webhook-url", "webhook_url", kString, "also deliver to this one-off URL"},
				{"webhook-events", "webhook_events", kList, "the one-off URL's event filter"},
			},
			required: []string{"type"}, build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "events") })},
	}},
	"delivery": {order: 5, summary: "one event to one webhook, with its attempts", commands: []*command{
		{verb: "list", summary: "list an app's deliveries (or one webhook's)", example: "hookd delivery list --app acme --webhook wh_01... --status failed", needsApp: true, list: "deliveries",
			options: []field{{"webhook", "webhook", kString, "only this webhook's deliveries"}, {"status", "status", kString, "pending, succeeded, failed or held"}},
			columns: cols("ID:id", "STATUS:status", "ATTEMPTS:attempt_count", "LAST:last_status_code", "EVENT:event_id", "WEBHOOK:webhook_id", "NEXT:next_attempt_at"),
			build: func(inv *invocation) (*request, error) {
				path := appPath(inv, "deliveries")
				if w, ok := inv.fields.values["webhook"].(string); ok {
					path = appPath(inv, "webhooks", url.PathEscape(w), "deliveries")
				}
				if s, ok := inv.fields.values["status"].(string); ok {
					path += "?status=" + url.QueryEscape(s)
				}
				return &request{method: http.MethodGet, path: path}, nil
			}},
		{verb: "get", summary: "show one delivery with every attempt", example: "hookd delivery get --app acme dlv_01...", needsApp: true, args: []string{"id"},
			build: get(func(inv *invocation) string { return appPath(inv, "deliveries", arg(inv, 0)) })},
		{verb: "retry", summary: "attempt a delivery again now, also a failed one", example: "hookd delivery retry --app acme dlv_01...", needsApp: true, args: []string{"id"},
			build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "deliveries", arg(inv, 0), "retry") })},
	}},
	"source": {order: 6, summary: "inbound receivers: a public URL third parties post to", commands: []*command{
		{verb: "list", summary: "list an app's sources", example: "hookd source list --app acme", needsApp: true, list: "sources",
			columns: cols("ID:id", "STATUS:status", "PROVIDER:provider", "NAME:name", "RECEIVE URL:receive_url"), build: get(func(inv *invocation) string { return appPath(inv, "sources") })},
		{verb: "get", summary: "show one source", example: "hookd source get --app acme src_01...", needsApp: true, args: []string{"id"},
			build: get(func(inv *invocation) string { return appPath(inv, "sources", arg(inv, 0)) })},
		{verb: "create", summary: "create a source; the answer holds its secret (once) and receive_url", needsApp: true,
			example: "hookd source create --app acme --name GitHub --provider github --forward-url https://acme.example/github",
			fields:  sourceFields, required: []string{"name", "provider"}, build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "sources") })},
		{verb: "update", summary: "change a source: any create flag, or --status", example: "hookd source update --app acme src_01... --status paused", needsApp: true, args: []string{"id"},
			fields: append(append([]field(nil), sourceFields...), fStatus), build: send(http.MethodPatch, func(inv *invocation) string { return appPath(inv, "sources", arg(inv, 0)) })},
		{verb: "delete", summary: "delete a source with what it received", example: "hookd source delete --app acme src_01...", needsApp: true, args: []string{"id"},
			build: del(func(inv *invocation) string { return appPath(inv, "sources", arg(inv, 0)) })},
		{verb: "rotate", summary: "make a new secret, shown once", example: "hookd source rotate --app acme src_01...", needsApp: true, args: []string{"id"},
			fields: []field{fGrace}, build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "sources", arg(inv, 0), "rotate") })},
		{verb: "test", summary: "send a correctly signed synthetic request through the source", example: "hookd source test --app acme src_01...", needsApp: true, args: []string{"id"},
			build: send(http.MethodPost, func(inv *invocation) string { return appPath(inv, "sources", arg(inv, 0), "test") })},
	}},
}
