package bench

import (
	"testing"

	"github.com/hookd/hookd/eventschema"
)

// With --event-schema every benchmark event must pass validation, or the
// run would measure refusals instead of deliveries.
func TestEventDataMatchesTheEventSchema(t *testing.T) {
	t.Parallel()
	s, err := eventschema.Compile([]byte(eventSchema))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{16, 1024, 64 << 10} {
		for _, sent := range []int64{0, 1_700_000_000_000_000_000} {
			data := EventData(nil, 42, sent, size)
			if err := s.Validate(data); err != nil {
				t.Errorf("EventData(size %d, sent %d) fails the schema: %v", size, sent, err)
			}
		}
	}
	if err := s.Validate([]byte(`{"seq":-1,"pad":""}`)); err == nil {
		t.Error("the schema accepts what EventData never makes: it would validate nothing")
	}
}
