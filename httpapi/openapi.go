package httpapi

import (
	_ "embed"
	"net/http"
	"slices"
)

// docs/openapi.json is the API's description and its one source of
// truth; openapi.json here is a copy, because go:embed reaches no file
// outside this package's directory. TestOpenAPICopy fails when the two
// differ.
//
//go:generate cp ../docs/openapi.json openapi.json
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3.1 description of the API that
// GET /v1/openapi.json serves.
func OpenAPIDocument() []byte { return slices.Clone(openAPIDocument) }

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDocument)
}
