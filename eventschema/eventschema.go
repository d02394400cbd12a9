// Package eventschema checks an event's data against the JSON Schema of
// its event type. It adapts github.com/santhosh-tekuri/jsonschema: schemas
// are JSON Schema draft 2020-12 unless they name another draft in
// `$schema`, they may not load anything from outside themselves (no file
// or network references), and a violation is reported as the JSON pointer
// of the first place in the data, in document order, that fails.
package eventschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// resource is the URL a schema is compiled under; it appears in nothing a
// user sees. It is hierarchical so that a relative reference ("other.json")
// resolves to another URL, which the loader then refuses.
const base = "https://schemas.hookd.invalid/"
const resource = base + "event-type.json"

// Schema is a compiled JSON Schema, safe for concurrent use.
type Schema struct {
	compiled *jsonschema.Schema
	printer  *message.Printer
}

// Compile checks that raw is a valid JSON Schema and compiles it. The
// error says what is wrong in words fit for an API answer.
func Compile(raw []byte) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("is not valid JSON: %w", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errors.New("must be a JSON object")
	}
	printer := message.NewPrinter(language.English)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(resource, doc); err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	s, err := c.Compile(resource)
	if err != nil {
		return nil, compileError(err, printer)
	}
	return &Schema{compiled: s, printer: printer}, nil
}

// compileError turns the library's error into one line without its
// internal resource URL.
func compileError(err error, printer *message.Printer) error {
	var invalid *jsonschema.SchemaValidationError
	var tree *jsonschema.ValidationError
	if errors.As(err, &invalid) && errors.As(invalid.Err, &tree) {
		if v := firstLeaf(tree, nil, printer); v != nil {
			return fmt.Errorf("is not a valid JSON Schema: at %s: %s", strconv.Quote(v.Pointer), v.Message)
		}
	}
	var load *jsonschema.LoadURLError
	if errors.As(err, &load) {
		return fmt.Errorf("may not refer to anything outside itself (%s)", strings.TrimPrefix(load.URL, base))
	}
	msg := strings.ReplaceAll(err.Error(), resource, "the schema")
	return fmt.Errorf("is not a valid JSON Schema: %s", msg)
}

// refuseLoader loads nothing: a schema stored in the catalog must be
// whole, and the server must not read files or fetch URLs that a
// schema names.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is outside the schema", url)
}

// Violation is where and why data does not match a schema.
type Violation struct {
	// Pointer is the JSON pointer (RFC 6901) of the failing place in the
	// data; "" is the data itself.
	Pointer string
	// Message says what is wrong there.
	Message string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("at %s: %s", strconv.Quote(v.Pointer), v.Message)
}

// Validate checks data (one JSON value) against the schema. It answers
// nil when data matches, a *Violation when it does not, and another error
// when data is not JSON.
func (s *Schema) Validate(data []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("data is not valid JSON: %w", err)
	}
	err = s.compiled.Validate(v)
	if err == nil {
		return nil
	}
	var invalid *jsonschema.ValidationError
	if !errors.As(err, &invalid) {
		return fmt.Errorf("validate data: %w", err)
	}
	if leaf := firstLeaf(invalid, documentOrder(data), s.printer); leaf != nil {
		return leaf
	}
	return &Violation{Message: invalid.Error()}
}

// firstLeaf picks, among the innermost errors of a validation tree, the
// one whose place comes first in the data (by order, when given; else the
// first met), so that a client fixes its data front to back.
func firstLeaf(root *jsonschema.ValidationError, order map[string]int, printer *message.Printer) *Violation {
	var best *Violation
	bestAt := -1
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		ptr := pointer(e.InstanceLocation)
		at, ok := order[ptr]
		if !ok {
			at = len(order) + 1
		}
		if best == nil || at < bestAt {
			best = &Violation{Pointer: ptr, Message: e.ErrorKind.LocalizedString(printer)}
			bestAt = at
		}
	}
	walk(root)
	return best
}

// pointer encodes a location as an RFC 6901 JSON pointer.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}

// documentOrder numbers the places of a JSON document (every value, by
// its pointer) in the order they appear. It runs only when data failed.
func documentOrder(data []byte) map[string]int {
	order := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var walk func(path []string) error
	walk = func(path []string) error {
		order[pointer(path)] = len(order)
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				if err := walk(append(path, key.(string))); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(append(path, strconv.Itoa(i))); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk(nil); err != nil && !errors.Is(err, io.EOF) {
		return order // what was numbered before the error still orders
	}
	return order
}

// Cache keeps compiled schemas by event type name, compiling a type's
// schema again only when its text changes. It is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	raw    []byte
	schema *Schema
}

// cacheSize bounds a Cache; a full cache starts again empty.
const cacheSize = 10_000

// Get returns the compiled form of raw, the schema of the event type name.
func (c *Cache) Get(name string, raw []byte) (*Schema, error) {
	c.mu.Lock()
	e, ok := c.entries[name]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) {
		return e.schema, nil
	}
	s, err := Compile(raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= cacheSize {
		c.entries = map[string]cached{}
	}
	c.entries[name] = cached{raw: bytes.Clone(raw), schema: s}
	return s, nil
}
