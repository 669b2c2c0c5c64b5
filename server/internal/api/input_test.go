package api

import (
	"io"
	"strings"
	"testing"
)

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

// Without credentials only anonymousBodyScan bytes are read to check a body;
// the rest is left in place for the handler (or for authentication to refuse).
func TestReadUpToLeavesTheRest(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("a", anonymousBodyScan+10)
	b, rest, err := readUpTo(strings.NewReader(body), anonymousBodyScan)
	if err != nil || rest == nil || len(b) != anonymousBodyScan+1 {
		t.Fatalf("read %d, rest %v, err %v", len(b), rest != nil, err)
	}
	tail, _ := io.ReadAll(rest)
	if len(b)+len(tail) != len(body) {
		t.Fatalf("%d + %d bytes, want %d", len(b), len(tail), len(body))
	}
	b, rest, err = readUpTo(strings.NewReader("small"), anonymousBodyScan)
	if err != nil || rest != nil || string(b) != "small" {
		t.Fatalf("small body: %q %v %v", b, rest != nil, err)
	}
	if b, rest, err = readUpTo(strings.NewReader(body), -1); err != nil || rest != nil || len(b) != len(body) {
		t.Fatalf("whole body: %d %v %v", len(b), rest != nil, err)
	}
}
