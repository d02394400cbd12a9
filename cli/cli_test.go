package cli

import (
	"slices"
	"testing"
)

func TestCommandFindsTheResourceAndVerbAmongGlobalFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []string
		want []string
		ok   bool
	}{
		{[]string{"webhook", "list", "--app", "acme"}, []string{"webhook", "list", "--app", "acme"}, true},
		{[]string{"--server", "http://h:1", "webhook", "--app", "acme", "list", "-o", "json"},
			[]string{"webhook", "list", "--server", "http://h:1", "--app", "acme", "-o", "json"}, true},
		{[]string{"--token=abc", "event", "publish", "--data", "-", "--type", "a.b"},
			[]string{"event", "publish", "--token=abc", "--data", "-", "--type", "a.b"}, true},
		{[]string{"--app", "webhook", "webhook", "get", "wh_1"}, []string{"webhook", "get", "--app", "webhook", "wh_1"}, true},
		{[]string{"serve", "--addr", ":1"}, nil, false},
		{[]string{"--server", "x"}, nil, false},
		{nil, nil, false},
	} {
		got, ok := Command(tc.in)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("Command(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFieldsSendOnlyWhatWasGiven(t *testing.T) {
	t.Parallel()
	env := Env{Getenv: func(string) string { return "" }}
	cmd := resources["webhook"].command("update")
	inv, err := parse(env, "webhook", cmd, []string{"wh_1", "--app", "acme", "--status", "paused", "--header", "A: 1", "--header", "B: two words", "--ordered=false", "--events", "a.b, c.*"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"status":"paused","headers":{"A":"1","B":"two words"},"ordered":false,"events":["a.b","c.*"]}`
	if got := string(inv.fields.body()); got != want {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
	inv, err = parse(env, "webhook", cmd, []string{"wh_1", "--app", "acme"})
	if err != nil || inv.fields.body() != nil {
		t.Errorf("no field flags: body %s, %v; want none", inv.fields.body(), err)
	}
	for _, bad := range [][]string{
		{"wh_1", "--header", "no colon"},
		{"wh_1", "--rate-limit", "1.5"},
		{"wh_1", "--ordered=maybe"},
		{"wh_1", "--server", "ftp://x"},
		{"wh_1", "extra"},
		{"wh_1", "--nope"},
		{"wh_1", "--name"},
	} {
		if _, err := parse(env, "webhook", cmd, bad); err == nil {
			t.Errorf("parse(%q) succeeded", bad)
		}
	}
}

func TestCellsStayOnOneLine(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`"a\nb\tc"`:             "a b c",
		`null`:                  "-",
		`[]`:                    "-",
		`["x","y"]`:             "x,y",
		`[{"a":1},{"a":2}]`:     "2",
		`{"k": "v",  "n": [1]}`: `{"k":"v","n":[1]}`,
		`42`:                    "42",
		`true`:                  "true",
	} {
		if got := cell([]byte(in)); got != want {
			t.Errorf("cell(%s) = %q, want %q", in, got, want)
		}
	}
}
