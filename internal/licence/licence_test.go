package licence

import "testing"

func TestFieldEffectiveMask(t *testing.T) {
	cases := []struct {
		name string
		f    Field
		want MaskRule
	}{
		{"plain text is shown", Field{Type: "text"}, MaskNone},
		{"no type, not sensitive, is shown", Field{}, MaskNone},
		{"date is shown", Field{Type: "date"}, MaskNone},
		{"an unmarked id_number is masked as an ID", Field{Type: "id_number"}, MaskID},
		{"an unmarked phone is masked as a phone", Field{Type: "phone"}, MaskPhone},
		{"type is read case- and space-insensitively", Field{Type: " ID_Number "}, MaskID},
		{"an unmarked id_number ignores a rule it is not sensitive for", Field{Type: "id_number", Mask: MaskMiddle}, MaskID},
		{"a sensitive field keeps its own rule", Field{Type: "text", Sensitive: true, Mask: MaskName}, MaskName},
		{"a sensitive id_number keeps its own rule", Field{Type: "id_number", Sensitive: true, Mask: MaskMiddle}, MaskMiddle},
		{"a sensitive phone keeps its own rule", Field{Type: "phone", Sensitive: true, Mask: MaskAll}, MaskAll},
		{"a sensitive id_number without a rule falls back to its type", Field{Type: "id_number", Sensitive: true}, MaskID},
		{"a sensitive phone without a rule falls back to its type", Field{Type: "phone", Sensitive: true}, MaskPhone},
		{"a sensitive field without rule or identifying type is hidden", Field{Type: "address", Sensitive: true}, MaskAll},
		{"a sensitive field of no type without rule is hidden", Field{Sensitive: true}, MaskAll},
		{"an address not marked sensitive is shown", Field{Type: "address"}, MaskNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.EffectiveMask(); got != tc.want {
				t.Fatalf("%+v.EffectiveMask() = %q, want %q", tc.f, got, tc.want)
			}
		})
	}
}
