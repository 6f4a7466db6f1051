package render

import "errors"

func ifupdown(h *Host) ([]File, error) { return nil, errors.New("not written yet") }
