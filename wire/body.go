package wire

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// Event is what Body wraps in an envelope.
type Event struct {
	ID        string
	AppID     string
	Type      string
	CreatedAt time.Time
	// Data is the event's data, a JSON object; Body canonicalizes it
	// (see CanonicalObject) unless Canonical says it is already.
	Data []byte
	// Canonical reports that Data is CanonicalObject's output, which Body
	// then copies as it is: a publish canonicalizes its data once, to
	// store it, and renders its body from that (5 µs a KiB saved).
	Canonical bool
}

// envKey is one envelope field: its key and the profile setting that names
// it, which also tells which value goes under it.
type envKey struct {
	key, setting string
}

// envelopeKeys returns the envelope's non-empty keys other than the data
// key, in wire order, and checks that none repeats and that none is an
// array index, which JavaScript would move to the front of the object.
func envelopeKeys(env hookd.EnvelopeConfig) ([4]envKey, int, error) {
	var ks [4]envKey
	n := 0
	for _, k := range [...]envKey{
		{env.TypeKey, "type_key"}, {env.TimeKey, "time_key"}, {env.IDKey, "id_key"}, {env.AppKey, "app_key"},
	} {
		if k.key == "" {
			continue
		}
		ks[n] = k
		n++
	}
	var allKeys [5]envKey
	copy(allKeys[:], ks[:n])
	allKeys[n] = envKey{env.DataKey, "data_key"}
	all := allKeys[:n+1]
	for i, k := range all {
		if k.key == "" {
			continue
		}
		if !utf8.ValidString(k.key) {
			return ks, 0, hookd.Errorf(hookd.EINVALID, "envelope %s is not valid UTF-8", k.setting)
		}
		if _, isIndex := arrayIndex([]byte(k.key)); isIndex {
			return ks, 0, hookd.Errorf(hookd.EINVALID, "envelope %s %q is an integer, which JavaScript would move to the front of the body", k.setting, k.key)
		}
		for _, o := range all[:i] {
			if o.key == k.key {
				return ks, 0, hookd.Errorf(hookd.EINVALID, "envelope %s and %s are both %q", o.setting, k.setting, k.key)
			}
		}
	}
	return ks, n, nil
}

// Body renders the JSON body that carries ev under the envelope env: keys
// in the order type, time, id, app, data, each left out when its key is
// empty; with an empty DataKey the data's own fields follow the envelope's
// at the top level. The body is canonical: CanonicalObject(body) == body,
// so a receiver that re-stringifies it in JavaScript gets the same bytes.
//
// The time is written per env.TimeFormat: hookd.TimeUnix as integer
// seconds, hookd.TimeRFC3339 as "2025-10-22T10:30:00Z", hookd.TimeRFC3339Ms
// as "2025-01-08T10:16:12.456Z" (always three digits), both in UTC.
//
// Errors are *hookd.Error with code hookd.EINVALID: data that is not a JSON
// object (see CanonicalObject), a data field that collides with an
// envelope key when spreading, or an envelope that cannot be written.
func Body(env hookd.EnvelopeConfig, ev Event) ([]byte, error) {
	ks, n, err := envelopeKeys(env)
	if err != nil {
		return nil, err
	}
	if env.TimeKey != "" {
		switch env.TimeFormat {
		case hookd.TimeUnix, hookd.TimeRFC3339, hookd.TimeRFC3339Ms:
		default:
			return nil, hookd.Errorf(hookd.EINVALID, "envelope time_format must be unix, rfc3339 or rfc3339ms")
		}
	}
	size := 2 + len(ev.Type) + len(ev.ID) + len(ev.AppID) + len(env.DataKey) + 48
	for _, k := range ks[:n] {
		size += len(k.key) + 6
	}

	if env.DataKey != "" {
		out := make([]byte, 0, size+len(ev.Data))
		out = append(out, '{')
		if out, err = appendEnvelope(out, env, ks[:n], ev); err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, ',')
		}
		out, _ = appendJSString(out, env.DataKey) // checked in envelopeKeys
		out = append(out, ':')
		if ev.Canonical {
			out = append(out, ev.Data...)
		} else if out, err = appendCanonical(out, ev.Data); err != nil {
			return nil, err
		}
		return append(out, '}'), nil
	}

	data := ev.Data
	if !ev.Canonical {
		if data, err = CanonicalObject(ev.Data); err != nil {
			return nil, err
		}
	}
	if err := checkSpread(ks[:n], data); err != nil {
		return nil, err
	}
	// The data's array-index members lead (as in JavaScript), then the
	// envelope, then the data's other members.
	split := indexPrefix(data)
	lead, rest := data[1:split], data[split:len(data)-1]
	if len(rest) > 0 && rest[0] == ',' {
		rest = rest[1:]
	}
	out := make([]byte, 0, size+len(data))
	out = append(out, '{')
	out = append(out, lead...)
	if n > 0 {
		if len(lead) > 0 {
			out = append(out, ',')
		}
		if out, err = appendEnvelope(out, env, ks[:n], ev); err != nil {
			return nil, err
		}
	}
	if len(rest) > 0 {
		if len(lead) > 0 || n > 0 {
			out = append(out, ',')
		}
		out = append(out, rest...)
	}
	return append(out, '}'), nil
}

// appendEnvelope appends the envelope members (without the data key),
// comma separated, with no leading or trailing comma.
func appendEnvelope(out []byte, env hookd.EnvelopeConfig, ks []envKey, ev Event) ([]byte, error) {
	for i, k := range ks {
		if i > 0 {
			out = append(out, ',')
		}
		out, _ = appendJSString(out, k.key) // checked in envelopeKeys
		out = append(out, ':')
		var v string
		switch k.setting {
		case "type_key":
			v = ev.Type
		case "id_key":
			v = ev.ID
		case "app_key":
			v = ev.AppID
		case "time_key":
			out = appendTime(out, env.TimeFormat, ev.CreatedAt)
			continue
		}
		var ok bool
		if out, ok = appendJSString(out, v); !ok {
			return nil, hookd.Errorf(hookd.EINVALID, "event %s is not valid UTF-8", k.setting[:len(k.setting)-4])
		}
	}
	return out, nil
}

func appendTime(out []byte, format string, t time.Time) []byte {
	switch format {
	case hookd.TimeUnix:
		return strconv.AppendInt(out, t.Unix(), 10)
	case hookd.TimeRFC3339:
		out = append(out, '"')
		out = t.UTC().AppendFormat(out, "2006-01-02T15:04:05Z")
		return append(out, '"')
	default: // hookd.TimeRFC3339Ms
		out = append(out, '"')
		out = t.UTC().AppendFormat(out, "2006-01-02T15:04:05.000Z")
		return append(out, '"')
	}
}

// CheckEnvelope reports whether data, a JSON object, can be spread at the
// top level of env's body without one of its fields colliding with an
// envelope key. It returns nil when env.DataKey is set (nothing is
// spread), and a *hookd.Error with code hookd.EINVALID naming the key
// otherwise.
func CheckEnvelope(env hookd.EnvelopeConfig, data []byte) error {
	if env.DataKey != "" {
		return nil
	}
	ks, n, err := envelopeKeys(env)
	if err != nil {
		return err
	}
	canon, err := CanonicalObject(data)
	if err != nil {
		return err
	}
	return checkSpread(ks[:n], canon)
}

// checkSpread reports the first top-level key of the canonical object data
// that is also an envelope key.
func checkSpread(ks []envKey, data []byte) error {
	if len(ks) == 0 {
		return nil
	}
	var enc [4][]byte
	var buf [128]byte
	b := buf[:0]
	for i, k := range ks {
		start := len(b)
		b, _ = appendJSString(b, k.key)
		enc[i] = b[start+1 : len(b)-1 : len(b)-1]
	}
	var clash error
	eachKey(data, func(key []byte) bool {
		for i, e := range enc[:len(ks)] {
			if string(e) == string(key) {
				clash = hookd.Errorf(hookd.EINVALID, "data has a field %q, which the envelope's %s also uses; rename the field or set a data_key", ks[i].key, ks[i].setting)
				return false
			}
		}
		return true
	})
	return clash
}

// eachKey calls f with the (escaped) key of each top-level member of the
// canonical object data, until f returns false.
func eachKey(data []byte, f func(key []byte) bool) {
	i := 1 // after '{'
	for i < len(data) && data[i] == '"' {
		end := skipString(data, i)
		if !f(data[i+1 : end-1]) {
			return
		}
		i = skipValue(data, end+1) // after ':'
		if i < len(data) && data[i] == ',' {
			i++
		}
	}
}

// indexPrefix returns the offset in the canonical object data just past its
// leading array-index members (and before the comma that may follow them):
// 1 when there are none.
func indexPrefix(data []byte) int {
	i, split := 1, 1
	for i < len(data) && data[i] == '"' {
		end := skipString(data, i)
		if _, ok := arrayIndex(data[i+1 : end-1]); !ok {
			break
		}
		i = skipValue(data, end+1)
		split = i
		if i < len(data) && data[i] == ',' {
			i++
		}
	}
	return split
}

// skipString returns the offset after the string that starts at data[i] in
// canonical JSON.
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the offset after the value that starts at data[i] in
// canonical (compact, valid) JSON.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) && data[i] != ',' && data[i] != '}' && data[i] != ']' {
		i++
	}
	return i
}
