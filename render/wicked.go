package render

import "errors"

func wicked(h *Host) ([]File, error) { return nil, errors.New("not written yet") }
