package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/hookd/hookd/httpapi"
)

// The end-to-end tests hold the server to its OpenAPI description: every
// answer any test receives from hookd passes through contractTransport,
// which fails the test when the answer's status is not documented for its
// operation or its body does not match the documented schema.

// apiContract is the parsed description with a validator over it.
type apiContract struct {
	model *v3.Document
	opts  *config.ValidationOptions
	check validator.Validator
	// mu serialises validations: the validator's caches are shared by
	// every parallel test.
	mu sync.Mutex
}

// loadContract parses the description the server embeds once per test
// binary: building the validator compiles every schema.
var loadContract = sync.OnceValues(func() (*apiContract, error) {
	doc, err := libopenapi.NewDocument(httpapi.OpenAPIDocument())
	if err != nil {
		return nil, fmt.Errorf("parse the OpenAPI description: %w", err)
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("build the OpenAPI model: %w", err)
	}
	// Strict mode reports any field an answer has and the description
	// does not name, so the description stays complete; free-form maps
	// (event data, custom headers, metadata, JSON schemas) and the
	// description's own body are the exceptions.
	opts := []config.Option{config.WithFormatAssertions(), config.WithStrictMode(), config.WithStrictIgnorePaths(freeFormFields...)}
	check, errs := validator.NewValidator(doc, opts...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("build the OpenAPI validator: %v", errs)
	}
	return &apiContract{model: &m.Model, opts: config.NewValidationOptions(opts...), check: check}, nil
})

// freeFormFields are the answers' maps whose keys are the caller's own,
// in the validator's glob syntax (** is any text).
var freeFormFields = []string{
	"$.body**.data**", "$.body**.headers**", "$.body**.request_headers**", "$.body**.response_headers**", "$.body**.metadata**", "$.body**.schema**",
	"$.body.info**", "$.body.servers**", "$.body.security**", "$.body.tags**", "$.body.paths**", "$.body.components**",
}

// contract returns the description's validator, failing tb if the
// description does not load.
func contract(tb testing.TB) *apiContract {
	tb.Helper()
	c, err := loadContract()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// problems returns what is wrong with resp, the answer to req, against
// the description; body is resp's body, already read.
func (c *apiContract) problems(req *http.Request, resp *http.Response, body []byte) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	item, _, _ := paths.FindPath(req, c.model, c.opts)
	if item == nil || helpers.ExtractOperation(req, item) == nil {
		return undocumentedRouteProblems(resp, body)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	ok, errs := c.check.ValidateHttpResponse(req, resp)
	if ok {
		return nil
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Message
		if e.Reason != "" {
			msg += ": " + e.Reason
		}
		for _, se := range e.SchemaValidationErrors {
			msg += fmt.Sprintf("; at %s: %s", se.FieldPath, se.Reason)
		}
		out = append(out, msg)
	}
	return out
}

// undocumentedRouteProblems checks the answer to a method and path the
// description does not have: the server has no such route either, and
// answers 404 NOT_FOUND in the API's error format.
func undocumentedRouteProblems(resp *http.Response, body []byte) []string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if resp.StatusCode != http.StatusNotFound || json.Unmarshal(body, &e) != nil || e.Error.Code != "NOT_FOUND" || e.Error.Message == "" {
		return []string{fmt.Sprintf("the route is not in the description, yet the answer is %d %s", resp.StatusCode, body)}
	}
	return nil
}

// contractTransport checks every answer it carries against the
// description and fails tb on a mismatch.
type contractTransport struct {
	tb       testing.TB
	contract *apiContract
	base     http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	if problems := t.contract.problems(req, resp, body); len(problems) > 0 {
		t.tb.Errorf("%s %s answered %d, which the OpenAPI description does not allow:\n  %s\n  body: %.2000s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, strings.Join(problems, "\n  "), body)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// contractClient returns an HTTP client whose every answer is checked
// against the description.
func contractClient(tb testing.TB) *http.Client {
	tb.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	tb.Cleanup(base.CloseIdleConnections)
	return &http.Client{Timeout: 30 * time.Second, Transport: &contractTransport{tb: tb, contract: contract(tb), base: base}}
}

// TestOpenAPIDocumentIsValid checks the description against the OpenAPI
// 3.1 specification.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	c := contract(t)
	if ok, errs := c.check.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("%s: %s (line %d)", e.Message, e.Reason, e.SpecLine)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  at %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
	if v := c.model.Version; v != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", v)
	}
}

// paramName matches a path parameter, whose name the routes and the
// description may spell differently.
var paramName = regexp.MustCompile(`\{[^}]*\}`)

// TestOpenAPIDescribesEveryRoute checks that the routes the server
// registers and the operations of the description are the same set.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	registered := map[string]bool{}
	for _, pattern := range srv.Main.http.Handler.(*httpapi.Server).Routes() {
		registered[paramName.ReplaceAllString(pattern, "{}")] = true
	}
	documented := map[string]bool{}
	for path, item := range contract(t).model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+paramName.ReplaceAllString(path, "{}")] = true
		}
	}
	for _, route := range sortedKeys(registered) {
		if !documented[route] {
			t.Errorf("route %s is not in docs/openapi.json", route)
		}
	}
	for _, route := range sortedKeys(documented) {
		if !registered[route] {
			t.Errorf("docs/openapi.json describes %s, which the server does not register", route)
		}
	}
	if len(registered) < 40 {
		t.Errorf("the server registers %d routes; the route table is not being read", len(registered))
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestOpenAPIServed checks that GET /v1/openapi.json answers the
// description in docs/ without authentication.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := apiRequest(t, srv, "", "GET", "/v1/openapi.json", nil)
	apiWant(t, r, http.StatusOK)
	want, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatalf("read docs/openapi.json: %v", err)
	}
	if !bytes.Equal(r.Raw, want) {
		t.Errorf("GET /v1/openapi.json answered %d bytes that are not docs/openapi.json (%d bytes)", len(r.Raw), len(want))
	}
}

// contractClients holds each test's checking client, made on first use,
// so that helpers without a server at hand check answers too.
var contractClients sync.Map // testing.TB → *http.Client

// checkedHTTP returns tb's HTTP client whose answers are checked against
// the description; a mismatch fails tb.
func checkedHTTP(tb testing.TB) *http.Client {
	tb.Helper()
	if c, ok := contractClients.Load(tb); ok {
		return c.(*http.Client)
	}
	c, loaded := contractClients.LoadOrStore(tb, contractClient(tb))
	if !loaded {
		tb.Cleanup(func() { contractClients.Delete(tb) })
	}
	return c.(*http.Client)
}
