package httpapi

import (
	"bytes"
	"os"
	"testing"
)

// TestOpenAPICopy checks that the embedded description is the one in
// docs/, which is the file people edit.
func TestOpenAPICopy(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("../docs/openapi.json")
	if err != nil {
		t.Fatalf("read the description: %v", err)
	}
	if !bytes.Equal(OpenAPIDocument(), want) {
		t.Fatal("httpapi/openapi.json differs from docs/openapi.json: run go generate ./httpapi/")
	}
}
