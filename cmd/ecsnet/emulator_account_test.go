package main

import (
	"testing"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// TestEmulatorPreviewFieldsFlag: --preview-fields sets the option only
// when given, so that a world's own PreviewFields stands otherwise.
func TestEmulatorPreviewFieldsFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want *bool
	}{
		{nil, nil},
		{[]string{"--preview-fields=false"}, new(bool)},
		{[]string{"--preview-fields"}, func() *bool { b := true; return &b }()},
	} {
		var a emulatorArgs
		fs := emulatorFlags(&a)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		var opts emulator.Options
		a.account.apply(fs, &opts)
		if (opts.PreviewFields == nil) != (tc.want == nil) || opts.PreviewFields != nil && *opts.PreviewFields != *tc.want {
			t.Errorf("%v: PreviewFields = %v, want %v", tc.args, opts.PreviewFields, tc.want)
		}
	}
}
