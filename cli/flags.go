package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

var errHelp = errors.New("help")

// kind is how a field flag's text becomes a JSON value.
type kind int

const (
	kString  kind = iota // as it is
	kInt                 // an integer
	kNumber              // a number
	kBool                // true or false
	kList                // a,b,c → ["a","b","c"]
	kJSON                // JSON text, @file or - (standard input)
	kHeaders             // repeated 'Name: value' → {"Name":"value"}
	kPairs               // repeated key=value → {"key":"value"}
	kTime                // RFC 3339
)

// field is a flag that sets one field of a request body.
type field struct {
	flag  string // the flag's name
	json  string // the body field it sets
	kind  kind
	usage string
}

// fieldSet holds the body fields the command line set, and only those:
// an update sends exactly what was given.
type fieldSet struct {
	env    Env
	values map[string]any
	order  []string
	errs   []error
}

func (fs *fieldSet) set(f field, v any) {
	if _, ok := fs.values[f.json]; !ok {
		fs.order = append(fs.order, f.json)
	}
	fs.values[f.json] = v
}

// bind declares f on flags.
func (fs *fieldSet) bind(flags *flag.FlagSet, f field) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("--%s "+format, append([]any{f.flag}, args...)...)
	}
	switch f.kind {
	case kBool:
		flags.BoolFunc(f.flag, f.usage, func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fail("must be true or false")
			}
			fs.set(f, b)
			return nil
		})
		return
	case kHeaders, kPairs:
		flags.Func(f.flag, f.usage, func(s string) error {
			sep := ":"
			if f.kind == kPairs {
				sep = "="
			}
			k, v, ok := strings.Cut(s, sep)
			if !ok || strings.TrimSpace(k) == "" {
				if f.kind == kHeaders {
					return fail("must be 'Name: value'")
				}
				return fail("must be key=value")
			}
			m, _ := fs.values[f.json].(map[string]string)
			if m == nil {
				m = map[string]string{}
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
			fs.set(f, m)
			return nil
		})
		return
	}
	flags.Func(f.flag, f.usage, func(s string) error {
		switch f.kind {
		case kInt:
			n, err := strconv.Atoi(s)
			if err != nil {
				return fail("must be a whole number")
			}
			fs.set(f, n)
		case kNumber:
			n, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fail("must be a number")
			}
			fs.set(f, n)
		case kList:
			items := []string{}
			for _, it := range strings.Split(s, ",") {
				if it = strings.TrimSpace(it); it != "" {
					items = append(items, it)
				}
			}
			fs.set(f, items)
		case kJSON:
			raw, err := readData(fs.env, f.flag, s)
			if err != nil {
				return err
			}
			fs.set(f, raw)
		case kTime:
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return fail("must be an RFC 3339 time such as 2026-12-07T14:00:00Z")
			}
			fs.set(f, t.UTC().Format(time.RFC3339Nano))
		default:
			fs.set(f, s)
		}
		return nil
	})
}

// body is the JSON object of the set fields, keys in the order given; nil
// when none was set.
func (fs *fieldSet) body() json.RawMessage {
	if len(fs.order) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range fs.order {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		val, _ := json.Marshal(fs.values[k])
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}

// has reports whether the field with this JSON name was set.
func (fs *fieldSet) has(name string) bool {
	_, ok := fs.values[name]
	return ok
}

// parse reads a command's flags, which may come before or after its
// arguments, and the global flags.
func parse(env Env, resource string, cmd *command, args []string) (*invocation, error) {
	getenv := env.Getenv
	inv := &invocation{env: env, resource: resource, cmd: cmd, fields: &fieldSet{env: env, values: map[string]any{}}}
	flags := flag.NewFlagSet("hookd "+resource+" "+cmd.verb, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	server := flags.String("server", or(getenv("HOOKD_URL"), "http://127.0.0.1:8080"), "")
	token := flags.String("token", getenv("HOOKD_TOKEN"), "")
	flags.StringVar(&inv.app, "app", getenv("HOOKD_APP"), "")
	defaultOutput := "json"
	if env.Terminal {
		defaultOutput = "table"
	}
	flags.StringVar(&inv.output, "o", defaultOutput, "")
	flags.StringVar(&inv.output, "output", defaultOutput, "")
	if cmd.list != "" {
		flags.BoolVar(&inv.all, "all", false, "")
		flags.IntVar(&inv.limit, "limit", 0, "")
	}
	for _, f := range cmd.fields {
		inv.fields.bind(flags, f)
	}
	for _, f := range cmd.options {
		inv.fields.bind(flags, f)
	}

	var flagArgs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			inv.args = append(inv.args, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			inv.args = append(inv.args, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		if name == "h" || name == "help" {
			return inv, errHelp
		}
		flagArgs = append(flagArgs, a)
		if strings.Contains(name, "=") {
			continue
		}
		f := flags.Lookup(name)
		if f == nil {
			return inv, fmt.Errorf("unknown flag %s", a)
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 >= len(args) {
			return inv, fmt.Errorf("flag %s needs a value", a)
		}
		flagArgs = append(flagArgs, args[i+1])
		i++
	}
	if err := flags.Parse(flagArgs); err != nil {
		return inv, err
	}
	if len(inv.args) != len(cmd.args) {
		if len(cmd.args) == 0 {
			return inv, fmt.Errorf("takes no arguments, got %q", inv.args)
		}
		return inv, fmt.Errorf("wants %s", strings.ToUpper(strings.Join(cmd.args, " ")))
	}
	if inv.output != "table" && inv.output != "json" {
		return inv, fmt.Errorf("-o must be table or json")
	}
	if inv.limit < 0 || inv.all && inv.limit > 0 {
		return inv, fmt.Errorf("give --all or --limit N (1-250), not both")
	}
	for _, name := range cmd.required {
		if !inv.fields.has(name) {
			return inv, fmt.Errorf("--%s is required", flagOf(cmd, name))
		}
	}
	u, err := url.Parse(*server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return inv, fmt.Errorf("--server %q must be a URL such as http://127.0.0.1:8080", *server)
	}
	inv.api = newClient(env, *server, *token)
	return inv, nil
}

func flagOf(cmd *command, jsonName string) string {
	for _, f := range append(append([]field(nil), cmd.fields...), cmd.options...) {
		if f.json == jsonName {
			return f.flag
		}
	}
	return jsonName
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
