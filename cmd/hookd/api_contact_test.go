package main

import (
	"net/http"
	"testing"
)

// An app's contact_email is stored as the bare address, which is what SMTP's
// RCPT TO and the notice's To header take; what is not one address is a 400
// naming the field, at create and at PATCH.
func TestAppContactEmailIsTheBareAddress(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	app := apiMustCreateApp(t, srv, map[string]any{"name": "Ann's", "contact_email": "Ann <ann@example.com>"})
	if got := app["contact_email"]; got != "ann@example.com" {
		t.Fatalf("contact_email = %v, want ann@example.com", got)
	}
	id := apiStr(t, app, "id")
	patched := apiWant(t, apiAdmin(t, srv, "PATCH", "/v1/apps/"+id, map[string]any{"contact_email": `"Smith, Bob" <bob@example.com>`}), http.StatusOK)
	if got := patched["contact_email"]; got != "bob@example.com" {
		t.Fatalf("patched contact_email = %v, want bob@example.com", got)
	}
	if got := apiWant(t, apiAdmin(t, srv, "GET", "/v1/apps/"+id, nil), http.StatusOK)["contact_email"]; got != "bob@example.com" {
		t.Fatalf("stored contact_email = %v, want bob@example.com", got)
	}
	for _, bad := range []string{
		"not an email",
		"Ann <ann@example.com",
		"ann@example.com, bob@example.com",
		"ann@example.com\r\nBcc: eve@example.com",
		`"ann smith"@example.com`,
	} {
		r := apiAdmin(t, srv, "POST", "/v1/apps", map[string]any{"name": "x", "contact_email": bad})
		apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", "contact_email must be an email address")
		r = apiAdmin(t, srv, "PATCH", "/v1/apps/"+id, map[string]any{"contact_email": bad})
		apiWantError(t, r, http.StatusBadRequest, "BAD_REQUEST", "contact_email must be an email address")
	}
}
