package eventschema_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hookd/hookd/eventschema"
)

const invoiceSchema = `{
  "type": "object",
  "required": ["invoice", "amount"],
  "properties": {
    "invoice": {"type": "string", "pattern": "^in_"},
    "amount": {"type": "integer", "minimum": 0},
    "lines": {"type": "array", "items": {"type": "object", "required": ["sku"],
      "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}}},
    "a/b~c": {"type": "boolean"}
  }
}`

func TestValidateFindsTheFirstFailingPlace(t *testing.T) {
	t.Parallel()
	s, err := eventschema.Compile([]byte(invoiceSchema))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data, pointer, message string
	}{
		{`{"invoice":"in_1","amount":5}`, "", ""},
		{`{"invoice":"in_1","amount":5,"lines":[{"sku":"a","qty":2}]}`, "", ""},
		{`{"invoice":"in_1","amount":-1}`, "/amount", "minimum"},
		{`{"invoice":"x_1","amount":1}`, "/invoice", "match"},
		{`{"amount":1}`, "", "invoice"},
		{`{"invoice":"in_1","amount":1.5}`, "/amount", "integer"},
		// Two failures: the one that comes first in the data is reported,
		// whatever order the schema lists them in.
		{`{"amount":-3,"invoice":7}`, "/amount", "minimum"},
		{`{"invoice":7,"amount":-3}`, "/invoice", "string"},
		{`{"invoice":"in_1","amount":1,"lines":[{"sku":"a"},{"sku":"b","qty":0}]}`, "/lines/1/qty", "minimum"},
		{`{"invoice":"in_1","amount":1,"lines":[{"qty":1}]}`, "/lines/0", "sku"},
		{`{"invoice":"in_1","amount":1,"a/b~c":"yes"}`, "/a~1b~0c", "boolean"},
	} {
		err := s.Validate([]byte(tc.data))
		if tc.message == "" {
			if err != nil {
				t.Errorf("Validate(%s) = %v, want a match", tc.data, err)
			}
			continue
		}
		var v *eventschema.Violation
		if !errors.As(err, &v) {
			t.Errorf("Validate(%s) = %v, want a violation", tc.data, err)
			continue
		}
		if v.Pointer != tc.pointer || !strings.Contains(v.Message, tc.message) {
			t.Errorf("Validate(%s) = pointer %q message %q, want %q containing %q", tc.data, v.Pointer, v.Message, tc.pointer, tc.message)
		}
	}
}

func TestValidateRefusesWhatIsNotJSON(t *testing.T) {
	t.Parallel()
	s, err := eventschema.Compile([]byte(`{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Validate([]byte(`{"a":`))
	var v *eventschema.Violation
	if err == nil || errors.As(err, &v) {
		t.Errorf("Validate of broken JSON = %v, want a non-violation error", err)
	}
}

func TestCompileRefusesInvalidSchemas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ schema, want string }{
		{`{"type": 5}`, `at "/type"`},
		{`{"minimum": "zero"}`, `at "/minimum"`},
		{`{"properties": {"a": {"type": "strnig"}}}`, `at "/properties/a/type"`},
		{`[1, 2]`, "must be a JSON object"},
		{`{"type":`, "not valid JSON"},
		// A schema may not make the server read a file or fetch a URL.
		{`{"$ref": "file:///etc/passwd"}`, "outside itself"},
		{`{"$ref": "https://example.com/schema.json"}`, "outside itself"},
		{`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {"x": {"$ref": "other.json"}}}`, "outside itself"},
	} {
		_, err := eventschema.Compile([]byte(tc.schema))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%s) = %v, want an error containing %q", tc.schema, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hookd.invalid") {
			t.Errorf("Compile(%s) error shows the internal resource name: %v", tc.schema, err)
		}
	}
}

func TestCompileAcceptsDraft2020AndLocalReferences(t *testing.T) {
	t.Parallel()
	s, err := eventschema.Compile([]byte(`{
	  "$schema": "https://json-schema.org/draft/2020-12/schema",
	  "$defs": {"money": {"type": "integer", "minimum": 0}},
	  "type": "object",
	  "properties": {"amount": {"$ref": "#/$defs/money"}, "tags": {"type": "array", "prefixItems": [{"const": "first"}]}}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(`{"amount":3,"tags":["first"]}`)); err != nil {
		t.Errorf("valid data: %v", err)
	}
	var v *eventschema.Violation
	if err := s.Validate([]byte(`{"amount":-3}`)); !errors.As(err, &v) || v.Pointer != "/amount" {
		t.Errorf("through a $ref: %v", err)
	}
	// prefixItems is 2020-12 only: it proves the draft.
	if err := s.Validate([]byte(`{"tags":["second"]}`)); !errors.As(err, &v) || v.Pointer != "/tags/0" {
		t.Errorf("prefixItems: %v", err)
	}
}

func TestCacheCompilesAgainOnlyWhenTheSchemaChanges(t *testing.T) {
	t.Parallel()
	var c eventschema.Cache
	a, err := c.Get("invoice.paid", []byte(`{"type":"object","required":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.Get("invoice.paid", []byte(`{"type":"object","required":["a"]}`))
	if again != a {
		t.Error("the same schema was compiled again")
	}
	changed, err := c.Get("invoice.paid", []byte(`{"type":"object","required":["b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if changed == a {
		t.Fatal("a changed schema was served from the cache")
	}
	if err := changed.Validate([]byte(`{"a":1}`)); err == nil {
		t.Error("the changed schema does not require b")
	}
	if _, err := c.Get("other", []byte(`{"type":7}`)); err == nil {
		t.Error("an invalid schema compiled through the cache")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s, err := c.Get("invoice.paid", []byte(`{"type":"object","required":["b"]}`))
			if err != nil || s.Validate([]byte(`{"b":1}`)) != nil {
				t.Error("concurrent get failed")
			}
		})
	}
	wg.Wait()
}

func BenchmarkValidate(b *testing.B) {
	s, err := eventschema.Compile([]byte(invoiceSchema))
	if err != nil {
		b.Fatal(err)
	}
	data := []byte(`{"invoice":"in_123","amount":4200,"lines":[{"sku":"a","qty":1},{"sku":"b","qty":2}],"note":"` + strings.Repeat("x", 900) + `"}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(data); err != nil {
			b.Fatal(err)
		}
	}
}
