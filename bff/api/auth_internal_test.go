package api

import "testing"

// browserAccept is the Accept header a browser sends for a page.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8"

func TestPrefersHTML(t *testing.T) {
	cases := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/json, text/plain, */*", false}, // axios
		{"text/html", true},
		{"TEXT/HTML", true},
		{"text/*", true},
		{browserAccept, true},
		{"application/json, text/html", false}, // a tie keeps JSON
		{"application/json;q=0.5, text/html", true},
		{"text/html;q=0.5, application/json", false},
		{"application/json, text/html;q=0.9", false},
		{"text/html;q=0", false},
		{"*/*;q=0.1, text/html", true},
		{"text/html;q=0.2, text/*;q=0.9, application/json;q=0.5", false}, // the most specific range decides
		{"text/html;q=abc", false},
		{"%%%, ;;", false},
	}
	for _, tc := range cases {
		if got := prefersHTML(tc.accept); got != tc.want {
			t.Errorf("prefersHTML(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}
