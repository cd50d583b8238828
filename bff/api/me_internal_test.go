package api

import "testing"

func TestOpenIDHint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"demo-citizen-zhangsan", "demo…gsan"},
		{"oAbCdEfGhIjKlMnOpQrStUvWxYz0", "oAbC…xYz0"},
		{"123456789", "1234…6789"},
		{"12345678", "12****78"},
		{"abc", "a*c"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := openIDHint(tt.in); got != tt.want {
			t.Errorf("openIDHint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
