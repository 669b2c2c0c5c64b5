package api

import "testing"

func TestCleanJSONEscapes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		`{"a":"b"}`:                      true,
		`{"a":"\u0000"}`:                 false,
		`{"a":"x\u0000y"}`:               false,
		`{"a":"\\u0000"}`:                true, // the text \u0000, escaped backslash
		`{"a":"\\\u0000"}`:               false,
		`{"a":"\u00e9\n\t\""}`:           true,
		`{"a":"\ud83d\ude00"}`:           true, // a surrogate pair
		`{"a":"\uD83D\uDE00"}`:           true,
		`{"a":"\ud83d"}`:                 false, // lone high surrogate
		`{"a":"\ud83dx"}`:                false,
		`{"a":"\ude00"}`:                 false, // lone low surrogate
		`{"a":"\ud83d\u0041"}`:           false,
		`{"info":{"n":["ok","\u0000"]}}`: false,
		`\`:                              true,
		`"\u12"`:                         true, // not JSON: the decoder's to refuse
	} {
		if got := cleanJSONEscapes([]byte(in)); got != want {
			t.Errorf("cleanJSONEscapes(%s) = %v, want %v", in, got, want)
		}
	}
}
