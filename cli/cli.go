// Package cli is hookd's command line for the API's resources:
// `hookd <resource> <verb> [flags]`, over the Go client. Each command is
// one request (a list with --all follows its cursors), and prints the
// API's answer as a table for people or, with -o json, as the API's JSON
// exactly, one document per command, for scripts.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hookd/hookd/client"
)

// Run reports every error on Stderr itself, and returns it wrapping
// ErrUsage for a command line that makes no sense (the caller exits 2) or
// ErrFailed for a command that failed, by an API error or another (the
// caller exits 1).
var (
	ErrUsage  = errors.New("usage")
	ErrFailed = errors.New("failed")
)

// Env is what a command reads from outside its arguments.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Terminal reports whether Stdout is a terminal: tables are the
	// default there, JSON elsewhere.
	Terminal bool
	// HTTPClient sends the requests; nil means one with a 30 s timeout.
	HTTPClient *http.Client
}

// IsResource reports whether name is a resource this package serves.
func IsResource(name string) bool {
	_, ok := resources[name]
	return ok
}

// globalValued are the global flags that take a value.
var globalValued = map[string]bool{"server": true, "token": true, "app": true, "o": true, "output": true}

// Command finds a resource command in a command line whose global flags
// may come before the resource or the verb (`hookd --server X webhook
// --app acme list`), and returns it as resource, verb, then every other
// argument in order; false when it names no resource.
func Command(args []string) ([]string, bool) {
	var rest, found []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" && len(found) < 2 {
			rest = append(rest, a)
			name := strings.TrimLeft(a, "-")
			if globalValued[name] && i+1 < len(args) {
				rest = append(rest, args[i+1])
				i++
			}
			continue
		}
		if len(found) < 2 {
			found = append(found, a)
			continue
		}
		rest = append(rest, a)
	}
	if len(found) == 0 || !IsResource(found[0]) {
		return nil, false
	}
	return append(found, rest...), true
}

// Run runs `hookd <resource> <verb> ...`; args start with the resource
// and the verb, as Command returns them.
func Run(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || !IsResource(args[0]) {
		return fmt.Errorf("%w: unknown resource", ErrUsage)
	}
	res := resources[args[0]]
	if len(args) == 1 || isHelp(args[1]) {
		fmt.Fprint(env.Stdout, res.help(args[0]))
		return nil
	}
	cmd := res.command(args[1])
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "hookd %s: unknown command %q\n\n%s", args[0], args[1], res.help(args[0]))
		return fmt.Errorf("%w: unknown command", ErrUsage)
	}
	inv, err := parse(env, args[0], cmd, args[2:])
	if errors.Is(err, errHelp) {
		fmt.Fprint(env.Stdout, inv.usage())
		return nil
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "hookd %s %s: %v\n\n%s", args[0], cmd.verb, err, inv.usage())
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return inv.run(ctx)
}

func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "help" }

// invocation is one command with its parsed flags and arguments.
type invocation struct {
	env      Env
	resource string
	cmd      *command
	api      *client.Client
	output   string // "table" or "json"
	app      string
	args     []string // positional arguments
	fields   *fieldSet
	all      bool
	limit    int
}

func (inv *invocation) usage() string { return inv.cmd.usage(inv.resource) }

// run sends the command's request and prints the answer.
func (inv *invocation) run(ctx context.Context) error {
	if inv.cmd.needsApp && inv.app == "" {
		fmt.Fprintf(inv.env.Stderr, "hookd %s %s: --app is required (or HOOKD_APP)\n", inv.resource, inv.cmd.verb)
		return fmt.Errorf("%w: --app is required", ErrUsage)
	}
	req, err := inv.cmd.request(inv)
	if err != nil {
		fmt.Fprintf(inv.env.Stderr, "hookd %s %s: %v\n", inv.resource, inv.cmd.verb, err)
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var answer json.RawMessage
	if inv.cmd.list != "" {
		answer, err = inv.list(ctx, req)
	} else {
		_, err = inv.api.Do(ctx, req.method, req.path, req.body, &answer)
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Fprintf(inv.env.Stderr, "hookd: %s: %s\n", apiErr.Code, apiErr.Message)
		return fmt.Errorf("%w: %s: %s", ErrFailed, apiErr.Code, apiErr.Message)
	}
	if err != nil {
		fmt.Fprintf(inv.env.Stderr, "hookd: %v\n", err)
		return fmt.Errorf("%w: %v", ErrFailed, err)
	}
	if inv.output == "json" {
		_, err = fmt.Fprintf(inv.env.Stdout, "%s\n", answer)
	} else {
		err = inv.printTable(answer)
	}
	if err != nil {
		fmt.Fprintf(inv.env.Stderr, "hookd: %v\n", err)
		return fmt.Errorf("%w: %v", ErrFailed, err)
	}
	return nil
}

// list fetches one page (--limit), or every page (--all) joined into one
// document shaped like a page whose next is null.
func (inv *invocation) list(ctx context.Context, req *request) (json.RawMessage, error) {
	query := func(after string) string {
		sep := "?"
		if strings.Contains(req.path, "?") {
			sep = "&"
		}
		q := ""
		if inv.limit > 0 {
			q += fmt.Sprintf("%slimit=%d", sep, inv.limit)
			sep = "&"
		} else if inv.all {
			q += sep + "limit=250"
			sep = "&"
		}
		if after != "" {
			q += sep + "after=" + after
		}
		return req.path + q
	}
	var page json.RawMessage
	if _, err := inv.api.Do(ctx, http.MethodGet, query(""), nil, &page); err != nil {
		return nil, err
	}
	if !inv.all {
		return page, nil
	}
	var items []json.RawMessage
	for {
		var p map[string]json.RawMessage
		if err := json.Unmarshal(page, &p); err != nil {
			return nil, fmt.Errorf("decode page: %w", err)
		}
		var these []json.RawMessage
		if err := json.Unmarshal(p[inv.cmd.list], &these); err != nil {
			return nil, fmt.Errorf("decode page: %w", err)
		}
		items = append(items, these...)
		var next *string
		if err := json.Unmarshal(p["next"], &next); err != nil {
			return nil, fmt.Errorf("decode page: %w", err)
		}
		if next == nil || *next == "" {
			break
		}
		page = nil
		if _, err := inv.api.Do(ctx, http.MethodGet, query(urlQueryEscape(*next)), nil, &page); err != nil {
			return nil, err
		}
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return json.Marshal(map[string]any{inv.cmd.list: items, "next": nil})
}

// request is what a command sends.
type request struct {
	method, path string
	body         any // nil for none
}

// newClient makes the API client from --server and --token.
func newClient(env Env, server, token string) *client.Client {
	hc := env.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return client.New(server, token, hc)
}

// readData reads a JSON value given as text, @file or - (standard input).
func readData(env Env, flagName, v string) (json.RawMessage, error) {
	var b []byte
	var err error
	switch {
	case v == "-":
		b, err = io.ReadAll(env.Stdin)
	case strings.HasPrefix(v, "@"):
		b, err = os.ReadFile(v[1:])
	default:
		b = []byte(v)
	}
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagName, err)
	}
	b = []byte(strings.TrimSpace(string(b)))
	if !json.Valid(b) {
		return nil, fmt.Errorf("--%s is not valid JSON", flagName)
	}
	return json.RawMessage(b), nil
}

// resourceNames lists the resources in help order.
func resourceNames() []string {
	names := make([]string, 0, len(resources))
	for n := range resources {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return resources[a].order - resources[b].order })
	return names
}

// Help is the resource commands' part of `hookd help`.
func Help() string {
	var b strings.Builder
	b.WriteString("Resources (hookd <resource> <verb> -h for each):\n")
	for _, n := range resourceNames() {
		r := resources[n]
		verbs := make([]string, len(r.commands))
		for i, c := range r.commands {
			verbs[i] = c.verb
		}
		fmt.Fprintf(&b, "  hookd %-11s %s\n", n, strings.Join(verbs, "|"))
	}
	b.WriteString(`
Global flags, before or after the verb:
  --server URL      hookd's address (env HOOKD_URL; default http://127.0.0.1:8080)
  --token TOKEN     the admin token or an app key (env HOOKD_TOKEN)
  --app APP         the app's id or uid, where one is needed (env HOOKD_APP)
  -o table|json     a table (the default on a terminal) or the API's JSON
`)
	return b.String()
}
