package wire_test

import (
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/wire"
)

// The Alakazam envelope: {type, created (Unix seconds), appId, data}.
func ExampleBody() {
	data, err := wire.CanonicalObject([]byte(`{ "worldId": "w_1", "jobId": "j_1" }`))
	if err != nil {
		panic(err)
	}
	env := hookd.EnvelopeConfig{TypeKey: "type", TimeKey: "created", TimeFormat: hookd.TimeUnix, AppKey: "appId", DataKey: "data"}
	body, err := wire.Body(env, wire.Event{
		ID: "evt_1", AppID: "app_1", Type: "world.generation.succeeded",
		CreatedAt: time.Unix(1719576000, 0), Data: data,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(body))
	// Output:
	// {"type":"world.generation.succeeded","created":1719576000,"appId":"app_1","data":{"worldId":"w_1","jobId":"j_1"}}
}

// What JavaScript's JSON.stringify(JSON.parse(x)) would give.
func ExampleCanonicalObject() {
	out, err := wire.CanonicalObject([]byte(`{"b": 1.50, "a": "<\u00e9>", "10": 1e3, "2": -0.0}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	_, err = wire.CanonicalObject([]byte(`{"a": 1, "a": 2}`))
	fmt.Println(hookd.ErrorMessage(err))
	// Output:
	// {"2":0,"10":1000,"b":1.5,"a":"<é>"}
	// data has a duplicate key "a"
}
