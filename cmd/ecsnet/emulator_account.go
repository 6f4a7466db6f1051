package main

import (
	"github.com/spf13/pflag"

	"github.com/ecsnet/ecsnet/ecs/emulator"
)

// emulatorAccount holds the ecsnet emulator flags that say what the
// emulated account sees (ecs/emulator/account.go).
type emulatorAccount struct {
	previewFields bool
}

func (a *emulatorAccount) register(fs *pflag.FlagSet) {
	fs.BoolVar(&a.previewFields, "preview-fields", emulator.DefaultPreviewFields,
		"show the API's invitational-preview fields (Attachment with DeviceIndex in DescribeNetworkInterfaces), as an account invited to the preview sees them (default: the world's PreviewFields, else this default)")
}

// apply sets the options the flags that were given name; a flag left out
// leaves the world's own setting.
func (a *emulatorAccount) apply(fs *pflag.FlagSet, opts *emulator.Options) {
	if fs.Changed("preview-fields") {
		v := a.previewFields
		opts.PreviewFields = &v
	}
}
