package verify

import "testing"

func TestPurposeAllowed(t *testing.T) {
	list := []string{"道路交通执法检查", "身份 核验"}
	cases := []struct {
		p    string
		want bool
	}{
		{"道路交通执法检查", true},
		{"\u3000道路交通执法检查 ", true}, // full-width and ASCII spaces around it
		{"身份\u3000核验", true},      // a full-width space inside is a plain space
		{"身份  核验", true},          // so are two
		{"身份核验", false},           // but a missing space is another text
		{"道路交通执法", false},
		{"", false},
		{"道路交通执法检查\x00", false},
	}
	for _, c := range cases {
		if got := purposeAllowed(list, c.p); got != c.want {
			t.Errorf("purposeAllowed(%q) = %v, want %v", c.p, got, c.want)
		}
	}
	if purposeAllowed(nil, "道路交通执法检查") {
		t.Error("an empty list allows a purpose")
	}
}
