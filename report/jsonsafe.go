package report

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
)

// jsonSafe converts v to values encoding/json can always write: a NaN or an infinity (which
// json refuses) becomes null. Struct fields keep their tags' names, order and omitempty;
// values with their own MarshalJSON keep it. It is the fallback of WriteJSON, so one bad
// number never costs the whole report.json.
func jsonSafe(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if m, ok := marshaler(v); ok {
		if b, err := m.MarshalJSON(); err == nil {
			return json.RawMessage(b)
		}
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		return nil
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return jsonSafe(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = jsonSafe(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			b, _ := json.Marshal(it.Key().Interface())
			out[strings.Trim(string(b), `"`)] = jsonSafe(it.Value())
		}
		return out
	case reflect.Struct:
		return safeStruct(v)
	}
	return v.Interface()
}

func marshaler(v reflect.Value) (json.Marshaler, bool) {
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() || !v.CanInterface() {
		return nil, false
	}
	m, ok := v.Interface().(json.Marshaler)
	return m, ok
}

// object is a JSON object that keeps its keys in order.
type object []field

type field struct {
	name  string
	value any
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.name)
		val, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func safeStruct(v reflect.Value) object {
	var out object
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if sf.Anonymous && name == "" && fv.Kind() == reflect.Struct {
			out = append(out, safeStruct(fv)...)
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if strings.Contains(opts, "omitempty") && emptyValue(fv) {
			continue
		}
		out = append(out, field{name, jsonSafe(fv)})
	}
	return out
}

func emptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
		return v.Len() == 0
	}
	return v.IsZero()
}
