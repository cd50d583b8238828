package token

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewIsWellFormedAndFresh(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if !WellFormed(tok) || seen[tok] {
			t.Fatalf("token %q: well-formed=%v, repeated=%v", tok, WellFormed(tok), seen[tok])
		}
		seen[tok] = true
	}
}

func TestFromIsDeterministicAndFailsShort(t *testing.T) {
	src := bytes.Repeat([]byte{0xab}, 16)
	a, _ := From(bytes.NewReader(src))
	b, _ := From(bytes.NewReader(src))
	if a != b || a != "q6urq6urq6urq6urq6urqw" {
		t.Fatalf("From = %q, %q", a, b)
	}
	if _, err := From(bytes.NewReader(src[:10])); err == nil {
		t.Fatal("a short random source was accepted")
	}
}

func TestWellFormed(t *testing.T) {
	cases := map[string]bool{
		"q6urq6urq6urq6urq6urqw":  true,
		"q6urq6urq6urq6urq6urqx":  false, // non-canonical last character: another spelling of 16 bytes
		"q6urq6urq6urq6urq6urq":   false,
		"q6urq6urq6urq6urq6urqw=": false,
		"q6urq6urq6urq6urq6ur+w":  false,
		"":                        false,
		strings.Repeat("A", 22):   true,
	}
	for in, want := range cases {
		if got := WellFormed(in); got != want {
			t.Errorf("WellFormed(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestHashIsHexSHA256(t *testing.T) {
	if got := Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("Hash(abc) = %s", got)
	}
}
