package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

func TestHealthcheckAsksARunningHookd(t *testing.T) {
	srv := startServer(t)
	addr := srv.Main.Addr()
	for _, args := range [][]string{{"healthcheck", "--addr", addr}, {"healthcheck", "--addr", addr, "--ready"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, io.Discard); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.Contains(out.String(), `"status"`) {
			t.Errorf("%v printed %q", args, out.String())
		}
	}
}

func TestHealthcheckFailsWithNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := run(context.Background(), []string{"healthcheck", "--addr", addr}, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck of a closed port succeeded")
	}
}

func TestLocalAddrDialsWildcardListenersOnLoopback(t *testing.T) {
	for in, want := range map[string]string{
		"":                "127.0.0.1:8080",
		":8080":           "127.0.0.1:8080",
		"0.0.0.0:9000":    "127.0.0.1:9000",
		"[::]:8080":       "[::1]:8080",
		"10.0.0.5:8080":   "10.0.0.5:8080",
		"127.0.0.1:18080": "127.0.0.1:18080",
	} {
		if got := localAddr(in); got != want {
			t.Errorf("localAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
